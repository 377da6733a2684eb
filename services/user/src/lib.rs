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
use platform::app::{App, ServiceSpec, Wired};
use state::State;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The user service, for `platform::app::run` and `harness::TestService`.
pub struct User;

impl platform::app::Service for User {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "user",
        default_port: 18082,
        migrations: MIGRATIONS,
        migrations_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
        tasks: &[],
    };
    type Config = UserConfig;
    type State = State;

    fn config(v: &mut platform::config::Vars<'_>) -> UserConfig {
        UserConfig::from_vars(v)
    }

    async fn build(app: &mut App, config: UserConfig) -> anyhow::Result<Wired<State>> {
        let state = State {
            pool: app.pool.clone(),
            outbox: app.outbox,
        };
        let verifier = app.verifier(config.auth.clone()).await?;
        app.spawn_consumer(
            consumer::config(),
            consumer::Handler {
                state: state.clone(),
            },
        )?;
        let sweeper = state.clone();
        app.every("suspension-sweep", config.sweep_interval, move || {
            let sweeper = sweeper.clone();
            async move {
                let n = lifecycle::lift_expired(&sweeper).await?;
                if n > 0 {
                    tracing::info!(lifted = n, "suspensions ended");
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
