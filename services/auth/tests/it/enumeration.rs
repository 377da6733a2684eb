//! Nothing the API answers tells whether an account exists.

use crate::common::{self, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_answers_alike_for_unknown_accounts_and_wrong_passwords() {
    let svc = common::start().await;
    let email = common::email("known");
    svc.register(&email).await;
    let wrong = svc.login(&email, "a wrong password entirely", "d").await;
    let unknown = svc.login(&common::email("unknown"), PASSWORD, "d").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    // Lockout behaves the same too: unknown identifiers get locked like real accounts.
    let ghost = common::email("ghost");
    for _ in 0..3 {
        svc.login(&email, "a wrong password entirely", "d").await;
        svc.login(&ghost, "a wrong password entirely", "d").await;
    }
    let a = svc.login(&email, "a wrong password entirely", "d").await;
    let b = svc.login(&ghost, "a wrong password entirely", "d").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!((a.status, &a.body), (b.status, &b.body));
}

#[tokio::test]
async fn forgot_password_and_registration_answer_alike() {
    let svc = common::start().await;
    let email = common::email("known");
    svc.register(&email).await;
    let known = svc
        .post("/password/forgot", json!({ "identifier": email }))
        .await;
    let unknown = svc
        .post(
            "/password/forgot",
            json!({ "identifier": common::email("nobody") }),
        )
        .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    let resets: Vec<events::proto::auth::v1::PasswordResetRequested> = svc
        .events(events::types::AUTH_USER_PASSWORD_RESET_REQUESTED)
        .await;
    assert_eq!(resets.len(), 1, "only the real account gets a link");

    let again = svc
        .post("/register", json!({ "email": email, "password": PASSWORD }))
        .await;
    let fresh = svc
        .post(
            "/register",
            json!({ "email": common::email("fresh"), "password": PASSWORD }),
        )
        .await;
    assert_eq!((again.status, &again.body), (fresh.status, &fresh.body));
    let attempted: Vec<events::proto::auth::v1::RegistrationAttempted> = svc
        .events(events::types::AUTH_USER_REGISTRATION_ATTEMPTED)
        .await;
    assert_eq!(attempted.len(), 1, "the owner is told instead");
}
