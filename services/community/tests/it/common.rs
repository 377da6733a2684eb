//! A running community service per test: its own database, the shared Redis and broker,
//! an HTTP server on a free port, and access tokens signed by a test key it trusts.

use community::state::State;
use platform::auth::TokenVerifier;
use platform::config::Secret;
use platform::db::DbConfig;
use platform::http::health::Readiness;
use platform::http::server::HttpConfig;
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner};
use platform::kafka::outbox::Outbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use test_support::TestDb;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use test_support::eventually;

pub const CREATE: &str = "communities.create";
pub const MANAGE: &str = "communities.manage";

pub fn kafka() -> KafkaConfig {
    harness::kafka("community-it")
}

async fn db() -> TestDb {
    test_support::init_logs();
    let files =
        test_support::migrations_fingerprint(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    TestDb::from_template("community", &files, |url| async move {
        platform::db::run_migrations(&Secret::new(url), community::MIGRATIONS).await?;
        Ok(())
    })
    .await
    .expect("test database")
}

pub struct Service {
    pub base: String,
    pub http: reqwest::Client,
    pub state: State,
    keys: Arc<harness::TestKeys>,
    pub shutdown: CancellationToken,
    pub _db: TestDb,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A signed-in person: their id and access token.
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

/// Starts the service. `consume` names the topics its consumer reads (private stand-ins
/// for auth's and user's), or none to run without one.
pub async fn start(consume: &[&str]) -> Service {
    let db = db().await;
    let mut dbc = DbConfig::for_url(db.url.clone());
    dbc.wait_timeout = Duration::from_secs(5);
    let pool = platform::db::build_pool(&dbc, "community-it").unwrap();
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new("community"),
        invite_key: community::tokens::InviteKey::from_bytes(Uuid::new_v4().as_bytes()),
        invite_ttl: Duration::from_secs(7 * 86_400),
        resend_interval: Duration::from_secs(600),
    };
    let keys = Arc::new(harness::TestKeys::default());
    let verifier = TokenVerifier::with_key_source(harness::auth_config(), keys.clone())
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    if !consume.is_empty() {
        let config = ConsumerConfig::new(test_support::unique("community-it"), consume);
        let runner = ConsumerRunner::new(
            pool.clone(),
            &kafka(),
            config,
            community::consumer::Handler {
                state: state.clone(),
            },
        )
        .unwrap();
        tokio::spawn(runner.run(shutdown.clone()));
    }
    let (s, v) = (state.clone(), verifier.clone());
    let running = platform::http::server::start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg| community::routes::configure(cfg, s.clone(), v.clone()),
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

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The status, or a panic that shows the body.
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self
    }
}

impl Service {
    pub fn token(&self, sub: Uuid, perms: &[&str]) -> String {
        self.keys.token(sub, perms).unwrap()
    }

    /// A person with a verified e-mail the service knows of, holding `perms`.
    pub async fn person(&self, perms: &[&str]) -> Person {
        let id = Uuid::now_v7();
        let email = format!("p{}@example.com", id.simple());
        let mut conn = platform::db::conn(&self.state.pool).await.unwrap();
        community::people::set_verified_email(&mut conn, id, &email)
            .await
            .unwrap();
        community::people::set_names(
            &mut conn,
            id,
            &format!("u{}", id.simple()),
            Some("Pat"),
            None,
        )
        .await
        .unwrap();
        Person {
            id,
            email,
            token: self.token(id, perms),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}/api/communities{path}", self.base))
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
        self.call(Method::GET, path, None, token).await
    }

    pub async fn post(&self, path: &str, body: Value, token: &str) -> Resp {
        self.call(Method::POST, path, Some(body), token).await
    }

    /// A community managed by `manager`; returns its id.
    pub async fn community(&self, manager: &Person, name: &str) -> Uuid {
        let r = self
            .post(
                "",
                json!({
                    "name": name,
                    "description": "Tools and neighbours",
                    "address": { "line1": "1 High Street", "city": "Bristol", "country": "gb" },
                    "coordinates": { "latitude": 51.45, "longitude": -2.58 },
                }),
                &manager.token,
            )
            .await
            .expect(StatusCode::CREATED);
        r.data()["id"].as_str().unwrap().parse().unwrap()
    }

    /// Invites `email` to `community` as `manager`; returns the invite id and the join
    /// token the e-mail event carries.
    pub async fn invite(&self, community: Uuid, manager: &Person, email: &str) -> (Uuid, String) {
        let r = self
            .post(
                &format!("/{community}/invites"),
                json!({ "email": email }),
                &manager.token,
            )
            .await;
        assert!(r.status.is_success(), "invite failed: {}", r.body);
        let invite: Uuid = r.data()["id"].as_str().unwrap().parse().unwrap();
        (invite, self.token_of(invite).await)
    }

    /// The newest join token e-mailed for `invite`.
    pub async fn token_of(&self, invite: Uuid) -> String {
        let sent: Vec<events::proto::community::v1::InviteCreated> =
            self.events("community.invite.created").await;
        sent.into_iter()
            .rev()
            .find(|e| e.invite_id == invite.to_string())
            .expect("an invite event")
            .token
    }

    /// A member of `community` (invited by `manager`, joined with the token).
    pub async fn member(&self, community: Uuid, manager: &Person) -> Person {
        let p = self.person(&[]).await;
        let (_, token) = self.invite(community, manager, &p.email).await;
        self.post("/join", json!({ "token": token }), &p.token)
            .await
            .expect(StatusCode::CREATED);
        p
    }

    /// Events of `event_type` in this service's outbox, oldest first.
    pub async fn events<E: prost::Message + Default>(&self, event_type: &str) -> Vec<E> {
        harness::outbox_events(&self.state.pool, event_type)
            .await
            .unwrap()
    }

    /// Runs a statement against the service's database (to move time, mostly).
    pub async fn sql(&self, statement: &str) {
        use diesel_async::RunQueryDsl;
        let mut conn = platform::db::conn(&self.state.pool).await.unwrap();
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// A private topic (and DLQ) standing in for a real one.
pub async fn private_topic(name: &str) -> String {
    harness::private_topic(&kafka(), name).await.unwrap()
}

/// Publishes `event` on `topic` as another service's relay would.
pub async fn publish<E: events::DomainEvent>(topic: &str, key: Uuid, event: &E) {
    harness::publish(&kafka(), topic, &key.to_string(), event, Uuid::now_v7())
        .await
        .unwrap();
}
