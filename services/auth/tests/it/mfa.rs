//! TOTP two-factor authentication and recovery codes.

use crate::common::{self, PASSWORD, tokens};
use reqwest::StatusCode;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

fn totp(secret_b32: &str) -> TOTP {
    let secret = Secret::Encoded(secret_b32.to_owned()).to_bytes().unwrap();
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        Some("Neighbourly".into()),
        "x".into(),
    )
    .unwrap()
}

fn code_at(t: &TOTP, offset_steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    t.generate((now + offset_steps * 30) as u64)
}

/// Registers, signs in and enables MFA; returns (email, totp, recovery codes).
async fn enrolled(svc: &common::Service) -> (String, TOTP, Vec<String>) {
    let email = common::email("mfa");
    let (access, _, _) = svc.signed_in(&email).await;
    let r = svc
        .post_auth(
            "/2fa/setup",
            json!({ "password": "wrong password here" }),
            &access,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "setup needs the password"
    );
    let r = svc
        .post_auth("/2fa/setup", json!({ "password": PASSWORD }), &access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let uri = r.data()["otpauthUri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Neighbourly"), "{uri}");
    let t = totp(r.data()["secret"].as_str().unwrap());
    let r = svc
        .post_auth("/2fa/enable", json!({ "code": "000000" }), &access)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = svc
        .post_auth("/2fa/enable", json!({ "code": code_at(&t, -1) }), &access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let codes: Vec<String> = serde_json::from_value(r.data()["recoveryCodes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    // The wrong password above counted towards the lockout; start each test from zero.
    let id = svc.get_auth("/me", &access).await.data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    svc.state
        .limits
        .clear_failures(&format!("u:{id}"))
        .await
        .unwrap();
    (email, t, codes)
}

#[tokio::test]
async fn login_with_2fa_needs_the_second_step() {
    let svc = common::start().await;
    let (email, t, _) = enrolled(&svc).await;
    let r = svc.login(&email, PASSWORD, "laptop").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["mfaRequired"], true);
    assert!(
        r.data().get("tokens").is_none(),
        "no tokens before the second factor"
    );
    let mfa_token = r.data()["mfaToken"].as_str().unwrap().to_owned();

    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": mfa_token, "code": "123456" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The step used at enrolment cannot be replayed; the current one works.
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": mfa_token, "code": code_at(&t, -1) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "replayed code accepted");
    let code = code_at(&t, 0);
    let r = svc
        .post("/login/mfa", json!({ "mfaToken": mfa_token, "code": code }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (access, _, _) = tokens(&r);
    assert_eq!(
        svc.get_auth("/me", &access).await.data()["mfaEnabled"],
        true
    );
    // The challenge is spent.
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": mfa_token, "code": code_at(&t, 1) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let svc = common::start().await;
    let (email, _, codes) = enrolled(&svc).await;
    async fn challenge(svc: &common::Service, email: &str) -> String {
        let r = svc.login(email, PASSWORD, "phone-2").await;
        r.data()["mfaToken"].as_str().unwrap().to_owned()
    }
    let m1 = challenge(&svc, &email).await;
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": m1, "recoveryCode": codes[3].to_uppercase() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m2 = challenge(&svc, &email).await;
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": m2, "recoveryCode": codes[3] }),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a recovery code works once"
    );
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": m2, "recoveryCode": codes[4] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_challenge_dies_after_five_wrong_codes() {
    let mut config = common::config();
    config.lockout.threshold = 100;
    let svc = common::start_with(config).await;
    let (email, t, _) = enrolled(&svc).await;
    let r = svc.login(&email, PASSWORD, "laptop").await;
    let m = r.data()["mfaToken"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let r = svc
            .post("/login/mfa", json!({ "mfaToken": m, "code": "000001" }))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": m, "code": code_at(&t, 0) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["message"], "invalid or expired MFA challenge");
}

#[tokio::test]
async fn disabling_needs_password_and_code() {
    let svc = common::start().await;
    let (email, t, codes) = enrolled(&svc).await;
    let r = svc.login(&email, PASSWORD, "laptop").await;
    let m = r.data()["mfaToken"].as_str().unwrap().to_owned();
    let r = svc
        .post(
            "/login/mfa",
            json!({ "mfaToken": m, "code": code_at(&t, 0) }),
        )
        .await;
    let (access, _, _) = tokens(&r);
    let r = svc
        .post_auth(
            "/2fa/disable",
            json!({ "password": "wrong password here", "recoveryCode": codes[0] }),
            &access,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = svc
        .post_auth(
            "/2fa/disable",
            json!({ "password": PASSWORD, "code": "999999" }),
            &access,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = svc
        .post_auth(
            "/2fa/disable",
            json!({ "password": PASSWORD, "recoveryCode": codes[0] }),
            &access,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = svc.login(&email, PASSWORD, "laptop").await;
    assert_eq!(r.data()["mfaRequired"], false);
}

#[tokio::test]
async fn wrong_second_factors_count_towards_the_lockout() {
    // Threshold 3: fresh challenges do not reset the count, so TOTP cannot be brute-forced
    // by asking for new challenges.
    let svc = common::start().await;
    let (email, t, _) = enrolled(&svc).await;
    for _ in 0..3 {
        let r = svc.login(&email, PASSWORD, "laptop").await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let m = r.data()["mfaToken"].as_str().unwrap().to_owned();
        let r = svc
            .post("/login/mfa", json!({ "mfaToken": m, "code": "000001" }))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = svc.login(&email, PASSWORD, "laptop").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    let _ = t;
}
