//! Rate limits: per IP without a token, per user with one, stricter on the auth class;
//! refusals are 429 envelopes with Retry-After and RateLimit headers.

use crate::common::{self, json};
use reqwest::StatusCode;

#[tokio::test]
async fn anonymous_clients_are_limited_per_ip_with_headers() {
    let gw = common::start(&[("GATEWAY_RATE_LIMIT_ANONYMOUS", "3/1m")]).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let resp = gw.get("/api/echo/public/x", None).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["ratelimit-limit"], "3");
        remaining.push(
            resp.headers()["ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = gw.get("/api/echo/public/x", None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "retry-after {retry}");
    assert_eq!(refused.headers()["ratelimit-remaining"], "0");
    let body = json(refused).await;
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn signed_in_users_have_their_own_budgets() {
    let gw = common::start(&[
        ("GATEWAY_RATE_LIMIT_ANONYMOUS", "2/1m"),
        ("GATEWAY_RATE_LIMIT_USER", "3/1m"),
    ])
    .await;
    let alice = gw.token(&common::claims(&[]));
    let bob = gw.token(&common::claims(&[]));
    for _ in 0..3 {
        assert_eq!(
            gw.get("/api/echo/private", Some(&alice)).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        gw.get("/api/echo/private", Some(&alice)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Bob shares Alice's IP but not her budget, and neither touched the anonymous one.
    assert_eq!(
        gw.get("/api/echo/private", Some(&bob)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        gw.get("/api/echo/public/x", None).await.status(),
        StatusCode::OK
    );
    // On a public route a signed-in caller still counts as themselves: Bob's next two
    // requests pass on his own budget (3) although the anonymous one (2) has one left.
    for _ in 0..2 {
        let resp = gw.get("/api/echo/public/x", Some(&bob)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["ratelimit-limit"], "3");
    }
}

#[tokio::test]
async fn auth_routes_are_stricter() {
    let gw = common::start(&[
        ("GATEWAY_RATE_LIMIT_ANONYMOUS", "100/1m"),
        ("GATEWAY_RATE_LIMIT_AUTH", "2/1m"),
    ])
    .await;
    for _ in 0..2 {
        let resp = gw
            .http
            .post(gw.url("/api/signin/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = gw
        .http
        .post(gw.url("/api/signin/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        gw.get("/api/echo/public/x", None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_flood_of_bad_tokens_meets_429() {
    let gw = common::start(&[("GATEWAY_RATE_LIMIT_ANONYMOUS", "2/1m")]).await;
    let statuses: Vec<StatusCode> = futures::future::join_all((0..4).map(|_| async {
        gw.get("/api/echo/private", Some("not-a-jwt"))
            .await
            .status()
    }))
    .await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        2
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        2
    );
}
