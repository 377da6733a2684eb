//! The consumer runner: at-least-once delivery made effectively-once by an inbox.
//!
//! For each record, in partition order:
//! 1. the envelope is parsed (a record without one goes to the DLQ);
//! 2. in one database transaction, the event id is inserted into `processed_events` and,
//!    only if it was new, the handler applies its effect;
//! 3. after that commit, the record's offset is stored; librdkafka's auto-commit commits
//!    stored offsets only, so a crash before step 3 redelivers the record and step 2 turns
//!    the redelivery into a no-op.
//!
//! A handler failure is retried with backoff; one that keeps failing, or a permanent one
//! (undecodable payload, broken invariant), sends the record to `<topic>.dlq` and the
//! partition moves on. An unreachable database is not the record's fault: the runner waits
//! for it instead of dead-lettering healthy traffic.

use super::KafkaConfig;
use super::dlq::DeadLetters;
use super::schema::processed_events;
use crate::db::{DbError, DbPool};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::Envelope;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// A record whose envelope parsed, handed to the handler.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub envelope: Envelope,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

impl Incoming {
    /// Decodes the payload; a payload that does not decode is a permanent failure.
    pub fn decode<T: prost::Message + Default>(&self) -> Result<T, HandlerError> {
        T::decode(self.payload.as_slice()).map_err(|e| {
            HandlerError::Permanent(anyhow::anyhow!(
                "payload of {} does not decode: {e}",
                self.envelope.event_type
            ))
        })
    }

    /// The request id the event carries on (`ce_requestid`), or the event id, so whatever
    /// the handler publishes in turn stays traceable to the request that started it.
    pub fn request_id(&self) -> crate::http::RequestId {
        crate::http::RequestId(
            self.envelope
                .request_id
                .clone()
                .unwrap_or_else(|| self.envelope.id.to_string()),
        )
    }

    pub fn event_type(&self) -> &str {
        &self.envelope.event_type
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Retrying cannot help: the record goes to the DLQ at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
    /// May succeed later: retried with backoff, then dead-lettered.
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// The database cannot be reached: wait for it, never dead-letter for this.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

/// An id field of an event; one that does not parse is a property of the event, so the
/// record is dead-lettered at once rather than retried.
pub fn event_id_field(raw: &str) -> Result<uuid::Uuid, HandlerError> {
    raw.parse()
        .map_err(|_| HandlerError::Permanent(anyhow::anyhow!("bad id {raw:?} in the event")))
}

impl From<DbError> for HandlerError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(m) => HandlerError::Unavailable(m),
            other => HandlerError::Transient(other.into()),
        }
    }
}

impl From<diesel::result::Error> for HandlerError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

/// Applies one event. Runs inside the inbox transaction: everything it writes through
/// `conn` (including outbox rows) commits together with the inbox row, or not at all.
pub trait EventHandler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        event: &'a Incoming,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub group_id: String,
    pub topics: Vec<String>,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How often stored offsets are committed to the broker.
    pub auto_commit_interval: Duration,
    /// Inbox rows older than this are pruned; must exceed the topics' retention.
    pub inbox_retention: Duration,
    /// How soon the group notices a member that died without leaving.
    pub session_timeout: Duration,
    /// Longest pause between polls before the member leaves the group; also the
    /// rebalance timeout, i.e. how long a rejoin may wait for members that are gone.
    pub max_poll_interval: Duration,
}

impl ConsumerConfig {
    pub fn new(group_id: impl Into<String>, topics: &[&str]) -> Self {
        Self {
            group_id: group_id.into(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            auto_commit_interval: Duration::from_secs(1),
            inbox_retention: Duration::from_secs(14 * 24 * 3600),
            // Kafka's default since 3.0. With 10 s, tansu 0.6 (local stack), busy serving a
            // consumer's backlog, left heartbeats unanswered long enough to revoke the
            // assignment, and the group never re-formed (6 of 6 broker-restart runs
            // failed; 3 of 3 pass with 45 s). The cost: a member that dies without leaving
            // keeps its partitions 45 s; a clean shutdown leaves the group at once.
            session_timeout: Duration::from_secs(45),
            // Kafka's default. Shorter values were tried against tansu 0.6: after a broker
            // restart the group then never settled (every rejoin timed out), while with
            // this one it recovers. Handlers are short transactions, far below it.
            max_poll_interval: Duration::from_secs(300),
        }
    }
}

impl ConsumerConfig {
    /// Applies the operator's overrides (`CONSUMER_MAX_ATTEMPTS`).
    pub fn with_vars(mut self, v: &mut crate::config::Vars<'_>) -> Self {
        self.max_attempts = v.or("CONSUMER_MAX_ATTEMPTS", self.max_attempts).max(1);
        self
    }
}

/// Counters a test or an operator can read while the runner works.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    pub applied: AtomicU64,
    pub duplicates: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub retries: AtomicU64,
}

