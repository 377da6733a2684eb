//! The outbox relay: publishes committed outbox rows and marks them sent once the broker
//! has acknowledged them.
//!
//! Each batch is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction, so several
//! replicas share the work without publishing the same row twice in the normal case. A
//! crash between the broker's acknowledgement and the commit republishes the batch: that is
//! the at-least-once half of the contract, and consumers' inbox removes the duplicates.

use super::KafkaConfig;
use super::schema::outbox;
use crate::db::{DbError, DbPool};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use events::Envelope;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub batch_size: i64,
    pub poll_interval: Duration,
    /// Published rows older than this are deleted.
    pub retention: Duration,
    pub max_backoff: Duration,
    /// Topics whose published rows lose their payload at once (secrets must not wait for
    /// `retention` in the database); `events::topics::SECRET_BEARING` by default.
    pub scrub_topics: Vec<String>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_interval: Duration::from_millis(100),
            retention: Duration::from_secs(7 * 24 * 3600),
            max_backoff: Duration::from_secs(10),
            scrub_topics: events::topics::SECRET_BEARING
                .iter()
                .map(|t| t.name().to_owned())
                .collect(),
        }
    }
}

impl RelayConfig {
    pub fn from_vars(v: &mut crate::config::Vars<'_>) -> Self {
        use crate::config::Dur;
        let d = Self::default();
        let batch_size = v.or("OUTBOX_BATCH_SIZE", d.batch_size);
        if !(1..=10_000).contains(&batch_size) {
            v.problem("OUTBOX_BATCH_SIZE must be between 1 and 10000");
        }
        Self {
            batch_size,
            poll_interval: v.or("OUTBOX_POLL_INTERVAL", Dur(d.poll_interval)).0,
            retention: v.or("OUTBOX_RETENTION", Dur(d.retention)).0,
            max_backoff: d.max_backoff,
            scrub_topics: d.scrub_topics,
        }
    }
}

/// Advisory lock key of the relay ("outbox" in ASCII).
const RELAY_LOCK_KEY: i64 = 0x6f75_7462_6f78;

#[derive(QueryableByName)]
struct LockTaken {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    taken: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct PendingRow {
    id: i64,
    event_id: Uuid,
    topic: String,
    partition_key: String,
    event_type: String,
    source: String,
    subject: Option<String>,
    occurred_at: chrono::DateTime<chrono::Utc>,
    traceparent: Option<String>,
    tracestate: Option<String>,
    request_id: Option<String>,
    payload: Vec<u8>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl PendingRow {
    fn envelope(&self) -> Envelope {
        Envelope {
            id: self.event_id,
            source: self.source.clone(),
            event_type: self.event_type.clone(),
            time: self.occurred_at,
            subject: self.subject.clone(),
            content_type: events::envelope::CONTENT_TYPE_PROTOBUF.to_owned(),
            traceparent: self.traceparent.clone(),
            tracestate: self.tracestate.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{failed} of {total} events were not acknowledged: {first}")]
    Publish {
        failed: usize,
        total: usize,
        first: String,
    },
}

impl From<diesel::result::Error> for RelayError {
    fn from(e: diesel::result::Error) -> Self {
        RelayError::Db(e.into())
    }
}

pub struct OutboxRelay {
    pool: DbPool,
    producer: FutureProducer,
    config: RelayConfig,
}

impl OutboxRelay {
    pub fn new(pool: DbPool, kafka: &KafkaConfig, config: RelayConfig) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            producer: kafka.producer_config().create()?,
            config,
        })
    }

    /// Publishes until `shutdown`; never gives up on a batch while the broker or the
    /// database is down, it backs off and tries again.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        let mut last_maintenance: Option<Instant> = None;
        tracing::info!(batch = self.config.batch_size, "outbox relay started");
        loop {
            if last_maintenance.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                self.maintenance().await;
                last_maintenance = Some(Instant::now());
            }
            let pause = match self.publish_batch().await {
                Ok(n) => {
                    backoff = Duration::from_millis(100);
                    // A full batch means more is waiting: go again at once, unless asked
                    // to stop (a batch is never abandoned half-way, only between batches).
                    if n > 0 && n as i64 >= self.config.batch_size && !shutdown.is_cancelled() {
                        continue;
                    }
                    self.config.poll_interval
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "outbox publish failed");
                    let pause = backoff;
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    pause
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }

