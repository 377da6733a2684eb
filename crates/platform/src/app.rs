//! The life of a service process, written once: parse the command, read and check the
//! configuration, start telemetry, then either migrate, replay a DLQ, or serve (pool,
//! outbox relay, consumers, HTTP) until SIGTERM, and stop gracefully.
//!
//! A service implements [`Service`] once, in its `lib.rs`: its settings and its
//! composition root [`Service::build`] (state, consumers, background tasks, routes). The
//! same `build` runs in production (`main.rs` is `platform::app::run::<MyService>()`) and
//! in the service's integration tests (`harness::TestService::<MyService>`), so the wiring
//! the tests exercise is the wiring that ships. See docs/service-anatomy.md.

use crate::auth::{AuthConfig, KeySource, TokenVerifier};
use crate::cli::Command;
use crate::config::{ProcessEnv, Vars};
use crate::db::{DbConfig, DbPool};
use crate::http::health::{DatabaseCheck, Readiness, ReadinessCheck};
use crate::http::server::HttpConfig;
use crate::kafka::consumer::{ConsumerConfig, ConsumerRunner, EventHandler};
use crate::kafka::outbox::Outbox;
use crate::kafka::relay::{OutboxRelay, RelayConfig};
use crate::kafka::{BrokerCheck, KafkaConfig};
use crate::telemetry::TelemetryConfig;
use actix_web::web;
use diesel_migrations::EmbeddedMigrations;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What distinguishes one service from another at start-up.
pub struct ServiceSpec {
    /// Service name: log/trace service name, `ce_source`, pool `application_name`.
    pub name: &'static str,
    pub default_port: u16,
    pub migrations: EmbeddedMigrations,
    /// The folder `migrations` were embedded from (`concat!(env!("CARGO_MANIFEST_DIR"),
    /// "/migrations")`): the test harness fingerprints its files to know when its template
    /// database is stale.
    pub migrations_dir: &'static str,
    /// The service's own commands besides serve/migrate/dlq-replay (see [`App::task`]).
    pub tasks: &'static [&'static str],
}

/// One service's composition: what `main` and the integration tests both run.
pub trait Service: Sized + 'static {
    const SPEC: ServiceSpec;
    /// The service's own settings (the common ones are [`BaseConfig`]).
    type Config: Send + 'static;
    /// What handlers and consumers share; tests reach the database through it.
    type State: Clone + Send + Sync + 'static;

    /// Reads the service's settings; problems are reported with the common ones.
    fn config(v: &mut Vars<'_>) -> Self::Config;

    /// The composition root: builds the state, registers consumers and background tasks
    /// on `app`, and returns the state with the HTTP routes.
    fn build(
        app: &mut App,
        config: Self::Config,
    ) -> impl Future<Output = anyhow::Result<Wired<Self::State>>>;

    /// Runs one of [`ServiceSpec::tasks`] (an operator command) instead of serving.
    fn task(
        app: App,
        config: Self::Config,
        args: Vec<String>,
    ) -> impl Future<Output = anyhow::Result<()>> {
        let _ = (app, config);
        async move { anyhow::bail!("unknown task {args:?}") }
    }
}

/// Registers a service's routes (and their app data) on the server.
pub type Routes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// What [`Service::build`] gives back: the shared state and the routes.
pub struct Wired<S> {
    pub state: S,
    pub routes: Routes,
}

impl<S> Wired<S> {
    pub fn new(state: S, routes: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static) -> Self {
        Self {
            state,
            routes: Arc::new(routes),
        }
    }
}

/// Runs service `S`'s process: `main.rs` is `platform::app::run::<S>().await`.
pub async fn run<S: Service>() -> ExitCode {
    main(S::SPEC, S::config, |mut app, config| async move {
        if let Some(args) = app.task().map(<[String]>::to_vec) {
            return S::task(app, config, args).await;
        }
        let wired = S::build(&mut app, config).await?;
        let routes = wired.routes;
        app.serve(move |cfg| routes(cfg)).await
    })
    .await
}

