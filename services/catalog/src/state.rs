//! What every handler and consumer shares.

use platform::db::DbPool;
use platform::kafka::outbox::Outbox;
use std::time::Duration;

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
    /// How long an order's items are held before payment confirms them.
    pub hold_ttl: Duration,
    /// Where tool images are kept.
    pub store: crate::images::Store,
    pub image_max_bytes: usize,
}

impl platform::kafka::outbox::Emits for State {
    const AGGREGATE: &'static str = "catalog";
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}
