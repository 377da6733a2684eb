//! Verifying access tokens, the same way in every service and the gateway.
//!
//! Tokens are EdDSA (Ed25519) JWTs issued by the auth service. Verification uses only the
//! auth service's public keys from its JWKS document: fetched on first use, cached, and
//! fetched again when a token names a `kid` the cache does not know (a key rotation),
//! at most once per [`AuthConfig::min_refresh_interval`] so forged `kid`s cannot turn the
//! verifier into a flood of JWKS requests. Only `EdDSA` is accepted, whatever the header
//! says; `iss`, `aud` and `exp` are checked; a session listed in the Redis deny-list (set
//! by the auth service on logout or revocation) is refused.
//!
//! Handlers take [`AuthUser`] as a parameter and never parse headers themselves.

use crate::config::{Dur, Secret, VarDoc, Vars};
use crate::http::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::{BoxFuture, LocalBoxFuture};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;
use uuid::Uuid;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "AUTH_JWKS_URL",
        default: Some("http://127.0.0.1:18081/.well-known/jwks.json"),
        doc: "Where the auth service publishes its public signing keys.",
    },
    VarDoc {
        name: "AUTH_ISSUER",
        default: Some("neighbourly-auth"),
        doc: "Expected `iss` of access tokens.",
    },
    VarDoc {
        name: "AUTH_AUDIENCE",
        default: Some("neighbourly"),
        doc: "Expected `aud` of access tokens.",
    },
    VarDoc {
        name: "AUTH_LEEWAY",
        default: Some("30s"),
        doc: "Clock skew tolerated when checking `exp`.",
    },
    VarDoc {
        name: "REDIS_URL",
        default: Some("redis://127.0.0.1:56379"),
        doc: "Redis holding the session deny-list (and rate-limit counters).",
    },
];

/// Redis key of a revoked session; the auth service sets it with a TTL equal to the
/// remaining life of the longest access token of that session.
pub fn revoked_session_key(sid: &Uuid) -> String {
    format!("auth:revoked-session:{sid}")
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    pub redis_url: Secret<String>,
    /// Clock skew tolerated on `exp`/`iat`.
    pub leeway: Duration,
    pub min_refresh_interval: Duration,
}

impl AuthConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        Self {
            jwks_url: v.or(
                "AUTH_JWKS_URL",
                "http://127.0.0.1:18081/.well-known/jwks.json".to_owned(),
            ),
            issuer: v.or("AUTH_ISSUER", "neighbourly-auth".to_owned()),
            audience: v.or("AUTH_AUDIENCE", "neighbourly".to_owned()),
            redis_url: v.or(
                "REDIS_URL",
                Secret::new("redis://127.0.0.1:56379".to_owned()),
            ),
            leeway: v.or("AUTH_LEEWAY", Dur(Duration::from_secs(30))).0,
            min_refresh_interval: Duration::from_secs(10),
        }
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The session id (the deny-list key).
    pub sid: Uuid,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub perms: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The token's own id: every token differs (even two signed in the same second), and
    /// logs can name a token without holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("session revoked")]
    Revoked,
    /// The JWKS or the deny-list cannot be read: fail closed, but as a 503, not a 401, so
    /// clients retry instead of logging the user out.
    #[error("token verification unavailable: {0}")]
    Unavailable(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => ApiError::unauthorized("authentication required"),
            // The reason stays in the log: telling a client why its forgery failed helps it.
            AuthError::Invalid(reason) => {
                tracing::debug!(reason, "token rejected");
                ApiError::unauthorized("invalid or expired token")
            }
            AuthError::Revoked => ApiError::unauthorized("session has been revoked"),
            AuthError::Unavailable(cause) => ApiError::unavailable(anyhow::anyhow!(cause)),
        }
    }
}

struct KeyCache {
    /// kid -> (key, the JWK as published): the JWK text lets a remembered verification
    /// notice that a kid now names different key material.
    keys: HashMap<String, (DecodingKey, Arc<str>)>,
    /// Last fetch attempt, successful or not: the refresh rate limit counts both.
    attempted_at: Option<Instant>,
    ever_fetched: bool,
}

/// How often the key set is fetched again even when every kid is known.
const PERIODIC_REFRESH: Duration = Duration::from_secs(300);
/// The longest wait between two tries while no JWKS has been fetched yet.
const JWKS_WARM_UP_MAX: Duration = Duration::from_secs(5);

async fn fetch_into(source: &dyn KeySource, cache: &RwLock<KeyCache>) -> Result<usize, AuthError> {
    cache.write().await.attempted_at = Some(Instant::now());
    let set: JwkSet = source
        .fetch()
        .await
        .map_err(|e| AuthError::Unavailable(format!("JWKS fetch: {e:#}")))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(k) => {
                let published: Arc<str> = serde_json::to_string(jwk).unwrap_or_default().into();
                keys.insert(kid, (k, published));
            }
            Err(e) => tracing::warn!(kid, error = %e, "unusable key in JWKS"),
        }
    }
    let n = keys.len();
    let mut cache = cache.write().await;
    cache.keys = keys;
    cache.ever_fetched = true;
    Ok(n)
}

