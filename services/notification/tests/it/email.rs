//! E-mail over a real SMTP server: an invite becomes exactly one e-mail with its join
//! token, a redelivered event sends nothing more, an SMTP outage delays but loses nothing.

use crate::common::{self, eventually, html_of, subject_of, text_of};
use events::proto::community::v1 as community;
use events::proto::notification::v1 as ev;
use uuid::Uuid;

fn invite(email: &str) -> community::InviteCreated {
    community::InviteCreated {
        invite_id: Uuid::now_v7().to_string(),
        community_id: Uuid::now_v7().to_string(),
        community_name: "Rowan <Rise>".into(),
        email: email.into(),
        invited_by: Uuid::now_v7().to_string(),
        token: format!("tok{}", Uuid::new_v4().simple()),
        expires_at: Some(prost_types::Timestamp {
            seconds: 1_900_000_000,
            nanos: 0,
        }),
        resent: false,
    }
}

#[tokio::test]
async fn an_invite_becomes_one_email_with_its_join_token_even_when_delivered_twice() {
    let svc = common::start().await;
    let to = format!("invitee{}@example.com", Uuid::new_v4().simple());
    let event = invite(&to);
    let id = Uuid::now_v7();
    svc.publish_as(&event.community_id, &event, id).await;
    eventually("the invite e-mail", || async {
        !svc.mail_to(&to).is_empty()
    })
    .await;
    // The same event again (same id: a redelivery), and once more after the inbox saw it.
    svc.publish_as(&event.community_id, &event, id).await;
    let marker = format!("marker{}@example.com", Uuid::new_v4().simple());
    svc.publish(&event.community_id, &invite(&marker)).await;
    eventually("the marker e-mail", || async {
        !svc.mail_to(&marker).is_empty()
    })
    .await;

    let mails = svc.mail_to(&to);
    assert_eq!(mails.len(), 1, "exactly one e-mail");
    let mail = &mails[0];
    assert_eq!(
        subject_of(mail),
        "You are invited to join Rowan <Rise> on Neighbourly"
    );
    let text = text_of(mail);
    assert!(
        text.contains(&format!("http://app.test/join?token={}", event.token)),
        "{text}"
    );
    assert!(text.contains(&event.token));
    // minijinja escapes `/` too (`&#x2f;`), which browsers read back as `/`.
    let html = html_of(mail).replace("&#x2f;", "/");
    assert!(html.contains("Rowan &lt;Rise&gt;"), "{html}");
    assert!(
        html.contains(&format!(
            "href=\"http://app.test/join?token={}\"",
            event.token
        )),
        "{html}"
    );

    // The log: one sent delivery, content erased (it held the token), a sent event.
    let sent = svc
        .sql_count(&format!(
            "SELECT count(*) AS n FROM deliveries WHERE destination = '{to}' AND status = 'sent' AND content IS NULL"
        ))
        .await;
    assert_eq!(sent, 1);
    let events = svc
        .sql_count(
            "SELECT count(*) AS n FROM outbox WHERE event_type = 'notification.notification.sent'",
        )
        .await;
    assert_eq!(events, 2, "one per e-mail (the invite and the marker)");
    let _ = ev::NotificationSent::default();
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    let mut svc = common::start().await;
    svc.smtp.stop().unwrap();
    let to = format!("patient{}@example.com", Uuid::new_v4().simple());
    svc.publish(&Uuid::now_v7().to_string(), &invite(&to)).await;
    eventually("a failed attempt recorded", || async {
        svc.sql_count(&format!(
            "SELECT count(*) AS n FROM deliveries WHERE destination = '{to}' AND status = 'queued' \
             AND attempts >= 2 AND last_error IS NOT NULL"
        ))
        .await
            == 1
    })
    .await;
    assert!(svc.mail_to(&to).is_empty());
    svc.smtp.restart().unwrap();
    eventually("the e-mail once the server is back", || async {
        svc.mail_to(&to).len() == 1
    })
    .await;
    let attempts = svc
        .sql_count(&format!(
            "SELECT attempts::bigint AS n FROM deliveries WHERE destination = '{to}' AND status = 'sent'"
        ))
        .await;
    assert!(attempts >= 3, "retried, then sent: {attempts}");
    // Nothing more arrives later.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(svc.mail_to(&to).len(), 1);
}

#[tokio::test]
async fn a_refused_recipient_fails_at_once_with_an_event() {
    let svc = common::start().await;
    // Not an address at all: permanent, no retries.
    svc.publish(&Uuid::now_v7().to_string(), &invite("not an address"))
        .await;
    eventually("the failure", || async {
        svc.sql_count(
            "SELECT count(*) AS n FROM deliveries WHERE status = 'failed' AND attempts = 1 AND content IS NULL",
        )
        .await
            == 1
    })
    .await;
    assert_eq!(
        svc.sql_count(
            "SELECT count(*) AS n FROM outbox WHERE event_type = 'notification.notification.failed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_code_that_expired_while_waiting_is_not_sent() {
    let svc = common::start().await;
    let to = format!("late{}@example.com", Uuid::new_v4().simple());
    let user = Uuid::now_v7();
    svc.publish(
        &user.to_string(),
        &events::proto::auth::v1::OtpRequested {
            user_id: user.to_string(),
            channel: events::proto::auth::v1::OtpChannel::Email as i32,
            destination: to.clone(),
            code: "111222".into(),
            purpose: "login".into(),
            expires_at: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() - 5,
                nanos: 0,
            }),
        },
    )
    .await;
    eventually("the expired delivery given up", || async {
        svc.sql_count(&format!(
            "SELECT count(*) AS n FROM deliveries WHERE destination = '{to}' AND status = 'failed' \
             AND last_error LIKE '%expired%' AND content IS NULL"
        ))
        .await
            == 1
    })
    .await;
    assert!(svc.mail_to(&to).is_empty());
}

/// The delivery key alone (event, channel, destination) keeps a message single, whatever
/// the inbox: the same message queued twice is one delivery.
#[tokio::test]
async fn the_same_message_queued_twice_is_one_delivery() {
    use notification::notify::{self, Message, To};
    let svc = common::start().await;
    let source = Uuid::now_v7();
    let message = Message {
        source,
        kind: &notification::catalogue::COMMUNITY_INVITE,
        category: notification::catalogue::Category::Essential,
        channels: &[],
        vars: serde_json::json!({
            "community_name": "X", "inviter_name": "Y", "link": "http://app.test/join?token=t",
            "token": "t", "expires_at": "soon",
        }),
        data: serde_json::json!({}),
        expires_at: None,
    };
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    let to = || To::Address {
        channel: notification::catalogue::Channel::Email,
        destination: "twice@example.com",
        user: None,
    };
    assert_eq!(
        notify::send(&mut conn, &svc.state, &message, to())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        notify::send(&mut conn, &svc.state, &message, to())
            .await
            .unwrap(),
        0
    );
    drop(conn);
    eventually("the one e-mail", || async {
        svc.mail_to("twice@example.com").len() == 1
    })
    .await;
    assert_eq!(
        svc.sql_count(&format!(
            "SELECT count(*) AS n FROM deliveries WHERE source_id = '{source}'"
        ))
        .await,
        1
    );
}
