//! What every handler, consumer and background task shares.

use crate::catalog::CatalogClient;
use crate::config::SagaConfig;
use platform::db::DbPool;
use platform::kafka::outbox::Outbox;

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
    pub saga: SagaConfig,
    /// The catalog's HTTP API, for the cart's advisory availability check.
    pub catalog: CatalogClient,
}

impl platform::kafka::outbox::Emits for State {
    const AGGREGATE: &'static str = "order";
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}
