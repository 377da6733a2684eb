//! The merged API docs and the aggregated readiness.

use crate::common::{self, json};
use reqwest::StatusCode;

#[tokio::test]
async fn the_merged_document_holds_every_answering_service() {
    let gw = common::start(&[]).await;
    let doc = json(gw.get("/api/docs/openapi.json", None).await).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"].get("/api/echo/things").is_some(), "{doc}");
    assert!(doc.pointer("/components/schemas/Thing").is_some());
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let gw = common::start(&[]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = http.get(gw.url("/api/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.headers()["location"], "/api/docs/");
    let page = gw.get("/api/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("swagger"));
    let init = gw
        .get("/api/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/docs/openapi.json"), "{init}");
}

#[tokio::test]
async fn readiness_aggregates_the_upstreams() {
    let healthy = common::start(&[]).await;
    let resp = healthy.get("/health/ready", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["data"]["checks"]["upstream:echo"], "up");
    assert_eq!(body["data"]["checks"]["redis"], "up");
    assert!(body["data"]["checks"].get("upstream:off").is_none());

    let degraded = common::start_with(&[], true).await;
    let resp = degraded.get("/health/ready", None).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(resp).await["data"]["checks"]["upstream:dead"], "down");
}
