//! Joining with an invite token: the happy path and every distinct refusal.

use crate::common::{self, CREATE};
use events::proto::community::v1 as ev;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_invitee_joins_with_the_token_and_the_manager_sees_them() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Chestnut Square").await;
    let invitee = svc.person(&[]).await;
    // Invited under another spelling of the same address.
    let (invite, token) = svc
        .invite(id, &manager, &invitee.email.to_uppercase())
        .await;

    let r = svc
        .post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.data()["communityId"], id.to_string());
    assert_eq!(r.data()["communityName"], "Chestnut Square");
    assert_eq!(r.data()["role"], "resident");

    let accepted: Vec<ev::InviteAccepted> = svc.events("community.invite.accepted").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].invite_id, invite.to_string());
    let joined: Vec<ev::MemberJoined> = svc.events("community.member.joined").await;
    let joined = joined.last().unwrap();
    assert_eq!(joined.user_id, invitee.id.to_string());
    assert_eq!(
        joined.manager_id,
        manager.id.to_string(),
        "the manager is told"
    );
    assert_eq!(joined.invite_id, invite.to_string());
    assert_eq!(joined.role, ev::CommunityRole::Resident as i32);

    let r = svc
        .get(&format!("/{id}/members"), &manager.token)
        .await
        .expect(StatusCode::OK);
    let members = r.data()["items"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1]["user"]["id"], invitee.id.to_string());
    assert_eq!(members[1]["user"]["name"], "Pat");
    let r = svc
        .get(&format!("/{id}/invites?status=accepted"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);

    // Twice: already a member.
    let r = svc
        .post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("already a member")
    );
    // A member may belong to several communities.
    let other_manager = svc.person(&[CREATE]).await;
    let other = svc.community(&other_manager, "Second Street").await;
    let (_, token2) = svc.invite(other, &other_manager, &invitee.email).await;
    svc.post("/join", json!({ "token": token2 }), &invitee.token)
        .await
        .expect(StatusCode::CREATED);
    let r = svc.get("", &invitee.token).await.expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 2);
}

#[tokio::test]
async fn someone_elses_token_is_refused_without_naming_the_invitee() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Larch Hill").await;
    let invitee = svc.person(&[]).await;
    let (_, token) = svc.invite(id, &manager, &invitee.email).await;
    let thief = svc.person(&[]).await;

    let r = svc
        .post("/join", json!({ "token": token }), &thief.token)
        .await
        .expect(StatusCode::FORBIDDEN);
    let message = r.body["message"].as_str().unwrap();
    assert!(message.contains("another e-mail address"), "{message}");
    assert_eq!(r.body["code"], "invite_not_yours");
    assert!(!r.body.to_string().contains(&invitee.email));
    svc.get(&format!("/{id}"), &thief.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    // The invite is still the invitee's to use.
    svc.post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::CREATED);
    // Used: the thief now hears the same "not yours", never "used by someone".
    svc.post("/join", json!({ "token": token }), &thief.token)
        .await
        .expect(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_unverified_and_used_tokens_get_their_own_answers() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Yew Terrace").await;
    let invitee = svc.person(&[]).await;

    let r = svc
        .post("/join", json!({ "token": "no-such-token" }), &invitee.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    assert!(r.body["message"].as_str().unwrap().contains("token"));
    assert_eq!(r.body["code"], "invite_not_found");
    svc.post("/join", json!({ "token": "" }), &invitee.token)
        .await
        .expect(StatusCode::BAD_REQUEST);
    svc.post("/join", json!({}), &invitee.token)
        .await
        .expect(StatusCode::BAD_REQUEST);

    // Someone whose e-mail this service has not seen verified.
    let unverified = uuid::Uuid::now_v7();
    let (_, token) = svc
        .invite(
            id,
            &manager,
            &format!("u{}@example.com", unverified.simple()),
        )
        .await;
    let r = svc
        .post(
            "/join",
            json!({ "token": token }),
            &svc.token(unverified, &[]),
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(r.body["message"].as_str().unwrap().contains("verify"));
    assert_eq!(r.body["code"], "email_not_verified");

    // Used, then the member leaves: the token stays used.
    let (_, token) = svc.invite(id, &manager, &invitee.email).await;
    svc.post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::CREATED);
    svc.call(
        reqwest::Method::DELETE,
        &format!("/{id}/members/me"),
        None,
        &invitee.token,
    )
    .await
    .expect(StatusCode::OK);
    let r = svc
        .post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );
    assert_eq!(r.body["code"], "invite_used");
    // No token at all: 401.
    let r = svc
        .http
        .post(format!("{}/api/communities/join", svc.base))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_presented_twice_at_once_joins_once() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Double Tap").await;
    let invitee = svc.person(&[]).await;
    let (_, token) = svc.invite(id, &manager, &invitee.email).await;
    let body = json!({ "token": token });
    let answers =
        futures::future::join_all((0..5).map(|_| svc.post("/join", body.clone(), &invitee.token)))
            .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        4,
        "{statuses:?}"
    );
    let joined: Vec<ev::MemberJoined> = svc.events("community.member.joined").await;
    assert_eq!(
        joined
            .iter()
            .filter(|j| j.user_id == invitee.id.to_string())
            .count(),
        1
    );
}

#[tokio::test]
async fn a_token_of_a_deleted_community_is_refused() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Gone Green").await;
    let invitee = svc.person(&[]).await;
    let (_, token) = svc.invite(id, &manager, &invitee.email).await;
    // Deleted behind the API's back, so the invite is still active: only the community's
    // own state can refuse the join.
    svc.sql(&format!(
        "UPDATE communities SET deleted_at = now() WHERE id = '{id}'"
    ))
    .await;
    let r = svc
        .post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::GONE);
    assert_eq!(r.body["code"], "community_gone");
    let r = svc
        .get(&format!("/{id}/members"), &manager.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(r.body["success"], false);
}
