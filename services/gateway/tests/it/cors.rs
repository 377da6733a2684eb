//! CORS from configuration: listed origins get answers, others do not.

use crate::common;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn listed_origins_pass_preflight_and_see_exposed_headers() {
    let gw = common::start(&[("GATEWAY_CORS_ORIGINS", "https://app.example.com")]).await;
    let preflight = gw
        .http
        .request(Method::OPTIONS, gw.url("/api/echo/private"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    let resp = gw
        .http
        .get(gw.url("/api/echo/public/x"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
}

#[tokio::test]
async fn other_origins_get_no_cors_grant() {
    let gw = common::start(&[("GATEWAY_CORS_ORIGINS", "https://app.example.com")]).await;
    let preflight = gw
        .http
        .request(Method::OPTIONS, gw.url("/api/echo/private"))
        .header("origin", "https://evil.example.net")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