/// How long a deny-list lookup may take before the request gets a 503.
const DENY_LIST_TIMEOUT: Duration = Duration::from_secs(1);

/// Verifies access tokens; cheap to clone and shared by every worker.
/// Where the verifier reads public keys: the auth service's JWKS over HTTP everywhere else,
/// its own key store inside the auth service (which must not call itself to start up).
pub trait KeySource: Send + Sync + 'static {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>>;
}

struct HttpKeySource {
    url: String,
    http: reqwest::Client,
}

impl KeySource for HttpKeySource {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        Box::pin(async move {
            let set = self
                .http
                .get(&self.url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)?
                .json()
                .await?;
            Ok(set)
        })
    }
}

#[derive(Clone)]
pub struct TokenVerifier {
    config: Arc<AuthConfig>,
    source: Arc<dyn KeySource>,
    cache: Arc<RwLock<KeyCache>>,
    /// Single flight: concurrent requests with an unknown kid share one JWKS fetch.
    refresh: Arc<tokio::sync::Mutex<()>>,
    redis: redis::aio::ConnectionManager,
    /// Tokens whose signature was already checked, by SHA-256 of the whole token: a client
    /// sends the same token for up to 15 minutes, and checking an Ed25519 signature and
    /// parsing the claims costs ~65 us each time against ~3 us for the digest.
    verified: Arc<std::sync::Mutex<HashMap<[u8; 32], Verified>>>,
}

struct Verified {
    claims: Claims,
    kid: String,
    /// The JWK the signature was checked against.
    key: Arc<str>,
}

/// Entries kept at most; the map is emptied when full (simple, and refilled in one pass of
/// the active users' next requests).
const VERIFIED_CACHE_MAX: usize = 10_000;

impl TokenVerifier {
    pub async fn new(config: AuthConfig) -> anyhow::Result<Self> {
        let source = HttpKeySource {
            url: config.jwks_url.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()?,
        };
        Self::with_key_source(config, Arc::new(source)).await
    }

    /// A verifier reading keys from `source` instead of `config.jwks_url`.
    pub async fn with_key_source(
        config: AuthConfig,
        source: Arc<dyn KeySource>,
    ) -> anyhow::Result<Self> {
        let redis = crate::redis_conn::connect(config.redis_url.expose()).await?;
        let verifier = Self {
            config: Arc::new(config),
            source,
            cache: Arc::new(RwLock::new(KeyCache {
                keys: HashMap::new(),
                attempted_at: None,
                ever_fetched: false,
            })),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            redis,
            verified: Arc::new(std::sync::Mutex::new(HashMap::new())),
        };
        // Unknown kids trigger a fetch, but nothing else would drop a key the auth service
        // stopped publishing; a periodic fetch does. The task ends with the last clone.
        let weak = Arc::downgrade(&verifier.cache);
        let (source, config) = (verifier.source.clone(), verifier.config.clone());
        // Until a first fetch succeeds it retries within seconds, not at the next request:
        // a service that starts before (or while) the auth service is busy would otherwise
        // answer 503 to every request for as long as request-driven fetches keep failing
        // (seen under schemathesis, with argon2 keeping auth's cores busy).
        tokio::spawn(async move {
            let mut warm_up = Duration::from_millis(250);
            loop {
                let fetched = match weak.upgrade() {
                    Some(cache) => cache.read().await.ever_fetched,
                    None => return,
                };
                tokio::time::sleep(if fetched { PERIODIC_REFRESH } else { warm_up }).await;
                let Some(cache) = weak.upgrade() else { return };
                // A request fetched meanwhile: nothing to warm up (and no second fetch to
                // race with the keys it just stored).
                if !fetched && cache.read().await.ever_fetched {
                    continue;
                }
                match fetch_into(source.as_ref(), &cache).await {
                    Ok(_) => {}
                    Err(e) if fetched => {
                        tracing::warn!(error = %e, jwks = %config.jwks_url, "periodic JWKS refresh failed; keeping the cached keys");
                    }
                    Err(e) => {
                        warm_up = (warm_up * 2).min(JWKS_WARM_UP_MAX);
                        tracing::warn!(error = %e, jwks = %config.jwks_url, retry_in = ?warm_up, "no JWKS yet; retrying");
                    }
                }
            }
        });
        Ok(verifier)
    }

    /// Fetches the JWKS now (also used to warm the cache at start-up).
    pub async fn refresh_keys(&self) -> Result<usize, AuthError> {
        fetch_into(self.source.as_ref(), &self.cache).await
    }

    async fn cached(&self, kid: &str) -> Result<Option<(DecodingKey, Arc<str>)>, AuthError> {
        let cache = self.cache.read().await;
        if let Some(k) = cache.keys.get(kid) {
            return Ok(Some(k.clone()));
        }
        let recently = cache
            .attempted_at
            .is_some_and(|t| t.elapsed() < self.config.min_refresh_interval);
        match (recently, cache.ever_fetched) {
            (false, _) => Ok(None),
            (true, true) => Err(AuthError::Invalid(format!("unknown kid {kid:?}"))),
            (true, false) => Err(AuthError::Unavailable("JWKS not fetched yet".into())),
        }
    }

