//! Invites: one active per address, bulk invites with per-address results, listing,
//! revoking, expiry.

use crate::common::{self, CREATE};
use events::proto::community::v1 as ev;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn active_invites(svc: &common::Service, email: &str) -> i64 {
    use community::schema::invites as i;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    i::table
        .filter(i::email.eq(email))
        .filter(i::status.eq("active"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn inviting_twice_resends_the_one_active_invite_with_the_same_token() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Rowan Rise").await;
    let path = format!("/{id}/invites");

    let first = svc
        .post(
            &path,
            json!({ "email": "neighbour@example.com" }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.data()["status"], "active");
    assert_eq!(first.data()["sentCount"], 1);
    // Sent a while ago (re-sends closer together than COMMUNITY_RESEND_INTERVAL are not
    // e-mailed, see below).
    svc.sql("UPDATE invites SET last_sent_at = now() - interval '11 minutes'")
        .await;
    let again = svc
        .post(
            &path,
            json!({ "email": "  Neighbour@EXAMPLE.com " }),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.data()["id"], first.data()["id"]);
    assert_eq!(again.data()["sentCount"], 2);
    assert_eq!(again.data()["expiresAt"], first.data()["expiresAt"]);
    assert_eq!(active_invites(&svc, "neighbour@example.com").await, 1);
    // At once again: nothing is sent, and the answer says so.
    let third = svc
        .post(
            &path,
            json!({ "email": "neighbour@example.com", "communityId": id }),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(third.data()["sentCount"], 2);
    assert!(
        third.body["message"]
            .as_str()
            .unwrap()
            .contains("not sent again")
    );

    let sent: Vec<ev::InviteCreated> = svc.events("community.invite.created").await;
    assert_eq!(sent.len(), 2, "both sends reach the notification service");
    assert_eq!(sent[0].token, sent[1].token);
    assert_eq!(sent[0].token.len(), 43);
    assert!(!sent[0].resent && sent[1].resent);
    assert_eq!(sent[1].email, "neighbour@example.com");
    assert_eq!(sent[1].community_name, "Rowan Rise");

    // The database holds only the token's hash.
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    let stored: Vec<u8> = community::schema::invites::table
        .select(community::schema::invites::token_hash)
        .first(&mut conn)
        .await
        .unwrap();
    assert_ne!(stored, sent[0].token.as_bytes());
    assert_eq!(stored, community::tokens::hash(&sent[0].token));

    svc.post(&path, json!({ "email": "not-an-address" }), &manager.token)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let other = uuid::Uuid::now_v7();
    let r = svc
        .post(
            &path,
            json!({ "email": "b@example.com", "communityId": other }),
            &manager.token,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "communityId");
}

#[tokio::test]
async fn a_resident_cannot_invite() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Holly Mews").await;
    let resident = svc.member(id, &manager).await;
    let r = svc
        .post(
            &format!("/{id}/invites"),
            json!({ "email": "friend@example.com" }),
            &resident.token,
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(r.body["message"].as_str().unwrap().contains("manager"));
    svc.post(
        &format!("/{id}/invites/bulk"),
        json!({ "emails": ["friend@example.com"] }),
        &resident.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.get(&format!("/{id}/invites"), &resident.token)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(active_invites(&svc, "friend@example.com").await, 0);
}

#[tokio::test]
async fn a_bulk_invite_of_500_reports_every_address() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Poplar Place").await;
    // Two members, two addresses with an active invite already.
    let m1 = svc.member(id, &manager).await;
    let m2 = svc.member(id, &manager).await;
    svc.invite(id, &manager, "pending1@example.com").await;
    svc.invite(id, &manager, "pending2@example.com").await;
    svc.sql("UPDATE invites SET last_sent_at = now() - interval '1 hour' WHERE status = 'active'")
        .await;

    let mut emails: Vec<String> = Vec::new();
    let mut want: Vec<&str> = Vec::new();
    for n in 0..480 {
        emails.push(format!("new{n}@example.com"));
        want.push("invited");
    }
    for n in 0..10 {
        emails.push(format!("NEW{n}@example.com"));
        want.push("duplicate");
    }
    for bad in [
        "",
        "nobody",
        "a@",
        "@b.com",
        "two@@example.com",
        "sp ace@example.com",
    ] {
        emails.push(bad.into());
        want.push("invalid");
    }
    emails.push(m1.email.to_uppercase());
    want.push("already_member");
    emails.push(m2.email.clone());
    want.push("already_member");
    emails.push("pending1@example.com".into());
    want.push("resent");
    emails.push("Pending2@Example.com".into());
    want.push("resent");
    assert_eq!(emails.len(), 500);

    let r = svc
        .post(
            &format!("/{id}/invites/bulk"),
            json!({ "emails": emails }),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    let rows = r.data()["results"].as_array().unwrap();
    assert_eq!(rows.len(), 500);
    for (n, (row, want)) in rows.iter().zip(&want).enumerate() {
        assert_eq!(row["email"], emails[n], "row {n} keeps the address as sent");
        assert_eq!(row["outcome"], *want, "row {n}: {row}");
        assert_eq!(
            row["invite"].is_object(),
            matches!(*want, "invited" | "resent"),
            "row {n}"
        );
    }
    assert_eq!(
        r.data()["counts"],
        json!({ "invited": 480, "resent": 2, "recentlySent": 0, "alreadyMember": 2, "invalid": 6, "duplicate": 10 })
    );
    let sent: Vec<ev::InviteCreated> = svc.events("community.invite.created").await;
    // 4 from the set-up, then one e-mail per invited or re-sent address.
    assert_eq!(sent.len(), 4 + 480 + 2);
    let tokens: std::collections::HashSet<&str> = sent.iter().map(|e| e.token.as_str()).collect();
    assert_eq!(
        tokens.len(),
        4 + 480,
        "a re-send repeats its token, new invites differ"
    );

    // Again at once: every address has an invite e-mailed a moment ago, nothing is sent.
    let r = svc
        .post(
            &format!("/{id}/invites/bulk"),
            json!({ "emails": emails }),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["counts"]["invited"], 0);
    assert_eq!(r.data()["counts"]["resent"], 0);
    assert_eq!(r.data()["counts"]["recentlySent"], 482);
    let after: Vec<ev::InviteCreated> = svc.events("community.invite.created").await;
    assert_eq!(after.len(), sent.len());

    let too_many: Vec<String> = (0..501).map(|n| format!("x{n}@example.com")).collect();
    svc.post(
        &format!("/{id}/invites/bulk"),
        json!({ "emails": too_many }),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    svc.post(
        &format!("/{id}/invites/bulk"),
        json!({ "emails": [] }),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    assert_eq!(active_invites(&svc, "x0@example.com").await, 0);
}

#[tokio::test]
async fn invites_are_listed_by_status_and_can_be_revoked() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Linden Row").await;
    let (keep, _) = svc.invite(id, &manager, "keep@example.com").await;
    let invitee = svc.person(&[]).await;
    let (drop, token) = svc.invite(id, &manager, &invitee.email).await;

    let r = svc
        .post(
            &format!("/{id}/invites/{drop}/revoke"),
            Value::Null,
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["status"], "revoked");
    svc.post(
        &format!("/{id}/invites/{drop}/revoke"),
        Value::Null,
        &manager.token,
    )
    .await
    .expect(StatusCode::CONFLICT);
    svc.post(
        &format!("/{id}/invites/{}/revoke", uuid::Uuid::now_v7()),
        Value::Null,
        &manager.token,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    let revoked: Vec<ev::InviteRevoked> = svc.events("community.invite.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].invite_id, drop.to_string());

    let ids = |r: &common::Resp| -> Vec<String> {
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = svc
        .get(&format!("/{id}/invites?status=active"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&r), [keep.to_string()]);
    let r = svc
        .get(&format!("/{id}/invites?status=revoked"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&r), [drop.to_string()]);
    let r = svc
        .get(&format!("/{id}/invites"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 2);
    svc.get(&format!("/{id}/invites?status=lost"), &manager.token)
        .await
        .expect(StatusCode::BAD_REQUEST);

    // A revoked token is refused; a new invite to the address is a new invite.
    let r = svc
        .post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::GONE);
    assert!(r.body["message"].as_str().unwrap().contains("withdrawn"));
    assert_eq!(r.body["code"], "invite_revoked");
    let r = svc
        .post(
            &format!("/{id}/invites"),
            json!({ "email": invitee.email }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_ne!(r.data()["id"], drop.to_string());
}

#[tokio::test]
async fn the_expiry_sweep_closes_due_invites_and_a_new_invite_gets_a_new_token() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Maple Yard").await;
    let invitee = svc.person(&[]).await;
    let (old, old_token) = svc.invite(id, &manager, &invitee.email).await;
    let (fresh, _) = svc.invite(id, &manager, "later@example.com").await;
    svc.sql(&format!(
        "UPDATE invites SET expires_at = now() - interval '1 minute' WHERE id = '{old}'"
    ))
    .await;

    // Due but not swept yet: already refused.
    let r = svc
        .post("/join", json!({ "token": old_token }), &invitee.token)
        .await
        .expect(StatusCode::GONE);
    assert_eq!(r.body["code"], "invite_expired");

    assert_eq!(community::invites::sweep(&svc.state).await.unwrap(), 1);
    assert_eq!(community::invites::sweep(&svc.state).await.unwrap(), 0);
    let expired: Vec<ev::InviteExpired> = svc.events("community.invite.expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].invite_id, old.to_string());
    let r = svc
        .get(&format!("/{id}/invites?status=expired"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);
    let r = svc
        .get(&format!("/{id}/invites?status=active"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["items"][0]["id"], fresh.to_string());

    let r = svc
        .post("/join", json!({ "token": old_token }), &invitee.token)
        .await
        .expect(StatusCode::GONE);
    assert!(r.body["message"].as_str().unwrap().contains("expired"));
    let (renewed, new_token) = svc.invite(id, &manager, &invitee.email).await;
    assert_ne!(renewed, old);
    assert_ne!(new_token, old_token);
    svc.post("/join", json!({ "token": new_token }), &invitee.token)
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn an_invite_due_but_not_swept_is_replaced_not_resent() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Spruce End").await;
    let (old, _) = svc.invite(id, &manager, "late@example.com").await;
    svc.sql(&format!(
        "UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = '{old}'"
    ))
    .await;
    let r = svc
        .post(
            &format!("/{id}/invites"),
            json!({ "email": "late@example.com" }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_ne!(r.data()["id"], old.to_string());
    assert_eq!(active_invites(&svc, "late@example.com").await, 1);
    let expired: Vec<ev::InviteExpired> = svc.events("community.invite.expired").await;
    assert_eq!(expired.len(), 1);
}

#[tokio::test]
async fn concurrent_invites_of_one_address_make_one_invite() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Race Row").await;
    let path = format!("/{id}/invites");
    let calls = (0..10).map(|_| {
        svc.post(
            &path,
            json!({ "email": "racer@example.com" }),
            &manager.token,
        )
    });
    let answers = futures::future::join_all(calls).await;
    let created = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let known = answers
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(
        (created, known),
        (1, 9),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .map(|r| r.data()["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(active_invites(&svc, "racer@example.com").await, 1);
    let r = svc
        .get(&format!("{path}?status=active"), &manager.token)
        .await
        .expect(StatusCode::OK);
    // The other nine came within the re-send interval: one e-mail in all.
    assert_eq!(r.data()["items"][0]["sentCount"], 1);
    let sent: Vec<ev::InviteCreated> = svc.events("community.invite.created").await;
    assert_eq!(sent.len(), 1);
}

#[tokio::test]
async fn a_bulk_invite_that_fails_midway_writes_nothing() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Fragile Fields").await;
    let (pending, _) = svc.invite(id, &manager, "pending@example.com").await;
    svc.sql("UPDATE invites SET last_sent_at = now() - interval '1 hour'")
        .await;
    // The database refuses one address of the batch, as a crash or a constraint would.
    svc.sql(
        "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.email = 'boom@example.com' THEN RAISE EXCEPTION 'boom'; END IF; \
         RETURN NEW; END $$",
    )
    .await;
    svc.sql(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON invites FOR EACH ROW \
         EXECUTE FUNCTION refuse_boom()",
    )
    .await;
    let mut emails: Vec<String> = (0..498).map(|n| format!("ok{n}@example.com")).collect();
    emails.push("pending@example.com".into());
    emails.push("boom@example.com".into());
    let r = svc
        .post(
            &format!("/{id}/invites/bulk"),
            json!({ "emails": emails }),
            &manager.token,
        )
        .await
        .expect(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["success"], false);

    let r = svc
        .get(&format!("/{id}/invites"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1, "no invite of the batch was kept");
    assert_eq!(r.data()["items"][0]["id"], pending.to_string());
    assert_eq!(
        r.data()["items"][0]["sentCount"],
        1,
        "the re-send was undone too"
    );
    let sent: Vec<ev::InviteCreated> = svc.events("community.invite.created").await;
    assert_eq!(sent.len(), 1, "no e-mail event of the batch was kept");
}
