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
