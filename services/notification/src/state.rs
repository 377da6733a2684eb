//! What every handler, consumer and background task shares.

use crate::channels::{EmailSender, PushSender, SmsSender};
use crate::config::DispatchConfig;
use crate::templates::Templates;
use platform::db::DbPool;
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

/// Events about this service's aggregates go through the kit's one `emit`.
impl platform::kafka::outbox::Emits for State {
    const AGGREGATE: &'static str = "notification";
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}