    async fn key(&self, kid: &str) -> Result<(DecodingKey, Arc<str>), AuthError> {
        if let Some(k) = self.cached(kid).await? {
            return Ok(k);
        }
        let _single_flight = self.refresh.lock().await;
        // Another request may have refreshed while this one waited.
        if let Some(k) = self.cached(kid).await? {
            return Ok(k);
        }
        self.refresh_keys().await?;
        self.cache
            .read()
            .await
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::Invalid(format!("unknown kid {kid:?}")))
    }

    /// Checks signature, algorithm, issuer, audience, expiry and the deny-list.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.decode(token).await?;
        self.ensure_not_revoked(&claims).await?;
        Ok(claims)
    }

    /// Checks signature, algorithm, issuer, audience and expiry, but not the deny-list:
    /// for callers that look the session up together with other Redis work (the gateway
    /// pipelines it with its rate-limit check) and then call [`Self::ensure_not_revoked`].
    pub async fn decode(&self, token: &str) -> Result<Claims, AuthError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self.already_verified(&digest).await? {
            return Ok(claims);
        }
        let (claims, kid, key) = self.decode_uncached(token).await?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_CACHE_MAX {
                verified.clear();
            }
            verified.insert(
                digest,
                Verified {
                    claims: claims.clone(),
                    kid,
                    key,
                },
            );
        }
        Ok(claims)
    }

    /// A cached verification still holds while the token has not expired and its key is
    /// still published (a key the auth service withdrew takes its tokens with it).
    async fn already_verified(&self, digest: &[u8; 32]) -> Result<Option<Claims>, AuthError> {
        let hit = match self.verified.lock() {
            Ok(verified) => verified
                .get(digest)
                .map(|v| (v.claims.clone(), v.kid.clone(), v.key.clone())),
            Err(_) => None,
        };
        let Some((claims, kid, key)) = hit else {
            return Ok(None);
        };
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(0);
        let expired = claims.exp + leeway <= chrono::Utc::now().timestamp();
        let key_live = self
            .cache
            .read()
            .await
            .keys
            .get(&kid)
            .is_some_and(|(_, published)| *published == key);
        if expired || !key_live {
            if let Ok(mut verified) = self.verified.lock() {
                verified.remove(digest);
            }
            return Err(AuthError::Invalid(
                if expired { "expired" } else { "key withdrawn" }.into(),
            ));
        }
        Ok(Some(claims))
    }

    async fn decode_uncached(&self, token: &str) -> Result<(Claims, String, Arc<str>), AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        // The header is attacker-controlled: it chooses nothing but which of our keys to try.
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} not allowed",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no kid".into()))?;
        let (key, published) = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = self.config.leeway.as_secs();
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| (data.claims, kid, published))
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// Refuses a session the auth service has revoked (signed out, blocked, suspended).
    pub async fn ensure_not_revoked(&self, claims: &Claims) -> Result<(), AuthError> {
        let mut redis = self.redis.clone();
        let lookup = redis::AsyncCommands::exists(&mut redis, revoked_session_key(&claims.sid));
        let revoked: bool = tokio::time::timeout(DENY_LIST_TIMEOUT, lookup)
            .await
            .map_err(|_| AuthError::Unavailable("deny-list: timed out".into()))?
            .map_err(|e| AuthError::Unavailable(format!("deny-list: {e}")))?;
        if revoked {
            return Err(AuthError::Revoked);
        }
        Ok(())
    }
}

/// The authenticated caller. Put it in a handler's parameters to require a valid token.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Claims);

impl AuthUser {
    pub fn id(&self) -> Uuid {
        self.0.sub
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.0.roles.iter().any(|r| r == role)
    }

    pub fn has_permission(&self, perm: &str) -> bool {
        self.0.perms.iter().any(|p| p == perm)
    }

    /// The permission guard: 403 unless the token carries `perm`.
    pub fn require(&self, perm: &str) -> Result<(), ApiError> {
        if self.has_permission(perm) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// The caller when the request carries a token, `None` when it carries none: for routes
/// anyone may call that show more to the signed-in (a public tool library). A token that
/// is present but invalid is still a 401: a client whose session expired must learn it,
/// not be shown the anonymous view as if nothing were wrong.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl MaybeAuthUser {
    pub fn as_ref(&self) -> Option<&AuthUser> {
        self.0.as_ref()
    }
}

impl FromRequest for MaybeAuthUser {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Box::pin(async { Ok(MaybeAuthUser(None)) });
        }
        let user = AuthUser::from_request(req, payload);
        Box::pin(async move { Ok(MaybeAuthUser(Some(user.await?))) })
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

impl FromRequest for AuthUser {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<TokenVerifier>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let verifier = verifier.ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("TokenVerifier not registered"))
            })?;
            let token = token.ok_or(AuthError::Missing).map_err(ApiError::from)?;
            let claims = verifier.verify(&token).await.map_err(ApiError::from)?;
            Ok(AuthUser(claims))
        })
    }
}
