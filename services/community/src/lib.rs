//! The community service: communities run by community managers, invites by e-mail token,
//! joining, members and their community roles, announcements.
//!
//! Modules: `communities`, `invites` (and `tokens`, how join tokens are made), `members`
//! (joining included), `announcements`, `access` (who may do what), `people` (what auth and
//! user events say about people); `routes` is the HTTP surface, `consumer` the reaction to
//! auth and user events.

pub mod access;
pub mod announcements;
pub mod communities;
pub mod config;
pub mod consumer;
pub mod error;
pub mod invites;
pub mod members;
pub mod people;
pub mod routes;
pub mod schema;
pub mod state;
pub mod tokens;

use config::CommunityConfig;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::app::{App, ServiceSpec};
use platform::auth::TokenVerifier;
use state::State;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "community",
    default_port: 18083,
    migrations: MIGRATIONS,
    tasks: &[],
};

pub async fn run(mut app: App, config: CommunityConfig) -> anyhow::Result<()> {
    let state = State {
        pool: app.pool.clone(),
        outbox: app.outbox,
        invite_key: config.invite_key.clone(),
        invite_ttl: config.invite_ttl,
        resend_interval: config.resend_interval,
    };
    let verifier = TokenVerifier::new(config.auth.clone()).await?;
    app.spawn_consumer(
        consumer::config(),
        consumer::Handler {
            state: state.clone(),
        },
    )?;
    // Every replica sweeps; SKIP LOCKED shares the due invites out instead of needing a
    // scheduler or a leader.
    let sweeper = state.clone();
    let every = config.expiry_interval;
    app.spawn_task(move |shutdown| async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            match invites::sweep(&sweeper).await {
                Ok(0) => {}
                Ok(n) => {
                    metrics::counter!("community_invites_expired_total").increment(n as u64);
                    tracing::info!(expired = n, "invites expired");
                }
                Err(e) => tracing::warn!(error = %e, "invite expiry sweep failed"),
            }
        }
    });
    app.serve(move |cfg| routes::configure(cfg, state.clone(), verifier.clone()))
        .await
}
