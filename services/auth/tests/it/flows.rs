//! The main journeys: register, verify, sign in, refresh, sign out.

use crate::common::{self, PASSWORD, tokens};
use events::proto::auth::v1 as ev;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn register_login_refresh_logout() {
    let svc = common::start().await;
    let email = common::email("flow");
    let user_id = svc.register(&email).await;

    let r = svc.login(&email.to_uppercase(), PASSWORD, "phone-1").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["mfaRequired"], false);
    assert_eq!(r.data()["user"]["id"], user_id.to_string());
    assert_eq!(r.data()["user"]["roles"], json!(["resident"]));
    assert_eq!(r.data()["tokens"]["tokenType"], "Bearer");
    assert_eq!(r.data()["tokens"]["expiresIn"], 900);
    let (access, refresh, sid) = tokens(&r);

    // The token carries the documented claims and verifies like any service would.
    let claims = svc.verifier.verify(&access).await.unwrap();
    assert_eq!(claims.sub, user_id);
    assert_eq!(claims.sid.to_string(), sid);
    assert!(claims.perms.contains(&"orders.place".to_owned()));
    assert_eq!(claims.exp - claims.iat, 900);

    let me = svc.get_auth("/me", &access).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.data()["email"], email);
    assert_eq!(me.data()["emailVerified"], false);

    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let access2 = r.data()["accessToken"].as_str().unwrap().to_owned();
    let refresh2 = r.data()["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);

    let r = svc.post_auth("/logout", json!({}), &access2).await;
    assert_eq!(r.status, StatusCode::OK);
    // Both access tokens of the session die at once (deny-list), and so does the refresh.
    for token in [&access, &access2] {
        let r = svc.get_auth("/me", token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["success"], false);
    }
    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh2 }))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let created: Vec<ev::SessionCreated> = svc.events(events::types::AUTH_SESSION_CREATED).await;
    assert_eq!(created.len(), 1);
    let succeeded: ev::LoginSucceeded = svc
        .last_event(events::types::AUTH_SESSION_LOGIN_SUCCEEDED)
        .await
        .unwrap();
    assert_eq!(
        (succeeded.session_id.as_str(), succeeded.method.as_str()),
        (sid.as_str(), "password")
    );
    let revoked: ev::SessionRevoked = svc
        .last_event(events::types::AUTH_SESSION_REVOKED)
        .await
        .unwrap();
    assert_eq!(revoked.reason, "logout");
}

#[tokio::test]
async fn email_verification_token_is_single_use() {
    let svc = common::start().await;
    let email = common::email("verify");
    svc.register(&email).await;
    let req: ev::EmailVerificationRequested = svc
        .last_event(events::types::AUTH_USER_EMAIL_VERIFICATION_REQUESTED)
        .await
        .unwrap();
    assert_eq!(req.email, email);
    // Only the hash is stored.
    let r = svc
        .post("/verify-email", json!({ "token": req.token }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let again = svc
        .post("/verify-email", json!({ "token": req.token }))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.body["message"],
        "invalid or expired verification token"
    );
    let (access, _, _) = {
        let r = svc.login(&email, PASSWORD, "d").await;
        tokens(&r)
    };
    assert_eq!(
        svc.get_auth("/me", &access).await.data()["emailVerified"],
        true
    );
    assert!(
        svc.last_event::<ev::EmailVerified>(events::types::AUTH_USER_EMAIL_VERIFIED)
            .await
            .is_some()
    );
}

#[tokio::test]
async fn bad_registrations_are_refused_field_by_field() {
    let svc = common::start().await;
    let r = svc
        .post(
            "/register",
            json!({ "email": "a@example.com", "password": "password1234" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "password");
    let r = svc
        .post(
            "/register",
            json!({ "email": "a@example.com", "password": "short" }),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "password");
    let r = svc
        .post(
            "/register",
            json!({ "email": "nope", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "email");
    let r = svc
        .post(
            "/register",
            json!({ "phone": "12345", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "phone");
    let r = svc.post("/register", json!({ "password": PASSWORD })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Privileged roles cannot be self-assigned.
    let r = svc
        .post(
            "/register",
            json!({ "email": common::email("x"), "password": PASSWORD, "role": "super_admin" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "role");
    // Nothing was half-written.
    assert!(
        svc.events::<ev::UserRegistered>(events::types::AUTH_USER_REGISTERED)
            .await
            .is_empty()
    );
    // A self-service role is fine.
    let email = common::email("courier");
    let r = svc
        .post("/register", json!({ "email": email, "password": PASSWORD, "role": "courier", "referralCode": "FRIEND1" }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let ev: ev::UserRegistered = svc
        .last_event(events::types::AUTH_USER_REGISTERED)
        .await
        .unwrap();
    assert_eq!(ev.roles, vec!["courier"]);
    // An applicant: the right to take deliveries comes with verification only.
    let (access, _, _) = tokens(&svc.login(&email, PASSWORD, "d").await);
    let claims = svc.verifier.verify(&access).await.unwrap();
    assert!(claims.perms.contains(&"courier.apply".to_owned()));
    assert!(!claims.perms.contains(&"courier.work".to_owned()));
    assert_eq!(ev.referral_code, "FRIEND1");
}

#[tokio::test]
async fn password_change_keeps_this_session_and_ends_the_others() {
    let svc = common::start().await;
    let email = common::email("pwchange");
    let (a1, _, _) = svc.signed_in(&email).await;
    let (a2, _, _) = tokens(&svc.login(&email, PASSWORD, "laptop").await);
    let new_password = "marble otter lantern quietly";
    let r = svc
        .post_auth(
            "/password/change",
            json!({ "currentPassword": "wrong one entirely", "newPassword": new_password }),
            &a1,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "currentPassword");
    let r = svc
        .post_auth(
            "/password/change",
            json!({ "currentPassword": PASSWORD, "newPassword": new_password }),
            &a1,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(svc.get_auth("/me", &a1).await.status, StatusCode::OK);
    assert_eq!(
        svc.get_auth("/me", &a2).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.login(&email, PASSWORD, "d").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.login(&email, new_password, "d").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn password_reset_by_link_ends_every_session() {
    let svc = common::start().await;
    let email = common::email("reset");
    let (access, refresh, _) = svc.signed_in(&email).await;
    let r = svc
        .post("/password/forgot", json!({ "identifier": email }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let req: ev::PasswordResetRequested = svc
        .last_event(events::types::AUTH_USER_PASSWORD_RESET_REQUESTED)
        .await
        .unwrap();
    let new_password = "granite pelican umbrella";
    let r = svc
        .post(
            "/password/reset",
            json!({ "token": req.token, "newPassword": "password1234" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "newPassword");
    let r = svc
        .post(
            "/password/reset",
            json!({ "token": req.token, "newPassword": new_password }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = svc
        .post(
            "/password/reset",
            json!({ "token": req.token, "newPassword": new_password }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "single use");
    assert_eq!(
        svc.get_auth("/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.post("/refresh", json!({ "refreshToken": refresh }))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        svc.login(&email, new_password, "d").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_and_jwks_are_served() {
    let svc = common::start().await;
    let doc: serde_json::Value = svc.get_json("/api/auth/openapi.json").await;
    for path in [
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/2fa/enable",
        "/api/auth/admin/roles",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    let jwks: serde_json::Value = svc.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
}
