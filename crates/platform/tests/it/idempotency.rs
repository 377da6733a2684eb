//! Idempotency keys as a client sees them: replays, reuse with another request, a retry
//! racing the first request, answers that are not stored, released keys, scopes, and ten
//! concurrent retries that run the effect once. The effect is a row in `widgets`, so a
//! second run would show.

use actix_web::test::TestRequest;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use platform::db::{DbError, DbPool};
use platform::http::health::Readiness;
use platform::http::idempotency::{Idempotency, Scope, purge_expired};
use platform::http::server::{HttpConfig, Running, start};
use platform::http::{ApiError, ApiResult, ValidJson, envelope};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use test_support::TestDb;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use validator::Validate;

#[derive(Deserialize, Validate)]
struct NewWidget {
    #[validate(length(min = 1, max = 40))]
    name: String,
}

struct Fixture {
    pool: DbPool,
    policy: Idempotency,
    /// Signalled by `/slow` once it runs; `/slow` then waits for `proceed`.
    entered: Notify,
    proceed: Notify,
    /// `/flaky` answers 500 once while set.
    fail_next: AtomicBool,
}

/// The caller, as a header: these tests need scopes, not tokens.
fn scope(req: &HttpRequest) -> Scope {
    let user = req
        .headers()
        .get("x-test-user")
        .and_then(|v| v.to_str().ok());
    Scope::named(format!("test:{}", user.unwrap_or("anonymous")))
}

/// The effect: a widget with a fresh id, so a replay (same id) and a rerun (new id) differ.
async fn insert_widget(pool: &DbPool, body: &[u8]) -> ApiResult<HttpResponse> {
    let input = ValidJson::<NewWidget>::from_bytes(body)?.into_inner();
    let id = Uuid::now_v7();
    let mut conn = platform::db::conn(pool).await?;
    diesel::sql_query("INSERT INTO widgets (id, name) VALUES ($1, $2)")
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<Text, _>(&input.name)
        .execute(&mut conn)
        .await
        .map_err(DbError::from)?;
    Ok(envelope::created(json!({ "id": id, "name": input.name })))
}

async fn plain(req: HttpRequest, body: web::Bytes, fx: web::Data<Fixture>) -> ApiResult {
    fx.policy
        .run(&fx.pool, scope(&req), &req, &body, || {
            insert_widget(&fx.pool, &body)
        })
        .await
}

async fn slow(req: HttpRequest, body: web::Bytes, fx: web::Data<Fixture>) -> ApiResult {
    fx.policy
        .run(&fx.pool, scope(&req), &req, &body, || async {
            fx.entered.notify_one();
            fx.proceed.notified().await;
            insert_widget(&fx.pool, &body).await
        })
        .await
}

async fn sleepy(req: HttpRequest, body: web::Bytes, fx: web::Data<Fixture>) -> ApiResult {
    fx.policy
        .run(&fx.pool, scope(&req), &req, &body, || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            insert_widget(&fx.pool, &body).await
        })
        .await
}

async fn flaky(req: HttpRequest, body: web::Bytes, fx: web::Data<Fixture>) -> ApiResult {
    fx.policy
        .run(&fx.pool, scope(&req), &req, &body, || async {
            if fx.fail_next.swap(false, Ordering::SeqCst) {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "the provider timed out"
                )));
            }
            insert_widget(&fx.pool, &body).await
        })
        .await
}

/// A refusal on a business rule: an outcome, so it is stored and replayed.
async fn refuse(req: HttpRequest, body: web::Bytes, fx: web::Data<Fixture>) -> ApiResult {
    fx.policy
        .run(&fx.pool, scope(&req), &req, &body, || async {
            Err(ApiError::unprocessable("the tool is not available then")
                .with_code("not_available"))
        })
        .await
}

