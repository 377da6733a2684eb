//! An admin's decision at the user service reaches auth through the broker: a suspended
//! resident's live session dies at the edge and their next sign-in is refused.

use e2e::{Client, PASSWORD, admin_credentials, eventually, unique_email};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_suspension_ends_live_sessions_and_blocks_sign_in() -> anyhow::Result<()> {
    let mut resident = Client::new().await?;
    let email = unique_email("suspended");
    resident
        .post(
            "/api/auth/register",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await?
        .expect_status(StatusCode::ACCEPTED)?;
    let login = resident.login(&email, PASSWORD).await?;
    let user_id = login["user"]["id"].as_str().unwrap_or_default().to_owned();
    eventually("the profile appears", Duration::from_secs(60), || async {
        Ok((resident.get("/api/users/me").await?.status == StatusCode::OK).then_some(()))
    })
    .await?;

    let mut admin = Client::new().await?;
    let (admin_email, admin_password) = admin_credentials()?;
    admin.login(&admin_email, &admin_password).await?;
    admin
        .post(
            &format!("/api/users/admin/{user_id}/suspend"),
            &json!({ "reason": "fraud" }),
        )
        .await?
        .expect_status(StatusCode::OK)?;

    // user.profile.v1 -> auth: the session is revoked and the gateway's deny-list knows.
    eventually(
        "the session is revoked",
        Duration::from_secs(60),
        || async {
            Ok(
                (resident.get("/api/users/me").await?.status == StatusCode::UNAUTHORIZED)
                    .then_some(()),
            )
        },
    )
    .await?;
    let refused = resident
        .post(
            "/api/auth/login",
            &json!({ "identifier": email, "password": PASSWORD }),
        )
        .await?;
    refused.expect_status(StatusCode::FORBIDDEN)?;
    assert_eq!(refused.body["message"], "account is suspended");
    Ok(())
}
