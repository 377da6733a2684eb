//! The user service: profiles (created from auth's registration events), addresses,
//! notification preferences, referrals, and the account lifecycle admins steer
//! (suspension, ban, reinstatement) and owners end (deletion).
//!
//! Modules: `profiles`, `addresses`, `preferences`, `lifecycle`; `routes` is the HTTP
//! surface, `consumer` the reaction to auth events.

pub mod addresses;
pub mod config;
pub mod consumer;
pub mod error;
pub mod lifecycle;
pub mod preferences;
pub mod profiles;
pub mod routes;
pub mod schema;
pub mod state;

use config::UserConfig;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::app::{App, ServiceSpec};
use platform::auth::TokenVerifier;
use state::State;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "user",
    default_port: 18082,
    migrations: MIGRATIONS,
    tasks: &[],
};

pub async fn run(mut app: App, config: UserConfig) -> anyhow::Result<()> {
    let state = State {
        pool: app.pool.clone(),
        outbox: app.outbox,
    };
    let verifier = TokenVerifier::new(config.auth.clone()).await?;
    app.spawn_consumer(
        consumer::config(),
        consumer::Handler {
            state: state.clone(),
        },
    )?;
    let sweeper = state.clone();
    let every = config.sweep_interval;
    app.spawn_task(move |shutdown| async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            match lifecycle::lift_expired(&sweeper).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(lifted = n, "suspensions ended"),
                Err(e) => tracing::warn!(error = %e, "suspension sweep failed"),
            }
        }
    });
    app.serve(move |cfg| routes::configure(cfg, state.clone(), verifier.clone()))
        .await
}
