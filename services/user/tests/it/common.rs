//! A running user service per test: its own database, the shared Redis and broker, an
//! HTTP server on a free port, and access tokens signed by a test key it trusts.

use futures::future::BoxFuture;
use jsonwebtoken::jwk::JwkSet;
use platform::auth::{AuthConfig, KeySource, TokenVerifier};
use platform::config::Secret;
use platform::db::DbConfig;
use platform::http::health::Readiness;
use platform::http::server::HttpConfig;
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner};
use platform::kafka::outbox::Outbox;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use test_support::TestDb;
use tokio_util::sync::CancellationToken;
use user::state::State;
use uuid::Uuid;

pub fn auth_config() -> AuthConfig {
    harness::auth_config()
}

pub fn kafka() -> KafkaConfig {
    harness::kafka("user-it")
}

pub async fn db() -> TestDb {
    test_support::init_logs();
    let files =
        test_support::migrations_fingerprint(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    TestDb::from_template("user", &files, |url| async move {
        platform::db::run_migrations(&Secret::new(url), user::MIGRATIONS).await?;
        Ok(())
    })
    .await
    .expect("test database")
}

/// The test's token issuer (see `harness::TestKeys`).
pub struct TestKeys(harness::TestKeys);

impl TestKeys {
    fn new() -> Self {
        Self(harness::TestKeys::default())
    }

    pub fn token(&self, sub: Uuid, perms: &[&str]) -> String {
        self.0.token(sub, perms).unwrap()
    }
}

impl KeySource for TestKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        self.0.fetch()
    }
}

pub struct Service {
    pub base: String,
    pub http: reqwest::Client,
    pub state: State,
    pub keys: Arc<TestKeys>,
    pub shutdown: CancellationToken,
    pub _db: TestDb,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts the service with a consumer of `auth_topic` (a private stand-in for
/// auth.user.v1 unless the test wants the real one).
pub async fn start(auth_topic: &str, key_source: Option<Arc<dyn KeySource>>) -> Service {
    let db = db().await;
    let mut dbc = DbConfig::for_url(db.url.clone());
    dbc.wait_timeout = Duration::from_secs(5);
    let pool = platform::db::build_pool(&dbc, "user-it").unwrap();
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new("user"),
    };
    let keys = Arc::new(TestKeys::new());
    let source: Arc<dyn KeySource> = key_source.unwrap_or_else(|| keys.clone());
    let verifier = TokenVerifier::with_key_source(auth_config(), source)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let config = ConsumerConfig::new(test_support::unique("user-it"), &[auth_topic]);
    let runner = ConsumerRunner::new(
        pool.clone(),
        &kafka(),
        config,
        user::consumer::Handler {
            state: state.clone(),
        },
    )
    .unwrap();
    tokio::spawn(runner.run(shutdown.clone()));
    let relay =
        platform::kafka::relay::OutboxRelay::new(pool, &kafka(), Default::default()).unwrap();
    tokio::spawn(relay.run(shutdown.clone()));
    let (s, v) = (state.clone(), verifier.clone());
    let running = platform::http::server::start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg| user::routes::configure(cfg, s.clone(), v.clone()),
        shutdown.clone(),
    )
    .unwrap();
    Service {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
        state,
        keys,
        shutdown,
        _db: db,
    }
}

/// A private topic (and DLQ) standing in for a real one.
pub async fn private_topic(name: &str) -> String {
    harness::private_topic(&kafka(), name).await.unwrap()
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
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
        token: &str,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}/api/users{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        Resp {
            status: resp.status(),
            body: resp.json().await.unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None, token).await
    }

    /// Events of `event_type` in this service's outbox, oldest first.
    pub async fn events<E: prost::Message + Default>(&self, event_type: &str) -> Vec<E> {
        harness::outbox_events(&self.state.pool, event_type)
            .await
            .unwrap()
    }
}

/// Publishes `event` on `topic` with the given CloudEvents id, as the auth service's relay
/// would (publishing twice with one id is a redelivery).
pub async fn publish<E: events::DomainEvent>(topic: &str, key: Uuid, event: &E, id: Uuid) {
    harness::publish(&kafka(), topic, &key.to_string(), event, id)
        .await
        .unwrap();
}

pub use test_support::eventually;

pub fn registered(
    user_id: Uuid,
    email: &str,
    referral: &str,
) -> events::proto::auth::v1::UserRegistered {
    events::proto::auth::v1::UserRegistered {
        user_id: user_id.to_string(),
        email: email.to_owned(),
        phone: String::new(),
        roles: vec!["resident".into()],
        referral_code: referral.to_owned(),
        registered_at: None,
    }
}

/// A user whose profile exists (registration delivered through the broker).
pub async fn with_profile(svc: &Service, topic: &str) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let email = format!("u{}@example.com", id.simple());
    publish(topic, id, &registered(id, &email, ""), Uuid::now_v7()).await;
    let token = svc.keys.token(id, &[]);
    eventually("the profile", || async {
        svc.get("/me", &token).await.status == StatusCode::OK
    })
    .await;
    (id, token)
}
