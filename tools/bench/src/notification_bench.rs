//! The notification benchmark: how fast events become queued e-mails, and how fast the
//! dispatchers hand them to an SMTP server.
//!
//! 1. `EVENTS` invites are published to a private topic first, so the consumer then
//!    drains a backlog: per event one transaction (inbox row, rendering, delivery row);
//! 2. once every delivery is queued, `DISPATCHERS` dispatch loops (each one a replica's)
//!    claim, send and settle them against the SMTP server `smtp_url` names.
//!
//! The service's own consumer handler, templates, SMTP sender and dispatcher run in this
//! process against a scratch database and a private topic and consumer group, so a
//! running stack is neither read nor disturbed. `scripts/bench-notification` supplies a
//! discarding SMTP server (aiosmtpd), a fresh broker and a release build.
//!
//! On the local broker the first phase measures tansu more than the service: while the
//! backlog drains tansu uses a whole core and the process under a tenth of one.

use crate::scratch::ScratchDb;
use diesel_async::RunQueryDsl;
use events::DomainEvent;
use events::proto::community::v1::InviteCreated;
use notification::state::{Senders, State};
use platform::config::Secret;
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner};
use platform::kafka::outbox::Outbox;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long a count may stand still before the run is called stuck.
const STALL_LIMIT: Duration = Duration::from_secs(60);

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn invite(i: usize) -> InviteCreated {
    let week = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 7 * 24 * 3600;
    InviteCreated {
        invite_id: Uuid::now_v7().to_string(),
        community_id: Uuid::now_v7().to_string(),
        community_name: "Rowan Rise".into(),
        email: format!("resident{i}@bench.example"),
        invited_by: Uuid::now_v7().to_string(),
        token: Uuid::new_v4().simple().to_string(),
        expires_at: Some(prost_types::Timestamp {
            seconds: i64::try_from(week).unwrap_or(i64::MAX),
            nanos: 0,
        }),
        resent: false,
    }
}

/// Publishes the invites as the community service would (envelope headers, keyed by
/// community).
async fn publish(kafka: &KafkaConfig, topic: &str, n: usize) -> anyhow::Result<()> {
    let producer: FutureProducer = kafka.producer_config().create()?;
    let sends = (0..n).map(|i| {
        let producer = &producer;
        async move {
            let event = invite(i);
            let env = events::Envelope::new("community", InviteCreated::TYPE);
            let payload = prost::Message::encode_to_vec(&event);
            producer
                .send(
                    FutureRecord::to(topic)
                        .key(event.community_id.as_bytes())
                        .payload(&payload)
                        .headers(platform::kafka::headers::to_kafka(&env)),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
        }
    });
    for result in futures::future::join_all(sends).await {
        result?;
    }
    Ok(())
}

/// Waits until `statement` (a count) reaches `n`; the time it took.
async fn until_count(
    pool: &platform::db::DbPool,
    statement: &str,
    n: usize,
    started: Instant,
) -> anyhow::Result<Duration> {
    let want = i64::try_from(n)?;
    let (mut last, mut moved) = (-1, Instant::now());
    loop {
        let mut conn = platform::db::conn(pool).await?;
        let have = diesel::sql_query(statement)
            .get_result::<Count>(&mut conn)
            .await?
            .n;
        if have >= want {
            return Ok(started.elapsed());
        }
        if have != last {
            (last, moved) = (have, Instant::now());
        }
        anyhow::ensure!(
            moved.elapsed() < STALL_LIMIT,
            "stuck at {have} of {n} for {} s ({statement})",
            STALL_LIMIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn measure(
    kafka: &KafkaConfig,
    db_url: &str,
    smtp_url: &str,
    topic: &str,
    n: usize,
    dispatchers: usize,
) -> anyhow::Result<()> {
    platform::db::run_migrations(&Secret::new(db_url.to_owned()), notification::MIGRATIONS).await?;
    let mut db = platform::db::DbConfig::for_url(db_url);
    // As many connections as a replica's consumer and dispatchers use at once.
    db.max_size = 4 + dispatchers;
    let pool = platform::db::build_pool(&db, "bench-notification")?;
    let templates = notification::templates::Templates::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../services/notification/templates"),
        "Neighbourly",
        "http://127.0.0.1:18080",
    )?;
    let quiet_sms = Arc::new(notification::channels::sms::LogSms { show_text: false });
    let quiet_push = Arc::new(notification::channels::push::LogPush { show_text: false });
    let state = State {
        pool: pool.clone(),
        outbox: Outbox::new("notification"),
        templates: Arc::new(templates),
        senders: Senders {
            email: Arc::new(notification::channels::email::Smtp::new(
                smtp_url,
                "Neighbourly <no-reply@bench.example>",
            )?),
            sms: quiet_sms,
            push: quiet_push,
        },
        app_url: "http://127.0.0.1:18080".into(),
        dispatch: notification::config::DispatchConfig::default(),
    };
    let stop = CancellationToken::new();

    let started = Instant::now();
    publish(kafka, topic, n).await?;
    let published = started.elapsed();
    println!(
        "published:           {:>10.0} events/s ({n} invites)",
        n as f64 / published.as_secs_f64()
    );

    let group = format!("bench-notification-{}", Uuid::now_v7().simple());
    let runner = ConsumerRunner::new(
        pool.clone(),
        kafka,
        ConsumerConfig::new(group, &[topic]),
        notification::consumer::Handler {
            state: state.clone(),
        },
    )?;
    let consumer = tokio::spawn(runner.run(stop.clone()));
    let started = Instant::now();
    let queued = until_count(
        &pool,
        "SELECT count(*) AS n FROM deliveries WHERE status = 'queued'",
        n,
        started,
    )
    .await?;
    println!(
        "consumed -> queued:  {:>10.0} events/s (backlog drained in {:.1} s, first poll and group join included)",
        n as f64 / queued.as_secs_f64(),
        queued.as_secs_f64()
    );

    let started = Instant::now();
    let loops: Vec<_> = (0..dispatchers)
        .map(|_| tokio::spawn(notification::deliveries::run(state.clone(), stop.clone())))
        .collect();
    let sent = until_count(
        &pool,
        "SELECT count(*) AS n FROM deliveries WHERE status = 'sent'",
        n,
        started,
    )
    .await?;
    println!(
        "dispatched -> sent:  {:>10.0} e-mails/s ({dispatchers} dispatcher(s), batches of {})",
        n as f64 / sent.as_secs_f64(),
        state.dispatch.batch
    );
    let mut conn = platform::db::conn(&pool).await?;
    let failed = diesel::sql_query(
        "SELECT count(*) AS n FROM deliveries WHERE status <> 'sent' OR attempts <> 1",
    )
    .get_result::<Count>(&mut conn)
    .await?
    .n;
    println!("not sent at the first attempt: {failed}");

    stop.cancel();
    consumer.await?;
    for l in loops {
        l.await?;
    }
    Ok(())
}

pub async fn run(
    kafka: &KafkaConfig,
    smtp_url: &str,
    n: usize,
    dispatchers: usize,
) -> anyhow::Result<()> {
    let run_id = Uuid::now_v7().simple().to_string();
    let topic = format!("bench.notification.{run_id}");
    platform::kafka::admin::ensure_topics(kafka, std::slice::from_ref(&topic), 3).await?;
    let db = ScratchDb::create("bench_notification", &run_id).await?;
    println!(
        "invites: {n}, SMTP: {smtp_url}, broker: {}",
        kafka.bootstrap_servers
    );
    let result = measure(kafka, &db.url, smtp_url, &topic, n, dispatchers).await;
    db.drop().await;
    result
}
