//! Running an actix-web server the same way in every service: envelope error handlers for
//! unreadable input, the request context middleware, the text guard (NUL characters and
//! invalid UTF-8 refused with a 400), health and metrics routes, a 404
//! envelope for unknown routes, and graceful shutdown driven by one cancellation token.

use super::error::{ApiError, json_error_handler, path_error_handler, query_error_handler};
use super::health::Readiness;
use crate::config::{Dur, VarDoc, Vars};
use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "HTTP_HOST",
        default: Some("127.0.0.1"),
        doc: "Address the HTTP server binds.",
    },
    VarDoc {
        name: "HTTP_PORT",
        default: Some("(per service)"),
        doc: "Port the HTTP server binds; 0 picks a free one.",
    },
    VarDoc {
        name: "HTTP_BODY_LIMIT",
        default: Some("262144"),
        doc: "Largest accepted JSON body in bytes; larger gets 413.",
    },
    VarDoc {
        name: "HTTP_WORKERS",
        default: Some("(CPU count)"),
        doc: "Request-handling threads (actix workers).",
    },
    VarDoc {
        name: "SHUTDOWN_TIMEOUT",
        default: Some("20s"),
        doc: "How long in-flight requests and consumers get to finish after SIGTERM.",
    },
];

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub host: String,
    pub port: u16,
    pub body_limit: usize,
    /// `None`: one per CPU.
    pub workers: Option<usize>,
    pub shutdown_timeout: Duration,
    pub trusted_proxies: super::client_ip::TrustedProxies,
}

impl HttpConfig {
    pub fn from_vars(v: &mut Vars<'_>, default_port: u16) -> Self {
        Self {
            host: v.or("HTTP_HOST", "127.0.0.1".to_owned()),
            port: v.or("HTTP_PORT", default_port),
            body_limit: v.or("HTTP_BODY_LIMIT", 256 * 1024),
            workers: v.optional("HTTP_WORKERS"),
            shutdown_timeout: v.or("SHUTDOWN_TIMEOUT", Dur(Duration::from_secs(20))).0,
            trusted_proxies: super::client_ip::TrustedProxies::from_vars(v),
        }
    }

    /// Loopback on a free port, for tests.
    pub fn ephemeral() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            body_limit: 256 * 1024,
            workers: Some(2),
            shutdown_timeout: Duration::from_secs(5),
            trusted_proxies: Default::default(),
        }
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(json_error_handler)
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}

/// A bound server, not yet running to completion.
pub struct Running {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds and starts the server; it stops gracefully when `shutdown` is cancelled.
/// `configure` registers the service's own routes (and app data).
pub fn start<F>(
    config: &HttpConfig,
    readiness: Readiness,
    configure: F,
    shutdown: CancellationToken,
) -> anyhow::Result<Running>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    super::metrics::handle();
    let listener = TcpListener::bind((config.host.as_str(), config.port))?;
    let addr = listener.local_addr()?;
    let body_limit = config.body_limit;
    let readiness = web::Data::new(readiness);
    let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
    let workers = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(json_config(body_limit))
            .app_data(web::PayloadConfig::default().limit(body_limit))
            .app_data(web::QueryConfig::default().error_handler(query_error_handler))
            .app_data(web::PathConfig::default().error_handler(path_error_handler))
            .app_data(readiness.clone())
            .app_data(trusted_proxies.clone())
            .app_data(super::middleware::BodyLimit(body_limit))
            // Inside the request context, so its refusals carry a request id and are logged
            // and counted like any answer.
            .wrap(from_fn(super::middleware::text_guard))
            .wrap(from_fn(super::middleware::request_context))
            .configure(super::health::routes)
            .configure(super::metrics::routes)
            .configure(configure.clone())
            .default_service(web::to(not_found))
    })
    // Signals are handled once for the whole process (HTTP, relay, consumers) by
    // `crate::shutdown`, so actix must not install its own.
    .disable_signals()
    .workers(workers.max(1))
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .listen(listener)?
    .run();
    let handle = server.handle();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        stopper.stop(true).await;
    });
    let task = tokio::spawn(server);
    tracing::info!(%addr, "HTTP server listening");
    Ok(Running { addr, handle, task })
}
