//! What a client sees from the HTTP kit: envelopes for every kind of bad input, request
//! ids, generic 5xx bodies and metrics.

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
