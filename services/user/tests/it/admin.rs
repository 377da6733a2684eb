//! Admin search and lifecycle decisions, with permission guards and the suspension sweep.

use crate::common;
use events::proto::user::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn admins_search_suspend_ban_and_reinstate() {
    let svc = common::start().await;
    let (target, target_token) = common::with_profile(&svc).await;
    let admin = svc.token(Uuid::now_v7(), &["users.read", "users.manage"]);
    let reader = svc.token(Uuid::now_v7(), &["users.read"]);

    // Guards: a plain user cannot search, a reader cannot suspend.
    assert_eq!(
        svc.get("/admin", &target_token).await.status,
        StatusCode::FORBIDDEN
    );
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/suspend"),
            Some(json!({ "reason": "spam" })),
            &reader,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = svc
        .get(
            &format!("/admin?q={}&pageSize=5", &target.simple().to_string()[..12]),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["totalCount"], 1);
    assert_eq!(r.data()["items"][0]["userId"], target.to_string());
    assert_eq!(
        svc.get("/admin?status=weird", &admin).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = svc
        .get(
            "/admin?status=pending&role=resident&page=1&pageSize=100",
            &admin,
        )
        .await;
    assert!(r.data()["totalCount"].as_u64().unwrap() >= 1);

    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/suspend"),
            Some(json!({ "reason": "spam" })),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "suspended");
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/ban"),
            Some(json!({ "reason": "more spam" })),
            &admin,
        )
        .await;
    assert_eq!(r.data()["status"], "banned");
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/suspend"),
            Some(json!({ "reason": "x" })),
            &admin,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "banned cannot become suspended"
    );
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/reinstate"),
            None,
            &admin,
        )
        .await;
    // Back to where the suspension found it: an unverified account stays pending.
    assert_eq!(r.data()["status"], "pending");
    let myself = svc.token(target, &["users.manage"]);
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/ban"),
            Some(json!({ "reason": "oops" })),
            &myself,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no self-bans");
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/reinstate"),
            None,
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{}/ban", Uuid::now_v7()),
            Some(json!({ "reason": "x" })),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    assert_eq!(
        svc.events::<ev::UserSuspended>(events::types::USER_SUSPENDED)
            .await
            .len(),
        1
    );
    assert_eq!(
        svc.events::<ev::UserBanned>(events::types::USER_BANNED)
            .await
            .len(),
        1
    );
    assert_eq!(
        svc.events::<ev::UserReinstated>(events::types::USER_REINSTATED)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_suspension_with_an_end_lifts_itself() {
    let svc = common::start().await;
    let (target, _) = common::with_profile(&svc).await;
    let admin = svc.token(Uuid::now_v7(), &["users.manage"]);
    let until = chrono::Utc::now() + chrono::Duration::seconds(1);
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/suspend"),
            Some(json!({ "reason": "cool off", "until": until })),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let r = svc
        .call(
            Method::POST,
            &format!("/admin/{target}/suspend"),
            Some(json!({ "reason": "x", "until": past })),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        user::lifecycle::lift_expired(&svc.state).await.unwrap(),
        0,
        "not due yet"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // Two replicas sweeping at once lift it once.
    let (a, b) = tokio::join!(
        user::lifecycle::lift_expired(&svc.state),
        user::lifecycle::lift_expired(&svc.state)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let reinstated: Vec<ev::UserReinstated> = svc.events(events::types::USER_REINSTATED).await;
    assert_eq!(reinstated.len(), 1);
    assert_eq!(reinstated[0].user_id, target.to_string());
}
