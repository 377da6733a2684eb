//! Profiles from registration events; editing; public views; referrals; deletion.

use crate::common::{self, registered};
use events::proto::user::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn the_registration_event_creates_one_profile_even_when_delivered_twice() {
    let svc = common::start().await;
    let id = Uuid::now_v7();
    let token = svc.token(id, &[]);
    // Before the event: a clear 404, not a 500.
    let r = svc.get("/me", &token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["message"],
        "your profile is being created; try again in a moment"
    );

    let email = format!("anna{}@example.com", id.simple());
    let event = registered(id, &email, "");
    let event_id = Uuid::now_v7();
    svc.publish_id(id, &event, event_id).await;
    svc.publish_id(id, &event, event_id).await; // a redelivery (same event id)
    svc.publish_id(id, &event, Uuid::now_v7()).await; // a duplicate with a new id
    common::eventually("the profile", || async {
        svc.get("/me", &token).await.status == StatusCode::OK
    })
    .await;
    // Give the duplicates time to be consumed, then count.
    let marker = Uuid::now_v7();
    let marker_token = svc.token(marker, &[]);
    svc.publish_id(
        id,
        &registered(marker, "marker@example.com", ""),
        Uuid::now_v7(),
    )
    .await;
    common::eventually("the marker", || async {
        svc.get("/me", &marker_token).await.status == StatusCode::OK
    })
    .await;
    let created: Vec<ev::ProfileCreated> = svc.events(events::types::USER_PROFILE_CREATED).await;
    assert_eq!(
        created
            .iter()
            .filter(|c| c.user_id == id.to_string())
            .count(),
        1
    );

    let me = svc.get("/me", &token).await;
    assert_eq!(me.data()["email"], email);
    assert_eq!(me.data()["status"], "pending");
    assert!(me.data()["username"].as_str().unwrap().starts_with("anna"));
    assert_eq!(me.data()["completionPercent"], 0);
    assert!(me.data()["lastActiveAt"].is_string());
}

#[tokio::test]
async fn profiles_are_edited_field_by_field() {
    let svc = common::start().await;
    let (_, token) = common::with_profile(&svc).await;
    let r = svc
        .call(Method::PATCH, "/me", Some(json!({ "firstName": "Anna", "bio": "Fixes bikes", "interests": ["Tools", "gardening"], "gender": "female" })), &token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["firstName"], "Anna");
    assert_eq!(r.data()["interests"], json!(["tools", "gardening"]));
    assert_eq!(r.data()["completionPercent"], 44, "4 of 9 fields");
    // null clears, absent keeps.
    let r = svc
        .call(Method::PATCH, "/me", Some(json!({ "bio": null })), &token)
        .await;
    assert_eq!(r.data()["bio"], serde_json::Value::Null);
    assert_eq!(r.data()["firstName"], "Anna");
    // Every bad field is reported.
    let r = svc
        .call(Method::PATCH, "/me", Some(json!({ "gender": "robot", "ageBracket": "12-17", "avatarUrl": "not a url", "birthDate": "2999-01-01" })), &token)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["gender", "ageBracket", "avatarUrl", "birthDate"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let r = svc
        .call(
            Method::PATCH,
            "/me",
            Some(json!({ "status": "active" })),
            &token,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    let updated: Vec<ev::ProfileUpdated> = svc.events(events::types::USER_PROFILE_UPDATED).await;
    assert_eq!(updated.len(), 2);
    assert_eq!(updated[1].changed, vec!["bio"]);
}

#[tokio::test]
async fn usernames_are_unique_checked_and_public_profiles_show_little() {
    let svc = common::start().await;
    let (a, ta) = common::with_profile(&svc).await;
    let (_, tb) = common::with_profile(&svc).await;
    let name = format!("anna_{}", &Uuid::now_v7().simple().to_string()[20..]);
    let r = svc
        .call(
            Method::PUT,
            "/me/username",
            Some(json!({ "username": name })),
            &ta,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = svc
        .call(
            Method::PUT,
            "/me/username",
            Some(json!({ "username": name.to_uppercase() })),
            &tb,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["message"], "this username is taken");
    for bad in ["ab", "admin", "9lives", "a..b", "white space"] {
        let r = svc
            .call(
                Method::PUT,
                "/me/username",
                Some(json!({ "username": bad })),
                &tb,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad} accepted");
    }
    // Pending profiles are not public yet; activate through the verified-e-mail event.
    let r = svc.get(&format!("/{a}"), &tb).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let verified = events::proto::auth::v1::EmailVerified {
        user_id: a.to_string(),
        email: format!("u{}@example.com", a.simple()),
    };
    svc.publish_id(a, &verified, Uuid::now_v7()).await;
    common::eventually("activation", || async {
        svc.get(&format!("/{a}"), &tb).await.status == StatusCode::OK
    })
    .await;
    let r = svc
        .get(&format!("/by-username/{}", name.to_uppercase()), &tb)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["userId"], a.to_string());
    assert!(
        r.data().get("email").is_none(),
        "public view leaks the e-mail"
    );
    assert!(r.data().get("phone").is_none());
    assert_eq!(
        svc.get(&format!("/{}", Uuid::now_v7()), &tb).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        svc.get("/not-a-uuid", &tb).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn referral_codes_link_referee_and_referrer() {
    let svc = common::start().await;
    let (_, referrer_token) = common::with_profile(&svc).await;
    let code = svc.get("/me", &referrer_token).await.data()["referralCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let referee = Uuid::now_v7();
    svc.publish_id(
        referee,
        &registered(referee, "friend@example.com", &code.to_lowercase()),
        Uuid::now_v7(),
    )
    .await;
    common::eventually("the referral", || async {
        svc.get("/me/referrals", &referrer_token)
            .await
            .data()
            .as_array()
            .is_some_and(|a| a.len() == 1)
    })
    .await;
    let created: Vec<ev::ProfileCreated> = svc.events(events::types::USER_PROFILE_CREATED).await;
    assert!(
        created
            .iter()
            .any(|c| c.user_id == referee.to_string() && !c.referred_by.is_empty())
    );
}

#[tokio::test]
async fn preferences_and_deletion() {
    let svc = common::start().await;
    let (id, token) = common::with_profile(&svc).await;
    let r = svc.get("/me/notification-settings", &token).await;
    assert_eq!(
        r.data(),
        &json!({ "push": true, "sms": true, "email": true, "promotions": false })
    );
    let r = svc
        .call(
            Method::PUT,
            "/me/notification-settings",
            Some(json!({ "push": false, "sms": true, "email": true, "promotions": true })),
            &token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let ev: Vec<ev::PreferencesUpdated> = svc.events(events::types::USER_PREFERENCES_UPDATED).await;
    assert!(!ev[0].push && ev[0].promotions);

    let r = svc.call(Method::DELETE, "/me", None, &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(svc.get("/me", &token).await.status, StatusCode::NOT_FOUND);
    let deleted: Vec<ev::UserDeleted> = svc.events(events::types::USER_DELETED).await;
    assert_eq!(deleted[0].user_id, id.to_string());
    let r = svc.call(Method::DELETE, "/me", None, &token).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "deleted stays deleted"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let svc = common::start().await;
    let doc: serde_json::Value = svc
        .http
        .get(format!("{}/api/users/openapi.json", svc.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/users/me",
        "/api/users/me/addresses/{id}/default",
        "/api/users/me/notification-settings",
        "/api/users/admin/{id}/suspend",
        "/api/users/by-username/{username}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}
