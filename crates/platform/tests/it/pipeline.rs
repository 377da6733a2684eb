//! The basic contract: a state change and its event commit together, the relay publishes
//! the event, and a consumer in another database applies it exactly once.

use crate::common::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use platform::kafka::consumer::{ConsumerConfig, ConsumerStats};
use platform::kafka::outbox::Outbox;
use platform::kafka::relay::RelayConfig;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_and_event_commit_together_and_are_applied_once() {
    let producer_db = db().await;
    let consumer_db = db().await;
    let (producer_pool, consumer_pool) = (pool(&producer_db), pool(&consumer_db));
    let kafka = kafka();
    let topic = topic(&kafka, "pipeline").await;
    let outbox = Outbox::new("it");

    // Committed: a widget and its event.
    let mut conn = producer_pool.get().await.unwrap();
    let record = probe(&topic, "widget-1", 0);
    conn.transaction::<_, platform::db::DbError, _>(|conn| {
        let record = record.clone();
        async move {
            diesel::sql_query("INSERT INTO widgets (id, name) VALUES (gen_random_uuid(), 'drill')")
                .execute(conn)
                .await?;
            outbox.add_record(conn, &record, None).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .unwrap();

    // Rolled back: neither the widget nor its event may ever be seen.
    let rolled_back = conn
        .transaction::<(), platform::db::DbError, _>(|conn| {
            let record = probe(&topic, "widget-2", 0);
            async move {
                diesel::sql_query(
                    "INSERT INTO widgets (id, name) VALUES (gen_random_uuid(), 'saw')",
                )
                .execute(conn)
                .await?;
                outbox.add_record(conn, &record, None).await?;
                Err(platform::db::DbError::NotFound)
            }
            .scope_boxed()
        })
        .await;
    assert!(rolled_back.is_err());
    drop(conn);

    let stop = CancellationToken::new();
    spawn_relay(&producer_pool, &kafka, RelayConfig::default(), &stop);
    let group = test_support::unique("it.pipeline");
    let stats = spawn_probe_consumer(
        &consumer_pool,
        &kafka,
        ConsumerConfig::new(group, &[&topic]),
        &stop,
    );

    eventually(
        Duration::from_secs(60),
        "the event to be applied",
        || async { applied(&consumer_pool).await.total == 1 },
    )
    .await;
    // Give a stray second delivery time to show up before judging.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        applied(&consumer_pool).await,
        Counts {
            total: 1,
            distinct: 1
        }
    );
    assert_eq!(unpublished(&producer_pool).await, 0);
    assert_eq!(ConsumerStats::get(&stats.applied), 1);
    stop.cancel();
}
