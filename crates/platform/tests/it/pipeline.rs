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

/// Secrets (codes, link and join tokens) must not outlive their publication in the
/// producer's database: rows of a scrubbed topic lose their payload once published, the
/// others keep theirs for the retention period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rows_of_secret_bearing_topics_are_emptied() {
    use diesel::QueryableByName;
    let db = db().await;
    let pool = pool(&db);
    let kafka = kafka();
    let secret = topic(&kafka, "secret").await;
    let plain = topic(&kafka, "plain").await;
    let outbox = Outbox::new("it");
    let mut conn = pool.get().await.unwrap();
    let records = [probe(&secret, "s", 0), probe(&plain, "p", 0)];
    outbox.add_records(&mut conn, &records, None).await.unwrap();

    let relay = platform::kafka::relay::OutboxRelay::new(
        pool.clone(),
        &kafka,
        RelayConfig {
            scrub_topics: vec![secret.clone()],
            ..RelayConfig::default()
        },
    )
    .unwrap();
    assert_eq!(relay.publish_batch().await.unwrap(), 2);

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        topic: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        size: i32,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        published: bool,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT topic, length(payload) AS size, published_at IS NOT NULL AS published FROM outbox",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row.published);
        let expected = if row.topic == secret {
            0
        } else {
            records[1].payload.len()
        };
        assert_eq!(row.size as usize, expected, "{}", row.topic);
    }
    assert!(events::topics::SECRET_BEARING.contains(&events::topics::COMMUNITY_INVITE));
    assert!(events::topics::SECRET_BEARING.contains(&events::topics::AUTH_OTP));
    assert!(
        RelayConfig::default()
            .scrub_topics
            .contains(&"community.invite.v1".to_owned())
    );
}