struct Server {
    _db: TestDb,
    fx: web::Data<Fixture>,
    srv: Running,
    client: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn server(policy: Idempotency) -> Server {
    let db = crate::common::db().await;
    let fx = web::Data::new(Fixture {
        pool: crate::common::pool(&db),
        policy,
        entered: Notify::new(),
        proceed: Notify::new(),
        fail_next: AtomicBool::new(false),
    });
    let data = fx.clone();
    let routes = move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(data.clone())
            .route("/widgets", web::post().to(plain))
            .route("/slow", web::post().to(slow))
            .route("/sleepy", web::post().to(sleepy))
            .route("/flaky", web::post().to(flaky))
            .route("/refuse", web::post().to(refuse));
    };
    let stop = CancellationToken::new();
    let srv = start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        routes,
        stop.clone(),
    )
    .unwrap();
    Server {
        _db: db,
        fx,
        srv,
        client: reqwest::Client::new(),
        stop,
    }
}

/// One answer: status, whether it was a replay, content type, body bytes and JSON.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    replayed: bool,
    content_type: String,
    bytes: Vec<u8>,
    json: Value,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.srv.addr)
    }

    async fn post(&self, path: &str, user: &str, key: &str, body: &Value) -> Answer {
        let res = self
            .client
            .post(self.url(path))
            .header("idempotency-key", key)
            .header("x-test-user", user)
            .json(body)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    async fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.fx.pool.get().await.unwrap();
        diesel::sql_query(sql)
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    }

    async fn widgets(&self) -> i64 {
        self.count("SELECT count(*) AS n FROM widgets").await
    }

    async fn keys(&self) -> i64 {
        self.count("SELECT count(*) AS n FROM idempotency_keys")
            .await
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    let content_type = header("content-type").unwrap_or_default();
    let bytes = res.bytes().await.unwrap().to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        replayed,
        content_type,
        bytes,
        json,
    }
}

fn key() -> String {
    Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_replayed() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let first = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!((first.status, first.replayed), (201, false), "{first:?}");

    let again = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!((again.status, again.replayed), (201, true));
    assert_eq!(
        again.bytes, first.bytes,
        "the body is replayed byte for byte"
    );
    assert_eq!(again.content_type, first.content_type);
    assert_eq!(s.widgets().await, 1);

    // Another key is another operation.
    let other = s
        .post("/widgets", "ann", &key(), &json!({"name": "drill"}))
        .await;
    assert_eq!((other.status, other.replayed), (201, false));
    assert_ne!(other.json["data"]["id"], first.json["data"]["id"]);
    assert_eq!(s.widgets().await, 2);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let first = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!(first.status, 201);

    let other = s.post("/widgets", "ann", &k, &json!({"name": "saw"})).await;
    assert_eq!(other.status, 422, "{other:?}");
    assert_eq!(other.json["code"], "idempotency_key_reused");
    assert_eq!(other.json["success"], false);
    assert!(!other.replayed);
    assert_eq!(s.widgets().await, 1);
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_a_conflict() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let first = {
        let (client, url, k) = (s.client.clone(), s.url("/slow"), k.clone());
        tokio::spawn(async move {
            let res = client
                .post(url)
                .header("idempotency-key", k)
                .header("x-test-user", "ann")
                .json(&json!({"name": "drill"}))
                .send()
                .await
                .unwrap();
            answer(res).await
        })
    };
    s.fx.entered.notified().await;

    let racing = s.post("/slow", "ann", &k, &json!({"name": "drill"})).await;
    assert_eq!(racing.status, 409, "{racing:?}");
    assert_eq!(racing.json["code"], "idempotency_key_in_progress");

    s.fx.proceed.notify_one();
    let first = first.await.unwrap();
    assert_eq!((first.status, first.replayed), (201, false));
    let later = s.post("/slow", "ann", &k, &json!({"name": "drill"})).await;
    assert_eq!((later.status, later.replayed), (201, true));
    assert_eq!(later.bytes, first.bytes);
    assert_eq!(s.widgets().await, 1);
}

