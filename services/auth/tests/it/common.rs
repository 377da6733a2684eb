//! The auth service under test: `harness::TestService` runs it through its own
//! composition root; these are the helpers to drive it as a client would.

use auth::Auth;
use auth::config::{Argon2Params, AuthServiceConfig, LockoutPolicy, TokenPolicy};
use auth::crypto::Kek;
use harness::TestService;
use platform::auth::{AuthConfig, TokenVerifier};
use platform::config::Secret;
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const PASSWORD: &str = "violet kettle drums sideways";

pub fn redis_url() -> String {
    test_support::redis_url()
}

pub fn config() -> AuthServiceConfig {
    let mut root = [0u8; 32];
    getrandom::fill(&mut root).unwrap();
    let verify = AuthConfig {
        jwks_url: String::new(),
        issuer: "neighbourly-auth".into(),
        audience: "neighbourly".into(),
        redis_url: Secret::new(redis_url()),
        leeway: Duration::from_secs(5),
        min_refresh_interval: Duration::from_millis(100),
    };
    AuthServiceConfig {
        kek: Kek::from_bytes(&root),
        tokens: TokenPolicy {
            issuer: verify.issuer.clone(),
            audience: verify.audience.clone(),
            access_ttl: Duration::from_secs(900),
            refresh_idle_ttl: Duration::from_secs(7 * 86_400),
            refresh_absolute_ttl: Duration::from_secs(30 * 86_400),
        },
        lockout: LockoutPolicy {
            threshold: 3,
            window: Duration::from_secs(60),
            base: Duration::from_secs(2),
            max: Duration::from_secs(8),
        },
        ip_limit_per_minute: 1_000_000,
        // Light parameters keep the suite fast; the benchmark uses the production ones.
        argon2: Argon2Params {
            memory_kib: 4096,
            iterations: 1,
        },
        hashing_threads: 4,
        verify,
    }
}

/// The running service (`harness::TestService` through auth's own composition root), and
/// a verifier that trusts its keys as every other service would.
pub struct Service {
    inner: TestService<Auth>,
    pub verifier: TokenVerifier,
}

impl std::ops::Deref for Service {
    type Target = TestService<Auth>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

pub async fn start() -> Service {
    start_with(config()).await
}

pub async fn start_consuming() -> Service {
    build(config(), true).await
}

pub async fn start_with(config: AuthServiceConfig) -> Service {
    build(config, false).await
}

async fn build(config: AuthServiceConfig, consumers: bool) -> Service {
    let verify = config.verify.clone();
    let mut builder = TestService::<Auth>::builder()
        // Replaced below by `config`: from_vars only needs to be satisfied.
        .env("AUTH_KEY_ENCRYPTION_KEY", "A".repeat(43) + "=")
        .config(move |c| *c = config)
        // Lets a test stand for distinct clients through X-Forwarded-For.
        .base(|b| b.http.trusted_proxies = "127.0.0.1".parse().unwrap());
    if consumers {
        builder = builder.consumers();
    }
    let inner = builder.start().await;
    let verifier =
        TokenVerifier::with_key_source(verify, Arc::new(auth::keys::LocalKeys(inner.pool.clone())))
            .await
            .unwrap();
    Service { inner, verifier }
}

pub use harness::Resp;

impl Service {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Resp {
        self.inner
            .call(method, &format!("/api/auth{path}"), body, token)
            .await
    }

    /// A document served outside `/api/auth` (the JWKS) or any plain GET, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body), None)
            .await
    }

    pub async fn post_auth(&self, path: &str, body: Value, token: &str) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body), Some(token))
            .await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None, Some(token))
            .await
    }

    /// Registers `email` and returns its user id (from the outbox, as the user service
    /// would learn it).
    pub async fn register(&self, email: &str) -> uuid::Uuid {
        let r = self
            .post("/register", json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        let ev: events::proto::auth::v1::UserRegistered = self
            .last_event(events::types::AUTH_USER_REGISTERED)
            .await
            .expect("registered event");
        ev.user_id.parse().unwrap()
    }

    /// Registers `email` and verifies it with the link token, as its owner would.
    pub async fn register_verified(&self, email: &str) -> uuid::Uuid {
        let id = self.register(email).await;
        let req: events::proto::auth::v1::EmailVerificationRequested = self
            .last_event(events::types::AUTH_USER_EMAIL_VERIFICATION_REQUESTED)
            .await
            .expect("verification event");
        let r = self
            .post("/verify-email", json!({ "token": req.token }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        id
    }

    pub async fn login(&self, identifier: &str, password: &str, device: &str) -> Resp {
        self.post(
            "/login",
            json!({ "identifier": identifier, "password": password, "deviceId": device }),
        )
        .await
    }

    /// Registers and signs in; returns (access token, refresh token, session id).
    pub async fn signed_in(&self, email: &str) -> (String, String, String) {
        self.register(email).await;
        let r = self.login(email, PASSWORD, "phone-1").await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        tokens(&r)
    }

    /// The newest event of `event_type` in the outbox, decoded.
    pub async fn last_event<E: Message + Default>(&self, event_type: &str) -> Option<E> {
        self.events::<E>(event_type).await.pop()
    }

    /// The code of the newest OTP sent to `destination` (what the notification service
    /// would deliver).
    pub async fn otp_code(&self, destination: &str) -> String {
        self.events::<events::proto::auth::v1::OtpRequested>(events::types::AUTH_OTP_REQUESTED)
            .await
            .into_iter()
            .rev()
            .find(|e| e.destination == destination)
            .expect("an OTP event")
            .code
    }
}

pub fn tokens(r: &Resp) -> (String, String, String) {
    let d = r.data();
    (
        d["tokens"]["accessToken"].as_str().unwrap().to_owned(),
        d["tokens"]["refreshToken"].as_str().unwrap().to_owned(),
        d["sessionId"].as_str().unwrap().to_owned(),
    )
}

pub fn email(prefix: &str) -> String {
    format!(
        "{}@example.com",
        test_support::unique(prefix).replace('.', "-")
    )
}
