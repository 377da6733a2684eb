//! A new user's first minutes: register, the profile appears (auth -> Kafka -> user),
//! sign in, refresh, read the profile, sign out, and the old token is dead at the edge.

use e2e::{Client, PASSWORD, eventually, unique_email};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn register_profile_login_refresh_me_logout() -> anyhow::Result<()> {
    let mut app = Client::new().await?;
    let email = unique_email("journey");

    let registered = app
        .post(
            "/api/auth/register",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await?;
    registered.expect_status(StatusCode::ACCEPTED)?;

    let login = app.login(&email, PASSWORD).await?;
    let user_id = login["user"]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!user_id.is_empty(), "login answer names the user: {login}");

    // The profile is made by the user service from auth's event, through the broker.
    let profile = eventually("the profile appears", Duration::from_secs(60), || async {
        let me = app.get("/api/users/me").await?;
        Ok((me.status == StatusCode::OK).then(|| me.data().clone()))
    })
    .await?;
    assert_eq!(profile["userId"], user_id.as_str());
    assert_eq!(profile["email"], email.as_str());
    assert_eq!(profile["status"], "pending");

    // Refresh: a new pair (the old refresh token is spent; presenting it again would end
    // the whole session, which the auth tests prove).
    let old_access = app.access_token.clone().unwrap_or_default();
    let old_refresh = app.refresh_token.clone().unwrap_or_default();
    let refreshed = app
        .post("/api/auth/refresh", &json!({ "refreshToken": old_refresh }))
        .await?;
    let tokens = refreshed.expect_status(StatusCode::OK)?.clone();
    app.keep_tokens(&tokens)?;
    assert_ne!(app.refresh_token.as_deref(), Some(old_refresh.as_str()));
    assert_ne!(app.access_token.as_deref(), Some(old_access.as_str()));

    let me = app.get("/api/users/me").await?;
    assert_eq!(
        me.expect_status(StatusCode::OK)?["userId"],
        user_id.as_str()
    );
    assert!(me.headers.contains_key("x-request-id"));
    assert!(me.headers.contains_key("ratelimit-remaining"));

    // Sign out: both the current and the earlier access token of the session are refused
    // by the gateway itself (the deny-list), before any service sees them.
    app.post("/api/auth/logout", &json!({}))
        .await?
        .expect_status(StatusCode::OK)?;
    for token in [app.access_token.clone(), Some(old_access)] {
        let refused = app
            .call_with_token(
                reqwest::Method::GET,
                "/api/users/me",
                None,
                token.as_deref(),
            )
            .await?;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
        assert_eq!(refused.body["message"], "session has been revoked");
        // Answers that came from a service carry the gateway's rate-limit headers (like
        // `me` above); this one has none: the gateway refused it without forwarding.
        assert!(!refused.headers.contains_key("ratelimit-limit"));
    }
    // And the refresh token of the ended session no longer works either.
    let again = app
        .post(
            "/api/auth/refresh",
            &json!({ "refreshToken": app.refresh_token.clone() }),
        )
        .await?;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn an_unverified_users_profile_is_not_public() -> anyhow::Result<()> {
    let mut alice = Client::new().await?;
    let mut bob = Client::new().await?;
    let (a_mail, b_mail) = (unique_email("alice"), unique_email("bob"));
    for (c, mail) in [(&alice, &a_mail), (&bob, &b_mail)] {
        c.post(
            "/api/auth/register",
            &json!({ "email": mail, "password": PASSWORD }),
        )
        .await?
        .expect_status(StatusCode::ACCEPTED)?;
    }
    let a_id = alice.login(&a_mail, PASSWORD).await?["user"]["id"].clone();
    assert!(
        a_id.as_str().is_some_and(|id| !id.is_empty()),
        "login names the user"
    );
    bob.login(&b_mail, PASSWORD).await?;
    eventually("alice's profile", Duration::from_secs(60), || async {
        Ok((alice.get("/api/users/me").await?.status == StatusCode::OK).then_some(()))
    })
    .await?;
    let seen = bob
        .get(&format!("/api/users/{}", a_id.as_str().unwrap_or_default()))
        .await?;
    // Alice has not verified her address yet: to anyone else her profile does not exist,
    // and the answer says nothing about her.
    assert_eq!(seen.status, StatusCode::NOT_FOUND);
    assert!(!seen.body.to_string().contains(&a_mail));
    Ok(())
}
