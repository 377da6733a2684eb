//! 10,000 events through the outbox while the broker is killed (-9) and restarted
//! mid-stream: every event applied, none applied twice.

use crate::common::*;
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::ConsumerConfig;
use platform::kafka::outbox::Outbox;
use platform::kafka::relay::RelayConfig;
use std::time::Duration;
use test_support::BrokerProcess;
use tokio_util::sync::CancellationToken;

const EVENTS: i64 = 10_000;
const STREAMS: i64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_broker_crash() {
    let mut broker = BrokerProcess::start().expect("start a private broker");
    let kafka = KafkaConfig::new(broker.bootstrap(), "it-broker-restart");
    let topic = topic(&kafka, "restart").await;

    let producer_db = db().await;
    let consumer_db = db().await;
    let (producer_pool, consumer_pool) = (pool(&producer_db), pool(&consumer_db));
    let outbox = Outbox::new("it");

    let stop = CancellationToken::new();
    let relay_cfg = RelayConfig {
        batch_size: 500,
        ..RelayConfig::default()
    };
    spawn_relay(&producer_pool, &kafka, relay_cfg, &stop);
    let group = test_support::unique("it.restart");
    spawn_probe_consumer(
        &consumer_pool,
        &kafka,
        ConsumerConfig::new(group, &[&topic]),
        &stop,
    );

    // Events keep being committed (100 per transaction) while the broker goes down.
    let writer = {
        let pool = producer_pool.clone();
        let topic = topic.clone();
        tokio::spawn(async move {
            let mut conn = pool.get().await.unwrap();
            for chunk in 0..(EVENTS / 100) {
                let records: Vec<_> = (chunk * 100..(chunk + 1) * 100)
                    .map(|i| probe(&topic, &format!("s{}", i % STREAMS), i / STREAMS))
                    .collect();
                outbox.add_records(&mut conn, &records, None).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    eventually(
        Duration::from_secs(120),
        "a third of the events to be applied",
        || async { applied(&consumer_pool).await.total >= EVENTS / 3 },
    )
    .await;
    broker.kill().unwrap();
    // Shorter than the consumer's session timeout: the group survives the crash. Longer
    // outages are where tansu 0.6's group coordinator gets stuck (docs/adr/0002).
    tokio::time::sleep(Duration::from_secs(3)).await;
    broker.restart().unwrap();

    writer.await.unwrap();
    eventually(
        Duration::from_secs(120),
        "all events to be applied",
        || async { applied(&consumer_pool).await.total >= EVENTS },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        applied(&consumer_pool).await,
        Counts {
            total: EVENTS,
            distinct: EVENTS
        }
    );
    assert_eq!(unpublished(&producer_pool).await, 0);
    stop.cancel();
}