/// The settings every service has.
#[derive(Debug, Clone)]
pub struct BaseConfig {
    pub http: HttpConfig,
    pub db: DbConfig,
    pub kafka: KafkaConfig,
    pub relay: RelayConfig,
    pub telemetry: TelemetryConfig,
}

impl BaseConfig {
    pub fn from_vars(v: &mut Vars<'_>, spec: &ServiceSpec) -> Self {
        Self {
            http: HttpConfig::from_vars(v, spec.default_port),
            db: DbConfig::from_vars(v),
            kafka: KafkaConfig::from_vars(v, spec.name),
            relay: RelayConfig::from_vars(v),
            telemetry: TelemetryConfig::from_vars(v),
        }
    }
}

/// A serving service: its pool, outbox, shutdown token and background tasks.
pub struct App {
    pub name: &'static str,
    pub config: BaseConfig,
    pub pool: DbPool,
    pub outbox: Outbox,
    pub shutdown: CancellationToken,
    readiness: Readiness,
    tasks: JoinSet<()>,
    task: Option<Vec<String>>,
    consumers: Vec<PendingConsumer>,
    harness: Option<Harness>,
}

/// A consumer registered by [`App::spawn_consumer`], started with the server so the test
/// harness can first point it at private topics.
struct PendingConsumer {
    config: ConsumerConfig,
    start: Box<dyn FnOnce(ConsumerConfig) -> anyhow::Result<BoxFuture<'static, ()>> + Send>,
}

/// How an [`App`] built by the test harness differs from production: tokens come from a
/// test key, consumers read private stand-ins of their topics (or do not run), the relay
/// does not publish (tests read the outbox; nothing reaches the stack's real topics).
pub struct Harness {
    pub keys: Arc<dyn KeySource>,
    pub consumers: bool,
    pub relay: bool,
    /// Makes a private topic (and its DLQ) standing in for the named one.
    pub private_topic:
        Arc<dyn Fn(String) -> BoxFuture<'static, anyhow::Result<String>> + Send + Sync>,
    /// Makes a consumer group name no other test uses.
    pub unique_group: fn(&str) -> String,
}

/// A started service: where it listens and the private topics its consumers read.
pub struct Launched {
    pub addr: SocketAddr,
    /// Real topic name -> the private topic standing in for it (tests only).
    pub topics: HashMap<String, String>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    tasks: JoinSet<()>,
    shutdown: CancellationToken,
    shutdown_timeout: Duration,
}

impl App {
    /// The service task to run instead of serving (`["keys", "rotate"]`), when the process
    /// was started with one of [`ServiceSpec::tasks`]; the run function must check it first.
    pub fn task(&self) -> Option<&[String]> {
        self.task.as_deref()
    }

    /// Adds a dependency to `/health/ready` (beyond the database and the broker).
    pub fn add_readiness(&mut self, check: impl ReadinessCheck + 'static) {
        self.readiness = std::mem::take(&mut self.readiness).with(check);
    }

    /// Registers a consumer; it starts with the server and runs until shutdown.
    pub fn spawn_consumer<H: EventHandler>(
        &mut self,
        config: ConsumerConfig,
        handler: H,
    ) -> anyhow::Result<()> {
        let config = if self.harness.is_some() {
            config
        } else {
            let mut vars = Vars::new(&ProcessEnv);
            let config = config.with_vars(&mut vars);
            vars.finish()?;
            config
        };
        let (pool, kafka, shutdown) = (
            self.pool.clone(),
            self.config.kafka.clone(),
            self.shutdown.clone(),
        );
        self.consumers.push(PendingConsumer {
            config,
            start: Box::new(move |config| {
                let runner = ConsumerRunner::new(pool, &kafka, config, handler)?;
                Ok(Box::pin(runner.run(shutdown)))
            }),
        });
        Ok(())
    }

    /// The access-token verifier for `config`: keys from the auth service's JWKS, or the
    /// test key under the harness.
    pub async fn verifier(&self, config: AuthConfig) -> anyhow::Result<TokenVerifier> {
        match &self.harness {
            Some(h) => TokenVerifier::with_key_source(config, h.keys.clone()).await,
            None => TokenVerifier::new(config).await,
        }
    }

