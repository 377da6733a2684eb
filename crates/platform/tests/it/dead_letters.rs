//! Poison records go to `<topic>.dlq` with the error and their origin in headers, and the
//! partition keeps flowing; replaying the DLQ after a fix applies them.

use crate::common::*;
use platform::kafka::consumer::{ConsumerConfig, ConsumerStats};
use platform::kafka::dlq::headers as dlq;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const GOOD: usize = 100;
const BAD: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_records_are_dead_lettered_and_good_ones_flow() {
    let kafka = kafka();
    let topic = topic(&kafka, "dlq").await;
    let consumer_db = db().await;
    let consumer_pool = pool(&consumer_db);

    // Good records and three kinds of poison, interleaved on the same keys (partitions):
    // no headers at all, a broken event id, and a payload that is not a probe.
    let producer: FutureProducer = kafka.producer_config().create().unwrap();
    let mut bad_sent = 0;
    for i in 0..GOOD {
        let good = probe(&topic, &format!("s{}", i % 5), (i / 5) as i64);
        let env = events::Envelope::new("it", &good.event_type);
        producer
            .send(
                FutureRecord::to(&topic)
                    .key(good.key.as_bytes())
                    .payload(&good.payload)
                    .headers(platform::kafka::headers::to_kafka(&env)),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        if i % 5 == 0 && bad_sent < BAD {
            let key = good.key.clone();
            let env = events::Envelope::new("it", &good.event_type);
            let record = FutureRecord::to(&topic).key(key.as_bytes());
            let record = match bad_sent % 3 {
                0 => record.payload(&b"no envelope"[..]),
                1 => record.payload(&good.payload).headers(
                    OwnedHeaders::new()
                        .insert(Header {
                            key: "ce_specversion",
                            value: Some("1.0"),
                        })
                        .insert(Header {
                            key: "ce_id",
                            value: Some("not-a-uuid"),
                        }),
                ),
                // A valid envelope around bytes that do not decode as the message.
                _ => record
                    .payload(&[0xff_u8, 0xff, 0xff][..])
                    .headers(platform::kafka::headers::to_kafka(&env)),
            };
            producer
                .send(record, Duration::from_secs(10))
                .await
                .unwrap();
            bad_sent += 1;
        }
    }
    assert_eq!(bad_sent, BAD);

    let stop = CancellationToken::new();
    let group = test_support::unique("it.dlq");
    let stats = spawn_probe_consumer(
        &consumer_pool,
        &kafka,
        ConsumerConfig::new(group.clone(), &[&topic]),
        &stop,
    );

    eventually(
        Duration::from_secs(60),
        "good records applied and bad ones dead-lettered",
        || {
            let (stats, pool) = (stats.clone(), consumer_pool.clone());
            async move {
                applied(&pool).await.total as usize >= GOOD
                    && ConsumerStats::get(&stats.dead_lettered) as usize >= BAD
            }
        },
    )
    .await;
    assert_eq!(
        applied(&consumer_pool).await,
        Counts {
            total: GOOD as i64,
            distinct: GOOD as i64
        }
    );
    stop.cancel();

    // Every poison record is on the DLQ with the reason and where it came from.
    let reader: StreamConsumer = kafka
        .client_config()
        .set("group.id", test_support::unique("it.dlq-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader
        .subscribe(&[&events::topics::dlq_of(&topic)])
        .unwrap();
    let mut seen = 0;
    while seen < BAD {
        let m = tokio::time::timeout(Duration::from_secs(30), reader.recv())
            .await
            .expect("a dead letter within 30s")
            .unwrap();
        let hs = m.headers().expect("dead letters carry headers");
        let get = |name: &str| {
            hs.iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert!(
            !get(dlq::ERROR).unwrap_or_default().is_empty(),
            "missing error header"
        );
        assert_eq!(get(dlq::ORIGIN_TOPIC).as_deref(), Some(topic.as_str()));
        assert!(get(dlq::ORIGIN_OFFSET).is_some());
        assert_eq!(get(dlq::CONSUMER_GROUP).as_deref(), Some(group.as_str()));
        seen += 1;
    }
    assert_eq!(seen, BAD);
    assert!(
        tokio::time::timeout(Duration::from_secs(3), reader.recv())
            .await
            .is_err(),
        "more dead letters than poison records"
    );

    // The operator's replay sends exactly the parked records back, once.
    let dlq = events::topics::dlq_of(&topic);
    let replayed = platform::kafka::dlq::replay(&kafka, &dlq, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(replayed, BAD as u64);
    let again = platform::kafka::dlq::replay(&kafka, &dlq, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(again, 0, "a second replay resumes after the first");
}
