//! Sending, one trait per kind of channel, the implementation chosen by configuration:
//! e-mail over SMTP (lettre), SMS through a Twilio-shaped HTTP API or the log, push through
//! FCM HTTP v1 or the log. In-app messages are stored, not sent (see `inbox`).

pub mod email;
pub mod push;
pub mod sms;

use futures::future::BoxFuture;

/// What a provider said when it took a message (kept in the delivery log).
#[derive(Debug, Clone)]
pub struct Receipt(pub String);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: the server is down, busy or answered 5xx/429.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: a refused address, a bad request, an unregistered device.
    #[error("{0}")]
    Permanent(String),
}

/// An e-mail ready to go.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Also the Message-ID's left part: a receiver can tell a retried message from a new one.
    pub id: uuid::Uuid,
}

pub trait EmailSender: Send + Sync {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<Receipt, SendError>>;
}

pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> BoxFuture<'a, Result<Receipt, SendError>>;
}

pub trait PushSender: Send + Sync {
    fn send<'a>(
        &'a self,
        token: &'a str,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<Receipt, SendError>>;
}

/// An HTTP answer as a send result: 2xx taken, 408/429/5xx transient, any other refusal
/// permanent.
pub(crate) async fn classify(resp: reqwest::Response) -> Result<Receipt, SendError> {
    let status = resp.status();
    let body: String = resp
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let summary = format!("{} {body}", status.as_u16());
    if status.is_success() {
        Ok(Receipt(summary))
    } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(SendError::Transient(summary))
    } else {
        Err(SendError::Permanent(summary))
    }
}

/// A transport error (connection refused, timeout) is transient.
pub(crate) fn transport(e: reqwest::Error) -> SendError {
    SendError::Transient(e.to_string())
}

/// Enough of an address or token to recognise it in a log, not to use it.
pub fn mask(s: &str) -> String {
    let shown: String = s
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{shown}")
}
