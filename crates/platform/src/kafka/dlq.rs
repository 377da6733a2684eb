//! Dead letters: records a consumer could not apply, parked on `<topic>.dlq` with the
//! reason and their origin in headers, and the operator's replay that sends them back.

use super::KafkaConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::Arc;
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
/// original headers (so its event id, and the consumers' inbox, stay the same).
///
/// It replays what the DLQ held when it started, up to each partition's high watermark
/// at that moment, and stops there: a record that fails again lands past that mark and
/// waits for the next replay instead of cycling. Progress is committed per record under
/// the group `dlq-replay.<topic>`, so an interrupted replay resumes where it stopped.
/// `idle` bounds the wait for a record the watermark says exists.
pub async fn replay(kafka: &KafkaConfig, dlq_topic: &str, idle: Duration) -> anyhow::Result<u64> {
    let consumer: Arc<StreamConsumer> = Arc::new(
        kafka
            .client_config()
            .set("group.id", format!("dlq-replay.{dlq_topic}"))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()?,
    );
    let plan = {
        let consumer = consumer.clone();
        let topic = dlq_topic.to_owned();
        // Metadata, watermark and committed-offset lookups block their thread.
        tokio::task::spawn_blocking(move || plan_replay(&consumer, &topic)).await??
    };
    let mut remaining: HashMap<i32, i64> = plan
        .iter()
        .filter(|(_, (start, high))| start < high)
        .map(|(p, (_, high))| (*p, *high))
        .collect();
    if remaining.is_empty() {
        return Ok(0);
    }
    let mut tpl = TopicPartitionList::new();
    for (p, (start, _)) in &plan {
        tpl.add_partition_offset(dlq_topic, *p, Offset::Offset(*start))?;
    }
    consumer.assign(&tpl)?;

    let producer: FutureProducer = kafka.producer_config().create()?;
    let mut replayed = 0u64;
    while !remaining.is_empty() {
        let message = tokio::time::timeout(idle, consumer.recv())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "no record from {dlq_topic} within {idle:?}; {replayed} replayed so far"
                )
            })??;
        let partition = message.partition();
        let Some(&high) = remaining.get(&partition) else {
            continue;
        };
        if message.offset() >= high {
            remaining.remove(&partition);
            continue;
        }
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
        if message.offset() + 1 >= high {
            remaining.remove(&partition);
        }
    }
    Ok(replayed)
}

/// For each partition of `topic`: where this replay starts (the replay group's committed
/// offset, else the log start) and the high watermark it stops at.
fn plan_replay(consumer: &StreamConsumer, topic: &str) -> anyhow::Result<HashMap<i32, (i64, i64)>> {
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    anyhow::ensure!(!partitions.is_empty(), "topic {topic} not found");
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition(topic, *p);
    }
    let committed = consumer.committed_offsets(tpl, timeout)?;
    let mut plan = HashMap::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout)?;
        let start = match committed.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) if o >= low => o,
            _ => low,
        };
        plan.insert(p, (start, high));
    }
    Ok(plan)
}
