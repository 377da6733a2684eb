//! [`TestService`]: a service under test, built by its own composition root
//! ([`platform::app::Service::build`]) with only what a test must change: its own database
//! (a copy of a migrated template), an HTTP server on a free port, tokens from a test key
//! it trusts, consumers reading private stand-ins of their topics, and no relay (tests
//! read the outbox, so nothing reaches the stack's real topics).

use crate::TestKeys;
use futures::FutureExt;
use platform::app::{App, BaseConfig, Harness, Launched, Service};
use platform::config::{Secret, Vars};
use platform::db::DbPool;
use platform::kafka::KafkaConfig;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use test_support::TestDb;
use uuid::Uuid;

/// A change to settings made before the service is built.
type Tweak<T> = Box<dyn FnOnce(&mut T)>;

/// How to start a [`TestService`]; see [`TestService::builder`].
pub struct Builder<S: Service> {
    env: HashMap<String, String>,
    consumers: bool,
    relay: bool,
    tweak: Vec<Tweak<S::Config>>,
    base_tweak: Vec<Tweak<BaseConfig>>,
}

/// A running service; stopped when dropped.
pub struct TestService<S: Service> {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub http: reqwest::Client,
    pub state: S::State,
    pub pool: DbPool,
    pub keys: Arc<TestKeys>,
    pub kafka: KafkaConfig,
    launched: Launched,
    _db: TestDb,
}

impl<S: Service> Drop for TestService<S> {
    fn drop(&mut self) {
        self.launched.stop();
    }
}

/// An HTTP answer: the status and the JSON body (`Null` when there is none).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The status, or a panic that shows the body.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self
    }
}

impl<S: Service> TestService<S> {
    /// Starts `S` with the harness defaults and no consumers.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub fn builder() -> Builder<S> {
        Builder {
            env: HashMap::new(),
            consumers: false,
            relay: false,
            tweak: Vec::new(),
            base_tweak: Vec::new(),
        }
    }

    /// A 15-minute access token for `sub` holding `perms`, signed by the trusted test key.
    pub fn token(&self, sub: Uuid, perms: &[&str]) -> String {
        match self.keys.token(sub, perms) {
            Ok(t) => t,
            Err(e) => panic!("test token: {e:#}"),
        }
    }

    /// The private topic the service's consumers read in place of `real` (started with
    /// [`Builder::consumers`]).
    pub fn topic(&self, real: &str) -> &str {
        match self.launched.topics.get(real) {
            Some(t) => t,
            None => panic!("the service does not consume {real} (or consumers are off)"),
        }
    }

    /// Publishes `event` as its owning service's relay would, on the private stand-in of
    /// its topic (a fresh CloudEvents id each time).
    pub async fn publish<E: events::DomainEvent>(&self, key: impl ToString, event: &E) {
        self.publish_as(key, event, Uuid::now_v7()).await;
    }

    /// [`TestService::publish`] with a chosen event id (the same id twice is a redelivery).
    pub async fn publish_as<E: events::DomainEvent>(
        &self,
        key: impl ToString,
        event: &E,
        id: Uuid,
    ) {
        let topic = self.topic(E::TOPIC.name()).to_owned();
        if let Err(e) = crate::publish(&self.kafka, &topic, &key.to_string(), event, id).await {
            panic!("publish {}: {e:#}", E::TYPE);
        }
    }

    /// Events of `event_type` in the service's outbox, oldest first.
    pub async fn events<E: prost::Message + Default>(&self, event_type: &str) -> Vec<E> {
        match crate::outbox_events(&self.pool, event_type).await {
            Ok(v) => v,
            Err(e) => panic!("outbox: {e:#}"),
        }
    }

    /// Runs statements against the service's database (to move time, mostly).
    pub async fn sql(&self, statements: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = match platform::db::conn(&self.pool).await {
            Ok(c) => c,
            Err(e) => panic!("connection: {e}"),
        };
        if let Err(e) = conn.batch_execute(statements).await {
            panic!("{statements}: {e}");
        }
    }

    /// Sends a request to `path` (absolute, `/api/...`) with an optional JSON body and
    /// bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        let (status, headers) = (resp.status(), resp.headers().clone());
        Resp {
            status,
            headers,
            body: resp.json().await.unwrap_or(Value::Null),
        }
    }
}