#[tokio::test]
async fn refusals_the_client_can_fix_are_not_stored() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let invalid = s.post("/widgets", "ann", &k, &json!({"name": ""})).await;
    assert_eq!(invalid.status, 400, "{invalid:?}");
    assert_eq!(invalid.json["errors"][0]["field"], "name");
    assert_eq!(s.keys().await, 0, "nothing stored for a validation failure");

    // Fixed and retried with the same key: it runs.
    let fixed = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!((fixed.status, fixed.replayed), (201, false), "{fixed:?}");
    assert_eq!(s.widgets().await, 1);

    // A business-rule refusal is an outcome: stored and replayed.
    let refused = s.post("/refuse", "ann", &k, &json!({})).await;
    assert_eq!((refused.status, refused.replayed), (422, false));
    let again = s.post("/refuse", "ann", &k, &json!({})).await;
    assert_eq!((again.status, again.replayed), (422, true));
    assert_eq!(again.json["code"], "not_available");
    assert_eq!(again.bytes, refused.bytes);
}

#[tokio::test]
async fn missing_and_malformed_keys_are_bad_requests() {
    let s = server(Idempotency::new()).await;
    let res = s
        .client
        .post(s.url("/widgets"))
        .json(&json!({"name": "drill"}))
        .send()
        .await
        .unwrap();
    let missing = answer(res).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json["code"], "idempotency_key_missing");

    let long = s
        .post(
            "/widgets",
            "ann",
            &"k".repeat(256),
            &json!({"name": "drill"}),
        )
        .await;
    assert_eq!(long.status, 400);
    assert_eq!(long.json["code"], "idempotency_key_invalid");
    assert_eq!(s.widgets().await, 0);
    assert_eq!(s.keys().await, 0);
}

#[tokio::test]
async fn a_server_error_releases_the_key() {
    let s = server(Idempotency::new()).await;
    s.fx.fail_next.store(true, Ordering::SeqCst);
    let k = key();
    let failed = s.post("/flaky", "ann", &k, &json!({"name": "drill"})).await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.json["message"], "Internal Server Error");
    assert_eq!(s.keys().await, 0, "a 5xx is not stored");

    let retried = s.post("/flaky", "ann", &k, &json!({"name": "drill"})).await;
    assert_eq!((retried.status, retried.replayed), (201, false));
    let replayed = s.post("/flaky", "ann", &k, &json!({"name": "drill"})).await;
    assert_eq!((replayed.status, replayed.replayed), (201, true));
    assert_eq!(s.widgets().await, 1);
}

#[tokio::test]
async fn a_dropped_request_releases_the_key() {
    let db = crate::common::db().await;
    let pool = crate::common::pool(&db);
    let keys = || async {
        let mut conn = pool.get().await.unwrap();
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT count(*) AS n FROM idempotency_keys")
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    };
    let req = TestRequest::post()
        .uri("/widgets")
        .insert_header(("idempotency-key", "dropped-1"))
        .to_http_request();
    let policy = Idempotency::new();
    let scope = || Scope::named("test:ann");

    // The handler never finishes; its future is dropped (a server stopping, a cancelled
    // connection) while it holds the key.
    // Boxed, so that dropping it really drops the future (a pinned local would live on).
    let mut never = Box::pin(policy.run(
        &pool,
        scope(),
        &req,
        b"{}",
        std::future::pending::<ApiResult>,
    ));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut never)
            .await
            .is_err()
    );
    assert_eq!(keys().await, 1, "the key is claimed while the handler runs");
    drop(never);
    crate::common::eventually(Duration::from_secs(5), "the key to be released", || async {
        keys().await == 0
    })
    .await;

    let ran = policy
        .run(&pool, scope(), &req, b"{}", || async {
            Ok(HttpResponse::Created().body("made"))
        })
        .await
        .unwrap();
    assert_eq!(ran.status(), 201);
    assert!(!ran.headers().contains_key("idempotent-replayed"));
}

