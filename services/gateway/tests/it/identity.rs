//! The edge check: protected routes need a valid, unrevoked token; the verified identity
//! is forwarded and whatever identity or address headers the client sent are replaced.

use crate::common::{self, json};
use reqwest::StatusCode;

#[tokio::test]
async fn protected_routes_refuse_missing_forged_and_expired_tokens() {
    let gw = common::start(&[]).await;
    let missing = gw.get("/api/echo/private", None).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(missing).await["message"], "authentication required");

    let impostor = test_support::tokens::Ed25519Key::new("gw-test");
    let forged = impostor.sign(&common::claims(&["admin"])).unwrap();
    let resp = gw.get("/api/echo/private", Some(&forged)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let mut old = common::claims(&[]);
    old.exp = chrono::Utc::now().timestamp() - 3600;
    old.iat = old.exp - 900;
    let resp = gw.get("/api/echo/private", Some(&gw.token(&old))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_verified_identity_replaces_spoofed_headers() {
    let gw = common::start(&[]).await;
    let claims = common::claims(&["resident", "community_manager"]);
    let resp = gw
        .http
        .get(gw.url("/api/echo/private"))
        .bearer_auth(gw.token(&claims))
        .header("x-user-id", "00000000-0000-0000-0000-000000000000")
        .header("x-user-roles", "super_admin")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-real-ip", "6.6.6.6")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let seen = json(resp).await;
    let headers = &seen["headers"];
    assert_eq!(headers["x-user-id"], claims.sub.to_string());
    assert_eq!(headers["x-session-id"], claims.sid.to_string());
    assert_eq!(headers["x-user-roles"], "resident,community_manager");
    // Without trusted proxies the TCP peer is the client, whatever the header says.
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert!(headers.get("x-real-ip").is_none());
    // The token still reaches the service, which verifies it again.
    assert!(
        headers["authorization"]
            .as_str()
            .unwrap()
            .starts_with("Bearer ")
    );
}

#[tokio::test]
async fn public_routes_carry_no_identity_even_if_the_client_claims_one() {
    let gw = common::start(&[]).await;
    let seen = json(
        gw.http
            .get(gw.url("/api/echo/public/x"))
            .header("x-user-id", "someone")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(seen["headers"].get("x-user-id").is_none());
}

#[tokio::test]
async fn an_untrusted_client_cannot_claim_https_or_another_host() {
    let gw = common::start(&[]).await;
    let seen = json(
        gw.http
            .get(gw.url("/api/echo/public/x"))
            .header("x-forwarded-proto", "https")
            .header("forwarded", "proto=https;for=6.6.6.6")
            .header("x-forwarded-host", "evil.example.net")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["headers"]["x-forwarded-proto"], "http");
    assert_ne!(seen["headers"]["x-forwarded-host"], "evil.example.net");
    assert!(seen["headers"].get("forwarded").is_none());
}

#[tokio::test]
async fn a_trusted_proxy_may_name_the_client() {
    let gw = common::start(&[("TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let seen = json(
        gw.http
            .get(gw.url("/api/echo/public/x"))
            .header("x-forwarded-for", "203.0.113.9")
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["headers"]["x-forwarded-for"], "203.0.113.9");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "https");
}

#[tokio::test]
async fn a_revoked_session_is_refused_at_the_edge() {
    let gw = common::start(&[]).await;
    let claims = common::claims(&[]);
    let token = gw.token(&claims);
    assert_eq!(
        gw.get("/api/echo/private", Some(&token)).await.status(),
        StatusCode::OK
    );

    let client = redis::Client::open(test_support::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = platform::auth::revoked_session_key(&claims.sid);
    let _: () = redis::AsyncCommands::set_ex(&mut conn, &key, 1, 60)
        .await
        .unwrap();

    let resp = gw.get("/api/echo/private", Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(resp).await["message"], "session has been revoked");
}
