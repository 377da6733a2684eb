//! The catalog service: each community's tool library. Categories, tools with their
//! prices and physical items, bookings of items over dates that cannot overlap, search,
//! availability and favourites; its part in the order saga is holding, confirming,
//! extending and releasing bookings.
//!
//! Modules: `communities` (what community events say: who sees and runs which library),
//! `access` (who may do what), `categories`, `tools`, `images`, `items` (inventory),
//! `import` (tools as CSV), `reservations` (bookings and the saga steps), `reviews`,
//! `stock` (back in stock), `search` (lists and text search), `favourites`; `routes` is
//! the HTTP surface, `consumer` the reaction to community and order events.

pub mod access;
pub mod categories;
pub mod communities;
pub mod config;
pub mod consumer;
pub mod error;
pub mod favourites;
pub mod images;
pub mod import;
pub mod items;
pub mod reservations;
pub mod reviews;
pub mod routes;
pub mod schema;
pub mod search;
pub mod state;
pub mod stock;
pub mod tools;

use config::CatalogConfig;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::app::{App, ServiceSpec, Wired};
use state::State;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The catalog service, for `platform::app::run` and `harness::TestService`.
pub struct Catalog;

impl platform::app::Service for Catalog {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "catalog",
        default_port: 18084,
        migrations: MIGRATIONS,
        migrations_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
        tasks: &[],
    };
    type Config = CatalogConfig;
    type State = State;

    fn config(v: &mut platform::config::Vars<'_>) -> CatalogConfig {
        CatalogConfig::from_vars(v)
    }

    async fn build(app: &mut App, config: CatalogConfig) -> anyhow::Result<Wired<State>> {
        let state = State {
            pool: app.pool.clone(),
            outbox: app.outbox,
            hold_ttl: config.hold_ttl,
            store: images::store(&config.store_url)?,
            image_max_bytes: config.image_max_bytes,
        };
        let verifier = app.verifier(config.auth.clone()).await?;
        app.spawn_consumer(
            consumer::config(),
            consumer::Handler {
                state: state.clone(),
            },
        )?;
        // Every replica sweeps; SKIP LOCKED shares the lapsed holds out.
        let sweeper = state.clone();
        app.every("hold-expiry", config.sweep_interval, move || {
            let sweeper = sweeper.clone();
            async move {
                let n = reservations::sweep(&sweeper).await?;
                if n > 0 {
                    metrics::counter!("catalog_holds_expired_total").increment(n as u64);
                    tracing::info!(orders = n, "lapsed holds released");
                }
                Ok(())
            }
        });
        let stocker = state.clone();
        app.every("back-in-stock", config.sweep_interval, move || {
            let stocker = stocker.clone();
            async move {
                stock::sweep(&stocker).await?;
                Ok(())
            }
        });
        let routes_state = state.clone();
        Ok(Wired::new(state, move |cfg| {
            routes::configure(cfg, routes_state.clone(), verifier.clone())
        }))
    }
}