    /// Publishes one batch; returns how many rows it published.
    pub async fn publish_batch(&self) -> Result<usize, RelayError> {
        let mut conn = crate::db::conn(&self.pool).await?;
        let batch_size = self.config.batch_size;
        let producer = &self.producer;
        let (total, failure) = conn
            .transaction::<_, RelayError, _>(|conn| {
                async move {
                    // One publisher at a time per database: with two replicas each holding
                    // a batch, a later event of a key could overtake an earlier one. The
                    // lock is released with the transaction.
                    let leader: LockTaken = diesel::sql_query(format!(
                        "SELECT pg_try_advisory_xact_lock({RELAY_LOCK_KEY}) AS taken"
                    ))
                    .get_result(conn)
                    .await?;
                    if !leader.taken {
                        return Ok((0, None));
                    }
                    let rows: Vec<PendingRow> = outbox::table
                        .filter(outbox::published_at.is_null())
                        .order(outbox::id)
                        .limit(batch_size)
                        .select(PendingRow::as_select())
                        .for_update()
                        .skip_locked()
                        .load(conn)
                        .await?;
                    if rows.is_empty() {
                        return Ok((0, None));
                    }
                    let total = rows.len();
                    // Enqueue the whole batch before awaiting any acknowledgement: the producer
                    // batches and pipelines them, which is where the throughput comes from.
                    let deliveries = rows.iter().map(|row| {
                        let headers = super::headers::to_kafka(&row.envelope());
                        let record = FutureRecord::to(&row.topic)
                            .key(row.partition_key.as_bytes())
                            .payload(row.payload.as_slice())
                            .headers(headers);
                        producer.send(record, Duration::from_secs(5))
                    });
                    let results = futures::future::join_all(deliveries).await;
                    let now = chrono::Utc::now();
                    let mut acked = Vec::with_capacity(total);
                    let mut first_error = None;
                    for (row, result) in rows.iter().zip(results) {
                        match result {
                            Ok(_) => {
                                acked.push(row.id);
                                let lag = (now - row.created_at).to_std().unwrap_or_default();
                                metrics::histogram!("outbox_publish_latency_seconds")
                                    .record(lag.as_secs_f64());
                            }
                            Err((e, _)) => {
                                first_error.get_or_insert_with(|| e.to_string());
                            }
                        }
                    }
                    if !acked.is_empty() {
                        diesel::update(outbox::table.filter(outbox::id.eq_any(&acked)))
                            .set(outbox::published_at.eq(now))
                            .execute(conn)
                            .await?;
                        let scrub = &self.config.scrub_topics;
                        let secret: Vec<i64> = rows
                            .iter()
                            .filter(|r| acked.contains(&r.id) && scrub.contains(&r.topic))
                            .map(|r| r.id)
                            .collect();
                        if !secret.is_empty() {
                            diesel::update(outbox::table.filter(outbox::id.eq_any(&secret)))
                                .set(outbox::payload.eq(Vec::<u8>::new()))
                                .execute(conn)
                                .await?;
                        }
                    }
                    metrics::counter!("outbox_published_total").increment(acked.len() as u64);
                    // The acknowledged part is committed even when some failed, so it is not
                    // sent again; the failure is reported after the commit.
                    Ok((total, first_error.map(|e| (total - acked.len(), e))))
                }
                .scope_boxed()
            })
            .await?;
        match failure {
            None => Ok(total),
            Some((failed, first)) => {
                metrics::counter!("outbox_publish_failures_total").increment(failed as u64);
                Err(RelayError::Publish {
                    failed,
                    total,
                    first,
                })
            }
        }
    }

    /// Samples the backlog and prunes rows published longer ago than the retention.
    async fn maintenance(&self) {
        let Ok(mut conn) = crate::db::conn(&self.pool).await else {
            return;
        };
        match outbox::table
            .filter(outbox::published_at.is_null())
            .count()
            .get_result::<i64>(&mut conn)
            .await
        {
            Ok(n) => metrics::gauge!("outbox_backlog").set(n as f64),
            Err(e) => tracing::debug!(error = %e, "outbox backlog query failed"),
        }
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(self.config.retention)
                .unwrap_or(chrono::Duration::days(7));
        // Bounded deletes keep each statement short under a large backlog of old rows.
        let prune = diesel::sql_query(
            "DELETE FROM outbox WHERE id IN \
             (SELECT id FROM outbox WHERE published_at < $1 ORDER BY published_at LIMIT 10000)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(cutoff);
        match prune.execute(&mut conn).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "pruned published outbox rows"),
            Err(e) => tracing::debug!(error = %e, "outbox pruning failed"),
        }
    }
}
