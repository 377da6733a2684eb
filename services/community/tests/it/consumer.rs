//! What the service learns through the broker: verified e-mails and names from auth and
//! user events, and deleted accounts leaving their communities.

use crate::common::{self, CREATE};
use events::proto::auth::v1 as auth;
use events::proto::community::v1 as ev;
use events::proto::user::v1 as user;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn people_are_learnt_from_events_and_deleted_accounts_leave() {
    let svc = common::start_consuming().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Event Street").await;

    let resident = Uuid::now_v7();
    let email = format!("r{}@example.com", resident.simple());
    let token = svc.token(resident, &[]);
    svc.publish(
        resident,
        &auth::UserRegistered {
            user_id: resident.to_string(),
            email: email.clone(),
            ..Default::default()
        },
    )
    .await;
    let (_, join_token) = svc.invite(id, &manager, &email).await;
    // Registered but not verified yet: refused until auth says so.
    common::eventually("the registration", || async {
        person_known(&svc, resident).await
    })
    .await;
    let r = svc
        .post("/join", json!({ "token": join_token }), &token)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], "email_not_verified");
    // A second community's invite stays open: the deletion below withdraws it.
    let other = svc.community(&manager, "Other Street").await;
    svc.invite(other, &manager, &email).await;
    svc.publish(
        resident,
        &auth::EmailVerified {
            user_id: resident.to_string(),
            email: email.to_uppercase(),
        },
    )
    .await;
    svc.publish(
        resident,
        &user::ProfileCreated {
            user_id: resident.to_string(),
            username: "rosa".into(),
            ..Default::default()
        },
    )
    .await;
    svc.publish(
        resident,
        &user::ProfileUpdated {
            user_id: resident.to_string(),
            changed: vec!["firstName".into()],
            username: "rosa".into(),
            first_name: "Rosa".into(),
            last_name: "Parks".into(),
        },
    )
    .await;
    common::eventually("the join once the e-mail is known verified", || async {
        svc.post("/join", json!({ "token": join_token }), &token)
            .await
            .status
            == StatusCode::CREATED
    })
    .await;
    common::eventually("the member's name", || async {
        let r = svc
            .get(&format!("/{id}/members?role=resident"), &manager.token)
            .await;
        r.data()["items"][0]["user"]["name"] == "Rosa Parks"
    })
    .await;

    svc.publish(
        resident,
        &user::UserDeleted {
            user_id: resident.to_string(),
        },
    )
    .await;
    common::eventually("the deleted account leaves", || async {
        let r = svc.get(&format!("/{id}/members"), &manager.token).await;
        r.data()["totalCount"] == 1
    })
    .await;
    let left: Vec<ev::MemberLeft> = svc.events("community.member.left").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].user_id, resident.to_string());
    // The address is gone from the invites (accepted or open), and the open one is closed.
    let r = svc
        .get(&format!("/{other}/invites"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["items"][0]["status"], "revoked");
    for community in [id, other] {
        let r = svc
            .get(&format!("/{community}/invites"), &manager.token)
            .await
            .expect(StatusCode::OK);
        assert!(
            !r.body.to_string().contains(&email),
            "{community}: {}",
            r.body
        );
    }

    // A late event does not bring the person back.
    svc.publish(
        resident,
        &auth::EmailVerified {
            user_id: resident.to_string(),
            email: email.clone(),
        },
    )
    .await;
    let marker = Uuid::now_v7();
    // Same key as the late event: the same partition, so handled after it.
    svc.publish(
        resident,
        &auth::UserRegistered {
            user_id: marker.to_string(),
            ..Default::default()
        },
    )
    .await;
    use community::schema::people as p;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    common::eventually("the marker after the late event", || async {
        let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
        p::table
            .find(marker)
            .select(p::user_id)
            .first::<Uuid>(&mut conn)
            .await
            .is_ok()
    })
    .await;
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    let kept: (Option<String>, Option<String>) = p::table
        .find(resident)
        .select((p::verified_email, p::first_name))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(kept, (None, None));
}

async fn person_known(svc: &common::Service, user: Uuid) -> bool {
    use community::schema::people as p;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    p::table
        .find(user)
        .select(p::user_id)
        .first::<Uuid>(&mut conn)
        .await
        .is_ok()
}

/// An address proven by a second account is no longer the first one's (auth lets an
/// address move once its owner gave it up).
#[tokio::test]
async fn a_verified_address_belongs_to_one_person_at_a_time() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Moving Day").await;
    let first = svc.person(&[]).await;
    let second = svc.person(&[]).await;
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    community::people::set_verified_email(&mut conn, second.id, &first.email.to_uppercase())
        .await
        .unwrap();
    assert_eq!(
        community::people::verified_email(&mut conn, first.id)
            .await
            .unwrap(),
        None
    );
    drop(conn);
    let (_, token) = svc.invite(id, &manager, &first.email).await;
    let r = svc
        .post("/join", json!({ "token": token }), &first.token)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], "email_not_verified");
    svc.post("/join", json!({ "token": token }), &second.token)
        .await
        .expect(StatusCode::CREATED);
}
