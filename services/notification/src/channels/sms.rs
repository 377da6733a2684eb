//! SMS: an adapter for a Twilio-shaped HTTP API (`POST {base}/2010-04-01/Accounts/{sid}/
//! Messages.json`, form-encoded `To`, `From`, `Body`, basic auth), and a log adapter for
//! development that writes the message to the service's log instead.

use super::{Receipt, SendError, SmsSender, classify, transport};
use futures::future::BoxFuture;
use platform::config::Secret;
use std::time::Duration;

pub struct Twilio {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: Secret<String>,
    from: String,
}

impl Twilio {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: Secret<String>,
        from: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
            from: from.to_owned(),
        })
    }
}

impl SmsSender for Twilio {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let url = format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                self.base_url, self.account_sid
            );
            let resp = self
                .http
                .post(url)
                .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
                .form(&[("To", to), ("From", self.from.as_str()), ("Body", text)])
                .send()
                .await
                .map_err(transport)?;
            classify(resp).await
        })
    }
}

/// Development: nothing is sent; the message goes to the log (the destination masked, the
/// text only with `NOTIFICATION_LOG_CONTENT`, as it may hold a code).
pub struct LogSms {
    pub show_text: bool,
}

impl SmsSender for LogSms {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let shown = if self.show_text { text } else { "(hidden)" };
            tracing::info!(to = %super::mask(to), text = %shown, "SMS (log adapter, not sent)");
            Ok(Receipt("logged".into()))
        })
    }
}
