//! The end-to-end suite's client side: bring the stack up the way the README's first
//! command does (`scripts/stack up`, idempotent and serialised by a lock), then talk to it
//! only through the gateway, as a mobile app would.
//!
//! The journeys are in `tests/it/`; every later service adds its own there.

pub mod mailbox;
pub mod people;

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Where clients reach the platform (`E2E_GATEWAY_URL` points the suite elsewhere, e.g. at
/// a deployed environment, in which case no local stack is started).
pub fn gateway_url() -> String {
    std::env::var("E2E_GATEWAY_URL").unwrap_or_else(|_| "http://127.0.0.1:18080".into())
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

static STACK: OnceCell<()> = OnceCell::const_new();

/// Runs `scripts/stack up` once per test process: it starts whatever is not running and
/// restarts services whose binaries are newer than the running process.
pub async fn ensure_stack() -> anyhow::Result<()> {
    STACK
        .get_or_try_init(|| async {
            if std::env::var_os("E2E_GATEWAY_URL").is_some() {
                return Ok(());
            }
            let root = repo_root();
            let out = tokio::task::spawn_blocking(move || {
                Command::new(root.join("scripts/stack"))
                    .arg("up")
                    .current_dir(&root)
                    .output()
            })
            .await?
            .context("running scripts/stack up")?;
            if !out.status.success() {
                bail!(
                    "scripts/stack up failed:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Ok(())
        })
        .await
        .map(|_| ())
}

/// An answer: status, headers and the parsed envelope.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The data, after checking the status; the whole answer in the message otherwise.
    pub fn expect_status(&self, status: StatusCode) -> anyhow::Result<&Value> {
        if self.status != status {
            bail!("expected {status}, got {}: {}", self.status, self.body);
        }
        Ok(self.data())
    }
}

/// A client of the platform: one device, optionally signed in.
pub struct Client {
    http: reqwest::Client,
    base: String,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
}

impl Client {
    pub async fn new() -> anyhow::Result<Self> {
        ensure_stack().await?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            base: gateway_url(),
            access_token: None,
            refresh_token: None,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        self.call_with_token(method, path, body, self.access_token.as_deref())
            .await
    }

    pub async fn call_with_token(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends `bytes` as the part `file` of a multipart form, as a browser's file input does.
    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Answer> {
        let boundary = format!("e2e-{}", uuid::Uuid::new_v4().simple());
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(t) = &self.access_token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The raw bytes of a GET (pictures), with the status.
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<(StatusCode, Vec<u8>)> {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = &self.access_token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        Ok((resp.status(), resp.bytes().await?.to_vec()))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Signs in with a password and keeps the token pair.
    pub async fn login(&mut self, identifier: &str, password: &str) -> anyhow::Result<Value> {
        let answer = self
            .post(
                "/api/auth/login",
                &serde_json::json!({ "identifier": identifier, "password": password, "deviceId": "e2e-device", "deviceName": "e2e suite" }),
            )
            .await?;
        let data = answer.expect_status(StatusCode::OK)?.clone();
        self.keep_tokens(&data["tokens"])?;
        Ok(data)
    }

    pub fn keep_tokens(&mut self, tokens: &Value) -> anyhow::Result<()> {
        self.access_token = Some(
            tokens["accessToken"]
                .as_str()
                .context("no accessToken")?
                .to_owned(),
        );
        self.refresh_token = Some(
            tokens["refreshToken"]
                .as_str()
                .context("no refreshToken")?
                .to_owned(),
        );
        Ok(())
    }
}

/// Polls `check` until it returns `Some` (events travel through Kafka: eventually, not at
/// once), for at most `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The stack's demo `super_admin` (`scripts/stack up` creates it): its address and the
/// password kept for this checkout in `.state/secrets/admin-password`, or
/// `E2E_ADMIN_EMAIL` / `E2E_ADMIN_PASSWORD` for another stack.
pub fn admin_credentials() -> anyhow::Result<(String, String)> {
    let email =
        std::env::var("E2E_ADMIN_EMAIL").unwrap_or_else(|_| "admin@neighbourly.local".into());
    let password = match std::env::var("E2E_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let file = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.state/secrets/admin-password"
            );
            std::fs::read_to_string(file)
                .with_context(|| format!("the demo admin's password ({file})"))?
                .trim()
                .to_owned()
        }
    };
    Ok((email, password))
}

/// An e-mail address no other run uses.
pub fn unique_email(prefix: &str) -> String {
    format!(
        "{prefix}-{}@e2e.neighbourly.test",
        uuid::Uuid::new_v4().simple()
    )
}

/// A password the strength check accepts.
pub const PASSWORD: &str = "copper lantern orbit meadow 42";
