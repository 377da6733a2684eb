//! Integration tests of the catalog service against the real PostgreSQL, Redis and
//! broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod availability;
mod categories;
mod common;
mod consumer;
mod contention;
mod favourites;
mod images;
mod import;
mod inventory;
mod migrations;
mod reservations;
mod reviews;
mod search;
mod tools;
mod visibility;
