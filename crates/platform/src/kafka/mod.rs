//! Kafka: configuration, the transactional outbox and its relay, the inbox consumer
//! runner with its dead-letter queue, and topic administration.

pub mod admin;
pub mod consumer;
pub mod dlq;
pub mod headers;
pub mod outbox;
pub mod relay;
pub(crate) mod schema;

use crate::config::{Dur, VarDoc, Vars};
use crate::http::health::ReadinessCheck;
use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};
use std::time::Duration;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "KAFKA_BOOTSTRAP_SERVERS",
        default: Some("127.0.0.1:59092"),
        doc: "Comma-separated Kafka bootstrap servers (the local stack's broker by default).",
    },
    VarDoc {
        name: "KAFKA_MESSAGE_TIMEOUT",
        default: Some("300s"),
        doc: "How long the producer retries one message before the relay backs off and retries the batch. Keep it longer than a broker restart: a timeout makes the idempotent producer bump its epoch, which tansu 0.6 mishandles.",
    },
    VarDoc {
        name: "OUTBOX_BATCH_SIZE",
        default: Some("1000"),
        doc: "Outbox rows the relay publishes per transaction.",
    },
    VarDoc {
        name: "OUTBOX_POLL_INTERVAL",
        default: Some("100ms"),
        doc: "How often an idle relay looks for new rows.",
    },
    VarDoc {
        name: "OUTBOX_RETENTION",
        default: Some("168h"),
        doc: "How long published rows are kept before pruning.",
    },
    VarDoc {
        name: "CONSUMER_MAX_ATTEMPTS",
        default: Some("5"),
        doc: "Attempts for a failing handler before its message goes to the topic's `.dlq`.",
    },
];

/// librdkafka's own default. A message that times out makes the idempotent producer bump
/// its epoch; tansu 0.6 then fails every later produce from that producer (and its SQLite
/// engine panics), so outages must be ridden out by retrying, not by timing out.
pub const DEFAULT_MESSAGE_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    /// Identifies the service in broker logs and quotas.
    pub client_id: String,
    pub message_timeout: Duration,
}

impl KafkaConfig {
    pub fn from_vars(v: &mut Vars<'_>, service: &str) -> Self {
        Self {
            bootstrap_servers: v.or("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092".to_owned()),
            client_id: service.to_owned(),
            message_timeout: v
                .or("KAFKA_MESSAGE_TIMEOUT", Dur(DEFAULT_MESSAGE_TIMEOUT))
                .0,
        }
    }

    pub fn new(bootstrap_servers: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            client_id: client_id.into(),
            message_timeout: DEFAULT_MESSAGE_TIMEOUT,
        }
    }

    /// Settings shared by every client.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", &self.client_id)
            // Our own loop logs failures with context; librdkafka's would repeat them.
            .set("log_level", "3");
        c
    }

    /// A producer that never duplicates or reorders within a partition, and only reports
    /// success once every in-sync replica has the message.
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set(
                "message.timeout.ms",
                self.message_timeout.as_millis().to_string(),
            );
        c
    }
}

/// The broker answers a metadata request.
pub struct BrokerCheck {
    producer: std::sync::Arc<BaseProducer>,
}

impl BrokerCheck {
    pub fn new(config: &KafkaConfig) -> anyhow::Result<Self> {
        Ok(Self {
            producer: std::sync::Arc::new(config.client_config().create()?),
        })
    }
}

impl ReadinessCheck for BrokerCheck {
    fn name(&self) -> &'static str {
        "broker"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let producer = self.producer.clone();
            // fetch_metadata blocks its thread until the broker answers.
            tokio::task::spawn_blocking(move || {
                producer
                    .client()
                    .fetch_metadata(None, Duration::from_millis(1500))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}
