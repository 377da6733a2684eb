//! The user service's decisions reach auth through the broker: a suspension blocks login
//! and kills live sessions at once; reinstatement lifts it; courier verification grants
//! the role; joining a community makes a non-resident a resident.

use crate::common::{self, PASSWORD, tokens};
use events::proto::{community::v1 as community, courier::v1 as courier, user::v1 as user};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn suspension_blocks_login_and_kills_live_sessions() {
    let svc = common::start_consuming().await;

    let email = common::email("suspend");
    let user_id = svc.register(&email).await;
    let (access, refresh, _) = tokens(&svc.login(&email, PASSWORD, "d").await);
    let suspended = user::UserSuspended {
        user_id: user_id.to_string(),
        reason: "abuse".into(),
        until: None,
    };
    svc.publish(&user_id.to_string(), &suspended).await;
    test_support::eventually("the live session to die", || async {
        svc.get_auth("/me", &access).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    let r = svc.login(&email, PASSWORD, "d").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["message"], "account is suspended");
    assert_eq!(
        svc.post("/refresh", json!({ "refreshToken": refresh }))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Suspended accounts get no codes either.
    svc.post(
        "/otp/send",
        json!({ "identifier": email, "purpose": "login" }),
    )
    .await;
    assert!(
        svc.events::<events::proto::auth::v1::OtpRequested>(events::types::AUTH_OTP_REQUESTED)
            .await
            .is_empty()
    );

    svc.publish(
        &user_id.to_string(),
        &user::UserReinstated {
            user_id: user_id.to_string(),
        },
    )
    .await;
    test_support::eventually("login to work again", || async {
        svc.login(&email, PASSWORD, "d").await.status == StatusCode::OK
    })
    .await;

    let verified = courier::CourierVerified {
        user_id: user_id.to_string(),
        verified_by: String::new(),
    };
    svc.publish(&user_id.to_string(), &verified).await;
    test_support::eventually("the verified_courier role", || async {
        let r = svc.login(&email, PASSWORD, "d").await;
        r.data()["user"]["roles"]
            .as_array()
            .is_some_and(|roles| roles.iter().any(|r| r == "verified_courier"))
    })
    .await;
}

#[tokio::test]
async fn joining_a_community_grants_the_resident_role_once() {
    let svc = common::start_consuming().await;

    // A courier applicant has no resident role until a community takes them in.
    let email = common::email("joiner");
    let r = svc
        .post(
            "/register",
            json!({ "email": email, "password": PASSWORD, "role": "courier" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let roles = |r: &common::Resp| -> Vec<String> {
        r.data()["user"]["roles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = svc.login(&email, PASSWORD, "d").await;
    assert!(
        !roles(&before).contains(&"resident".to_owned()),
        "{:?}",
        before.body
    );
    let user_id = before.data()["user"]["id"].as_str().unwrap().to_owned();

    let joined = community::MemberJoined {
        community_id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.clone(),
        role: community::CommunityRole::Resident as i32,
        invite_id: String::new(),
        manager_id: String::new(),
    };
    svc.publish(&joined.community_id, &joined).await;
    test_support::eventually("the resident role", || async {
        roles(&svc.login(&email, PASSWORD, "d").await).contains(&"resident".to_owned())
    })
    .await;

    // A second community changes nothing: one roles_changed event in all.
    let second = community::MemberJoined {
        community_id: uuid::Uuid::now_v7().to_string(),
        ..joined
    };
    svc.publish(&second.community_id, &second).await;
    let probe = community::MemberJoined {
        community_id: uuid::Uuid::now_v7().to_string(),
        user_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    // An unknown user is ignored (not dead-lettered). The inbox shows when all three records
    // were handled.
    svc.publish(&probe.community_id, &probe).await;
    test_support::eventually("all three joins handled", || async {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
        let c: Count =
            diesel_async::RunQueryDsl::get_result(
                diesel::sql_query("SELECT count(*) AS n FROM processed_events WHERE topic = $1")
                    .bind::<diesel::sql_types::Text, _>(
                    svc.topic(events::topics::COMMUNITY_MEMBER.name()),
                ),
                &mut conn,
            )
            .await
            .unwrap();
        c.n == 3
    })
    .await;
    let changes = svc
        .events::<events::proto::auth::v1::RolesChanged>(events::types::AUTH_USER_ROLES_CHANGED)
        .await;
    let mine: Vec<_> = changes.iter().filter(|e| e.user_id == user_id).collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
}
