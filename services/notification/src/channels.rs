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
/// permanent. Only the status and the provider's identifiers and codes are kept: answers
/// can repeat the message (a code) and the number, which the delivery log must not hold.
pub(crate) async fn classify(resp: reqwest::Response) -> Result<Receipt, SendError> {
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
    let summary = summarise(status.as_u16(), &body);
    if status.is_success() {
        Ok(Receipt(summary))
    } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(SendError::Transient(summary))
    } else {
        Err(SendError::Permanent(summary))
    }
}

/// `201 sid=SM123`, `404 status=NOT_FOUND errorCode=UNREGISTERED`: identifiers and codes
/// of Twilio- and FCM-shaped answers, nothing free-form.
pub fn summarise(status: u16, body: &serde_json::Value) -> String {
    let mut out = status.to_string();
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) if s.len() <= 120 => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let error = &body["error"];
    let fields = [
        ("sid", &body["sid"]),
        ("name", &body["name"]),
        ("code", &body["code"]),
        ("status", &error["status"]),
        ("errorCode", &error["details"][0]["errorCode"]),
    ];
    for (key, value) in fields {
        if let Some(v) = scalar(value) {
            out.push_str(&format!(" {key}={v}"));
        }
    }
    out
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
