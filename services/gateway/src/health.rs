//! `/health/ready` of the gateway aggregates its upstreams: it is ready when Redis answers
//! and every enabled upstream reports itself ready; the body lists each one.

use futures::future::BoxFuture;
use platform::http::health::ReadinessCheck;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub struct UpstreamCheck {
    /// `upstream:<name>`; leaked once at start-up because checks are named by `&'static str`.
    name: &'static str,
    url: String,
    http: reqwest::Client,
    /// The last answer, reused for a moment: `/health/ready` sits on the public door, and
    /// each call would otherwise fan out to every upstream.
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

const REUSE: Duration = Duration::from_secs(2);

impl UpstreamCheck {
    pub fn new(name: &str, base_url: &str, http: reqwest::Client) -> Self {
        Self {
            name: Box::leak(format!("upstream:{name}").into_boxed_str()),
            url: format!("{base_url}/health/ready"),
            http,
            last: Mutex::new(None),
        }
    }
}

impl ReadinessCheck for UpstreamCheck {
    fn name(&self) -> &'static str {
        self.name
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let mut last = self.last.lock().await;
            if let Some((at, result)) = last.as_ref()
                && at.elapsed() < REUSE
            {
                return result.clone();
            }
            let result = self.ask().await;
            *last = Some((Instant::now(), result.clone()));
            result
        })
    }
}

impl UpstreamCheck {
    async fn ask(&self) -> Result<(), String> {
        let resp = self
            .http
            .get(&self.url)
            .timeout(Duration::from_millis(1500))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", resp.status()))
        }
    }
}
