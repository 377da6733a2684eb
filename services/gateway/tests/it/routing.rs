//! Routing: the owning upstream gets the path and query; unknown, unsafe, disabled, dead
//! and slow routes get envelopes with the right status.

use crate::common::{self, json};
use reqwest::StatusCode;

#[tokio::test]
async fn public_route_reaches_the_upstream_with_path_query_and_request_id() {
    let gw = common::start(&[]).await;
    let resp = gw
        .http
        .get(gw.url("/api/echo/public/things?page=2&q=drill"))
        .header("x-request-id", "client-chosen-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-request-id"], "client-chosen-id-1");
    let seen = json(resp).await;
    assert_eq!(seen["path"], "/api/echo/public/things");
    assert_eq!(seen["query"], "page=2&q=drill");
    assert_eq!(seen["headers"]["x-request-id"], "client-chosen-id-1");
}

#[tokio::test]
async fn a_request_id_is_generated_when_the_client_sends_none() {
    let gw = common::start(&[]).await;
    let resp = gw.get("/api/echo/public/x", None).await;
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    assert_eq!(json(resp).await["headers"]["x-request-id"], id.as_str());
}

#[tokio::test]
async fn unknown_routes_get_a_404_envelope() {
    let gw = common::start(&[]).await;
    for path in ["/api/nothing-here", "/api/echoes", "/"] {
        let resp = gw.get(path, None).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let body = json(resp).await;
        assert_eq!(body["success"], false);
        assert_eq!(body["message"], "route not found");
    }
}

#[tokio::test]
async fn ambiguous_paths_are_refused_before_routing() {
    let gw = common::start(&[]).await;
    // An HTTP client resolves `..` itself; an encoded slash survives to the gateway.
    let resp = gw.get("/api/echo/public/a%2F..%2Fprivate", None).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["success"], false);
}

#[tokio::test]
async fn a_down_upstream_is_a_502_and_a_slow_one_a_504() {
    let gw = common::start_with(&[], true).await;
    let token = gw.token(&common::claims(&["resident"]));
    let down = gw.get("/api/dead/anything", Some(&token)).await;
    assert_eq!(down.status(), StatusCode::BAD_GATEWAY);
    let body = json(down).await;
    assert_eq!(body["success"], false);
    assert!(body["message"].as_str().unwrap().contains("unavailable"));

    let slow = gw.get("/api/echo/slow", Some(&token)).await;
    assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(json(slow).await["success"], false);
}

#[tokio::test]
async fn a_disabled_upstream_is_a_503() {
    let gw = common::start(&[]).await;
    let token = gw.token(&common::claims(&[]));
    let resp = gw.get("/api/off/x", Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json(resp).await["message"],
        "this part of the platform is not available"
    );
}
