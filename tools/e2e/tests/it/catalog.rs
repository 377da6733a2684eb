//! A community's tool library through the gateway: an admin adds a category; a manager
//! creates a community and adds a tool with an item; a resident joins, finds the tool by
//! a misspelt search, reads its availability and price, keeps it as a favourite; someone
//! of no community sees none of it, and a stranger's anonymous browse neither.

use e2e::people::{WITHIN, join, verified};
use e2e::{Client, admin_credentials, eventually};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_member_finds_a_misspelt_tool_and_a_stranger_sees_nothing() -> anyhow::Result<()> {
    let mut admin = Client::new().await?;
    let (email, password) = admin_credentials()?;
    admin.login(&email, &password).await?;
    let slug = format!("drills-{}", uuid::Uuid::new_v4().simple());
    let category = admin
        .post(
            "/api/categories",
            &json!({ "name": "Drills", "slug": slug }),
        )
        .await?;
    let category = category.expect_status(StatusCode::CREATED)?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let (manager, _, _) = verified("librarian", "community_manager").await?;
    let name = format!("Elm Row {}", &slug[7..15]);
    let created = manager
        .post(
            "/api/communities",
            &json!({
                "name": name,
                "description": "A shed of shared tools",
                "address": { "line1": "3 Elm Row", "city": "Leeds", "country": "GB" },
            }),
        )
        .await?;
    let community = created.expect_status(StatusCode::CREATED)?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The catalog hears of the community (and its manager) through Kafka.
    let tool = eventually("the catalog knowing the community", WITHIN, || async {
        let answer = manager
            .post(
                "/api/tools",
                &json!({
                    "communityId": community,
                    "categoryId": category,
                    "name": "Cordless drill 18V",
                    "description": "Two batteries, a case and a set of bits",
                    "brand": "Makita",
                    "dailyPrice": 800,
                    "weeklyPrice": 3500,
                    "deposit": 5000,
                    "maxRentalDays": 14,
                    "initialItems": 1,
                }),
            )
            .await?;
        match answer.status {
            StatusCode::CREATED => Ok(Some(answer.data().clone())),
            StatusCode::NOT_FOUND => Ok(None),
            other => anyhow::bail!("creating the tool answered {other}: {}", answer.body),
        }
    })
    .await?;
    let tool_id = tool["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        tool["dailyPrice"],
        json!({ "amount": 800, "currency": "EUR" })
    );

    let (resident, resident_email, _) = verified("borrower", "resident").await?;
    manager
        .post(
            &format!("/api/communities/{community}/invites"),
            &json!({ "email": resident_email }),
        )
        .await?
        .expect_status(StatusCode::CREATED)?;
    join(&resident, &resident_email, &name).await?;

    // The misspelling finds the drill once the catalog knows the resident is a member.
    let found = eventually("the misspelt search", WITHIN, || async {
        let answer = resident
            .get(&format!(
                "/api/tools/search?q=drlil&communityId={community}"
            ))
            .await?;
        let data = answer.expect_status(StatusCode::OK)?;
        Ok((data["totalCount"] == 1).then(|| data.clone()))
    })
    .await?;
    assert_eq!(found["items"][0]["id"], tool_id.as_str());
    assert_eq!(found["fuzzy"], true);

    let from = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let to = from + chrono::Duration::days(7);
    let availability = resident
        .get(&format!(
            "/api/tools/{tool_id}/availability?from={from}&to={to}"
        ))
        .await?;
    let days = availability.expect_status(StatusCode::OK)?["days"].clone();
    assert_eq!(days.as_array().map(Vec::len), Some(7));
    assert!(
        days.as_array()
            .into_iter()
            .flatten()
            .all(|d| d["free"] == 1),
        "{days}"
    );
    let quote = resident
        .get(&format!("/api/tools/{tool_id}/quote?from={from}&to={to}"))
        .await?;
    // Seven days at the weekly rate.
    assert_eq!(quote.expect_status(StatusCode::OK)?["rent"]["amount"], 3500);

    let kept = resident
        .call(Method::PUT, &format!("/api/favorites/{tool_id}"), None)
        .await?;
    assert_eq!(kept.expect_status(StatusCode::OK)?["favourite"], true);
    let mine = resident.get("/api/favorites").await?;
    assert_eq!(
        mine.expect_status(StatusCode::OK)?["items"][0]["tool"]["id"],
        tool_id.as_str()
    );

    // Someone of no community, and nobody at all, see nothing of a members-only library.
    let (stranger, _, _) = verified("stranger", "resident").await?;
    let seen = stranger.get(&format!("/api/tools/{tool_id}")).await?;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.body);
    let listed = stranger.get("/api/tools/search?q=drill").await?;
    let listed = listed.expect_status(StatusCode::OK)?;
    assert!(
        listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t["id"] != tool_id.as_str()),
        "{listed}"
    );
    let anonymous = Client::new().await?;
    let seen = anonymous.get(&format!("/api/tools/{tool_id}")).await?;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.body);
    Ok(())
}
