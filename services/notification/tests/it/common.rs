//! The notification service under test: `harness::TestService` runs it through its own
//! composition root with its consumers on private stand-ins of their topics, a real SMTP
//! server of its own, and recording SMS and push senders.

use futures::future::BoxFuture;
use notification::Notification;
use notification::channels::{PushSender, Receipt, SendError, SmsSender};
use notification::config::{Custom, DispatchConfig, PushProvider, SmsProvider};
use reqwest::Method;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::SmtpSink;
use uuid::Uuid;

pub use harness::Resp;
pub use test_support::eventually;

/// SMS or push messages "sent", for tests that check who got what.
#[derive(Default, Clone)]
pub struct Recorder(pub Arc<Mutex<Vec<(String, String)>>>);

impl Recorder {
    pub fn sent(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }
}

impl SmsSender for Recorder {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> BoxFuture<'a, Result<Receipt, SendError>> {
        self.0
            .lock()
            .unwrap()
            .push((to.to_owned(), text.to_owned()));
        Box::pin(async { Ok(Receipt("recorded".into())) })
    }
}

impl PushSender for Recorder {
    fn send<'a>(
        &'a self,
        token: &'a str,
        title: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        self.0
            .lock()
            .unwrap()
            .push((token.to_owned(), format!("{title}|{body}")));
        Box::pin(async { Ok(Receipt("recorded".into())) })
    }
}

/// The running service (`harness::TestService` through the service's own composition
/// root), with its own SMTP server and recording SMS and push senders.
pub struct Service {
    inner: harness::TestService<Notification>,
    pub smtp: SmtpSink,
    pub sms: Recorder,
    pub push: Recorder,
}

impl std::ops::Deref for Service {
    type Target = harness::TestService<Notification>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

pub async fn start() -> Service {
    let smtp = SmtpSink::start().unwrap();
    let (sms, push) = (Recorder::default(), Recorder::default());
    let (s, p) = (sms.clone(), push.clone());
    let inner = harness::TestService::<Notification>::builder()
        .env("NOTIFICATION_SMTP_URL", smtp.url())
        .env(
            "NOTIFICATION_EMAIL_FROM",
            "Neighbourly <no-reply@neighbourly.test>",
        )
        .env(
            "NOTIFICATION_TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        )
        .env("NOTIFICATION_APP_URL", "http://app.test")
        .config(move |c| {
            c.sms = SmsProvider::Custom(Custom(Arc::new(s)));
            c.push = PushProvider::Custom(Custom(Arc::new(p)));
            c.dispatch = DispatchConfig {
                retry_base: Duration::from_millis(200),
                interval: Duration::from_millis(50),
                ..DispatchConfig::default()
            };
        })
        .consumers()
        .start()
        .await;
    Service {
        inner,
        smtp,
        sms,
        push,
    }
}

impl Service {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Resp {
        self.inner
            .call(
                method,
                &format!("/api/notifications{path}"),
                body,
                Some(token),
            )
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, None, token).await
    }

    /// A person the directory knows: registered, e-mail verified, named.
    pub async fn person(&self) -> (Uuid, String) {
        use events::proto::auth::v1 as auth;
        use events::proto::user::v1 as user;
        let id = Uuid::now_v7();
        let email = format!("p{}@example.com", id.simple());
        let key = id.to_string();
        self.publish(
            &key,
            &auth::UserRegistered {
                user_id: key.clone(),
                email: email.clone(),
                roles: vec!["resident".into()],
                ..Default::default()
            },
        )
        .await;
        self.publish(
            &key,
            &auth::EmailVerified {
                user_id: key.clone(),
                email: email.clone(),
            },
        )
        .await;
        self.publish(
            &key,
            &user::ProfileUpdated {
                user_id: key.clone(),
                username: format!("u{}", id.simple()),
                first_name: "Robin".into(),
                last_name: String::new(),
                ..Default::default()
            },
        )
        .await;
        let svc = self;
        eventually("the recipient", || async {
            let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
            notification::recipients::find(&mut conn, id)
                .await
                .unwrap()
                .is_some_and(|r| r.email_verified && r.display_name.is_some())
        })
        .await;
        (id, email)
    }

    /// Messages the SMTP server received for `to`.
    pub fn mail_to(&self, to: &str) -> Vec<mailparse::ParsedMail<'static>> {
        self.smtp
            .messages()
            .into_iter()
            .filter(|m| m.raw.contains(to))
            .map(|m| {
                let raw: &'static str = Box::leak(m.raw.into_boxed_str());
                mailparse::parse_mail(raw.as_bytes()).unwrap()
            })
            .collect()
    }

    pub async fn sql_count(&self, statement: &str) -> i64 {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        diesel::sql_query(statement)
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    }
}

/// The text/plain part of a message.
pub fn text_of(mail: &mailparse::ParsedMail<'_>) -> String {
    if mail.subparts.is_empty() {
        return mail.get_body().unwrap_or_default();
    }
    mail.subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .map(|p| p.get_body().unwrap_or_default())
        .unwrap_or_default()
}

pub fn html_of(mail: &mailparse::ParsedMail<'_>) -> String {
    mail.subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/html")
        .map(|p| p.get_body().unwrap_or_default())
        .unwrap_or_default()
}

pub fn subject_of(mail: &mailparse::ParsedMail<'_>) -> String {
    use mailparse::MailHeaderMap;
    mail.headers.get_first_value("Subject").unwrap_or_default()
}
