//! The platform kit: everything a service needs that is not its business logic.
//!
//! - [`config`]: typed settings from environment variables, all problems reported at once;
//! - [`telemetry`]: logs, traces and W3C trace context across HTTP and Kafka;
//! - [`http`]: envelope, errors, validation, pagination, request ids, health, metrics,
//!   idempotency keys for requests that must not run twice, and the server with graceful
//!   shutdown;
//! - [`db`]: the diesel-async pool, error mapping and migrations;
//! - [`kafka`]: outbox and relay, inbox consumer runner, dead letters, topics;
//! - [`auth`]: access-token verification (JWKS, deny-list) and the `AuthUser` extractor;
//! - [`permissions`]: the catalogue of every permission string handlers check;
//! - [`money`]: integer minor units with an ISO 4217 currency, never floats;
//! - [`ratelimit`]: GCRA rate limits shared by every replica, in Redis;
//! - [`redis_conn`]: the Redis connection every service and the gateway open;
//! - [`cli`]: the `serve` / `migrate` / `dlq-replay` commands every binary shares;
//! - [`app`]: the whole life of a service process, so `main.rs` stays a few lines.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod kafka;
pub mod money;
pub mod permissions;
pub mod ratelimit;
pub mod redis_conn;
pub mod shutdown;
pub mod telemetry;

/// Every variable the kit reads, for the README's configuration reference.
pub const VARS: &[&[config::VarDoc]] = &[
    http::server::VARS,
    http::client_ip::VARS,
    db::VARS,
    kafka::VARS,
    telemetry::VARS,
    auth::VARS,
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_documents_every_variable() {
        let readme = include_str!("../../../README.md");
        let vars: Vec<crate::config::VarDoc> = super::VARS
            .iter()
            .flat_map(|group| group.iter().cloned())
            .collect();
        let missing = crate::config::undocumented(readme, &vars);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }
}
