//! What every handler and consumer shares.

use platform::db::DbPool;
use platform::http::RequestId;
use platform::kafka::outbox::Outbox;

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
}

impl State {
    /// Adds an event about `user_id` to the outbox, in the caller's transaction (keyed by
    /// the user, so one person's events stay in order).
    pub async fn emit<E: events::DomainEvent>(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        user_id: uuid::Uuid,
        event: &E,
        request_id: Option<&RequestId>,
    ) -> Result<(), platform::db::DbError> {
        self.outbox
            .add(conn, "user", &user_id.to_string(), event, request_id)
            .await
            .map(|_| ())
    }
}
