//! A running auth service per test: its own database (a template copy), the shared Redis
//! and broker, an HTTP server on a free port, and helpers to drive it as a client would.

use auth::config::{Argon2Params, AuthServiceConfig, LockoutPolicy, TokenPolicy};
use auth::crypto::Kek;
use auth::state::State;
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Text};
use diesel_async::RunQueryDsl;
use platform::auth::{AuthConfig, TokenVerifier};
use platform::config::Secret;
use platform::db::DbConfig;
use platform::http::health::Readiness;
use platform::http::server::HttpConfig;
use platform::kafka::outbox::Outbox;
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use test_support::TestDb;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "violet kettle drums sideways";

pub fn redis_url() -> String {
    test_support::redis_url()
}

pub async fn db() -> TestDb {
    test_support::init_logs();
    let files =
        test_support::migrations_fingerprint(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    TestDb::from_template("auth", &files, |url| async move {
        platform::db::run_migrations(&Secret::new(url), auth::MIGRATIONS).await?;
        Ok(())
    })
    .await
    .expect("test database")
}

pub fn config() -> AuthServiceConfig {
    let mut root = [0u8; 32];
    getrandom::fill(&mut root).unwrap();
    let verify = AuthConfig {
        jwks_url: String::new(),
        issuer: "neighbourly-auth".into(),
        audience: "neighbourly".into(),
        redis_url: Secret::new(redis_url()),
        leeway: Duration::from_secs(5),
        min_refresh_interval: Duration::from_millis(100),
    };
    AuthServiceConfig {
        kek: Kek::from_bytes(&root),
        tokens: TokenPolicy {
            issuer: verify.issuer.clone(),
            audience: verify.audience.clone(),
            access_ttl: Duration::from_secs(900),
            refresh_idle_ttl: Duration::from_secs(7 * 86_400),
            refresh_absolute_ttl: Duration::from_secs(30 * 86_400),
        },
        lockout: LockoutPolicy {
            threshold: 3,
            window: Duration::from_secs(60),
            base: Duration::from_secs(2),
            max: Duration::from_secs(8),
        },
        ip_limit_per_minute: 1_000_000,
        // Light parameters keep the suite fast; the benchmark uses the production ones.
        argon2: Argon2Params {
            memory_kib: 4096,
            iterations: 1,
        },
        hashing_threads: 4,
        verify,
    }
}

pub struct Service {
    pub base: String,
    pub http: reqwest::Client,
    pub state: State,
    pub verifier: TokenVerifier,
    /// Held so the database lives as long as the service.
    pub _db: TestDb,
    pub shutdown: CancellationToken,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn start() -> Service {
    start_with(config()).await
}

pub async fn start_with(config: AuthServiceConfig) -> Service {
    let db = db().await;
    let mut dbc = DbConfig::for_url(db.url.clone());
    dbc.wait_timeout = Duration::from_secs(5);
    let pool = platform::db::build_pool(&dbc, "auth-it").unwrap();
    let verify = config.verify.clone();
    let state = State::new(pool.clone(), Outbox::new("auth"), config)
        .await
        .unwrap();
    let mut conn = platform::db::conn(&pool).await.unwrap();
    auth::keys::ensure_active(&mut conn, &state.kek)
        .await
        .unwrap();
    drop(conn);
    let verifier =
        TokenVerifier::with_key_source(verify, Arc::new(auth::keys::LocalKeys(pool.clone())))
            .await
            .unwrap();
    let shutdown = CancellationToken::new();
    let (s, v) = (state.clone(), verifier.clone());
    let mut http = HttpConfig::ephemeral();
    // Lets a test stand for distinct clients through X-Forwarded-For.
    http.trusted_proxies = "127.0.0.1".parse().unwrap();
    let running = platform::http::server::start(
        &http,
        Readiness::new(),
        move |cfg| auth::routes::configure(cfg, s.clone(), v.clone()),
        shutdown.clone(),
    )
    .unwrap();
    Service {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
        state,
        verifier,
        _db: db,
        shutdown,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

impl Service {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}/api/auth{path}", self.base))
            .header("user-agent", "auth-it/1.0");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Resp {
            status,
            body,
            headers,
        }
    }

    /// A document served outside `/api/auth` (the JWKS) or any plain GET, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body), None)
            .await
    }

    pub async fn post_auth(&self, path: &str, body: Value, token: &str) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body), Some(token))
            .await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None, Some(token))
            .await
    }

    /// Registers `email` and returns its user id (from the outbox, as the user service
    /// would learn it).
    pub async fn register(&self, email: &str) -> uuid::Uuid {
        let r = self
            .post("/register", json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        let ev: events::proto::auth::v1::UserRegistered = self
            .last_event(events::types::AUTH_USER_REGISTERED)
            .await
            .expect("registered event");
        ev.user_id.parse().unwrap()
    }

    /// Registers `email` and verifies it with the link token, as its owner would.
    pub async fn register_verified(&self, email: &str) -> uuid::Uuid {
        let id = self.register(email).await;
        let req: events::proto::auth::v1::EmailVerificationRequested = self
            .last_event(events::types::AUTH_USER_EMAIL_VERIFICATION_REQUESTED)
            .await
            .expect("verification event");
        let r = self
            .post("/verify-email", json!({ "token": req.token }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        id
    }

    pub async fn login(&self, identifier: &str, password: &str, device: &str) -> Resp {
        self.post(
            "/login",
            json!({ "identifier": identifier, "password": password, "deviceId": device }),
        )
        .await
    }

    /// Registers and signs in; returns (access token, refresh token, session id).
    pub async fn signed_in(&self, email: &str) -> (String, String, String) {
        self.register(email).await;
        let r = self.login(email, PASSWORD, "phone-1").await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        tokens(&r)
    }

    /// The newest event of `event_type` in the outbox, decoded.
    pub async fn last_event<E: Message + Default>(&self, event_type: &str) -> Option<E> {
        self.events::<E>(event_type).await.pop()
    }

    /// Every event of `event_type` in the outbox, oldest first.
    pub async fn events<E: Message + Default>(&self, event_type: &str) -> Vec<E> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Bytea)]
            payload: Vec<u8>,
        }
        let mut conn = platform::db::conn(&self.state.pool).await.unwrap();
        let rows: Vec<Row> =
            diesel::sql_query("SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id")
                .bind::<Text, _>(event_type)
                .load(&mut conn)
                .await
                .unwrap();
        rows.into_iter()
            .map(|r| E::decode(r.payload.as_slice()).unwrap())
            .collect()
    }

    /// The code of the newest OTP sent to `destination` (what the notification service
    /// would deliver).
    pub async fn otp_code(&self, destination: &str) -> String {
        self.events::<events::proto::auth::v1::OtpRequested>(events::types::AUTH_OTP_REQUESTED)
            .await
            .into_iter()
            .rev()
            .find(|e| e.destination == destination)
            .expect("an OTP event")
            .code
    }
}

pub fn tokens(r: &Resp) -> (String, String, String) {
    let d = r.data();
    (
        d["tokens"]["accessToken"].as_str().unwrap().to_owned(),
        d["tokens"]["refreshToken"].as_str().unwrap().to_owned(),
        d["sessionId"].as_str().unwrap().to_owned(),
    )
}

pub fn email(prefix: &str) -> String {
    format!(
        "{}@example.com",
        test_support::unique(prefix).replace('.', "-")
    )
}
