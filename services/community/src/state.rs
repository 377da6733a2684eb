//! What every handler and consumer shares.

use crate::tokens::InviteKey;
use platform::db::DbPool;
use platform::kafka::outbox::Outbox;
use std::time::Duration;

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
    pub invite_key: InviteKey,
    pub invite_ttl: Duration,
    /// The shortest time between two e-mails of one invite.
    pub resend_interval: Duration,
}

/// Events about this service's aggregates go through the kit's one `emit`.
impl platform::kafka::outbox::Emits for State {
    const AGGREGATE: &'static str = "community";
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}