/// With actix-http's default (half-closed connections allowed) a client that hangs up does
/// not cancel the handler, which finishes and stores its answer; were the handler cancelled,
/// the key would be released instead. Either way a client that retries gets one effect.
#[tokio::test]
async fn a_client_that_gives_up_and_retries_causes_one_effect() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(s.url("/slow"))
        .header("idempotency-key", &k)
        .header("x-test-user", "ann")
        .json(&json!({"name": "drill"}))
        .send()
        .await;
    assert!(gave_up.is_err());
    s.fx.proceed.notify_one();

    let mut retried = s.post("/slow", "ann", &k, &json!({"name": "drill"})).await;
    for _ in 0..50 {
        if retried.status != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        retried = s.post("/slow", "ann", &k, &json!({"name": "drill"})).await;
    }
    assert_eq!(retried.status, 201, "{retried:?}");
    assert_eq!(s.widgets().await, 1);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let ann = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    let bob = s
        .post("/widgets", "bob", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!((ann.status, ann.replayed), (201, false));
    assert_eq!((bob.status, bob.replayed), (201, false));
    assert_ne!(ann.json["data"]["id"], bob.json["data"]["id"]);
    assert_eq!(s.widgets().await, 2);

    let ann_again = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert!(ann_again.replayed);
    assert_eq!(ann_again.bytes, ann.bytes);
    // The same key on another route is another key too.
    let elsewhere = s.post("/flaky", "ann", &k, &json!({"name": "drill"})).await;
    assert_eq!((elsewhere.status, elsewhere.replayed), (201, false));
}

#[tokio::test]
async fn ten_concurrent_retries_run_the_effect_once() {
    let s = server(Idempotency::new()).await;
    let k = key();
    let body = json!({"name": "drill"});
    let answers =
        futures::future::join_all((0..10).map(|_| s.post("/sleepy", "ann", &k, &body))).await;

    let ran: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 201 && !a.replayed)
        .collect();
    assert_eq!(ran.len(), 1, "{answers:#?}");
    for a in &answers {
        let ok = a.status == 409 || (a.status == 201 && a.bytes == ran[0].bytes);
        assert!(ok, "{a:?}");
    }
    assert_eq!(s.widgets().await, 1);
}

#[tokio::test]
async fn expired_answers_and_abandoned_claims_free_their_keys() {
    // A zero replay window: every answer expires as it is stored.
    let s = server(Idempotency::new().with_ttl(Duration::ZERO)).await;
    let k = key();
    let first = s
        .post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!(first.status, 201);
    let after = s.post("/widgets", "ann", &k, &json!({"name": "saw"})).await;
    assert_eq!((after.status, after.replayed), (201, false), "{after:?}");
    assert_eq!(s.widgets().await, 2);

    // A claim left behind by a crashed process, its lease run out.
    let mut conn = s.fx.pool.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO idempotency_keys (scope, route, key, claim_id, fingerprint, expires_at) \
         VALUES ('test:ann', 'POST /widgets', 'crashed', gen_random_uuid(), '\\x00', now() - interval '1 second')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let taken = s
        .post("/widgets", "ann", "crashed", &json!({"name": "drill"}))
        .await;
    assert_eq!((taken.status, taken.replayed), (201, false), "{taken:?}");

    assert_eq!(purge_expired(&s.fx.pool).await.unwrap(), 2);
    assert_eq!(s.keys().await, 0);
    assert_eq!(purge_expired(&s.fx.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn answers_are_kept_for_the_replay_window() {
    let s = server(Idempotency::new()).await;
    let k = key();
    s.post("/widgets", "ann", &k, &json!({"name": "drill"}))
        .await;
    assert_eq!(purge_expired(&s.fx.pool).await.unwrap(), 0);
    let window = s
        .count(
            "SELECT extract(epoch FROM expires_at - created_at)::bigint AS n FROM idempotency_keys",
        )
        .await;
    assert!(
        (24 * 3600 - 60..=24 * 3600 + 60).contains(&window),
        "{window}"
    );
}
