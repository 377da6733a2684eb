//! The platform kit: everything a service needs that is not its business logic.
//!
//! - [`config`]: typed settings from environment variables, all problems reported at once;
//! - [`telemetry`]: logs, traces and W3C trace context across HTTP and Kafka;
//! - [`http`]: envelope, errors, validation, pagination, request ids, health, metrics,
//!   and the server with graceful shutdown;
//! - [`db`]: the diesel-async pool, error mapping and migrations;
//! - [`kafka`]: outbox and relay, inbox consumer runner, dead letters, topics;
//! - [`cli`]: the `serve` / `migrate` / `dlq-replay` commands every binary shares.

pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod kafka;
pub mod shutdown;
pub mod telemetry;
