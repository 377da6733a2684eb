//! `/health/ready` of the gateway aggregates its upstreams: it is ready when Redis answers
//! and every enabled upstream reports itself ready; the body lists each one.

use futures::future::BoxFuture;
use platform::http::health::ReadinessCheck;
use std::time::Duration;

pub struct UpstreamCheck {
    /// `upstream:<name>`; leaked once at start-up because checks are named by `&'static str`.
    name: &'static str,
    url: String,
    http: reqwest::Client,
}

impl UpstreamCheck {
    pub fn new(name: &str, base_url: &str, http: reqwest::Client) -> Self {
        Self {
            name: Box::leak(format!("upstream:{name}").into_boxed_str()),
            url: format!("{base_url}/health/ready"),
            http,
        }
    }
}

impl ReadinessCheck for UpstreamCheck {
    fn name(&self) -> &'static str {
        self.name
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
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
        })
    }
}
