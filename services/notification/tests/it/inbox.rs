//! The in-app inbox and push: announcements reach members in the app and on their phones
//! (not the author), the inbox API, push tokens, and admin broadcasts.

use crate::common::{self, eventually};
use events::proto::community::v1 as community;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

async fn community_with(svc: &common::Service, members: &[Uuid]) -> Uuid {
    let id = Uuid::now_v7();
    let cid = id.to_string();
    svc.publish(
        &cid,
        &community::CommunityCreated {
            community_id: cid.clone(),
            name: "Elm Row".into(),
            manager_id: members[0].to_string(),
            ..Default::default()
        },
    )
    .await;
    for m in members {
        svc.publish(
            &cid,
            &community::MemberJoined {
                community_id: cid.clone(),
                user_id: m.to_string(),
                role: community::CommunityRole::Resident as i32,
                invite_id: String::new(),
                manager_id: members[0].to_string(),
            },
        )
        .await;
    }
    id
}

#[tokio::test]
async fn announcements_reach_members_in_the_app_and_on_their_phones() {
    let svc = common::start().await;
    let (author, _) = svc.person().await;
    let (reader, _) = svc.person().await;
    let (other, _) = svc.person().await;
    let reader_token = svc.token(reader, &[]);
    let r = svc
        .call(
            Method::POST,
            "/push-tokens",
            Some(json!({ "platform": "android", "token": "fcm-token-reader-1" })),
            &reader_token,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.data()["token"], "…er-1", "tokens are never shown whole");
    let id = community_with(&svc, &[author, reader]).await;
    svc.publish(
        &id.to_string(),
        &community::AnnouncementPublished {
            announcement_id: Uuid::now_v7().to_string(),
            community_id: id.to_string(),
            author_id: author.to_string(),
            title: "Ladder".into(),
            body: "The long ladder is back.".into(),
            pinned: true,
            expires_at: None,
        },
    )
    .await;
    eventually("the push", || async { !svc.push.sent().is_empty() }).await;
    assert_eq!(
        svc.push.sent(),
        [(
            "fcm-token-reader-1".to_owned(),
            "Elm Row: Ladder|The long ladder is back.".to_owned()
        )]
    );

    let r = svc
        .get("?unread=true", &reader_token)
        .await
        .expect(StatusCode::OK);
    let item = r.data()["items"][0].clone();
    assert_eq!(item["kind"], "announcement");
    assert_eq!(item["title"], "Elm Row: Ladder");
    assert_eq!(item["data"]["communityId"], id.to_string());
    let author_token = svc.token(author, &[]);
    let r = svc
        .get("/unread-count", &author_token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.data()["unread"],
        0,
        "the author is not told of their own announcement"
    );
    let other_token = svc.token(other, &[]);
    let r = svc
        .get("/unread-count", &other_token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["unread"], 0, "not a member");

    // Read, read-all, delete; another user's notification is a 404 for each.
    let nid = item["id"].as_str().unwrap().to_owned();
    svc.call(Method::POST, &format!("/{nid}/read"), None, &other_token)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.call(Method::DELETE, &format!("/{nid}"), None, &other_token)
        .await
        .expect(StatusCode::NOT_FOUND);
    let r = svc
        .call(Method::POST, &format!("/{nid}/read"), None, &reader_token)
        .await
        .expect(StatusCode::OK);
    assert!(r.data()["readAt"].is_string());
    let r = svc
        .get("/unread-count", &reader_token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["unread"], 0);
    svc.call(Method::POST, "/read-all", None, &reader_token)
        .await
        .expect(StatusCode::OK);
    svc.call(Method::DELETE, &format!("/{nid}"), None, &reader_token)
        .await
        .expect(StatusCode::OK);
    let r = svc.get("", &reader_token).await.expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 0);
}