impl<S: Service> Builder<S> {
    /// Sets a variable the service's configuration reads (the harness sets the database,
    /// broker, Redis and HTTP ones).
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.insert(name.to_owned(), value.into());
        self
    }

    /// Changes the service's parsed settings before `build` sees them.
    pub fn config(mut self, tweak: impl FnOnce(&mut S::Config) + 'static) -> Self {
        self.tweak.push(Box::new(tweak));
        self
    }

    /// Changes the common settings (HTTP, database, broker) before `build` sees them.
    pub fn base(mut self, tweak: impl FnOnce(&mut BaseConfig) + 'static) -> Self {
        self.base_tweak.push(Box::new(tweak));
        self
    }

    /// Runs the service's consumers, each on private stand-ins of its topics
    /// ([`TestService::topic`], [`TestService::publish`]).
    pub fn consumers(mut self) -> Self {
        self.consumers = true;
        self
    }

    /// Runs the outbox relay. Only for tests that point the service at private topics of
    /// their own: with the stack's topics, its events would reach the running stack.
    pub fn relay(mut self) -> Self {
        self.relay = true;
        self
    }

    pub async fn start(self) -> TestService<S> {
        match self.try_start().await {
            Ok(s) => s,
            Err(e) => panic!("starting {}: {e:#}", S::SPEC.name),
        }
    }

    async fn try_start(self) -> anyhow::Result<TestService<S>> {
        test_support::init_logs();
        let spec = S::SPEC;
        let files = test_support::migrations_fingerprint(spec.migrations_dir);
        let migrations = S::SPEC.migrations;
        let db = TestDb::from_template(spec.name, &files, |url| async move {
            platform::db::run_migrations(&Secret::new(url), migrations).await?;
            Ok(())
        })
        .await?;
        let mut env: HashMap<String, String> = [
            ("DATABASE_URL", db.url.clone()),
            ("DATABASE_POOL_WAIT_TIMEOUT", "5s".into()),
            ("KAFKA_BOOTSTRAP_SERVERS", test_support::kafka_bootstrap()),
            ("REDIS_URL", test_support::redis_url()),
            ("HTTP_PORT", "0".into()),
            ("HTTP_WORKERS", "2".into()),
            ("SHUTDOWN_TIMEOUT", "5s".into()),
            ("AUTH_LEEWAY", "5s".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(self.env);
        let mut vars = Vars::new(&env);
        let mut base = BaseConfig::from_vars(&mut vars, &spec);
        let mut config = S::config(&mut vars);
        vars.finish()?;
        for t in self.base_tweak {
            t(&mut base);
        }
        for t in self.tweak {
            t(&mut config);
        }
        let pool = platform::db::build_pool(&base.db, spec.name)?;
        let keys = Arc::new(TestKeys::default());
        let kafka = base.kafka.clone();
        let topics_kafka = kafka.clone();
        let harness = Harness {
            keys: keys.clone(),
            consumers: self.consumers,
            relay: self.relay,
            private_topic: Arc::new(move |name| {
                let kafka = topics_kafka.clone();
                async move { crate::private_topic(&kafka, &name).await }.boxed()
            }),
            unique_group: test_support::unique,
        };
        let mut app = App::for_tests(spec.name, base, pool.clone(), harness);
        let wired = S::build(&mut app, config).await?;
        let routes = wired.routes;
        let launched = app.launch(move |cfg| routes(cfg)).await?;
        Ok(TestService {
            base: format!("http://{}", launched.addr),
            // A user agent of its own: services record it with sessions and devices.
            http: reqwest::Client::builder()
                .user_agent(format!("{}-it/1.0", spec.name))
                .build()?,
            state: wired.state,
            pool,
            keys,
            kafka,
            launched,
            _db: db,
        })
    }
}
