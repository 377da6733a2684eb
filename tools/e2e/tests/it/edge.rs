//! What any client meets at the door: unknown routes, missing tokens, the docs.

use e2e::Client;
use reqwest::StatusCode;

#[tokio::test]
async fn unknown_routes_and_missing_tokens_get_envelopes() -> anyhow::Result<()> {
    let app = Client::new().await?;
    let unknown = app.get("/api/no-such-area/x").await?;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["success"], false);

    let anonymous = app.get("/api/users/me").await?;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body["message"], "authentication required");
    Ok(())
}

#[tokio::test]
async fn the_docs_merge_every_running_service() -> anyhow::Result<()> {
    let app = Client::new().await?;
    let doc = app.get("/api/docs/openapi.json").await?;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.contains_key("/api/auth/login"), "auth paths merged");
    assert!(paths.contains_key("/api/users/me"), "user paths merged");
    assert!(
        paths.contains_key("/api/communities/join"),
        "community paths merged"
    );
    assert!(
        paths.contains_key("/api/notifications/unread-count"),
        "notification paths merged"
    );
    let ui = app.get("/api/docs/").await?;
    assert_eq!(ui.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn the_gateway_reports_every_upstream_ready() -> anyhow::Result<()> {
    let app = Client::new().await?;
    let ready = app.get("/health/ready").await?;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let checks = &ready.body["data"]["checks"];
    assert_eq!(checks["upstream:auth"], "up");
    assert_eq!(checks["upstream:user"], "up");
    Ok(())
}
