//! Integration tests of the user service against the real PostgreSQL, Redis and broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod addresses;
mod admin;
mod common;
mod migrations;
mod profiles;
