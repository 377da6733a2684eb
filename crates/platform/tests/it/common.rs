//! Fixtures: a kit-migrated database per test, topics per test, and a probe consumer
//! whose effect table has no unique constraint, so a double application would show.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use events::proto::platform::v1::ProbeRecorded;
use platform::config::Secret;
use platform::db::{DbConfig, DbPool};
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{
    ConsumerConfig, ConsumerRunner, ConsumerStats, EventHandler, HandlerError, Incoming,
};
use platform::kafka::outbox::OutboxRecord;
use platform::kafka::relay::{OutboxRelay, RelayConfig};
use prost::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_support::TestDb;
use tokio_util::sync::CancellationToken;

/// A database with the kit's tables plus the tests' `widgets` (producer side) and
/// `applied` (consumer side) tables.
pub async fn db() -> TestDb {
    test_support::init_logs();
    // The kit's migration files are in the fingerprint, so a new kit migration rebuilds it.
    let kit =
        test_support::migrations_fingerprint(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    let fingerprint = format!("{kit}|widgets-applied-1");
    TestDb::from_template("platform", &fingerprint, |url| async move {
        platform::db::run_migrations(&Secret::new(url.clone()), platform::db::NO_SERVICE_MIGRATIONS).await?;
        let mut conn = <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await?;
        conn.batch_execute(
            "CREATE TABLE widgets (id UUID PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE applied (stream_id TEXT NOT NULL, sequence BIGINT NOT NULL, event_id UUID NOT NULL);",
        )
        .await?;
        Ok(())
    })
    .await
    .expect("test database")
}

pub fn pool(db: &TestDb) -> DbPool {
    pool_for(&db.url)
}

pub fn pool_for(url: &str) -> DbPool {
    let mut cfg = DbConfig::for_url(url);
    cfg.wait_timeout = Duration::from_secs(5);
    platform::db::build_pool(&cfg, "platform-it").expect("pool")
}

pub fn kafka() -> KafkaConfig {
    KafkaConfig::new(test_support::kafka_bootstrap(), "platform-it")
}

/// A fresh topic (and its DLQ) on `kafka`.
pub async fn topic(kafka: &KafkaConfig, prefix: &str) -> String {
    let t = test_support::unique(&format!("test.{prefix}"));
    platform::kafka::admin::ensure_topics(kafka, &[t.clone(), events::topics::dlq_of(&t)], 3)
        .await
        .expect("create topics");
    t
}

pub fn probe(topic: &str, stream: &str, sequence: i64) -> OutboxRecord {
    let event = ProbeRecorded {
        stream_id: stream.to_owned(),
        sequence,
        payload: vec![7; 32],
    };
    OutboxRecord {
        topic: topic.to_owned(),
        key: stream.to_owned(),
        event_type: events::types::PLATFORM_PROBE_RECORDED.to_owned(),
        subject: Some(format!("probe/{stream}")),
        payload: event.encode_to_vec(),
    }
}

/// Applies probes by appending to `applied`.
pub struct ProbeHandler;

impl EventHandler for ProbeHandler {
    async fn handle(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
    ) -> Result<(), HandlerError> {
        let probe: ProbeRecorded = event.decode()?;
        diesel::sql_query(
            "INSERT INTO applied (stream_id, sequence, event_id) VALUES ($1, $2, $3)",
        )
        .bind::<diesel::sql_types::Text, _>(&probe.stream_id)
        .bind::<diesel::sql_types::BigInt, _>(probe.sequence)
        .bind::<diesel::sql_types::Uuid, _>(event.envelope.id)
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
pub struct Counts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub total: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub distinct: i64,
}

/// Rows in `applied`, and distinct (stream, sequence) pairs among them.
pub async fn applied(pool: &DbPool) -> Counts {
    let mut conn = pool.get().await.expect("conn");
    diesel::sql_query(
        "SELECT count(*) AS total, count(DISTINCT (stream_id, sequence)) AS distinct FROM applied",
    )
    .get_result(&mut conn)
    .await
    .expect("count applied")
}

pub async fn unpublished(pool: &DbPool) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = pool.get().await.expect("conn");
    diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        .get_result::<N>(&mut conn)
        .await
        .expect("count outbox")
        .n
}

/// Polls `check` until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// Runs an outbox relay over `pool` until `stop`.
pub fn spawn_relay(
    pool: &DbPool,
    kafka: &KafkaConfig,
    config: RelayConfig,
    stop: &CancellationToken,
) {
    let relay = OutboxRelay::new(pool.clone(), kafka, config).expect("relay");
    tokio::spawn(relay.run(stop.clone()));
}

/// Runs a [`ProbeHandler`] consumer until `stop`; returns its counters.
pub fn spawn_probe_consumer(
    pool: &DbPool,
    kafka: &KafkaConfig,
    config: ConsumerConfig,
    stop: &CancellationToken,
) -> Arc<ConsumerStats> {
    let runner = ConsumerRunner::new(pool.clone(), kafka, config, ProbeHandler).expect("consumer");
    let stats = runner.stats();
    tokio::spawn(runner.run(stop.clone()));
    stats
}

/// GETs `url` and parses the JSON body (every answer of the kit is an envelope).
pub async fn get_json(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    client
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON body")
}
