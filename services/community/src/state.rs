//! What every handler and consumer shares.

use crate::tokens::InviteKey;
use platform::db::DbPool;
use platform::http::RequestId;
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

impl State {
    /// Adds an event about community `community_id` to the outbox, in the caller's
    /// transaction (keyed by the community, so its events stay in order).
    pub async fn emit<E: events::DomainEvent>(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        community_id: uuid::Uuid,
        event: &E,
        request_id: Option<&RequestId>,
    ) -> Result<(), platform::db::DbError> {
        self.outbox
            .add(
                conn,
                "community",
                &community_id.to_string(),
                event,
                request_id,
            )
            .await
            .map(|_| ())
    }
}
