//! Topic administration: the stack and the tests create topics from the events crate's
//! list (the broker does not create them on first use).

use super::KafkaConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use std::time::Duration;

/// Creates each topic that does not exist yet; existing topics are left as they are.
pub async fn ensure_topics(
    kafka: &KafkaConfig,
    names: &[String],
    partitions: i32,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = kafka.client_config().create()?;
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&new, &opts).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("creating topic {topic} failed: {code}"),
        }
    }
    Ok(())
}

/// Every platform topic and its DLQ.
pub fn platform_topics() -> Vec<String> {
    events::topics::ALL
        .iter()
        .flat_map(|t| [t.name().to_owned(), t.dlq()])
        .collect()
}
