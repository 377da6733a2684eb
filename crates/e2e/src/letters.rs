//! What a person would find in their inbox, until the notification service sends e-mail:
//! the secrets (verification links, join tokens) are read from the events those e-mails
//! are made from. This reaches into the local stack's broker, so it works only where the
//! suite started the stack (not with `E2E_GATEWAY_URL`).

use anyhow::{Context, bail};
use events::DomainEvent;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

fn bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| {
        let port = std::env::var("STACK_KAFKA_PORT").unwrap_or_else(|_| "59092".into());
        format!("127.0.0.1:{port}")
    })
}

/// The first event of type `E` (from the start of its topic) that `matches`, waiting up
/// to `within` for it to be published.
pub async fn find<E: DomainEvent>(
    within: Duration,
    matches: impl Fn(&E) -> bool,
) -> anyhow::Result<E> {
    let topic = E::TOPIC.name();
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", format!("e2e-letters-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .create()
        .context("a Kafka consumer for the letters")?;
    // Partitions assigned by hand: no consumer-group round trips, and every partition
    // read from its beginning.
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .with_context(|| format!("metadata of {topic}"))?;
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!("no matching {} on {topic} within {within:?}", E::TYPE);
        }
        let Ok(received) = tokio::time::timeout(left, consumer.recv()).await else {
            continue;
        };
        let message = received?;
        let is_type = message.headers().is_some_and(|h| {
            h.iter().any(|header| {
                header.key == events::envelope::headers::TYPE
                    && header.value == Some(E::TYPE.as_bytes())
            })
        });
        if !is_type {
            continue;
        }
        let event = <E as prost::Message>::decode(message.payload().unwrap_or_default())?;
        if matches(&event) {
            return Ok(event);
        }
    }
}
