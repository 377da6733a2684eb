//! What a client sees from the HTTP kit: envelopes for every kind of bad input, request
//! ids, generic 5xx bodies, metrics, and text PostgreSQL cannot store refused at the edge.

use actix_web::{HttpResponse, web};
use platform::http::health::Readiness;
use platform::http::server::{HttpConfig, Running, start};
use platform::http::{ApiError, ApiResult, ValidJson, envelope};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use validator::Validate;

#[derive(Debug, Deserialize, Validate)]
#[serde(rename_all = "camelCase")]
struct NewTool {
    #[validate(length(min = 3, max = 50))]
    display_name: String,
    #[validate(range(min = 1, max = 10))]
    quantity: u32,
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tools",
        web::post().to(|body: ValidJson<NewTool>| async move {
            let t = body.into_inner();
            ApiResult::Ok(envelope::created(
                json!({ "displayName": t.display_name, "quantity": t.quantity }),
            ))
        }),
    )
    .route(
        "/search",
        web::get().to(
            |q: web::Query<std::collections::BTreeMap<String, String>>| async move {
                ApiResult::Ok(envelope::ok(q.into_inner()))
            },
        ),
    )
    .route(
        "/items/{id}",
        web::get().to(|id: web::Path<String>| async move {
            ApiResult::Ok(envelope::ok(id.into_inner()))
        }),
    )
    .route(
        "/echo",
        web::post().to(|body: web::Json<Value>| async move {
            ApiResult::Ok(envelope::ok(body.into_inner()))
        }),
    )
    .service(
        // Like the gateway's proxy: a catch-all default service that reads the raw stream.
        web::scope("/proxy").default_service(web::to(|body: web::Bytes| async move {
            ApiResult::Ok(envelope::ok(body.len()))
        })),
    )
    .route(
        "/boom",
        web::get().to(|| async {
            ApiResult::<HttpResponse>::Err(ApiError::internal(anyhow::anyhow!(
                "password=hunter2 at db-7.internal"
            )))
        }),
    );
}

fn server(stop: &CancellationToken) -> (Running, reqwest::Client) {
    let mut cfg = HttpConfig::ephemeral();
    cfg.body_limit = 1024;
    (
        start(&cfg, Readiness::new(), routes, stop.clone()).unwrap(),
        reqwest::Client::new(),
    )
}

async fn call(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (
        status,
        res.json().await.expect("every answer is a JSON envelope"),
    )
}

#[tokio::test]
async fn bad_input_gets_an_envelope_with_the_right_status() {
    let stop = CancellationToken::new();
    let (srv, client) = server(&stop);
    let url = format!("http://{}/tools", srv.addr);

    let (s, b) = call(
        client
            .post(&url)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["success"]), (400, &json!(false)));
    assert!(b["message"].as_str().unwrap().contains("malformed JSON"));

    let (s, b) = call(
        client
            .post(&url)
            .header("content-type", "text/plain")
            .body("hi")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("application/json"));

    let (s, b) = call(
        client
            .post(&url)
            .json(&json!({ "displayName": "x".repeat(2000), "quantity": 1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["success"]), (413, &json!(false)));

    let (s, b) = call(
        client
            .post(&url)
            .json(&json!({ "displayName": "ab", "quantity": 99 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["displayName", "quantity"]);

    let (s, b) = call(
        client
            .post(&url)
            .json(&json!({ "quantity": 2 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        b["message"].as_str().unwrap().contains("displayName"),
        "{b}"
    );

    let (s, b) = call(
        client
            .get(format!("http://{}/nowhere", srv.addr))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, &b["success"], &b["data"]),
        (404, &json!(false), &Value::Null)
    );

    let (s, b) = call(
        client
            .post(&url)
            .json(&json!({ "displayName": "Drill", "quantity": 2 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        b,
        json!({ "success": true, "data": { "displayName": "Drill", "quantity": 2 }, "message": null })
    );
    stop.cancel();
}

#[tokio::test]
async fn server_errors_say_nothing_internal() {
    let stop = CancellationToken::new();
    let (srv, client) = server(&stop);
    let res = client
        .get(format!("http://{}/boom", srv.addr))
        .send()
        .await
        .unwrap();
    let (s, b) = call(res).await;
    assert_eq!(s, 500);
    assert_eq!(b["message"], "Internal Server Error");
    assert!(!b.to_string().contains("hunter2") && !b.to_string().contains("db-7"));
    stop.cancel();
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated_and_metrics_are_served() {
    let stop = CancellationToken::new();
    let (srv, client) = server(&stop);
    let live = format!("http://{}/health/live", srv.addr);
    let res = client
        .get(&live)
        .header("x-request-id", "client-abc-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-abc-1");
    let res = client
        .get(&live)
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(generated, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(&generated).is_ok());

    client
        .get(format!("http://{}/nowhere", srv.addr))
        .send()
        .await
        .unwrap();
    let metrics = client
        .get(format!("http://{}/metrics", srv.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("route=\"unmatched\""),
        "unmatched paths share one label: {metrics}"
    );
    stop.cancel();
}

fn fields(body: &Value) -> Vec<(&str, &str)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn text_postgres_cannot_store_is_refused_with_a_400_naming_the_field() {
    let stop = CancellationToken::new();
    let (srv, client) = server(&stop);
    let base = format!("http://{}", srv.addr);
    let nul = "must not contain a NUL character (U+0000)";

    // The query string of the schemathesis finding: `role` with a NUL.
    let (s, b) = call(
        client
            .get(format!("{base}/search?status=pending&role=ad%00min"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, &b["success"], &b["data"]),
        (400, &json!(false), &Value::Null)
    );
    assert_eq!(
        b["message"],
        "the request contains text that cannot be stored"
    );
    assert_eq!(fields(&b), vec![("role", nul)]);

    // Invalid UTF-8 once percent-decoded (serde_urlencoded would make it U+FFFD).
    let (s, b) = call(
        client
            .get(format!("{base}/search?q=%FF"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        fields(&b),
        vec![("q", "must be valid UTF-8 once percent-decoded")]
    );

    // A path segment, named after the route's parameter.
    let (s, b) = call(
        client
            .get(format!("{base}/items/a%00b"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(fields(&b), vec![("id", nul)]);

    // A JSON string deep in the body; text that only spells the escape is fine.
    let (s, b) = call(
        client
            .post(format!("{base}/echo"))
            .header("content-type", "application/json")
            .body(r#"{"a":{"b":[{"c":"ok"},{"c":"x\u0000y"}]},"note":"\\u0000 is text"}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(fields(&b), vec![("a.b[1].c", nul)]);

    // Clean input reaches the handler, the body intact after the guard read it.
    let sent = json!({ "a": { "b": ["caf\u{e9}", "\\u0000 is text"] }, "n": 1 });
    let (s, b) = call(
        client
            .post(format!("{base}/echo"))
            .json(&sent)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["data"]), (200, &sent));
    let (s, b) = call(
        client
            .get(format!("{base}/search?q=caf%C3%A9&role=admin"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, &b["data"]),
        (200, &json!({ "q": "caf\u{e9}", "role": "admin" }))
    );

    // A catch-all default service (a proxy's) gets the body as it came: not read, not judged.
    let raw = r#"{"x":"\u0000"}"#;
    let (s, b) = call(
        client
            .post(format!("{base}/proxy/anything"))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["data"]), (200, &json!(raw.len())));
    stop.cancel();
}