    /// Runs `work` every `every` until shutdown (the first run after one interval). A
    /// failed run is logged and retried at the next tick: a sweep that fails once must not
    /// stop the service. `name` names the job in logs and in the
    /// `periodic_task_failures_total` metric.
    pub fn every<F, Fut>(&mut self, name: &'static str, every: Duration, mut work: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send,
    {
        self.spawn_task(move |shutdown| async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                if let Err(e) = work().await {
                    metrics::counter!("periodic_task_failures_total", "task" => name).increment(1);
                    tracing::warn!(
                        task = name,
                        error = format!("{e:#}"),
                        "periodic task failed"
                    );
                }
            }
        });
    }

    /// An app for the test harness (see [`Harness`]); production builds one in [`main`].
    pub fn for_tests(
        name: &'static str,
        config: BaseConfig,
        pool: DbPool,
        harness: Harness,
    ) -> Self {
        let readiness = Readiness::new().with(DatabaseCheck(pool.clone()));
        Self {
            name,
            outbox: Outbox::new(name),
            pool,
            config,
            shutdown: CancellationToken::new(),
            readiness,
            tasks: JoinSet::new(),
            task: None,
            consumers: Vec::new(),
            harness: Some(harness),
        }
    }

    /// Starts the relay, the consumers and the HTTP server with `routes`, and returns at
    /// once; [`App::serve`] is this plus waiting for shutdown.
    pub async fn launch<F>(mut self, routes: F) -> anyhow::Result<Launched>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let relay_on = self.harness.as_ref().is_none_or(|h| h.relay);
        if relay_on {
            let relay = OutboxRelay::new(
                self.pool.clone(),
                &self.config.kafka,
                self.config.relay.clone(),
            )?;
            self.tasks.spawn(relay.run(self.shutdown.clone()));
        }
        let mut topics = HashMap::new();
        for pending in std::mem::take(&mut self.consumers) {
            let mut config = pending.config;
            if let Some(h) = &self.harness {
                if !h.consumers {
                    continue;
                }
                for topic in &mut config.topics {
                    let private = match topics.get(topic) {
                        Some(p) => String::clone(p),
                        None => {
                            let p = (h.private_topic)(topic.clone()).await?;
                            topics.insert(topic.clone(), p.clone());
                            p
                        }
                    };
                    *topic = private;
                }
                config.group_id = (h.unique_group)(&config.group_id);
            }
            self.tasks.spawn((pending.start)(config)?);
        }
        let server = crate::http::server::start(
            &self.config.http,
            self.readiness.clone(),
            routes,
            self.shutdown.clone(),
        )?;
        Ok(Launched {
            addr: server.addr,
            topics,
            server: server.task,
            tasks: self.tasks,
            shutdown: self.shutdown,
            shutdown_timeout: self.config.http.shutdown_timeout,
        })
    }

    /// Runs a background task (a scheduled job, say) that must stop on `shutdown`.
    pub fn spawn_task<F>(&mut self, task: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task(self.shutdown.clone()));
    }

    /// Starts the outbox relay, the consumers and the HTTP server, then waits for
    /// shutdown and gives background tasks the configured time to finish.
    pub async fn serve<F>(self, configure: F) -> anyhow::Result<()>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        self.launch(configure).await?.wait().await
    }
}

impl Launched {
    /// Stops the service (the same as SIGTERM in production).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// The token whose cancellation stops the service.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until shutdown, or until a background task ends early, then stops the rest.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut server_task = self.server;
        // A background task that ends before shutdown (a panic in the relay or a consumer)
        // must take the process down: a service that answers HTTP but no longer publishes
        // or consumes would look healthy while losing its purpose. The orchestrator
        // restarts it.
        let mut server_done = false;
        let outcome: anyhow::Result<()> = tokio::select! {
            served = &mut server_task => {
                server_done = true;
                served.map_err(anyhow::Error::from).and_then(|r| r.map_err(anyhow::Error::from))
            }
            Some(ended) = self.tasks.join_next() => {
                match ended {
                    Err(e) if e.is_panic() => Err(anyhow::anyhow!("background task panicked: {e}")),
                    _ if self.shutdown.is_cancelled() => Ok(()),
                    _ => Err(anyhow::anyhow!("background task ended before shutdown")),
                }
            }
        };
        self.shutdown.cancel();
        // One deadline for everything that is still running, so the whole stop fits in
        // the orchestrator's grace period.
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        if !server_done {
            // A JoinHandle must not be polled again once it has completed.
            let _ = tokio::time::timeout_at(deadline, &mut server_task).await;
        }
        let drained = tokio::time::timeout_at(deadline, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("background tasks did not stop before the shutdown deadline");
        }
        outcome
    }
}

