//! The API gateway: the one door clients use. It routes `/api/<area>/...` to the owning
//! service (`routing`), checks access tokens at the edge and forwards the verified
//! identity (`proxy`), rate-limits in Redis so replicas share counts (the kit's `ratelimit`), and
//! serves Swagger UI over the merged OpenAPI documents (`docs`). It has no database and
//! publishes no events.

pub mod config;
pub mod docs;
pub mod error;
pub mod health;
pub mod proxy;
pub mod routing;

use actix_cors::Cors;
use actix_web::http::Method;
use actix_web::web;
use config::{CorsOrigins, GatewayConfig};
use platform::auth::TokenVerifier;
use platform::config::{ProcessEnv, Vars};
use platform::http::health::{Readiness, RedisCheck};
use platform::http::server::Running;
use proxy::Gateway;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Headers a browser may send and read cross-origin.
const CORS_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "accept",
    "x-request-id",
    "idempotency-key",
];
const CORS_EXPOSED_HEADERS: &[&str] = &[
    "x-request-id",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
    "location",
];

fn cors(origins: &CorsOrigins, max_age: std::time::Duration) -> Cors {
    let base = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers(CORS_REQUEST_HEADERS.iter().copied())
        .expose_headers(CORS_EXPOSED_HEADERS.iter().copied())
        .max_age(usize::try_from(max_age.as_secs()).ok());
    match origins {
        // Tokens travel in the Authorization header, never in cookies: no credentials mode.
        CorsOrigins::Any => base.allow_any_origin().send_wildcard(),
        CorsOrigins::List(list) => list.iter().fold(base, |c, o| c.allowed_origin(o)),
        // Default: no origin allowed, so only same-origin pages can call.
        CorsOrigins::None => base,
    }
}

/// Binds and starts the gateway with the given verifier (tests pass one reading keys from
/// their own source); it runs until `shutdown` is cancelled.
pub async fn start(
    config: GatewayConfig,
    verifier: TokenVerifier,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let redis = platform::redis_conn::connect(config.redis_url.expose()).await?;
    let http = reqwest::Client::builder().build()?;
    let mut readiness = Readiness::new().with(RedisCheck(redis));
    for upstream in config.table.upstreams() {
        if let Some(url) = &upstream.url {
            readiness = readiness.with(health::UpstreamCheck::new(
                &upstream.name,
                url,
                http.clone(),
            ));
        }
    }
    let docs = web::Data::new(docs::Docs::new(&config.table, config.docs_cache)?);
    let gateway = web::Data::new(Gateway {
        table: config.table.clone(),
        verifier,
        limiter: platform::ratelimit::RateLimiter::new(
            config.redis_url.expose(),
            &config.limiter_prefix,
        )?,
        limits: config.limits,
        body_limit: config.http.body_limit,
        body_idle_timeout: config.upstream.response_timeout,
    });
    let upstream = config.upstream;
    let origins = Arc::new(config.cors.clone());
    let max_age = config.cors_max_age;
    platform::http::server::start(
        &config.http,
        readiness,
        move |cfg| {
            cfg.app_data(gateway.clone())
                .app_data(docs.clone())
                .app_data(web::Data::new(proxy::client(&upstream)))
                .app_data(web::Data::new(platform::ratelimit::WorkerConn::default()))
                .service(
                    // An empty scope wraps everything but the kit's health and metrics routes
                    // in CORS; its default service is the proxy.
                    web::scope("")
                        .wrap(cors(&origins, max_age))
                        .configure(docs::routes)
                        .default_service(web::to(proxy::forward)),
                );
        },
        shutdown,
    )
}

/// The process: read the configuration, start telemetry, verify tokens from the auth
/// service's JWKS, serve until SIGTERM.
pub async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args == ["healthcheck"] {
        return platform::http::health::probe(crate::config::DEFAULT_PORT).await;
    }
    if !(args.is_empty() || args == ["serve"]) {
        eprintln!(
            "usage: gateway [serve | healthcheck]\n\nThe gateway has no database: no migrate, no tasks."
        );
        return ExitCode::from(2);
    }
    let mut vars = Vars::new(&ProcessEnv);
    let config = GatewayConfig::from_vars(&mut vars);
    if let Err(e) = vars.finish() {
        eprintln!("gateway: {e}");
        return ExitCode::from(2);
    }
    let _telemetry = match platform::telemetry::init("gateway", &config.telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("gateway: telemetry: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "exiting on error");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: GatewayConfig) -> anyhow::Result<()> {
    let verifier = TokenVerifier::new(config.auth.clone()).await?;
    // Warm the key cache; if auth is not up yet, the first token fetches the keys.
    if let Err(e) = verifier.refresh_keys().await {
        tracing::warn!(error = %e, "JWKS not available yet; will fetch on the first token");
    }
    let shutdown = platform::shutdown::on_signal();
    let running = start(config, verifier, shutdown).await?;
    running.task.await??;
    Ok(())
}
