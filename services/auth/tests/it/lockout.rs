//! Progressive account lockout, shared through Redis.

use crate::common::{self, PASSWORD};
use events::proto::auth::v1 as ev;
use reqwest::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn lockout_triggers_and_expires() {
    // Threshold 3, first lock 2 s (see common::config).
    let svc = common::start().await;
    let email = common::email("lock");
    svc.register(&email).await;
    for _ in 0..3 {
        let r = svc.login(&email, "not the password at all", "d").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with a Retry-After.
    let r = svc.login(&email, PASSWORD, "d").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    let locked: ev::AccountLocked = svc
        .last_event(events::types::AUTH_USER_LOCKED)
        .await
        .expect("locked event");
    assert_eq!(locked.failed_attempts, 3);
    let failures: Vec<ev::LoginFailed> = svc.events(events::types::AUTH_SESSION_LOGIN_FAILED).await;
    assert_eq!(failures.len(), 3);

    // A second service instance (another replica) sees the same lock.
    let replica = auth::limits::Limits::new(
        svc.state.redis.clone(),
        &common::redis_url(),
        common::config().lockout,
        1000,
    )
    .unwrap();
    let user_id = locked.user_id;
    assert!(replica.check_lock(&format!("u:{user_id}")).await.is_err());

    tokio::time::sleep(Duration::from_millis(2300)).await;
    let r = svc.login(&email, PASSWORD, "d").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "lock should have expired: {:?}",
        r.body
    );
}

#[tokio::test]
async fn further_failures_lock_longer() {
    let mut policy = common::config().lockout;
    policy.threshold = 2;
    let client = redis::Client::open(common::redis_url()).unwrap();
    let conn = redis::aio::ConnectionManager::new(client).await.unwrap();
    let limits = auth::limits::Limits::new(conn, &common::redis_url(), policy, 1000).unwrap();
    let subject = test_support::unique("subject");
    assert!(limits.record_failure(&subject).await.unwrap().is_none());
    let first = limits.record_failure(&subject).await.unwrap().unwrap();
    assert!(limits.record_failure(&subject).await.unwrap().is_none());
    let second = limits.record_failure(&subject).await.unwrap().unwrap();
    assert_eq!(first.duration, Duration::from_secs(2));
    assert_eq!(second.duration, Duration::from_secs(8));
    limits.clear_failures(&subject).await.unwrap();
    assert!(limits.check_lock(&subject).await.is_ok());
}

#[tokio::test]
async fn client_ips_are_rate_limited() {
    let mut config = common::config();
    config.ip_limit_per_minute = 3;
    // Keep the account lockout out of the way: this is about the IP budget alone.
    config.lockout.threshold = 100;
    let svc = common::start_with(config).await;
    let email = common::email("iplimit");
    let mut b = [0u8; 3];
    getrandom::fill(&mut b).unwrap();
    let ip = format!("10.{}.{}.{}", b[0], b[1], b[2]);
    let attempt = |ip: String| {
        let req = svc
            .http
            .post(format!("{}/api/auth/login", svc.base))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "identifier": email, "password": PASSWORD }));
        async move { req.send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(attempt(ip.clone()).await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt(ip.clone()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Another client is not affected.
    let other = format!("10.{}.{}.{}", b[2], b[1], b[0].wrapping_add(1));
    assert_eq!(attempt(other).await.status(), StatusCode::UNAUTHORIZED);
}