/// Runs a service process; see the module docs. `load` reads the service's own settings
/// (its problems are reported together with the common ones).
pub async fn main<E, L, R, Fut>(spec: ServiceSpec, load: L, run: R) -> ExitCode
where
    L: FnOnce(&mut Vars<'_>) -> E,
    R: FnOnce(App, E) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    main_with_args(std::env::args().skip(1).collect(), spec, load, run).await
}

/// [`main`] with the command-line arguments (after the program name) given explicitly.
/// Exit codes: 0 done, 2 usage or configuration error, 1 failure while running.
pub async fn main_with_args<E, L, R, Fut>(
    args: Vec<String>,
    spec: ServiceSpec,
    load: L,
    run: R,
) -> ExitCode
where
    L: FnOnce(&mut Vars<'_>) -> E,
    R: FnOnce(App, E) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let command = match Command::parse(args, spec.tasks) {
        Ok(c) => c,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    // Before the configuration: a probe needs none of it (and must not log).
    if command == Command::Healthcheck {
        return crate::http::health::probe(spec.default_port).await;
    }
    let mut vars = Vars::new(&ProcessEnv);
    let base = BaseConfig::from_vars(&mut vars, &spec);
    let extra = load(&mut vars);
    if let Err(e) = vars.finish() {
        eprintln!("{}: {e}", spec.name);
        return ExitCode::from(2);
    }
    let _telemetry = match crate::telemetry::init(spec.name, &base.telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{}: telemetry: {e:#}", spec.name);
            return ExitCode::FAILURE;
        }
    };
    match run_command(command, spec, base, extra, run).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "exiting on error");
            ExitCode::FAILURE
        }
    }
}

async fn run_command<E, R, Fut>(
    command: Command,
    spec: ServiceSpec,
    base: BaseConfig,
    extra: E,
    run: R,
) -> anyhow::Result<()>
where
    R: FnOnce(App, E) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    match command {
        Command::Migrate => {
            let applied = crate::db::run_migrations(&base.db.url, spec.migrations).await?;
            tracing::info!(count = applied.len(), versions = ?applied, "migrations applied");
            Ok(())
        }
        Command::DlqReplay { dlq_topic } => {
            let n =
                crate::kafka::dlq::replay(&base.kafka, &dlq_topic, Duration::from_secs(30)).await?;
            tracing::info!(replayed = n, dlq_topic, "DLQ replayed");
            Ok(())
        }
        Command::Healthcheck => Ok(()),
        command @ (Command::Serve | Command::Task(_)) => {
            let task = match command {
                Command::Task(args) => Some(args),
                _ => None,
            };
            if base.db.migrate_on_start && task.is_none() {
                crate::db::run_migrations(&base.db.url, spec.migrations).await?;
            }
            let pool = crate::db::build_pool(&base.db, spec.name)?;
            let readiness = Readiness::new()
                .with(DatabaseCheck(pool.clone()))
                .with(BrokerCheck::new(&base.kafka)?);
            let app = App {
                name: spec.name,
                outbox: Outbox::new(spec.name),
                pool,
                config: base,
                shutdown: crate::shutdown::on_signal(),
                readiness,
                tasks: JoinSet::new(),
                task,
                consumers: Vec::new(),
                harness: None,
            };
            tracing::info!(service = spec.name, "starting");
            run(app, extra).await
        }
    }
}
