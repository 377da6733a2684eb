//! Readiness follows the database; the relay rides out a database outage; an exhausted
//! pool answers 503 instead of hanging or failing with a 500.

use crate::common::*;
use actix_web::{HttpResponse, web};
use diesel_async::SimpleAsyncConnection;
use platform::config::Secret;
use platform::db::DbConfig;
use platform::http::health::{DatabaseCheck, Readiness};
use platform::http::server::{HttpConfig, start};
use platform::http::{ApiError, ApiResult};
use platform::kafka::BrokerCheck;
use platform::kafka::outbox::Outbox;
use platform::kafka::relay::RelayConfig;
use std::time::Duration;
use test_support::PgProcess;
use tokio_util::sync::CancellationToken;

async fn status(client: &reqwest::Client, url: &str) -> u16 {
    client
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// `GET /db` runs one query through the pool.
fn db_route(
    pool: platform::db::DbPool,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(pool.clone())).route(
            "/db",
            web::get().to(|pool: web::Data<platform::db::DbPool>| async move {
                let mut conn = platform::db::conn(&pool).await?;
                conn.batch_execute("SELECT 1")
                    .await
                    .map_err(platform::db::DbError::from)?;
                ApiResult::Ok(HttpResponse::Ok().finish())
            }),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_and_the_relay_resumes() {
    test_support::init_logs();
    let pg = PgProcess::start_new().expect("private PostgreSQL");
    let url = pg.url("postgres");
    platform::db::run_migrations(
        &Secret::new(url.clone()),
        platform::db::NO_SERVICE_MIGRATIONS,
    )
    .await
    .unwrap();
    let mut cfg = DbConfig::for_url(&url);
    cfg.wait_timeout = Duration::from_millis(500);
    cfg.connect_timeout = Duration::from_millis(500);
    let pool = platform::db::build_pool(&cfg, "it-health").unwrap();
    let kafka = kafka();
    let topic = topic(&kafka, "health").await;

    let stop = CancellationToken::new();
    let readiness = Readiness::new()
        .with(DatabaseCheck(pool.clone()))
        .with(BrokerCheck::new(&kafka).unwrap());
    let server = start(
        &HttpConfig::ephemeral(),
        readiness,
        db_route(pool.clone()),
        stop.clone(),
    )
    .unwrap();
    let db_url = format!("http://{}/db", server.addr);
    let ready = format!("http://{}/health/ready", server.addr);
    let live = format!("http://{}/health/live", server.addr);
    let client = reqwest::Client::new();
    let relay_cfg = RelayConfig {
        max_backoff: Duration::from_secs(1),
        ..RelayConfig::default()
    };
    spawn_relay(&pool, &kafka, relay_cfg, &stop);

    let outbox = Outbox::new("it");
    let add = |n: i64| {
        let (pool, topic) = (pool.clone(), topic.clone());
        async move {
            let mut conn = pool.get().await.unwrap();
            let records: Vec<_> = (0..n).map(|i| probe(&topic, "s", i)).collect();
            outbox.add_records(&mut conn, &records, None).await.unwrap();
        }
    };
    assert_eq!(status(&client, &ready).await, 200);
    add(10).await;
    eventually(
        Duration::from_secs(30),
        "the first events to be published",
        || async { unpublished(&pool).await == 0 },
    )
    .await;

    pg.stop().unwrap();
    eventually(
        Duration::from_secs(15),
        "readiness to report 503",
        || async { status(&client, &ready).await == 503 },
    )
    .await;
    let body = get_json(&client, &ready).await;
    assert_eq!(body["success"], false);
    assert_eq!(body["data"]["checks"]["database"], "down");
    assert_eq!(body["data"]["checks"]["broker"], "up");
    assert_eq!(
        status(&client, &live).await,
        200,
        "liveness must not follow dependencies"
    );
    let res = client.get(&db_url).send().await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        503,
        "a dead database is a 503, not a 500"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["message"], "Service Unavailable");
    // The relay keeps failing while the database is away.
    tokio::time::sleep(Duration::from_secs(2)).await;

    pg.start().unwrap();
    eventually(Duration::from_secs(30), "readiness to recover", || async {
        status(&client, &ready).await == 200
    })
    .await;
    add(10).await;
    eventually(
        Duration::from_secs(30),
        "the relay to publish after the outage",
        || async { unpublished(&pool).await == 0 },
    )
    .await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_answers_503_with_retry_after() {
    let db = db().await;
    let mut cfg = DbConfig::for_url(&db.url);
    cfg.max_size = 1;
    cfg.wait_timeout = Duration::from_millis(200);
    let pool = platform::db::build_pool(&cfg, "it-exhaust").unwrap();

    let stop = CancellationToken::new();
    let routes_pool = pool.clone();
    let server = start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg: &mut web::ServiceConfig| {
            let pool = routes_pool.clone();
            cfg.app_data(web::Data::new(pool)).route(
                "/sleep",
                web::get().to(|pool: web::Data<platform::db::DbPool>| async move {
                    let mut conn = platform::db::conn(&pool).await?;
                    conn.batch_execute("SELECT pg_sleep(2)")
                        .await
                        .map_err(ApiError::internal)?;
                    ApiResult::Ok(HttpResponse::Ok().finish())
                }),
            );
        },
        stop.clone(),
    )
    .unwrap();
    let url = format!("http://{}/sleep", server.addr);
    let client = reqwest::Client::new();
    let holder = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { client.get(&url).send().await.unwrap().status().as_u16() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["message"], "Service Unavailable");
    assert_eq!(holder.await.unwrap(), 200);
    stop.cancel();
}