impl ConsumerStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

enum Outcome {
    Applied,
    Duplicate,
    DeadLettered,
    /// Shutdown interrupted the work: the offset is not stored, the record comes back.
    Interrupted,
}

pub struct ConsumerRunner<H> {
    pool: DbPool,
    consumer: StreamConsumer,
    dead_letters: DeadLetters,
    handler: H,
    config: ConsumerConfig,
    stats: Arc<ConsumerStats>,
}

impl<H: EventHandler> ConsumerRunner<H> {
    pub fn new(
        pool: DbPool,
        kafka: &KafkaConfig,
        config: ConsumerConfig,
        handler: H,
    ) -> anyhow::Result<Self> {
        let consumer: StreamConsumer = kafka
            .client_config()
            .set("group.id", &config.group_id)
            .set("enable.auto.commit", "true")
            // Offsets are stored by the runner after the inbox commit, never by librdkafka
            // on receipt: that ordering is the at-least-once guarantee.
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.commit.interval.ms",
                config.auto_commit_interval.as_millis().to_string(),
            )
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set(
                "session.timeout.ms",
                config.session_timeout.as_millis().to_string(),
            )
            .set(
                "max.poll.interval.ms",
                config.max_poll_interval.as_millis().to_string(),
            )
            .create()?;
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        Ok(Self {
            pool,
            consumer,
            dead_letters: DeadLetters::new(kafka, &config.group_id)?,
            handler,
            config,
            stats: Arc::default(),
        })
    }

    pub fn stats(&self) -> Arc<ConsumerStats> {
        self.stats.clone()
    }

    /// Consumes until `shutdown`, then commits what finished.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(group = %self.config.group_id, topics = ?self.config.topics, "consumer started");
        let mut last_prune = Instant::now();
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => break,
                m = self.consumer.recv() => m,
            };
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "consumer receive failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            match self.process(&message, &shutdown).await {
                Outcome::Interrupted => break,
                outcome => {
                    let label = match outcome {
                        Outcome::Applied => "applied",
                        Outcome::Duplicate => "duplicate",
                        _ => "dead_lettered",
                    };
                    metrics::counter!("consumer_messages_total", "group" => self.config.group_id.clone(), "topic" => message.topic().to_owned(), "outcome" => label).increment(1);
                    if let Err(e) = self.consumer.store_offset_from_message(&message) {
                        // Not fatal: the record would be redelivered and skipped by the inbox.
                        tracing::warn!(error = %e, "storing offset failed");
                    }
                }
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                self.prune_inbox().await;
                last_prune = Instant::now();
            }
        }
        if let Err(e) = self.consumer.commit_consumer_state(CommitMode::Sync) {
            // Nothing stored yet is a normal case, not a failure worth a warning.
            tracing::debug!(error = %e, "final offset commit");
        }
        tracing::info!(group = %self.config.group_id, "consumer stopped");
    }

    async fn process(
        &self,
        message: &BorrowedMessage<'_>,
        shutdown: &CancellationToken,
    ) -> Outcome {
        let pairs = super::headers::pairs(message.headers());
        let envelope = match super::headers::envelope_of(&pairs) {
            Ok(env) => env,
            Err(e) => {
                return self
                    .dead_letter(message, &pairs, &format!("envelope: {e}"), 0, shutdown)
                    .await;
            }
        };
        let incoming = Incoming {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            envelope,
        };
        let span = tracing::info_span!(
            "kafka.consume",
            messaging.destination = %incoming.topic,
            messaging.kafka.partition = incoming.partition,
            messaging.kafka.offset = incoming.offset,
            event.id = %incoming.envelope.id,
            event.type = %incoming.envelope.event_type,
            request_id = incoming.envelope.request_id.as_deref().unwrap_or(""),
        );
        let carrier = crate::telemetry::HeaderPairs(
            [
                ("traceparent", &incoming.envelope.traceparent),
                ("tracestate", &incoming.envelope.tracestate),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
            .collect(),
        );
        crate::telemetry::set_remote_parent(&span, &carrier);
        self.apply_with_retries(message, &pairs, &incoming, shutdown)
            .instrument(span)
            .await
    }

    async fn apply_with_retries(
        &self,
        message: &BorrowedMessage<'_>,
        pairs: &[(String, Vec<u8>)],
        incoming: &Incoming,
        shutdown: &CancellationToken,
    ) -> Outcome {
        let mut attempts = 0u32;
        let mut backoff = self.config.initial_backoff;
        loop {
            let started = Instant::now();
            let result = self.apply_once(incoming).await;
            metrics::histogram!("consumer_handle_duration_seconds", "group" => self.config.group_id.clone())
                .record(started.elapsed().as_secs_f64());
            let error = match result {
                Ok(true) => {
                    self.stats.applied.fetch_add(1, Ordering::Relaxed);
                    return Outcome::Applied;
                }
                Ok(false) => {
                    self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!("duplicate event skipped");
                    return Outcome::Duplicate;
                }
                Err(e) => e,
            };
            match &error {
                HandlerError::Permanent(_) => {
                    return self
                        .dead_letter(message, pairs, &error.to_string(), attempts + 1, shutdown)
                        .await;
                }
                HandlerError::Transient(_) => {
                    attempts += 1;
                    if attempts >= self.config.max_attempts {
                        return self
                            .dead_letter(message, pairs, &error.to_string(), attempts, shutdown)
                            .await;
                    }
                }
                HandlerError::Unavailable(_) => {}
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %error, attempts, retry_in_ms = backoff.as_millis() as u64, "event handling failed, retrying");
            tokio::select! {
                _ = shutdown.cancelled() => return Outcome::Interrupted,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.config.max_backoff);
        }
    }

    /// One transaction: the inbox row, then the handler's effect. `Ok(false)` means the
    /// event had already been applied.
    async fn apply_once(&self, incoming: &Incoming) -> Result<bool, HandlerError> {
        let mut conn = crate::db::conn(&self.pool).await?;
        let group = self.config.group_id.as_str();
        let handler = &self.handler;
        conn.transaction::<bool, HandlerError, _>(|conn| {
            async move {
                let inserted = diesel::insert_into(processed_events::table)
                    .values((
                        processed_events::consumer_group.eq(group),
                        processed_events::event_id.eq(incoming.envelope.id),
                        processed_events::topic.eq(&incoming.topic),
                        processed_events::event_type.eq(&incoming.envelope.event_type),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                if inserted == 0 {
                    return Ok(false);
                }
                handler.handle(conn, incoming).await?;
                Ok(true)
            }
            .scope_boxed()
        })
        .await
    }

    async fn dead_letter(
        &self,
        message: &BorrowedMessage<'_>,
        pairs: &[(String, Vec<u8>)],
        error: &str,
        attempts: u32,
        shutdown: &CancellationToken,
    ) -> Outcome {
        tracing::error!(
            topic = message.topic(),
            offset = message.offset(),
            error,
            "event dead-lettered"
        );
        if self
            .dead_letters
            .send(message, pairs, error, attempts, shutdown)
            .await
        {
            self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
            Outcome::DeadLettered
        } else {
            Outcome::Interrupted
        }
    }

    async fn prune_inbox(&self) {
        let Ok(mut conn) = crate::db::conn(&self.pool).await else {
            return;
        };
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(self.config.inbox_retention)
                .unwrap_or(chrono::Duration::days(14));
        let result = diesel::delete(
            processed_events::table
                .filter(processed_events::consumer_group.eq(&self.config.group_id))
                .filter(processed_events::processed_at.lt(cutoff)),
        )
        .execute(&mut conn)
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "inbox pruning failed");
        }
    }
}
