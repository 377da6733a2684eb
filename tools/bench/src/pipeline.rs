//! The event pipeline benchmark: how close the outbox relay comes to the raw producer.
//!
//! Both sides send the same records (same size, headers and key spread) to a fresh topic
//! on the same broker. The raw rate is the ceiling; the relay's end-to-end rate counts
//! from the first row inserted to the last row marked acknowledged.

use crate::scratch::ScratchDb;
use diesel_async::RunQueryDsl;
use platform::config::Secret;
use platform::kafka::KafkaConfig;
use platform::kafka::outbox::{Outbox, OutboxRecord};
use platform::kafka::relay::{OutboxRelay, RelayConfig};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PAYLOAD_BYTES: usize = 256;
const STREAMS: usize = 100;

fn record(i: usize, topic: &str) -> OutboxRecord {
    OutboxRecord {
        topic: topic.to_owned(),
        key: format!("stream-{}", i % STREAMS),
        event_type: events::types::PLATFORM_PROBE_RECORDED.to_owned(),
        subject: Some(format!("probe/{}", i % STREAMS)),
        payload: vec![b'x'; PAYLOAD_BYTES],
    }
}

async fn raw_rate(kafka: &KafkaConfig, topic: &str, n: usize) -> anyhow::Result<f64> {
    let producer: FutureProducer = kafka.producer_config().create()?;
    let started = Instant::now();
    let sends = (0..n).map(|i| {
        let r = record(i, topic);
        let producer = &producer;
        async move {
            let env = events::Envelope::new("bench", &r.event_type);
            let headers = platform::kafka::headers::to_kafka(&env);
            producer
                .send(
                    FutureRecord::to(&r.topic)
                        .key(r.key.as_bytes())
                        .payload(&r.payload)
                        .headers(headers),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
        }
    });
    for result in futures::future::join_all(sends).await {
        result?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn relay_rate(
    kafka: &KafkaConfig,
    db_url: &str,
    topic: &str,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    platform::db::run_migrations(
        &Secret::new(db_url.to_owned()),
        platform::db::NO_SERVICE_MIGRATIONS,
    )
    .await?;
    let pool = platform::db::build_pool(&platform::db::DbConfig::for_url(db_url), "bench")?;
    let relay = OutboxRelay::new(pool.clone(), kafka, RelayConfig::default())?;
    let stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(stop.clone()));

    let outbox = Outbox::new("bench");
    let started = Instant::now();
    let mut conn = platform::db::conn(&pool).await?;
    // Committed in chunks, as a busy service would: the relay starts on the first chunk
    // while later ones are still being written.
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let records: Vec<OutboxRecord> = chunk.iter().map(|&i| record(i, topic)).collect();
        outbox.add_records(&mut conn, &records, None).await?;
    }
    let inserted = started.elapsed();
    loop {
        let pending: i64 =
            diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
                .get_result::<Count>(&mut conn)
                .await?
                .n;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    stop.cancel();
    relay_task.await?;
    Ok((
        n as f64 / total.as_secs_f64(),
        n as f64 / inserted.as_secs_f64(),
    ))
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

pub async fn run(kafka: &KafkaConfig, n: usize) -> anyhow::Result<()> {
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let raw_topic = format!("bench.raw.{run_id}");
    let relay_topic = format!("bench.relay.{run_id}");
    platform::kafka::admin::ensure_topics(kafka, &[raw_topic.clone(), relay_topic.clone()], 3)
        .await?;

    let db = ScratchDb::create("bench", &run_id).await?;

    println!(
        "events: {n}, payload: {PAYLOAD_BYTES} bytes, keys: {STREAMS}, broker: {}",
        kafka.bootstrap_servers
    );
    // Warm-up: connections, metadata and idempotent producer id out of the timings.
    raw_rate(kafka, &raw_topic, 1000.min(n)).await?;
    let raw = raw_rate(kafka, &raw_topic, n).await?;
    println!("raw producer:        {raw:>10.0} events/s");
    let result = relay_rate(kafka, &db.url, &relay_topic, n).await;
    db.drop().await;
    let (relay, insert) = result?;
    println!("outbox inserts:      {insert:>10.0} rows/s (committed, 1000 per transaction)");
    println!("outbox relay (e2e):  {relay:>10.0} events/s");
    println!("relay / raw:         {:>10.1} %", relay / raw * 100.0);
    Ok(())
}
