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
use platform::app::{App, ServiceSpec, Wired};
use state::State;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The community service, for `platform::app::run` and `harness::TestService`.
pub struct Community;

impl platform::app::Service for Community {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "community",
        default_port: 18083,
        migrations: MIGRATIONS,
        migrations_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
        tasks: &[],
    };
    type Config = CommunityConfig;
    type State = State;

    fn config(v: &mut platform::config::Vars<'_>) -> CommunityConfig {
        CommunityConfig::from_vars(v)
    }

    async fn build(app: &mut App, config: CommunityConfig) -> anyhow::Result<Wired<State>> {
        let state = State {
            pool: app.pool.clone(),
            outbox: app.outbox,
            invite_key: config.invite_key.clone(),
            invite_ttl: config.invite_ttl,
            resend_interval: config.resend_interval,
        };
        let verifier = app.verifier(config.auth.clone()).await?;
        app.spawn_consumer(
            consumer::config(),
            consumer::Handler {
                state: state.clone(),
            },
        )?;
        // Every replica sweeps; SKIP LOCKED shares the due invites out instead of needing a
        // scheduler or a leader.
        let sweeper = state.clone();
        app.every("invite-expiry", config.expiry_interval, move || {
            let sweeper = sweeper.clone();
            async move {
                let n = invites::sweep(&sweeper).await?;
                if n > 0 {
                    metrics::counter!("community_invites_expired_total").increment(n as u64);
                    tracing::info!(expired = n, "invites expired");
                }
                Ok(())
            }
        });
        let routes_state = state.clone();
        Ok(Wired::new(state, move |cfg| {
            routes::configure(cfg, routes_state.clone(), verifier.clone())
        }))
    }
}
