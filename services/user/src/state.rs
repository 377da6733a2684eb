//! What every handler and consumer shares.

use platform::db::DbPool;
use platform::kafka::outbox::Outbox;

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
}

/// Events about this service's aggregates go through the kit's one `emit`.
impl platform::kafka::outbox::Emits for State {
    const AGGREGATE: &'static str = "user";
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}
