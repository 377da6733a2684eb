//! End-to-end journeys through the gateway against the real stack (started by
//! `scripts/stack up` if it is not running). Each journey uses its own fresh accounts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod catalog;
mod community;
mod edge;
mod suspension;
