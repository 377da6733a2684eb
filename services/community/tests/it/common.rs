//! The community service under test: `harness::TestService` runs it through its own
//! composition root; these are the community-specific helpers on top.

use community::Community;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub use harness::{Resp, eventually};

pub const CREATE: &str = "communities.create";
pub const MANAGE: &str = "communities.manage";

/// The running service; `svc.state`, `svc.pool`, `svc.sql(..)`, `svc.events(..)` and
/// `svc.publish(..)` come from the harness.
pub struct Service(harness::TestService<Community>);

impl std::ops::Deref for Service {
    type Target = harness::TestService<Community>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn builder() -> harness::Builder<Community> {
    // A fresh invite key per test: tokens of one test never open another's invites.
    let key = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Uuid::new_v4().as_bytes().repeat(2),
    );
    harness::TestService::<Community>::builder().env("COMMUNITY_INVITE_KEY", key)
}

/// Starts the service without its consumers.
pub async fn start() -> Service {
    Service(builder().start().await)
}

/// Starts the service with its consumers on private stand-ins of auth's and user's topics.
pub async fn start_consuming() -> Service {
    Service(builder().consumers().start().await)
}

/// A signed-in person: their id and access token.
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

impl Service {
    /// A person with a verified e-mail the service knows of, holding `perms`.
    pub async fn person(&self, perms: &[&str]) -> Person {
        let id = Uuid::now_v7();
        let email = format!("p{}@example.com", id.simple());
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        community::people::set_verified_email(&mut conn, id, &email)
            .await
            .unwrap();
        community::people::set_names(
            &mut conn,
            id,
            &format!("u{}", id.simple()),
            Some("Pat"),
            None,
        )
        .await
        .unwrap();
        Person {
            id,
            email,
            token: self.token(id, perms),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Resp {
        self.0
            .call(
                method,
                &format!("/api/communities{path}"),
                body,
                Some(token),
            )
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, None, token).await
    }

    pub async fn post(&self, path: &str, body: Value, token: &str) -> Resp {
        self.call(Method::POST, path, Some(body), token).await
    }

    /// A community managed by `manager`; returns its id.
    pub async fn community(&self, manager: &Person, name: &str) -> Uuid {
        let r = self
            .post(
                "",
                json!({
                    "name": name,
                    "description": "Tools and neighbours",
                    "address": { "line1": "1 High Street", "city": "Bristol", "country": "gb" },
                    "coordinates": { "latitude": 51.45, "longitude": -2.58 },
                }),
                &manager.token,
            )
            .await
            .expect(StatusCode::CREATED);
        r.data()["id"].as_str().unwrap().parse().unwrap()
    }

    /// Invites `email` to `community` as `manager`; returns the invite id and the join
    /// token the e-mail event carries.
    pub async fn invite(&self, community: Uuid, manager: &Person, email: &str) -> (Uuid, String) {
        let r = self
            .post(
                &format!("/{community}/invites"),
                json!({ "email": email }),
                &manager.token,
            )
            .await;
        assert!(r.status.is_success(), "invite failed: {}", r.body);
        let invite: Uuid = r.data()["id"].as_str().unwrap().parse().unwrap();
        (invite, self.token_of(invite).await)
    }

    /// The newest join token e-mailed for `invite`.
    pub async fn token_of(&self, invite: Uuid) -> String {
        let sent: Vec<events::proto::community::v1::InviteCreated> =
            self.events("community.invite.created").await;
        sent.into_iter()
            .rev()
            .find(|e| e.invite_id == invite.to_string())
            .expect("an invite event")
            .token
    }

    /// A member of `community` (invited by `manager`, joined with the token).
    pub async fn member(&self, community: Uuid, manager: &Person) -> Person {
        let p = self.person(&[]).await;
        let (_, token) = self.invite(community, manager, &p.email).await;
        self.post("/join", json!({ "token": token }), &p.token)
            .await
            .expect(StatusCode::CREATED);
        p
    }
}
