//! The user service's decisions reach auth through the broker: a suspension blocks login
//! and kills live sessions at once; reinstatement lifts it; courier verification grants
//! the role; joining a community makes a non-resident a resident.

use crate::common::{self, PASSWORD, tokens};
use diesel_async::AsyncConnection;
use diesel_async::scoped_futures::ScopedFutureExt;
use events::DomainEvent;
use events::proto::{community::v1 as community, courier::v1 as courier, user::v1 as user};
use platform::kafka::KafkaConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner};
use platform::kafka::outbox::OutboxRecord;
use platform::kafka::relay::{OutboxRelay, RelayConfig};
use reqwest::StatusCode;
use serde_json::json;

async fn publish<E: DomainEvent>(svc: &common::Service, topic: &str, key: &str, event: &E) {
    let record = OutboxRecord {
        topic: topic.to_owned(),
        key: key.to_owned(),
        event_type: E::TYPE.to_owned(),
        subject: Some(format!("user/{key}")),
        payload: event.encode_to_vec(),
    };
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    let outbox = platform::kafka::outbox::Outbox::new("user");
    conn.transaction::<_, platform::db::DbError, _>(|conn| {
        async move { outbox.add_record(conn, &record, None).await.map(|_| ()) }.scope_boxed()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn suspension_blocks_login_and_kills_live_sessions() {
    let svc = common::start().await;
    let kafka = KafkaConfig::new(test_support::kafka_bootstrap(), "auth-it");
    // Private topics stand in for user.profile.v1 and courier.courier.v1, so parallel test
    // runs do not see each other's events.
    let users_topic = test_support::unique("test.user.profile");
    let couriers_topic = test_support::unique("test.courier.courier");
    let all: Vec<String> = [&users_topic, &couriers_topic]
        .iter()
        .flat_map(|t| [t.to_string(), events::topics::dlq_of(t)])
        .collect();
    platform::kafka::admin::ensure_topics(&kafka, &all, 3)
        .await
        .unwrap();
    let relay = OutboxRelay::new(svc.state.pool.clone(), &kafka, RelayConfig::default()).unwrap();
    tokio::spawn(relay.run(svc.shutdown.clone()));
    let config = ConsumerConfig::new(
        test_support::unique("auth-it"),
        &[&users_topic, &couriers_topic],
    );
    let runner = ConsumerRunner::new(
        svc.state.pool.clone(),
        &kafka,
        config,
        auth::consumer::Handler {
            state: svc.state.clone(),
        },
    )
    .unwrap();
    tokio::spawn(runner.run(svc.shutdown.clone()));

    let email = common::email("suspend");
    let user_id = svc.register(&email).await;
    let (access, refresh, _) = tokens(&svc.login(&email, PASSWORD, "d").await);
    let suspended = user::UserSuspended {
        user_id: user_id.to_string(),
        reason: "abuse".into(),
        until: None,
    };
    publish(&svc, &users_topic, &user_id.to_string(), &suspended).await;
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

    publish(
        &svc,
        &users_topic,
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
    publish(&svc, &couriers_topic, &user_id.to_string(), &verified).await;
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
    let svc = common::start().await;
    let kafka = KafkaConfig::new(test_support::kafka_bootstrap(), "auth-it");
    let members_topic = test_support::unique("test.community.member");
    platform::kafka::admin::ensure_topics(
        &kafka,
        &[
            members_topic.clone(),
            events::topics::dlq_of(&members_topic),
        ],
        3,
    )
    .await
    .unwrap();
    let relay = OutboxRelay::new(svc.state.pool.clone(), &kafka, RelayConfig::default()).unwrap();
    tokio::spawn(relay.run(svc.shutdown.clone()));
    let config = ConsumerConfig::new(test_support::unique("auth-it"), &[&members_topic]);
    let runner = ConsumerRunner::new(
        svc.state.pool.clone(),
        &kafka,
        config,
        auth::consumer::Handler {
            state: svc.state.clone(),
        },
    )
    .unwrap();
    tokio::spawn(runner.run(svc.shutdown.clone()));

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
    publish(&svc, &members_topic, &joined.community_id, &joined).await;
    test_support::eventually("the resident role", || async {
        roles(&svc.login(&email, PASSWORD, "d").await).contains(&"resident".to_owned())
    })
    .await;

    // A second community changes nothing: one roles_changed event in all.
    let second = community::MemberJoined {
        community_id: uuid::Uuid::now_v7().to_string(),
        ..joined
    };
    publish(&svc, &members_topic, &second.community_id, &second).await;
    let probe = community::MemberJoined {
        community_id: uuid::Uuid::now_v7().to_string(),
        user_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    // An unknown user is ignored (not dead-lettered). The inbox shows when all three records
    // were handled.
    publish(&svc, &members_topic, &probe.community_id, &probe).await;
    test_support::eventually("all three joins handled", || async {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
        let c: Count = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query("SELECT count(*) AS n FROM processed_events WHERE topic = $1")
                .bind::<diesel::sql_types::Text, _>(&members_topic),
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
