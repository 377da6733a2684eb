//! The steps every journey starts with: signing up, proving the address from the e-mail,
//! joining a community with the invite's token.

use crate::{Client, PASSWORD, eventually, mailbox, unique_email};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

pub const WITHIN: Duration = Duration::from_secs(60);

/// Registers `email` with `role` and signs in; returns the account id.
pub async fn register(app: &mut Client, email: &str, role: &str) -> anyhow::Result<String> {
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
pub async fn verify_email(app: &Client, email: &str) -> anyhow::Result<()> {
    let mail = mailbox::find(email, "Confirm your e-mail", WITHIN).await?;
    let token = mail
        .link_token()
        .ok_or_else(|| anyhow::anyhow!("no link in {mail:?}"))?;
    app.post("/api/auth/verify-email", &json!({ "token": token }))
        .await?
        .expect_status(StatusCode::OK)?;
    Ok(())
}

/// A signed-in person with a verified address.
pub async fn verified(prefix: &str, role: &str) -> anyhow::Result<(Client, String, String)> {
    let mut app = Client::new().await?;
    let email = unique_email(prefix);
    let id = register(&mut app, &email, role).await?;
    verify_email(&app, &email).await?;
    Ok((app, email, id))
}

/// Joins with the token of the invite e-mail sent to `email` for `community_name`. The
/// community service learns of the verification through Kafka: until then the join is
/// refused with "verify your e-mail".
pub async fn join(
    app: &Client,
    email: &str,
    community_name: &str,
) -> anyhow::Result<serde_json::Value> {
    let invite = mailbox::find(email, community_name, WITHIN).await?;
    let token = invite
        .link_token()
        .ok_or_else(|| anyhow::anyhow!("no link in {invite:?}"))?;
    eventually("the join", WITHIN, || async {
        let answer = app
            .post("/api/communities/join", &json!({ "token": token }))
            .await?;
        match answer.status {
            StatusCode::CREATED => Ok(Some(answer.data().clone())),
            StatusCode::FORBIDDEN => Ok(None),
            other => anyhow::bail!("join answered {other}: {}", answer.body),
        }
    })
    .await
}
