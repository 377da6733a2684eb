//! A community comes to life: a manager registers and creates it, invites an address; the
//! resident registers with that address, verifies it with the link from the e-mail, joins
//! with the token from the invite e-mail (both sent over SMTP by the notification service
//! and read from the dev inbox); the manager sees the new member and an unread in-app
//! notice of it.

use e2e::people::{join, register, verify_email};
use e2e::{Client, eventually, mailbox, unique_email};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(60);

#[tokio::test]
async fn manager_invites_resident_joins_manager_sees_the_member() -> anyhow::Result<()> {
    let mut manager = Client::new().await?;
    let manager_email = unique_email("manager");
    register(&mut manager, &manager_email, "community_manager").await?;
    verify_email(&manager, &manager_email).await?;

    let created = manager
        .post(
            "/api/communities",
            &json!({
                "name": "Acacia Avenue",
                "description": "Ladders, drills and a lawnmower",
                "address": { "line1": "1 Acacia Avenue", "city": "Cardiff", "country": "GB" },
            }),
        )
        .await?;
    let community = created.expect_status(StatusCode::CREATED)?.clone();
    let id = community["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(community["myRole"], "manager");

    let resident_email = unique_email("resident");
    manager
        .post(
            &format!("/api/communities/{id}/invites"),
            &json!({ "email": resident_email }),
        )
        .await?
        .expect_status(StatusCode::CREATED)?;

    // The resident signs up with the invited address and proves it.
    let mut resident = Client::new().await?;
    let resident_id = register(&mut resident, &resident_email, "resident").await?;
    verify_email(&resident, &resident_email).await?;

    // A stranger sees nothing of the community.
    let stranger = resident.get(&format!("/api/communities/{id}")).await?;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{}", stranger.body);

    let joined = join(&resident, &resident_email, "Acacia Avenue").await?;
    assert_eq!(joined["communityId"], id.as_str());
    assert_eq!(joined["role"], "resident");

    let members = manager
        .get(&format!("/api/communities/{id}/members"))
        .await?;
    let members = members.expect_status(StatusCode::OK)?.clone();
    let ids: Vec<&str> = members["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m["user"]["id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(ids.contains(&resident_id.as_str()), "{members}");
    assert_eq!(members["totalCount"], 2);

    // The resident now sees the community, as a resident, among their own.
    let mine = resident.get("/api/communities").await?;
    let mine = mine.expect_status(StatusCode::OK)?;
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["items"][0]["myRole"], "resident");
    // And cannot invite anyone.
    let refused = resident
        .call(
            Method::POST,
            &format!("/api/communities/{id}/invites"),
            Some(&json!({ "email": unique_email("friend") })),
        )
        .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // The manager is told: an unread in-app notification (and an e-mail).
    let notice = eventually("the manager's notification", WITHIN, || async {
        let answer = manager.get("/api/notifications?unread=true").await?;
        let data = answer.expect_status(StatusCode::OK)?;
        Ok(data["items"]
            .as_array()
            .and_then(|items| items.iter().find(|n| n["kind"] == "member_joined"))
            .cloned())
    })
    .await?;
    assert_eq!(notice["title"], "New member in Acacia Avenue");
    assert_eq!(notice["data"]["communityId"], id.as_str());
    let count = manager.get("/api/notifications/unread-count").await?;
    assert!(count.expect_status(StatusCode::OK)?["unread"].as_i64() >= Some(1));
    mailbox::find(&manager_email, "joined Acacia Avenue", WITHIN).await?;
    Ok(())
}
