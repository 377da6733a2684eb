//! Dead letters: records a consumer could not apply, parked on `<topic>.dlq` with the
//! reason and their origin in headers, and the operator's replay that sends them back.

use super::KafkaConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Headers added to a dead-lettered record.
pub mod headers {
    pub const ERROR: &str = "dlq_error";
    pub const ORIGIN_TOPIC: &str = "dlq_origin_topic";
    pub const ORIGIN_PARTITION: &str = "dlq_origin_partition";
    pub const ORIGIN_OFFSET: &str = "dlq_origin_offset";
    pub const CONSUMER_GROUP: &str = "dlq_consumer_group";
    pub const ATTEMPTS: &str = "dlq_attempts";
    pub const FAILED_AT: &str = "dlq_failed_at";
    pub const PREFIX: &str = "dlq_";
}

pub struct DeadLetters {
    producer: FutureProducer,
    group: String,
}

impl DeadLetters {
    pub fn new(kafka: &KafkaConfig, group: &str) -> anyhow::Result<Self> {
        Ok(Self {
            producer: kafka.producer_config().create()?,
            group: group.to_owned(),
        })
    }

    /// Parks `message` on its DLQ topic, retrying until the broker takes it. Returns false
    /// only when shutdown interrupted it (the record will then be redelivered).
    pub async fn send(
        &self,
        message: &BorrowedMessage<'_>,
        pairs: &[(String, Vec<u8>)],
        error: &str,
        attempts: u32,
        shutdown: &CancellationToken,
    ) -> bool {
        let dlq = events::topics::dlq_of(message.topic());
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let attempts = attempts.to_string();
        let failed_at = chrono::Utc::now().to_rfc3339();
        // Headers from a previous trip through the DLQ are replaced, not stacked.
        let mut hs = super::headers::from_pairs(pairs, |k| !k.starts_with(headers::PREFIX));
        for (key, value) in [
            (headers::ERROR, error),
            (headers::ORIGIN_TOPIC, message.topic()),
            (headers::ORIGIN_PARTITION, partition.as_str()),
            (headers::ORIGIN_OFFSET, offset.as_str()),
            (headers::CONSUMER_GROUP, self.group.as_str()),
            (headers::ATTEMPTS, attempts.as_str()),
            (headers::FAILED_AT, failed_at.as_str()),
        ] {
            hs = hs.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let mut backoff = Duration::from_millis(200);
        loop {
            let mut record = FutureRecord::to(&dlq).headers(hs.clone());
            if let Some(k) = message.key() {
                record = record.key(k);
            }
            if let Some(p) = message.payload() {
                record = record.payload(p);
            }
            match self.producer.send(record, Duration::from_secs(5)).await {
                Ok(_) => return true,
                Err((e, _)) => {
                    tracing::warn!(error = %e, dlq, "dead-letter publish failed, retrying")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// Sends every record parked on `dlq_topic` back to the topic it came from, with its
/// original headers (so its event id, and the consumers' inbox, stay the same). Stops
/// when no record arrives for `idle`; returns how many were replayed.
pub async fn replay(kafka: &KafkaConfig, dlq_topic: &str, idle: Duration) -> anyhow::Result<u64> {
    let consumer: StreamConsumer = kafka
        .client_config()
        // One replay group per DLQ: a second replay continues where the first stopped.
        .set("group.id", format!("dlq-replay.{dlq_topic}"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[dlq_topic])?;
    let producer: FutureProducer = kafka.producer_config().create()?;
    let mut replayed = 0u64;
    loop {
        let message = match tokio::time::timeout(idle, consumer.recv()).await {
            Err(_) => break,
            Ok(m) => m?,
        };
        let pairs = super::headers::pairs(message.headers());
        let origin = pairs
            .iter()
            .find(|(k, _)| k == headers::ORIGIN_TOPIC)
            .and_then(|(_, v)| String::from_utf8(v.clone()).ok())
            .unwrap_or_else(|| {
                dlq_topic
                    .trim_end_matches(events::topics::DLQ_SUFFIX)
                    .to_owned()
            });
        let hs = super::headers::from_pairs(&pairs, |k| !k.starts_with(headers::PREFIX));
        let mut record = FutureRecord::to(&origin).headers(hs);
        if let Some(k) = message.key() {
            record = record.key(k);
        }
        if let Some(p) = message.payload() {
            record = record.payload(p);
        }
        producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| anyhow::anyhow!("replay to {origin} failed: {e}"))?;
        // Committed per record: a replay cut short resumes without resending much.
        consumer.commit_message(&message, CommitMode::Sync)?;
        replayed += 1;
    }
    Ok(replayed)
}
