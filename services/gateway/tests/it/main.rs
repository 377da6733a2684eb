//! The gateway in-process against small real upstream servers, real Redis (db 15) and
//! tokens signed by a test key: routing, edge authentication, rate limits, bodies, CORS,
//! docs and readiness.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod common;
mod cors;
mod docs;
mod identity;
mod limits;
mod routing;
