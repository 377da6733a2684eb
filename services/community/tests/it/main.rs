//! Integration tests of the community service against the real PostgreSQL, Redis and
//! broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod announcements;
mod common;
mod communities;
mod consumer;
mod invites;
mod join;
mod members;
mod migrations;