#[tokio::test]
async fn push_tokens_belong_to_their_last_owner() {
    let svc = common::start().await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let (ta, tb) = (svc.token(a, &[]), svc.token(b, &[]));
    let body = json!({ "platform": "ios", "token": "apns-shared-device-token" });
    let first = svc
        .call(Method::POST, "/push-tokens", Some(body.clone()), &ta)
        .await
        .expect(StatusCode::CREATED);
    svc.call(Method::POST, "/push-tokens", Some(body), &tb)
        .await
        .expect(StatusCode::CREATED);
    let r = svc.get("/push-tokens", &ta).await.expect(StatusCode::OK);
    assert_eq!(
        r.data().as_array().unwrap().len(),
        0,
        "the device moved to b"
    );
    let id = first.data()["id"].as_str().unwrap().to_owned();
    svc.call(Method::DELETE, &format!("/push-tokens/{id}"), None, &ta)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.call(Method::DELETE, &format!("/push-tokens/{id}"), None, &tb)
        .await
        .expect(StatusCode::OK);
    svc.call(
        Method::POST,
        "/push-tokens",
        Some(json!({ "platform": "nokia", "token": "abcdefgh" })),
        &ta,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    let anonymous = svc
        .http
        .get(format!("{}/api/notifications", svc.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn broadcasts_fan_out_in_the_background_to_their_audience() {
    let svc = common::start().await;
    let (a, _) = svc.person().await;
    let (b, _) = svc.person().await;
    let (outsider, _) = svc.person().await;
    let community = community_with(&svc, &[a, b]).await;
    let admin = svc.token(Uuid::now_v7(), &["notifications.broadcast"]);
    let body = json!({
        "audience": "community", "target": community.to_string(),
        "title": "Street party", "body": "Saturday at noon.",
    });
    svc.call(
        Method::POST,
        "/admin/broadcasts",
        Some(body.clone()),
        &svc.token(a, &[]),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    // The projection of the community's members arrives through the broker.
    eventually("the members known", || async {
        svc.sql_count(&format!(
            "SELECT count(*) AS n FROM community_members WHERE community_id = '{community}'"
        ))
        .await
            == 2
    })
    .await;
    let r = svc
        .call(Method::POST, "/admin/broadcasts", Some(body), &admin)
        .await
        .expect(StatusCode::ACCEPTED);
    let id = r.data()["id"].as_str().unwrap().to_owned();
    eventually("the broadcast done", || async {
        let r = svc.get(&format!("/admin/broadcasts/{id}"), &admin).await;
        r.data()["status"] == "done"
    })
    .await;
    let r = svc
        .get(&format!("/admin/broadcasts/{id}"), &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["recipients"], 2);
    for (who, expected) in [(a, 1), (b, 1), (outsider, 0)] {
        let r = svc
            .get("/unread-count", &svc.token(who, &[]))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.data()["unread"], expected);
    }
    svc.call(
        Method::POST,
        "/admin/broadcasts",
        Some(json!({ "audience": "role", "title": "x", "body": "y" })),
        &admin,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    let r = svc
        .get("/admin/deliveries?status=sent", &admin)
        .await
        .expect(StatusCode::OK);
    assert!(r.data()["items"].is_array());
}

/// More people than one batch: the cursor carries the fan-out through every batch, each
/// person once.
#[tokio::test]
async fn a_broadcast_to_everyone_goes_through_several_batches() {
    let svc = common::start().await;
    svc.sql_count(
        "WITH ins AS (INSERT INTO recipients (user_id, email, email_verified) \
         SELECT gen_random_uuid(), 'r' || g || '@example.com', true FROM generate_series(1, 450) g \
         RETURNING 1) SELECT count(*) AS n FROM ins",
    )
    .await;
    let admin = svc.token(Uuid::now_v7(), &["notifications.broadcast"]);
    let r = svc
        .call(
            Method::POST,
            "/admin/broadcasts",
            Some(json!({
                "audience": "all", "title": "Hello", "body": "Everyone", "channels": ["in_app"],
            })),
            &admin,
        )
        .await
        .expect(StatusCode::ACCEPTED);
    let id = r.data()["id"].as_str().unwrap().to_owned();
    eventually("the broadcast done", || async {
        svc.get(&format!("/admin/broadcasts/{id}"), &admin)
            .await
            .data()["status"]
            == "done"
    })
    .await;
    let r = svc
        .get(&format!("/admin/broadcasts/{id}"), &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["recipients"], 450);
    assert_eq!(
        svc.sql_count(&format!(
            "SELECT count(DISTINCT user_id) AS n FROM notifications WHERE source_id = '{id}'"
        ))
        .await,
        450
    );
    assert_eq!(
        svc.sql_count(&format!(
            "SELECT count(*) AS n FROM notifications WHERE source_id = '{id}'"
        ))
        .await,
        450
    );
}

#[tokio::test]
async fn members_hear_that_their_community_closed_and_owners_of_a_tried_address() {
    let svc = common::start().await;
    let (manager, _) = svc.person().await;
    let (member, member_email) = svc.person().await;
    let community = community_with(&svc, &[manager, member]).await;
    svc.publish(
        &community.to_string(),
        &community::CommunityDeleted {
            community_id: community.to_string(),
            deleted_by: manager.to_string(),
            member_ids: vec![manager.to_string(), member.to_string()],
        },
    )
    .await;
    let member_token = svc.token(member, &[]);
    eventually("the member's notice", || async {
        svc.get("?unread=true", &member_token).await.data()["items"][0]["kind"]
            == "community_closed"
    })
    .await;
    let r = svc
        .get("/unread-count", &svc.token(manager, &[]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["unread"], 0, "the one who closed it is not told");

    svc.publish(
        &member.to_string(),
        &events::proto::auth::v1::RegistrationAttempted {
            user_id: member.to_string(),
            email: member_email.clone(),
            phone: String::new(),
        },
    )
    .await;
    eventually("the owner's warning", || async {
        svc.mail_to(&member_email)
            .iter()
            .any(|m| common::subject_of(m).contains("tried to create"))
    })
    .await;
}

#[tokio::test]
async fn a_favourite_back_in_stock_reaches_those_who_kept_it_only() {
    let svc = common::start().await;
    let (fan, _) = svc.person().await;
    let (other, _) = svc.person().await;
    let id = community_with(&svc, &[fan, other]).await;
    let tool = Uuid::now_v7().to_string();
    svc.publish(
        &tool,
        &events::proto::catalog::v1::BackInStock {
            tool_id: tool.clone(),
            community_id: id.to_string(),
            tool_name: "Cordless drill".into(),
            user_ids: vec![fan.to_string()],
        },
    )
    .await;
    let fan_token = svc.token(fan, &[]);
    eventually("the in-app notice", || async {
        let r = svc.get("?unread=true", &fan_token).await;
        r.data()["items"][0]["kind"] == "back_in_stock"
    })
    .await;
    let r = svc
        .get("?unread=true", &fan_token)
        .await
        .expect(StatusCode::OK);
    let notice = &r.data()["items"][0];
    assert_eq!(notice["title"], "Cordless drill is back");
    assert_eq!(notice["data"]["toolId"], tool.as_str());
    let r = svc
        .get("/unread-count", &svc.token(other, &[]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["unread"], 0, "did not keep the tool");
}
