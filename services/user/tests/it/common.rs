//! The user service under test: `harness::TestService` runs it through its own
//! composition root, its consumer on a private stand-in of auth.user.v1; these are the
//! user-specific helpers on top.

use reqwest::StatusCode;
use serde_json::Value;
use user::User;
use uuid::Uuid;

pub use harness::Resp;

pub struct Service(harness::TestService<User>);

impl std::ops::Deref for Service {
    type Target = harness::TestService<User>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Starts the service with its consumer.
pub async fn start() -> Service {
    Service(
        harness::TestService::<User>::builder()
            .consumers()
            .start()
            .await,
    )
}

impl Service {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> Resp {
        self.0
            .call(method, &format!("/api/users{path}"), body, Some(token))
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None, token).await
    }

    /// Publishes `event` on the private auth.user.v1 with the given CloudEvents id, as the
    /// auth service's relay would (publishing twice with one id is a redelivery).
    pub async fn publish_id<E: events::DomainEvent>(&self, key: Uuid, event: &E, id: Uuid) {
        self.0.publish_as(key, event, id).await;
    }
}

pub use test_support::eventually;

pub fn registered(
    user_id: Uuid,
    email: &str,
    referral: &str,
) -> events::proto::auth::v1::UserRegistered {
    events::proto::auth::v1::UserRegistered {
        user_id: user_id.to_string(),
        email: email.to_owned(),
        phone: String::new(),
        roles: vec!["resident".into()],
        referral_code: referral.to_owned(),
        registered_at: None,
    }
}

/// A user whose profile exists (registration delivered through the broker).
pub async fn with_profile(svc: &Service) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let email = format!("u{}@example.com", id.simple());
    svc.publish(id, &registered(id, &email, "")).await;
    let token = svc.token(id, &[]);
    eventually("the profile", || async {
        svc.get("/me", &token).await.status == StatusCode::OK
    })
    .await;
    (id, token)
}
