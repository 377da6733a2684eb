//! Member lists, leaving, removal and community roles.

use crate::common::{self, CREATE, MANAGE};
use events::proto::community::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn members_are_listed_in_pages_managers_first() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Aspen Park").await;
    let mut residents = Vec::new();
    for _ in 0..3 {
        residents.push(svc.member(id, &manager).await);
    }
    let r = svc
        .get(&format!("/{id}/members?pageSize=2"), &residents[2].token)
        .await
        .expect(StatusCode::OK);
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items[0]["role"], "manager");
    assert_eq!(items[0]["user"]["id"], manager.id.to_string());
    assert_eq!(items[1]["user"]["id"], residents[0].id.to_string());
    assert_eq!(r.data()["totalCount"], 4);
    assert_eq!(r.data()["totalPages"], 2);
    let r = svc
        .get(&format!("/{id}/members?role=resident"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 3);
}

#[tokio::test]
async fn members_leave_and_managers_remove_them() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Beech Road").await;
    let a = svc.member(id, &manager).await;
    let b = svc.member(id, &manager).await;

    svc.call(Method::DELETE, &format!("/{id}/members/me"), None, &a.token)
        .await
        .expect(StatusCode::OK);
    svc.get(&format!("/{id}"), &a.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    let left: Vec<ev::MemberLeft> = svc.events("community.member.left").await;
    assert_eq!(left[0].user_id, a.id.to_string());
    let r = svc
        .call(
            Method::DELETE,
            &format!("/{id}/members/me"),
            None,
            &manager.token,
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["message"].as_str().unwrap().contains("manager"));

    let c = svc.member(id, &manager).await;
    svc.call(
        Method::DELETE,
        &format!("/{id}/members/{}", c.id),
        None,
        &b.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.call(
        Method::DELETE,
        &format!("/{id}/members/{}", c.id),
        None,
        &manager.token,
    )
    .await
    .expect(StatusCode::OK);
    svc.call(
        Method::DELETE,
        &format!("/{id}/members/{}", c.id),
        None,
        &manager.token,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    svc.call(
        Method::DELETE,
        &format!("/{id}/members/{}", manager.id),
        None,
        &manager.token,
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let removed: Vec<ev::MemberRemoved> = svc.events("community.member.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].user_id, c.id.to_string());
    assert_eq!(removed[0].removed_by, manager.id.to_string());
    svc.get(&format!("/{id}"), &c.token)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_change_and_management_can_be_handed_over() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Fir Crescent").await;
    let a = svc.member(id, &manager).await;
    let b = svc.member(id, &manager).await;
    let role = |user: uuid::Uuid| format!("/{id}/members/{user}/role");

    svc.call(
        Method::PUT,
        &role(b.id),
        Some(json!({ "role": "moderator" })),
        &a.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let r = svc
        .call(
            Method::PUT,
            &role(a.id),
            Some(json!({ "role": "moderator" })),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["role"], "moderator");
    svc.call(
        Method::PUT,
        &role(a.id),
        Some(json!({ "role": "king" })),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    svc.call(
        Method::PUT,
        &role(manager.id),
        Some(json!({ "role": "resident" })),
        &manager.token,
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    svc.call(
        Method::PUT,
        &role(uuid::Uuid::now_v7()),
        Some(json!({ "role": "resident" })),
        &manager.token,
    )
    .await
    .expect(StatusCode::NOT_FOUND);

    // Hand over to b: b manages, the old manager stays as a moderator.
    svc.call(
        Method::PUT,
        &role(b.id),
        Some(json!({ "role": "manager" })),
        &manager.token,
    )
    .await
    .expect(StatusCode::OK);
    let r = svc
        .get(&format!("/{id}"), &b.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["manager"]["id"], b.id.to_string());
    assert_eq!(r.data()["myRole"], "manager");
    let r = svc
        .get(&format!("/{id}"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["myRole"], "moderator");
    svc.post(
        &format!("/{id}/invites"),
        json!({ "email": "x@example.com" }),
        &manager.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.call(
        Method::DELETE,
        &format!("/{id}/members/me"),
        None,
        &manager.token,
    )
    .await
    .expect(StatusCode::OK);

    let changes: Vec<ev::MemberRoleChanged> = svc.events("community.member.role_changed").await;
    let summary: Vec<(String, i32)> = changes
        .iter()
        .map(|c| (c.user_id.clone(), c.role))
        .collect();
    assert_eq!(
        summary,
        [
            (a.id.to_string(), ev::CommunityRole::Moderator as i32),
            (b.id.to_string(), ev::CommunityRole::Manager as i32),
            (manager.id.to_string(), ev::CommunityRole::Moderator as i32),
        ]
    );

    // An admin can act for the community too.
    let admin = svc.person(&[MANAGE]).await;
    svc.call(
        Method::PUT,
        &role(a.id),
        Some(json!({ "role": "resident" })),
        &admin.token,
    )
    .await
    .expect(StatusCode::OK);
}
