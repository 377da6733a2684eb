//! The life of a service process, written once: parse the command, read and check the
//! configuration, start telemetry, then either migrate, replay a DLQ, or serve (pool,
//! outbox relay, consumers, HTTP) until SIGTERM, and stop gracefully.
//!
//! A service's `main.rs` is then a few lines:
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     platform::app::main(SPEC, Config::from_vars, |mut app, config| async move {
//!         app.spawn_consumer(consumer_config(), Handler::new(config.clone()))?;
//!         app.serve(move |cfg| routes::configure(cfg, config.clone())).await
//!     })
//!     .await
//! }
//! ```

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
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What distinguishes one service from another at start-up.
pub struct ServiceSpec {
    /// Service name: log/trace service name, `ce_source`, pool `application_name`.
    pub name: &'static str,
    pub default_port: u16,
    pub migrations: EmbeddedMigrations,
    /// The service's own commands besides serve/migrate/dlq-replay (see [`App::task`]).
    pub tasks: &'static [&'static str],
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

    /// Starts a consumer that runs until shutdown.
    pub fn spawn_consumer<H: EventHandler>(
        &mut self,
        config: ConsumerConfig,
        handler: H,
    ) -> anyhow::Result<()> {
        let mut vars = Vars::new(&ProcessEnv);
        let config = config.with_vars(&mut vars);
        vars.finish()?;
        let runner = ConsumerRunner::new(self.pool.clone(), &self.config.kafka, config, handler)?;
        self.tasks.spawn(runner.run(self.shutdown.clone()));
        Ok(())
    }

    /// Runs a background task (a scheduled job, say) that must stop on `shutdown`.
    pub fn spawn_task<F>(&mut self, task: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task(self.shutdown.clone()));
    }

    /// Starts the outbox relay and the HTTP server, then waits for shutdown and gives
    /// background tasks the configured time to finish.
    pub async fn serve<F>(mut self, configure: F) -> anyhow::Result<()>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let relay = OutboxRelay::new(
            self.pool.clone(),
            &self.config.kafka,
            self.config.relay.clone(),
        )?;
        self.tasks.spawn(relay.run(self.shutdown.clone()));
        let server = crate::http::server::start(
            &self.config.http,
            self.readiness.clone(),
            configure,
            self.shutdown.clone(),
        )?;
        let mut server_task = server.task;
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
        let deadline = tokio::time::Instant::now() + self.config.http.shutdown_timeout;
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
            };
            tracing::info!(service = spec.name, "starting");
            run(app, extra).await
        }
    }
}
