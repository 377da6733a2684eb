//! What every handler, consumer and background task shares.

use crate::channels::{EmailSender, PushSender, SmsSender};
use crate::config::DispatchConfig;
use crate::templates::Templates;
use platform::db::DbPool;
use platform::http::RequestId;
use platform::kafka::outbox::Outbox;
use std::sync::Arc;

#[derive(Clone)]
pub struct Senders {
    pub email: Arc<dyn EmailSender>,
    pub sms: Arc<dyn SmsSender>,
    pub push: Arc<dyn PushSender>,
}

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
    pub templates: Arc<Templates>,
    pub senders: Senders,
    /// Base of the links in messages.
    pub app_url: String,
    pub dispatch: DispatchConfig,
}

impl State {
    /// Adds an event to the outbox in the caller's transaction, keyed by `key` (the user,
    /// or the address for someone without an account).
    pub async fn emit<E: events::DomainEvent>(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        key: &str,
        event: &E,
        request_id: Option<&RequestId>,
    ) -> Result<(), platform::db::DbError> {
        self.outbox
            .add(conn, "notification", key, event, request_id)
            .await
            .map(|_| ())
    }
}
