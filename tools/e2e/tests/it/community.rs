//! A community comes to life: a manager registers and creates it, invites an address; the
//! resident registers with that address, verifies it with the link from the e-mail, joins
//! with the token from the invite e-mail (both sent over SMTP by the notification service
//! and read from the dev inbox); the manager sees the new member and an unread in-app
//! notice of it.

use e2e::{Client, PASSWORD, eventually, mailbox, unique_email};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(60);

async fn register(app: &mut Client, email: &str, role: &str) -> anyhow::Result<String> {
    app.post(
        "/api/auth/register",
        &json!({ "email": email, "password": PASSWORD, "role": role }),
    )
    .await?
    .expect_status(StatusCode::ACCEPTED)?;
    let login = app.login(email, PASSWORD).await?;
    Ok(login["user"]["id"].as_str().unwrap_or_default().to_owned())
}

/// Follows the link of the verification e-mail, as its reader would.
async fn verify_email(app: &Client, email: &str) -> anyhow::Result<()> {
    let mail = mailbox::find(email, "Confirm your e-mail", WITHIN).await?;
    let token = mail
        .link_token()
        .ok_or_else(|| anyhow::anyhow!("no link in {mail:?}"))?;
    app.post("/api/auth/verify-email", &json!({ "token": token }))
        .await?
        .expect_status(StatusCode::OK)?;
    Ok(())
}

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

    let invite = mailbox::find(&resident_email, "Acacia Avenue", WITHIN).await?;
    assert!(invite.html.contains("Acacia Avenue"), "{invite:?}");
    let invite_token = invite
        .link_token()
        .ok_or_else(|| anyhow::anyhow!("no link in {invite:?}"))?;
    // The community service learns of the verification through Kafka: until then the
    // join is refused with "verify your e-mail".
    let joined = eventually("the join", WITHIN, || async {
        let answer = resident
            .post("/api/communities/join", &json!({ "token": invite_token }))
            .await?;
        match answer.status {
            StatusCode::CREATED => Ok(Some(answer.data().clone())),
            StatusCode::FORBIDDEN => Ok(None),
            other => anyhow::bail!("join answered {other}: {}", answer.body),
        }
    })
    .await?;
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
