//! Preferences: someone who turned e-mail and promotions off still gets security mail;
//! community activity reaches them in the app only.

use crate::common::{self, eventually, text_of};
use events::proto::auth::v1 as auth;
use events::proto::community::v1 as community;
use events::proto::user::v1 as user;
use reqwest::StatusCode;
use uuid::Uuid;

#[tokio::test]
async fn security_mail_goes_out_whatever_the_preferences() {
    let svc = common::start().await;
    let (id, email) = svc.person().await;
    let key = id.to_string();
    svc.publish(
        &key,
        &user::PreferencesUpdated {
            user_id: key.clone(),
            push: false,
            sms: false,
            email: false,
            promotions: false,
        },
    )
    .await;
    eventually("the preferences", || async {
        let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
        notification::recipients::find(&mut conn, id)
            .await
            .unwrap()
            .is_some_and(|r| !r.pref_email)
    })
    .await;
    // A community they manage; a newcomer joins it with an invite.
    let community_id = Uuid::now_v7();
    let cid = community_id.to_string();
    svc.publish(
        &cid,
        &community::CommunityCreated {
            community_id: cid.clone(),
            name: "Quiet Close".into(),
            manager_id: key.clone(),
            ..Default::default()
        },
    )
    .await;
    let (newcomer, _) = svc.person().await;
    svc.publish(
        &cid,
        &community::MemberJoined {
            community_id: cid.clone(),
            user_id: newcomer.to_string(),
            role: community::CommunityRole::Resident as i32,
            invite_id: Uuid::now_v7().to_string(),
            manager_id: key.clone(),
        },
    )
    .await;
    // Then a password reset: security, so it is e-mailed.
    svc.publish(
        &key,
        &auth::PasswordResetRequested {
            user_id: key.clone(),
            email: email.clone(),
            token: "reset-token-123".into(),
            expires_at: None,
        },
    )
    .await;
    eventually("the reset e-mail", || async {
        !svc.mail_to(&email).is_empty()
    })
    .await;
    let token = svc.token(id, &[]);
    eventually("the in-app notice of the new member", || async {
        let r = svc.get("/unread-count", &token).await;
        r.data()["unread"] == 1
    })
    .await;
    let mails = svc.mail_to(&email);
    assert_eq!(
        mails.len(),
        1,
        "the reset only, not the member_joined e-mail"
    );
    assert!(text_of(&mails[0]).contains("http://app.test/reset-password?token=reset-token-123"));
    let r = svc.get("", &token).await.expect(StatusCode::OK);
    assert_eq!(r.data()["items"][0]["kind"], "member_joined");
    assert_eq!(r.data()["items"][0]["title"], "New member in Quiet Close");
    assert_eq!(
        svc.sql_count(&format!(
            "SELECT count(*) AS n FROM deliveries WHERE user_id = '{id}' AND kind = 'member_joined'"
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn a_code_goes_by_the_channel_the_event_names() {
    let svc = common::start().await;
    let (id, email) = svc.person().await;
    let key = id.to_string();
    svc.publish(
        &key,
        &auth::OtpRequested {
            user_id: key.clone(),
            channel: auth::OtpChannel::Sms as i32,
            destination: "+447700900123".into(),
            code: "493817".into(),
            purpose: "login".into(),
            expires_at: None,
        },
    )
    .await;
    svc.publish(
        &key,
        &auth::OtpRequested {
            user_id: key.clone(),
            channel: auth::OtpChannel::Email as i32,
            destination: email.clone(),
            code: "120456".into(),
            purpose: "verify_email".into(),
            expires_at: None,
        },
    )
    .await;
    eventually("the SMS", || async { !svc.sms.sent().is_empty() }).await;
    eventually("the e-mail", || async { !svc.mail_to(&email).is_empty() }).await;
    let sms = svc.sms.sent();
    assert_eq!(sms[0].0, "+447700900123");
    assert!(sms[0].1.contains("493817"));
    assert!(text_of(&svc.mail_to(&email)[0]).contains("120456"));
}

#[tokio::test]
async fn a_lockout_reaches_someone_who_turned_email_off_and_phone_only_accounts_by_sms() {
    let svc = common::start().await;
    let (id, email) = svc.person().await;
    let key = id.to_string();
    svc.publish(
        &key,
        &user::PreferencesUpdated {
            user_id: key.clone(),
            push: false,
            sms: false,
            email: false,
            promotions: false,
        },
    )
    .await;
    svc.publish(
        &key,
        &auth::AccountLocked {
            user_id: key.clone(),
            failed_attempts: 5,
            locked_until: None,
        },
    )
    .await;
    eventually("the lockout e-mail", || async {
        !svc.mail_to(&email).is_empty()
    })
    .await;
    assert!(
        svc.sms.sent().is_empty(),
        "SMS only when there is no verified address"
    );

    // An account known by its phone only.
    let phone_only = Uuid::now_v7();
    let pk = phone_only.to_string();
    svc.publish(
        &pk,
        &auth::UserRegistered {
            user_id: pk.clone(),
            phone: "+447700900999".into(),
            ..Default::default()
        },
    )
    .await;
    svc.publish(
        &pk,
        &auth::AccountLocked {
            user_id: pk.clone(),
            failed_attempts: 5,
            locked_until: None,
        },
    )
    .await;
    eventually("the lockout SMS", || async {
        svc.sms
            .sent()
            .iter()
            .any(|(to, text)| to == "+447700900999" && text.contains("locked"))
    })
    .await;
}
