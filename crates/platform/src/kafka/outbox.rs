//! Writing events: an outbox row is inserted inside the caller's transaction, so the event
//! exists if and only if the state change it describes committed.

use super::schema::outbox;
use crate::db::DbError;
use crate::http::RequestId;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use events::{DomainEvent, Envelope};
use uuid::Uuid;

/// An event ready to be stored, not tied to a message type (tests, tools and replays use
/// this directly; services use [`Outbox::add`]).
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub topic: String,
    /// Partition key: the aggregate id, so one aggregate's events stay in order.
    pub key: String,
    pub event_type: String,
    /// `<aggregate>/<id>`.
    pub subject: Option<String>,
    pub payload: Vec<u8>,
}

impl OutboxRecord {
    /// `event` about `aggregate`/`aggregate_id`, keyed by the aggregate.
    pub fn of<E: DomainEvent>(aggregate: &str, aggregate_id: &str, event: &E) -> Self {
        Self {
            topic: E::TOPIC.name().to_owned(),
            key: aggregate_id.to_owned(),
            event_type: E::TYPE.to_owned(),
            subject: Some(format!("{aggregate}/{aggregate_id}")),
            payload: event.encode_to_vec(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewRow<'a> {
    event_id: Uuid,
    topic: &'a str,
    partition_key: &'a str,
    event_type: &'a str,
    source: &'a str,
    subject: Option<&'a str>,
    occurred_at: chrono::DateTime<chrono::Utc>,
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
    request_id: Option<&'a str>,
    payload: &'a [u8],
}

/// A service's handle for writing events.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    service: &'static str,
}

impl Outbox {
    pub const fn new(service: &'static str) -> Self {
        Self { service }
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    /// Adds `event` about `aggregate`/`aggregate_id`. Call it with the connection of the
    /// transaction that makes the change; returns the event id (the consumers' idempotency
    /// key).
    pub async fn add<E: DomainEvent>(
        &self,
        conn: &mut AsyncPgConnection,
        aggregate: &str,
        aggregate_id: &str,
        event: &E,
        request_id: Option<&RequestId>,
    ) -> Result<Uuid, DbError> {
        let record = OutboxRecord::of(aggregate, aggregate_id, event);
        self.add_record(conn, &record, request_id).await
    }

    /// Adds a prepared record; the trace context of the current span goes with it.
    pub async fn add_record(
        &self,
        conn: &mut AsyncPgConnection,
        record: &OutboxRecord,
        request_id: Option<&RequestId>,
    ) -> Result<Uuid, DbError> {
        let ids = self
            .add_records(conn, std::slice::from_ref(record), request_id)
            .await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| DbError::Other(anyhow::anyhow!("outbox insert returned no id")))
    }

    /// Adds many records in as few statements as possible (bulk operations, benchmarks).
    pub async fn add_records(
        &self,
        conn: &mut AsyncPgConnection,
        records: &[OutboxRecord],
        request_id: Option<&RequestId>,
    ) -> Result<Vec<Uuid>, DbError> {
        let (traceparent, tracestate) = crate::telemetry::current_trace_context();
        let envs: Vec<Envelope> = records
            .iter()
            .map(|r| Envelope::new(self.service, &r.event_type))
            .collect();
        // Postgres caps bind parameters at 65535 per statement: 11 per row.
        for (chunk_records, chunk_envs) in records.chunks(5000).zip(envs.chunks(5000)) {
            let rows: Vec<NewRow<'_>> = chunk_records
                .iter()
                .zip(chunk_envs)
                .map(|(r, env)| NewRow {
                    event_id: env.id,
                    topic: &r.topic,
                    partition_key: &r.key,
                    event_type: &r.event_type,
                    source: &env.source,
                    subject: r.subject.as_deref(),
                    occurred_at: env.time,
                    traceparent: traceparent.as_deref(),
                    tracestate: tracestate.as_deref(),
                    request_id: request_id.map(|r| r.0.as_str()),
                    payload: &r.payload,
                })
                .collect();
            diesel::insert_into(outbox::table)
                .values(&rows)
                .execute(conn)
                .await?;
        }
        Ok(envs.into_iter().map(|e| e.id).collect())
    }
}

/// Writing a service's events, once for every service: a state type names its outbox and
/// the aggregate its events are about, and gets [`Emits::emit`].
pub trait Emits: Sync {
    /// The aggregate the events' subjects name (`community` in `community/<id>`).
    const AGGREGATE: &'static str;

    fn outbox(&self) -> &Outbox;

    /// Adds `event` about aggregate `key` to the outbox, in the caller's transaction
    /// (keyed by the aggregate id, so one aggregate's events stay in order).
    fn emit<E: DomainEvent + Sync>(
        &self,
        conn: &mut AsyncPgConnection,
        key: impl std::fmt::Display + Send,
        event: &E,
        request_id: Option<&RequestId>,
    ) -> impl std::future::Future<Output = Result<(), DbError>> + Send {
        async move {
            self.outbox()
                .add(conn, Self::AGGREGATE, &key.to_string(), event, request_id)
                .await
                .map(|_| ())
        }
    }
}
