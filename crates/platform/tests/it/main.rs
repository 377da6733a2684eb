//! Integration tests of the kit against real PostgreSQL and a real Kafka-protocol broker.
//! One binary (link time); every test has its own database and its own topics.

mod common;

mod broker_restart;
mod consumer_crash;
mod dead_letters;
mod health;
mod http_kit;
mod migrations;
mod pipeline;
