//! One-time codes: attempts, limits, single use, passwordless login and phone verification.

use crate::common::{self, PASSWORD};
use events::proto::auth::v1 as ev;
use reqwest::StatusCode;
use serde_json::json;

fn wrong(code: &str) -> String {
    let d = code.as_bytes()[0] - b'0';
    format!("{}{}", (d + 1) % 10, &code[1..])
}

#[tokio::test]
async fn the_fourth_attempt_fails_even_with_the_right_code() {
    let svc = common::start().await;
    let email = common::email("otp4");
    svc.register_verified(&email).await;
    let r = svc
        .post(
            "/otp/send",
            json!({ "identifier": email, "purpose": "login" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let code = svc.otp_code(&email).await;
    assert_eq!(code.len(), 6);
    for _ in 0..3 {
        let r = svc
            .post(
                "/login/otp",
                json!({ "identifier": email, "code": wrong(&code) }),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.body["message"], "invalid or expired code");
    }
    let r = svc
        .post("/login/otp", json!({ "identifier": email, "code": code }))
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "4th attempt must fail: {:?}",
        r.body
    );
}

#[tokio::test]
async fn passwordless_login_with_a_code_works_once() {
    let svc = common::start().await;
    let email = common::email("otplogin");
    svc.register(&email).await;
    // No login codes to an address nobody has proven yet (pre-registration hijack).
    svc.post(
        "/otp/send",
        json!({ "identifier": email, "purpose": "login" }),
    )
    .await;
    assert!(
        svc.events::<ev::OtpRequested>(events::types::AUTH_OTP_REQUESTED)
            .await
            .is_empty()
    );
    let req: ev::EmailVerificationRequested = svc
        .last_event(events::types::AUTH_USER_EMAIL_VERIFICATION_REQUESTED)
        .await
        .unwrap();
    svc.post("/verify-email", json!({ "token": req.token }))
        .await;
    svc.post(
        "/otp/send",
        json!({ "identifier": email, "purpose": "login" }),
    )
    .await;
    let sent: ev::OtpRequested = svc
        .last_event(events::types::AUTH_OTP_REQUESTED)
        .await
        .unwrap();
    assert_eq!(sent.channel, ev::OtpChannel::Email as i32);
    assert_eq!(sent.purpose, "login");
    let r = svc
        .post(
            "/login/otp",
            json!({ "identifier": email, "code": sent.code, "deviceId": "tablet" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.data()["tokens"]["accessToken"].is_string());
    let r = svc
        .post(
            "/login/otp",
            json!({ "identifier": email, "code": sent.code }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "single use");
}

#[tokio::test]
async fn at_most_three_codes_per_identifier_per_window() {
    let svc = common::start().await;
    let email = common::email("otplimit");
    svc.register_verified(&email).await;
    for _ in 0..3 {
        let r = svc
            .post(
                "/otp/send",
                json!({ "identifier": email, "purpose": "login" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = svc
        .post(
            "/otp/send",
            json!({ "identifier": email, "purpose": "password_reset" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    // Unknown identifiers are limited the same way (and never get a code).
    let ghost = common::email("ghost");
    for _ in 0..3 {
        let r = svc
            .post(
                "/otp/send",
                json!({ "identifier": ghost, "purpose": "login" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = svc
        .post(
            "/otp/send",
            json!({ "identifier": ghost, "purpose": "login" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let sent: Vec<ev::OtpRequested> = svc.events(events::types::AUTH_OTP_REQUESTED).await;
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|e| e.destination == email));
}

#[tokio::test]
async fn phone_is_verified_by_sms_code_and_reset_works_by_code() {
    let svc = common::start().await;
    let phone = format!("+4477009{:05}", rand_digits());
    let r = svc
        .post("/register", json!({ "phone": phone, "password": PASSWORD }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    svc.post(
        "/otp/send",
        json!({ "identifier": phone, "purpose": "verify_phone" }),
    )
    .await;
    let sent: ev::OtpRequested = svc
        .last_event(events::types::AUTH_OTP_REQUESTED)
        .await
        .unwrap();
    assert_eq!(sent.channel, ev::OtpChannel::Sms as i32);
    let r = svc
        .post(
            "/otp/verify",
            json!({ "identifier": phone, "purpose": "verify_phone", "code": sent.code }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let verified: ev::PhoneVerified = svc
        .last_event(events::types::AUTH_USER_PHONE_VERIFIED)
        .await
        .unwrap();
    assert_eq!(verified.phone, phone);
    let r = svc.login(&phone, PASSWORD, "phone").await;
    assert_eq!(r.data()["user"]["phoneVerified"], true);

    // Forgot password by phone: a code, then a reset token from /otp/verify.
    let r = svc
        .post("/password/forgot", json!({ "identifier": phone }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let code = svc.otp_code(&phone).await;
    let r = svc
        .post(
            "/otp/verify",
            json!({ "identifier": phone, "purpose": "password_reset", "code": code }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = r.data()["resetToken"].as_str().unwrap().to_owned();
    let new_password = "cobalt heron windmill";
    let r = svc
        .post(
            "/password/reset",
            json!({ "token": token, "newPassword": new_password }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        svc.login(&phone, new_password, "phone").await.status,
        StatusCode::OK
    );
}

fn rand_digits() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    u32::from_le_bytes(b) % 100_000
}

#[tokio::test]
async fn a_code_only_verifies_the_number_it_was_sent_to() {
    let svc = common::start().await;
    let email = common::email("swap");
    svc.register(&email).await;
    let (access, _, _) = crate::common::tokens(&svc.login(&email, PASSWORD, "d").await);
    let mine = format!("+4477008{:05}", rand_digits());
    let victims = format!("+4477007{:05}", rand_digits());
    let r = svc
        .call(
            reqwest::Method::PUT,
            "/me/phone",
            Some(json!({ "password": PASSWORD, "phone": mine })),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let code = svc.otp_code(&mine).await;
    let r = svc
        .call(
            reqwest::Method::PUT,
            "/me/phone",
            Some(json!({ "password": PASSWORD, "phone": victims })),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The code for the first number must not mark the second one verified.
    let r = svc
        .post(
            "/otp/verify",
            json!({ "identifier": mine, "purpose": "verify_phone", "code": code }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        svc.get_auth("/me", &access).await.data()["phoneVerified"],
        false
    );
}

#[tokio::test]
async fn only_the_newest_code_works() {
    let svc = common::start().await;
    let email = common::email("newest");
    svc.register_verified(&email).await;
    svc.post(
        "/otp/send",
        json!({ "identifier": email, "purpose": "login" }),
    )
    .await;
    let first = svc.otp_code(&email).await;
    svc.post(
        "/otp/send",
        json!({ "identifier": email, "purpose": "login" }),
    )
    .await;
    let second = svc.otp_code(&email).await;
    if first != second {
        let r = svc
            .post("/login/otp", json!({ "identifier": email, "code": first }))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = svc
        .post("/login/otp", json!({ "identifier": email, "code": second }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}
