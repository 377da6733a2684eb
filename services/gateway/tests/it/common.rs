//! A gateway under test, its upstream (an echo server), and token minting.

use actix_web::{HttpRequest, HttpResponse, web};
use futures::future::BoxFuture;
use gateway::config::GatewayConfig;
use gateway::routing::RouteTable;
use jsonwebtoken::jwk::JwkSet;
use platform::auth::{Claims, KeySource, TokenVerifier};
use platform::config::Vars;
use platform::http::health::Readiness;
use platform::http::server::HttpConfig;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use test_support::tokens::Ed25519Key;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct Keys(pub Arc<Ed25519Key>);

impl KeySource for Keys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        let jwks = self.0.jwks();
        Box::pin(async move { Ok(serde_json::from_value(jwks)?) })
    }
}

/// Answers every path: `/slow...` after two seconds, `/big` with 5 MiB streamed,
/// `/sized` with 1 MiB of known length, `openapi.json` with a small document, and
/// anything else by describing the request it received.
/// Requests that reached the upstream on a path containing `/counted` (this process).
static COUNTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn upstream(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let path = req.path().to_owned();
    if path.contains("/counted") {
        COUNTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    if path.ends_with("/hits") {
        return HttpResponse::Ok()
            .json(json!({ "hits": COUNTED.load(std::sync::atomic::Ordering::SeqCst) }));
    }
    if path.ends_with("/openapi.json") {
        return HttpResponse::Ok().json(json!({
            "openapi": "3.1.0",
            "info": { "title": "echo", "version": "1" },
            "paths": { "/api/echo/things": { "get": { "responses": { "200": { "description": "ok" } } } } },
            "components": { "schemas": { "Thing": { "type": "string" } } }
        }));
    }
    if path.contains("/slow") {
        tokio::time::sleep(Duration::from_secs(2)).await;
        return HttpResponse::Ok().finish();
    }
    if path.ends_with("/big") {
        let chunks =
            (0..80u8).map(|i| Ok::<_, actix_web::Error>(web::Bytes::from(vec![i; 64 * 1024])));
        return HttpResponse::Ok().streaming(futures::stream::iter(chunks));
    }
    if path.ends_with("/stall") {
        let first = futures::stream::once(async {
            Ok::<_, actix_web::Error>(web::Bytes::from_static(b"first"))
        });
        let late = futures::stream::once(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Ok::<_, actix_web::Error>(web::Bytes::from_static(b"late"))
        });
        return HttpResponse::Ok().streaming(futures::StreamExt::chain(first, late));
    }
    if path.ends_with("/sized") {
        return HttpResponse::Ok().body(vec![7u8; 1024 * 1024]);
    }
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "path": path,
        "query": req.query_string(),
        "headers": headers,
        "bodyLen": body.len(),
        "bodySum": body.iter().map(|b| u64::from(*b)).sum::<u64>(),
    }))
}

pub struct Upstream {
    pub url: String,
    shutdown: CancellationToken,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn start_upstream() -> Upstream {
    let shutdown = CancellationToken::new();
    let mut http = HttpConfig::ephemeral();
    http.body_limit = 8 * 1024 * 1024;
    let running = platform::http::server::start(
        &http,
        Readiness::new(),
        |cfg| {
            cfg.route("/{tail:.*}", web::route().to(upstream));
        },
        shutdown.clone(),
    )
    .unwrap();
    Upstream {
        url: format!("http://{}", running.addr),
        shutdown,
    }
}

/// A port nothing listens on.
pub fn dead_url() -> String {
    let port = test_support::free_port().unwrap();
    format!("http://127.0.0.1:{port}")
}

pub struct Gateway {
    pub base: String,
    pub key: Arc<Ed25519Key>,
    pub http: reqwest::Client,
    _upstream: Upstream,
    shutdown: CancellationToken,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The table every test gateway routes by: `echo` is the upstream above, `dead` a closed
/// port, `off` a disabled upstream.
fn table(echo: &str, dead: &str) -> String {
    format!(
        r#"
[upstreams]
echo = {{ url = "{echo}", openapi = "/api/echo/openapi.json" }}
dead = {{ url = "{dead}" }}
off = {{ url = "http://127.0.0.1:9" }}

[[routes]]
prefix = "/api/echo"
upstream = "echo"

[[routes]]
prefix = "/api/signin"
upstream = "echo"
limit = "auth"

[[routes]]
prefix = "/api/dead"
upstream = "dead"

[[routes]]
prefix = "/api/off"
upstream = "off"

[public]
routes = ["GET /api/echo/public/**", "POST /api/echo/public/**", "POST /api/signin/**", "GET /api/*/openapi.json"]
"#
    )
}

/// Starts a gateway; `env` adds or overrides variables (limits, trusted proxies, CORS).
pub async fn start(env: &[(&str, &str)]) -> Gateway {
    start_with(env, false).await
}

/// As [`start`], with the `dead` upstream enabled (it is off by default so readiness passes).
pub async fn start_with(env: &[(&str, &str)], with_dead: bool) -> Gateway {
    test_support::init_logs();
    let upstream = start_upstream();
    let mut vars: HashMap<String, String> = [
        ("HTTP_PORT", "0"),
        ("REDIS_URL", test_support::redis_url().as_str()),
        ("GATEWAY_UPSTREAM_TIMEOUT", "500ms"),
        ("GATEWAY_UPSTREAM_OFF", "off"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in env {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let mut v = Vars::new(&vars);
    let mut config = GatewayConfig::from_vars(&mut v);
    v.finish().unwrap();
    config.table = RouteTable::parse(&table(&upstream.url, &dead_url())).unwrap();
    if !with_dead {
        config.table.set_upstream_url("dead", "off").unwrap();
    }
    config.table.set_upstream_url("off", "off").unwrap();
    config.limiter_prefix = format!("test:gateway:{}:", Uuid::new_v4());
    let key = Arc::new(Ed25519Key::new("gw-test"));
    let verifier = TokenVerifier::with_key_source(config.auth.clone(), Arc::new(Keys(key.clone())))
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let running = gateway::start(config, verifier, shutdown.clone())
        .await
        .unwrap();
    Gateway {
        base: format!("http://{}", running.addr),
        key,
        http: reqwest::Client::new(),
        _upstream: upstream,
        shutdown,
    }
}

pub fn claims(roles: &[&str]) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: Uuid::now_v7(),
        sid: Uuid::now_v7(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        perms: vec![],
        iss: "neighbourly-auth".into(),
        aud: "neighbourly".into(),
        iat: now,
        exp: now + 900,
        jti: Some(Uuid::new_v4()),
    }
}

impl Gateway {
    pub fn token(&self, claims: &Claims) -> String {
        self.key.sign(claims).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

pub async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}
