//! Announcements: who publishes, who reads, pinning and expiry.

use crate::common::{self, CREATE};
use events::proto::community::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn managers_publish_and_members_read_pinned_first() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Olive Grove").await;
    let resident = svc.member(id, &manager).await;
    let path = format!("/{id}/announcements");

    let first = svc
        .post(
            &path,
            json!({ "title": "Bins", "body": "Collection moves to Tuesday." }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.data()["author"]["name"], "Pat");
    svc.post(
        &path,
        json!({ "title": "Ladder", "body": "The long ladder is back.", "pinned": true }),
        &manager.token,
    )
    .await
    .expect(StatusCode::CREATED);
    let soon = svc
        .post(
            &path,
            json!({ "title": "Fete", "body": "Saturday.", "expiresAt": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339() }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);

    svc.post(
        &path,
        json!({ "title": "Mine", "body": "Hello" }),
        &resident.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.post(
        &path,
        json!({ "title": "", "body": "Hello" }),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    svc.post(
        &path,
        json!({ "title": "Old", "body": "news", "expiresAt": "2020-01-01T00:00:00Z" }),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);

    let titles = |r: &common::Resp| -> Vec<String> {
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = svc.get(&path, &resident.token).await.expect(StatusCode::OK);
    assert_eq!(titles(&r), ["Ladder", "Fete", "Bins"]);

    let fete = soon.data()["id"].as_str().unwrap().to_owned();
    svc.sql(&format!(
        "UPDATE announcements SET expires_at = now() - interval '1 second' WHERE id = '{fete}'"
    ))
    .await;
    let r = svc.get(&path, &resident.token).await.expect(StatusCode::OK);
    assert_eq!(titles(&r), ["Ladder", "Bins"]);

    let published: Vec<ev::AnnouncementPublished> =
        svc.events("community.announcement.published").await;
    assert_eq!(published.len(), 3);
    assert!(published[1].pinned);
    assert_eq!(published[0].community_id, id.to_string());
    assert!(published[2].expires_at.is_some());

    let bins = first.data()["id"].as_str().unwrap().to_owned();
    svc.call(
        Method::DELETE,
        &format!("{path}/{bins}"),
        None,
        &resident.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.call(
        Method::DELETE,
        &format!("{path}/{bins}"),
        None,
        &manager.token,
    )
    .await
    .expect(StatusCode::OK);
    let r = svc.get(&path, &resident.token).await.expect(StatusCode::OK);
    assert_eq!(titles(&r), ["Ladder"]);
}

#[tokio::test]
async fn moderators_publish_too() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Pine View").await;
    let moderator = svc.member(id, &manager).await;
    svc.call(
        Method::PUT,
        &format!("/{id}/members/{}/role", moderator.id),
        Some(json!({ "role": "moderator" })),
        &manager.token,
    )
    .await
    .expect(StatusCode::OK);
    let r = svc
        .post(
            &format!("/{id}/announcements"),
            json!({ "title": "Hi", "body": "From the moderator" }),
            &moderator.token,
        )
        .await
        .expect(StatusCode::CREATED);
    let aid = r.data()["id"].as_str().unwrap().to_owned();
    // Authors remove their own.
    svc.call(
        Method::DELETE,
        &format!("/{id}/announcements/{aid}"),
        None,
        &moderator.token,
    )
    .await
    .expect(StatusCode::OK);
}
