//! Push: an FCM HTTP v1 adapter (`POST {endpoint}/v1/projects/{project}/messages:send`,
//! authorised with an OAuth2 token obtained from a service account's signed JWT), and a
//! log adapter for development.

use super::{PushSender, Receipt, SendError, classify, transport};
use futures::future::BoxFuture;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The fields of a Google service-account key file this adapter uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    pub token_uri: String,
}

pub struct Fcm {
    http: reqwest::Client,
    endpoint: String,
    project_id: String,
    account: ServiceAccount,
    key: jsonwebtoken::EncodingKey,
    token: Mutex<Option<(String, Instant)>>,
}

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

impl Fcm {
    pub fn new(endpoint: &str, project_id: &str, account: ServiceAccount) -> anyhow::Result<Self> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| anyhow::anyhow!("the FCM service account's private key: {e}"))?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            project_id: project_id.to_owned(),
            account,
            key,
            token: Mutex::new(None),
        })
    }

    /// An access token, reused until a minute before it ends.
    async fn access_token(&self) -> Result<String, SendError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": self.account.client_email, "scope": SCOPE, "aud": self.account.token_uri,
            "iat": now, "exp": now + 3600,
        });
        let assertion = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &self.key,
        )
        .map_err(|e| SendError::Permanent(format!("signing the FCM assertion: {e}")))?;
        let resp = self
            .http
            .post(&self.account.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(transport)?;
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: u64,
        }
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(SendError::Transient(format!("FCM token {status}: {body}")));
        }
        let token: Token = resp
            .json()
            .await
            .map_err(|e| SendError::Transient(format!("FCM token answer: {e}")))?;
        let until = Instant::now() + Duration::from_secs(token.expires_in.saturating_sub(60));
        *cached = Some((token.access_token.clone(), until));
        Ok(token.access_token)
    }
}

impl PushSender for Fcm {
    fn send<'a>(
        &'a self,
        token: &'a str,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let access = self.access_token().await?;
            let url = format!(
                "{}/v1/projects/{}/messages:send",
                self.endpoint, self.project_id
            );
            let message = serde_json::json!({
                "message": { "token": token, "notification": { "title": title, "body": body } }
            });
            let resp = self
                .http
                .post(url)
                .bearer_auth(access)
                .json(&message)
                .send()
                .await
                .map_err(transport)?;
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
                // The access token was revoked or the clock moved: fetch a new one next time.
                *self.token.lock().await = None;
                return Err(SendError::Transient("401 access token refused".into()));
            }
            classify(resp).await
        })
    }
}

/// Development: nothing is sent; the message goes to the log (its text only with
/// `NOTIFICATION_LOG_CONTENT`).
pub struct LogPush {
    pub show_text: bool,
}

impl PushSender for LogPush {
    fn send<'a>(
        &'a self,
        token: &'a str,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let (title, body) = if self.show_text {
                (title, body)
            } else {
                ("(hidden)", "(hidden)")
            };
            tracing::info!(token = %super::mask(token), %title, %body, "push (log adapter, not sent)");
            Ok(Receipt("logged".into()))
        })
    }
}
