//! `/health/live` (the process answers) and `/health/ready` (its dependencies answer).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures::future::BoxFuture;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One dependency that must answer for the service to be ready.
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &'static str;
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// The set of checks behind `/health/ready`.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

/// How long one check may take before it counts as down: a probe must answer well within
/// the orchestrator's own timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessReport {
    pub status: &'static str,
    pub checks: BTreeMap<&'static str, String>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, check: impl ReadinessCheck + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// Runs every check concurrently.
    pub async fn report(&self) -> (bool, ReadinessReport) {
        let results = futures::future::join_all(self.checks.iter().map(|c| async move {
            let r = match tokio::time::timeout(CHECK_TIMEOUT, c.check()).await {
                Ok(r) => r,
                Err(_) => Err("timed out".to_owned()),
            };
            (c.name(), r)
        }))
        .await;
        let mut ready = true;
        let mut checks = BTreeMap::new();
        for (name, r) in results {
            match r {
                Ok(()) => {
                    checks.insert(name, "up".to_owned());
                }
                Err(e) => {
                    // The reason is logged, not returned: probes are often reachable from
                    // outside the cluster.
                    tracing::warn!(check = name, error = %e, "readiness check failed");
                    ready = false;
                    checks.insert(name, "down".to_owned());
                }
            }
        }
        let status = if ready { "ready" } else { "not ready" };
        (ready, ReadinessReport { status, checks })
    }
}

async fn live() -> HttpResponse {
    super::envelope::ok(serde_json::json!({ "status": "alive" }))
}

async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let (ok, report) = readiness.report().await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(status).json(serde_json::json!({
        "success": ok,
        "data": report,
        "message": if ok { None } else { Some("a dependency is unavailable") },
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

/// Redis answers `PING` within a second.
pub struct RedisCheck(pub redis::aio::ConnectionManager);

impl ReadinessCheck for RedisCheck {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let mut conn = self.0.clone();
            let cmd = redis::cmd("PING");
            let ping = cmd.query_async::<String>(&mut conn);
            match tokio::time::timeout(Duration::from_secs(1), ping).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".into()),
            }
        })
    }
}

/// The database answers `SELECT 1` through the pool.
pub struct DatabaseCheck(pub crate::db::DbPool);

impl ReadinessCheck for DatabaseCheck {
    fn name(&self) -> &'static str {
        "database"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { crate::db::ping(&self.0).await.map_err(|e| e.to_string()) })
    }
}

/// `<binary> healthcheck`: asks the running server's own `/health/ready` and exits 0 when
/// it is ready. Container images have no curl or shell, so the binary probes itself (the
/// compose and Dockerfile health checks run it).
pub async fn probe(default_port: u16) -> std::process::ExitCode {
    let url = probe_url(
        std::env::var("HTTP_HOST").ok().as_deref(),
        std::env::var("HTTP_PORT").ok().as_deref(),
        default_port,
    );
    match check_ready(&url).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("healthcheck: {url}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Where the server of this configuration answers: a wildcard bind address through
/// loopback, a specific one directly.
fn probe_url(host: Option<&str>, port: Option<&str>, default_port: u16) -> String {
    let port = port
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(default_port);
    let host = match host {
        None | Some("" | "0.0.0.0" | "::" | "[::]") => "127.0.0.1".to_owned(),
        Some(h) if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        Some(h) => h.to_owned(),
    };
    format!("http://{host}:{port}/health/ready")
}

async fn check_ready(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .map_err(|e| e.to_string())?;
    let answer = client.get(url).send().await.map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", answer.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn the_probe_reaches_wildcard_binds_through_loopback() {
        assert_eq!(
            probe_url(None, None, 18081),
            "http://127.0.0.1:18081/health/ready"
        );
        assert_eq!(
            probe_url(Some("0.0.0.0"), Some("8080"), 1),
            "http://127.0.0.1:8080/health/ready"
        );
        assert_eq!(
            probe_url(Some("::"), Some("x"), 9),
            "http://127.0.0.1:9/health/ready"
        );
        assert_eq!(
            probe_url(Some("10.1.2.3"), Some("80"), 1),
            "http://10.1.2.3:80/health/ready"
        );
        assert_eq!(
            probe_url(Some("::1"), Some("80"), 1),
            "http://[::1]:80/health/ready"
        );
    }

    /// A one-shot server answering every connection with `status`.
    async fn answering(status: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let reply =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        format!("http://{addr}/health/ready")
    }

    #[tokio::test]
    async fn ready_only_on_a_success_answer() {
        assert_eq!(check_ready(&answering("200 OK").await).await, Ok(()));
        let unready = check_ready(&answering("503 Service Unavailable").await).await;
        assert!(unready.unwrap_err().contains("503"));
        // Nothing listening.
        let port = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(
            check_ready(&format!("http://127.0.0.1:{port}/health/ready"))
                .await
                .is_err()
        );
    }
}
