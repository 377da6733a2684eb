//! The e-mail a person receives, read from the stack's dev inbox (maildev, a real SMTP
//! server the notification service sends to) through its REST API, as a person would read
//! it in their mail client. `E2E_MAIL_URL` (or `STACK_MAIL_URL`) points elsewhere.

use anyhow::{Context, bail};
use serde_json::Value;
use std::time::{Duration, Instant};

pub fn mail_url() -> String {
    std::env::var("E2E_MAIL_URL")
        .or_else(|_| std::env::var("STACK_MAIL_URL"))
        .unwrap_or_else(|_| "http://127.0.0.1:51080".into())
}

/// One received e-mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The value of the first `token=` in the text (the links carry their token there).
    pub fn link_token(&self) -> Option<String> {
        let start = self.text.find("token=")? + "token=".len();
        let token: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

/// The first e-mail to `to` whose subject contains `subject`, waiting up to `within`.
pub async fn find(to: &str, subject: &str, within: Duration) -> anyhow::Result<Mail> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let deadline = Instant::now() + within;
    loop {
        let all: Value = http
            .get(format!("{}/email", mail_url()))
            .send()
            .await
            .context("reading the dev inbox")?
            .json()
            .await?;
        let found = all.as_array().into_iter().flatten().find(|m| {
            let to_match = m["to"].as_array().into_iter().flatten().any(|a| {
                a["address"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(to))
            });
            to_match && m["subject"].as_str().is_some_and(|s| s.contains(subject))
        });
        if let Some(m) = found {
            return Ok(Mail {
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                text: m["text"].as_str().unwrap_or_default().to_owned(),
                html: m["html"].as_str().unwrap_or_default().to_owned(),
            });
        }
        if Instant::now() > deadline {
            bail!("no e-mail to {to} about {subject:?} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Mail;

    #[test]
    fn the_token_is_read_from_the_link() {
        let mail = Mail {
            subject: String::new(),
            text: "Join here:\nhttp://x.test/join?token=Ab-9_z\n\nOr...".into(),
            html: String::new(),
        };
        assert_eq!(mail.link_token().as_deref(), Some("Ab-9_z"));
    }
}
