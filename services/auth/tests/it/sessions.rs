//! Sessions and devices as their owner manages them.

use crate::common::{self, PASSWORD, tokens};
use events::proto::auth::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_by_one() {
    let svc = common::start().await;
    let email = common::email("sess");
    let (a1, _, s1) = svc.signed_in(&email).await;
    let (a2, r2, s2) = tokens(&svc.login(&email, PASSWORD, "laptop").await);

    let list = svc.get_auth("/sessions", &a1).await;
    let items = list.data().as_array().unwrap();
    assert_eq!(items.len(), 2);
    let current: Vec<_> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], s1);

    // Another user's session id is a 404, and nothing happens to it.
    let (stranger, _, _) = svc.signed_in(&common::email("stranger")).await;
    let r = svc
        .call(
            Method::DELETE,
            &format!("/sessions/{s2}"),
            None,
            Some(&stranger),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(svc.get_auth("/me", &a2).await.status, StatusCode::OK);

    let r = svc
        .call(Method::DELETE, &format!("/sessions/{s2}"), None, Some(&a1))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        svc.get_auth("/me", &a2).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.post("/refresh", json!({ "refreshToken": r2 }))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = svc
        .call(Method::DELETE, &format!("/sessions/{s2}"), None, Some(&a1))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "already revoked");
}

#[tokio::test]
async fn revoke_others_and_logout_all() {
    let svc = common::start().await;
    let email = common::email("others");
    let (a1, _, _) = svc.signed_in(&email).await;
    let (a2, _, _) = tokens(&svc.login(&email, PASSWORD, "laptop").await);
    let (a3, _, _) = tokens(&svc.login(&email, PASSWORD, "tablet").await);
    let r = svc
        .post_auth("/sessions/revoke-others", json!({}), &a1)
        .await;
    assert_eq!(r.data()["revoked"], 2);
    assert_eq!(svc.get_auth("/me", &a1).await.status, StatusCode::OK);
    assert_eq!(
        svc.get_auth("/me", &a2).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.get_auth("/me", &a3).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (a4, _, _) = tokens(&svc.login(&email, PASSWORD, "tablet").await);
    svc.post_auth("/logout-all", json!({}), &a4).await;
    assert_eq!(
        svc.get_auth("/me", &a1).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.get_auth("/me", &a4).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn new_devices_are_announced_and_blocked_ones_cannot_sign_in() {
    let svc = common::start().await;
    let email = common::email("device");
    let (a1, _, _) = svc.signed_in(&email).await;
    svc.login(&email, PASSWORD, "phone-1").await; // same device again: no new alert
    let (a2, _, _) = tokens(&svc.login(&email, PASSWORD, "stolen-laptop").await);
    let registered: Vec<ev::DeviceRegistered> =
        svc.events(events::types::AUTH_DEVICE_REGISTERED).await;
    assert_eq!(registered.len(), 2, "one alert per new device");

    let devices = svc.get_auth("/devices", &a1).await;
    let laptop = devices
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == registered[1].device_id)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (stranger, _, _) = svc.signed_in(&common::email("stranger")).await;
    let r = svc
        .post_auth(&format!("/devices/{laptop}/block"), json!({}), &stranger)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = svc
        .post_auth(
            &format!("/devices/{laptop}/block"),
            json!({ "reason": "not mine" }),
            &a1,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        svc.get_auth("/me", &a2).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = svc.login(&email, PASSWORD, "stolen-laptop").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["message"], "this device has been blocked");
    let blocked: ev::DeviceBlocked = svc
        .last_event(events::types::AUTH_DEVICE_BLOCKED)
        .await
        .unwrap();
    assert_eq!(blocked.reason, "not mine");

    let phone = registered[0].device_id.clone();
    let r = svc
        .post_auth(&format!("/devices/{phone}/trust"), json!({}), &a1)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = svc
        .post_auth(&format!("/devices/{laptop}/unblock"), json!({}), &a1)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        svc.login(&email, PASSWORD, "stolen-laptop").await.status,
        StatusCode::OK
    );
    let r = svc
        .post_auth("/devices/not-a-uuid/trust", json!({}), &a1)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
