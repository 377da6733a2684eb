//! A consumer process killed after its database commit and before its offset commit: the
//! records are redelivered to its successor and the inbox turns them into no-ops.
//!
//! The victim is this test binary itself, re-run as a child process that only consumes
//! (see `child_consumer`), so the kill is a real SIGKILL of a real process.

use crate::common::*;
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner, ConsumerStats};
use platform::kafka::outbox::Outbox;
use platform::kafka::relay::RelayConfig;
use std::process::{Command, Stdio};
use std::time::Duration;
use test_support::BrokerProcess;
use tokio_util::sync::CancellationToken;

const EVENTS: i64 = 200;
const CHILD_ENV: &str = "PLATFORM_IT_CHILD_CONSUMER";

fn group_config(group: &str, topic: &str, never_commit: bool) -> ConsumerConfig {
    let mut cfg = ConsumerConfig::new(group, &[topic]);
    cfg.session_timeout = std::time::Duration::from_secs(6);
    if never_commit {
        // The child never gets to commit an offset before it is killed.
        cfg.auto_commit_interval = Duration::from_secs(3600);
    }
    cfg
}

/// A failing test must not leave its child consuming in the background.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child's body; ignored in normal runs, started by the test below.
#[tokio::test]
#[ignore = "runs only as the child process of consumer_killed_between_db_commit_and_offset_commit"]
async fn child_consumer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    test_support::init_logs();
    let mut parts = spec.split('|');
    let (url, bootstrap, topic, group) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let kafka = KafkaConfig::new(bootstrap, "it-child");
    let runner = ConsumerRunner::new(
        pool_for(url),
        &kafka,
        group_config(group, topic, true),
        ProbeHandler,
    )
    .unwrap();
    runner.run(CancellationToken::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_killed_between_db_commit_and_offset_commit() {
    // A broker of its own: the group is rebuilt around a dead member here, and on the
    // shared tansu broker, with other tests' groups joining and leaving at the same time,
    // that rebuild was seen to stall for minutes; alone it takes seconds.
    let broker = BrokerProcess::start().expect("start a private broker");
    let kafka = KafkaConfig::new(broker.bootstrap(), "it-consumer-crash");
    let topic = topic(&kafka, "crash").await;
    let producer_db = db().await;
    let consumer_db = db().await;
    let (producer_pool, consumer_pool) = (pool(&producer_db), pool(&consumer_db));
    let group = test_support::unique("it.crash");

    let mut conn = producer_pool.get().await.unwrap();
    let records: Vec<_> = (0..EVENTS)
        .map(|i| probe(&topic, &format!("s{}", i % 10), i / 10))
        .collect();
    Outbox::new("it")
        .add_records(&mut conn, &records, None)
        .await
        .unwrap();
    drop(conn);
    let stop = CancellationToken::new();
    spawn_relay(&producer_pool, &kafka, RelayConfig::default(), &stop);

    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "consumer_crash::child_consumer",
                "--ignored",
                "--nocapture",
            ])
            .env(
                CHILD_ENV,
                format!("{}|{}|{topic}|{group}", consumer_db.url, broker.bootstrap()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    eventually(
        Duration::from_secs(90),
        "the child to apply every event",
        || async { applied(&consumer_pool).await.total >= EVENTS },
    )
    .await;
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    assert_eq!(applied(&consumer_pool).await.total, EVENTS);

    // The successor in the same group gets the uncommitted records again.
    let stats = spawn_probe_consumer(
        &consumer_pool,
        &kafka,
        group_config(&group, &topic, false),
        &stop,
    );
    eventually(
        Duration::from_secs(90),
        "every record to be redelivered",
        || {
            let stats = stats.clone();
            async move { ConsumerStats::get(&stats.duplicates) >= EVENTS as u64 }
        },
    )
    .await;
    assert_eq!(
        ConsumerStats::get(&stats.applied),
        0,
        "a redelivered event was applied again"
    );
    assert_eq!(
        applied(&consumer_pool).await,
        Counts {
            total: EVENTS,
            distinct: EVENTS
        }
    );
    stop.cancel();
}
