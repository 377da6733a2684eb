//! The auth service: credentials, sessions bound to devices, refresh-token families, OTP,
//! TOTP, roles and permissions, and the signing keys every other service verifies with.
//!
//! Modules hold one subject each: `accounts`, `registration`, `login`, `sessions`,
//! `devices`, `otp`, `mfa`, `credentials` (password/e-mail/phone changes), `rbac`, `keys`
//! and `tokens`; `routes` is the HTTP surface, `consumer` the reaction to other services'
//! events, `tasks` the operator commands.

pub mod accounts;
pub mod config;
pub mod consumer;
pub mod credentials;
pub mod crypto;
pub mod devices;
pub mod error;
pub mod identifiers;
pub mod keys;
pub mod limits;
pub mod login;
pub mod mfa;
pub mod one_time;
pub mod otp;
pub mod password;
pub mod rbac;
pub mod registration;
pub mod routes;
pub mod schema;
pub mod sessions;
pub mod state;
pub mod tasks;
pub mod tokens;

use config::AuthServiceConfig;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::app::{App, ServiceSpec, Wired};
use platform::auth::TokenVerifier;
use state::State;
use std::sync::Arc;
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How often revoked sessions are written to the deny-list again.
const DENY_LIST_REPAIR_EVERY: Duration = Duration::from_secs(30);

/// The auth service, for `platform::app::run` and `harness::TestService`.
pub struct Auth;

impl platform::app::Service for Auth {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "auth",
        default_port: 18081,
        migrations: MIGRATIONS,
        migrations_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
        tasks: tasks::TASKS,
    };
    type Config = AuthServiceConfig;
    type State = State;

    fn config(v: &mut platform::config::Vars<'_>) -> AuthServiceConfig {
        AuthServiceConfig::from_vars(v)
    }

    async fn build(app: &mut App, config: AuthServiceConfig) -> anyhow::Result<Wired<State>> {
        let verify = config.verify.clone();
        let state = State::new(app.pool.clone(), app.outbox, config).await?;
        let mut conn = platform::db::conn(&state.pool).await?;
        keys::ensure_active(&mut conn, &state.kek).await?;
        drop(conn);
        app.add_readiness(platform::http::health::RedisCheck(state.redis.clone()));
        // The issuer verifies with its own keys, under the harness too: its tests sign in
        // for real.
        let verifier =
            TokenVerifier::with_key_source(verify, Arc::new(keys::LocalKeys(state.pool.clone())))
                .await?;
        app.spawn_consumer(
            consumer::config(),
            consumer::Handler {
                state: state.clone(),
            },
        )?;
        let repair = state.clone();
        app.every("deny-list-repair", DENY_LIST_REPAIR_EVERY, move || {
            let repair = repair.clone();
            async move {
                sessions::repair_deny_list(&repair).await?;
                Ok(())
            }
        });
        let routes_state = state.clone();
        Ok(Wired::new(state, move |cfg| {
            routes::configure(cfg, routes_state.clone(), verifier.clone())
        }))
    }

    async fn task(app: App, config: AuthServiceConfig, args: Vec<String>) -> anyhow::Result<()> {
        let state = State::new(app.pool.clone(), app.outbox, config).await?;
        tasks::run(state, &args).await
    }
}
