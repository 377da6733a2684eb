//! A running notification service per test: its own database, a private topic standing
//! in for the platform's (the consumer dispatches on the event type), a real SMTP server
//! of its own, recording SMS and push senders, and access tokens from a test key.

use futures::future::BoxFuture;
use notification::channels::{PushSender, Receipt, SendError, SmsSender};
use notification::config::DispatchConfig;
use notification::state::{Senders, State};
use platform::auth::TokenVerifier;
use platform::config::Secret;
use platform::db::DbConfig;
use platform::http::health::Readiness;
use platform::http::server::HttpConfig;
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner};
use platform::kafka::outbox::Outbox;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::{SmtpSink, TestDb};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use test_support::eventually;

fn kafka() -> KafkaConfig {
    harness::kafka("notification-it")
}

async fn db() -> TestDb {
    test_support::init_logs();
    let files =
        test_support::migrations_fingerprint(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    TestDb::from_template("notification", &files, |url| async move {
        platform::db::run_migrations(&Secret::new(url), notification::MIGRATIONS).await?;
        Ok(())
    })
    .await
    .expect("test database")
}

/// SMS or push messages "sent", for tests that check who got what.
#[derive(Default, Clone)]
pub struct Recorder(pub Arc<Mutex<Vec<(String, String)>>>);

impl Recorder {
    pub fn sent(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }
}

impl SmsSender for Recorder {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> BoxFuture<'a, Result<Receipt, SendError>> {
        self.0
            .lock()
            .unwrap()
            .push((to.to_owned(), text.to_owned()));
        Box::pin(async { Ok(Receipt("recorded".into())) })
    }
}

impl PushSender for Recorder {
    fn send<'a>(
        &'a self,
        token: &'a str,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        self.0
            .lock()
            .unwrap()
            .push((token.to_owned(), format!("{title}|{body}")));
        Box::pin(async { Ok(Receipt("recorded".into())) })
    }
}

pub struct Service {
    pub base: String,
    pub http: reqwest::Client,
    pub state: State,
    pub topic: String,
    pub smtp: SmtpSink,
    pub sms: Recorder,
    pub push: Recorder,
    keys: Arc<harness::TestKeys>,
    pub shutdown: CancellationToken,
    pub _db: TestDb,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn start() -> Service {
    let db = db().await;
    let mut dbc = DbConfig::for_url(db.url.clone());
    dbc.wait_timeout = Duration::from_secs(5);
    let pool = platform::db::build_pool(&dbc, "notification-it").unwrap();
    let smtp = SmtpSink::start().unwrap();
    let templates = notification::templates::Templates::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        "Neighbourly",
        "http://app.test",
    )
    .unwrap();
    let (sms, push) = (Recorder::default(), Recorder::default());
    let email = notification::channels::email::Smtp::new(
        &smtp.url(),
        "Neighbourly <no-reply@neighbourly.test>",
    )
    .unwrap();
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new("notification"),
        templates: Arc::new(templates),
        senders: Senders {
            email: Arc::new(email),
            sms: Arc::new(sms.clone()),
            push: Arc::new(push.clone()),
        },
        app_url: "http://app.test".into(),
        dispatch: DispatchConfig {
            retry_base: Duration::from_millis(200),
            interval: Duration::from_millis(50),
            ..DispatchConfig::default()
        },
    };
    let keys = Arc::new(harness::TestKeys::default());
    let verifier = TokenVerifier::with_key_source(harness::auth_config(), keys.clone())
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let topic = harness::private_topic(&kafka(), "notification-in")
        .await
        .unwrap();
    let runner = ConsumerRunner::new(
        pool.clone(),
        &kafka(),
        ConsumerConfig::new(test_support::unique("notification-it"), &[&topic]),
        notification::consumer::Handler {
            state: state.clone(),
        },
    )
    .unwrap();
    tokio::spawn(runner.run(shutdown.clone()));
    tokio::spawn(notification::deliveries::run(
        state.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(notification::broadcasts::run(
        state.clone(),
        shutdown.clone(),
    ));
    let (s, v) = (state.clone(), verifier.clone());
    let running = platform::http::server::start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg| notification::routes::configure(cfg, s.clone(), v.clone()),
        shutdown.clone(),
    )
    .unwrap();
    Service {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
        state,
        topic,
        smtp,
        sms,
        push,
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
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self
    }
}

impl Service {
    pub fn token(&self, sub: Uuid, perms: &[&str]) -> String {
        self.keys.token(sub, perms).unwrap()
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}/api/notifications{path}", self.base))
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

    /// Publishes `event` with the CloudEvents id `id` (the same id twice is a redelivery).
    pub async fn publish_as<E: events::DomainEvent>(&self, key: &str, event: &E, id: Uuid) {
        harness::publish(&kafka(), &self.topic, key, event, id)
            .await
            .unwrap();
    }

    pub async fn publish<E: events::DomainEvent>(&self, key: &str, event: &E) {
        self.publish_as(key, event, Uuid::now_v7()).await;
    }

    /// A person the directory knows: registered, e-mail verified, named.
    pub async fn person(&self) -> (Uuid, String) {
        use events::proto::auth::v1 as auth;
        use events::proto::user::v1 as user;
        let id = Uuid::now_v7();
        let email = format!("p{}@example.com", id.simple());
        let key = id.to_string();
        self.publish(
            &key,
            &auth::UserRegistered {
                user_id: key.clone(),
                email: email.clone(),
                roles: vec!["resident".into()],
                ..Default::default()
            },
        )
        .await;
        self.publish(
            &key,
            &auth::EmailVerified {
                user_id: key.clone(),
                email: email.clone(),
            },
        )
        .await;
        self.publish(
            &key,
            &user::ProfileUpdated {
                user_id: key.clone(),
                username: format!("u{}", id.simple()),
                first_name: "Robin".into(),
                last_name: String::new(),
                ..Default::default()
            },
        )
        .await;
        let svc = self;
        eventually("the recipient", || async {
            let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
            notification::recipients::find(&mut conn, id)
                .await
                .unwrap()
                .is_some_and(|r| r.email_verified && r.display_name.is_some())
        })
        .await;
        (id, email)
    }

    /// Messages the SMTP server received for `to`.
    pub fn mail_to(&self, to: &str) -> Vec<mailparse::ParsedMail<'static>> {
        self.smtp
            .messages()
            .into_iter()
            .filter(|m| m.raw.contains(to))
            .map(|m| {
                let raw: &'static str = Box::leak(m.raw.into_boxed_str());
                mailparse::parse_mail(raw.as_bytes()).unwrap()
            })
            .collect()
    }

    pub async fn sql_count(&self, statement: &str) -> i64 {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = platform::db::conn(&self.state.pool).await.unwrap();
        diesel::sql_query(statement)
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    }
}

/// The text/plain part of a message.
pub fn text_of(mail: &mailparse::ParsedMail<'_>) -> String {
    if mail.subparts.is_empty() {
        return mail.get_body().unwrap_or_default();
    }
    mail.subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .map(|p| p.get_body().unwrap_or_default())
        .unwrap_or_default()
}

pub fn html_of(mail: &mailparse::ParsedMail<'_>) -> String {
    mail.subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/html")
        .map(|p| p.get_body().unwrap_or_default())
        .unwrap_or_default()
}

pub fn subject_of(mail: &mailparse::ParsedMail<'_>) -> String {
    use mailparse::MailHeaderMap;
    mail.headers.get_first_value("Subject").unwrap_or_default()
}
