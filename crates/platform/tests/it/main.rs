//! Integration tests of the kit against real PostgreSQL and a real Kafka-protocol broker.
//! One binary (link time); every test has its own database and its own topics.

// Helpers outside #[test] functions panic on purpose: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod app;
mod auth;
mod broker_restart;
mod consumer_crash;
mod dead_letters;
mod health;
mod http_kit;
mod idempotency;
mod migrations;
mod money;
mod pipeline;
