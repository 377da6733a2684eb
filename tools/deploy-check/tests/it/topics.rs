//! The KafkaTopic resources are exactly the events crate's topics and their dead-letter
//! topics, with the retention the platform relies on.

use crate::overlays;
use events::topics::{ALL, SECRET_BEARING, dlq_of};
use std::collections::BTreeSet;

const DAY_MS: u64 = 24 * 3600 * 1000;

fn retention_ms(topic: &serde_json::Value) -> u64 {
    topic["spec"]["config"]["retention.ms"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{} has no retention.ms", topic["spec"]["topicName"]))
}

#[test]
fn kafka_topics_match_the_events_crate() {
    let expected: BTreeSet<String> = ALL
        .iter()
        .flat_map(|t| [t.name().to_owned(), t.dlq()])
        .collect();
    for (overlay, m) in overlays() {
        let declared: BTreeSet<String> = m
            .of_kind("KafkaTopic")
            .map(|t| {
                t["spec"]["topicName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        let missing: Vec<_> = expected.difference(&declared).collect();
        let unknown: Vec<_> = declared.difference(&expected).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "{overlay}: k8s/base/platform/topics.yaml differs from crates/events: missing {missing:?}, not in the crate {unknown:?}"
        );
        for t in m.of_kind("KafkaTopic") {
            assert_eq!(
                t["metadata"]["labels"]["strimzi.io/cluster"], "neighbourly",
                "{overlay}: {t}"
            );
            assert_eq!(
                t["spec"]["partitions"],
                events::topics::DEFAULT_PARTITIONS,
                "{overlay}: {t}"
            );
        }
    }
}

/// Consumers remember handled event ids for 14 days, so a topic must forget sooner than
/// that; secrets (codes, join tokens) stay at most a day; dead letters wait for a replay.
#[test]
fn retention_fits_the_inbox_and_the_secrets() {
    for (overlay, m) in overlays() {
        let topic = |name: &str| {
            m.of_kind("KafkaTopic")
                .find(|t| t["spec"]["topicName"] == name)
                .unwrap_or_else(|| panic!("{overlay}: no KafkaTopic {name}"))
        };
        for t in ALL {
            let limit = if SECRET_BEARING.contains(t) {
                DAY_MS
            } else {
                7 * DAY_MS
            };
            assert!(
                retention_ms(topic(t.name())) <= limit,
                "{overlay}: {t} kept too long"
            );
            assert!(
                retention_ms(topic(&dlq_of(t.name()))) >= 7 * DAY_MS,
                "{overlay}: {t}.dlq too short to replay"
            );
        }
    }
}

/// Replicas can never exceed the brokers: the dev overlay runs one.
#[test]
fn topic_replicas_fit_the_broker_count() {
    for (overlay, m) in overlays() {
        let brokers: u64 = m
            .of_kind("KafkaNodePool")
            .filter(|p| {
                p["spec"]["roles"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|x| x == "broker"))
            })
            .filter_map(|p| p["spec"]["replicas"].as_u64())
            .sum();
        assert!(brokers >= 1, "{overlay}: no broker");
        for t in m.of_kind("KafkaTopic") {
            let replicas = t["spec"]["replicas"].as_u64().unwrap_or(0);
            let isr: u64 = t["spec"]["config"]["min.insync.replicas"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            assert!(
                (1..=brokers).contains(&replicas),
                "{overlay}: {} has {replicas} replicas for {brokers} brokers",
                t["spec"]["topicName"]
            );
            assert!(
                isr <= replicas,
                "{overlay}: {} can never be written",
                t["spec"]["topicName"]
            );
        }
    }
}
