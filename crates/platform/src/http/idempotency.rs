//! Idempotency keys for requests that must not run twice (placing an order, starting a
//! payment), with Stripe's semantics.
//!
//! A mobile client that times out cannot know whether its `POST /orders` ran. It sends an
//! `Idempotency-Key` (a UUID it made up) and retries with the same key; the first answer is
//! stored and every retry gets it again instead of running the handler a second time.
//!
//! ```ignore
//! async fn place_order(
//!     req: HttpRequest,
//!     body: web::Bytes,
//!     user: AuthUser,
//!     state: web::Data<State>,
//! ) -> ApiResult {
//!     user.require(permissions::ORDERS_PLACE)?;
//!     let input = ValidJson::<NewOrder>::from_bytes(&body)?.into_inner();
//!     Idempotency::new()
//!         .run(&state.pool, &user, &req, &body, || async {
//!             let order = orders::place(&state, &user, input).await?;
//!             Ok(envelope::created(order))
//!         })
//!         .await
//! }
//! ```
//!
//! The handler takes the body as `web::Bytes` (the fingerprint is over the bytes the client
//! sent) and checks what it can before [`Idempotency::run`]: a refusal there never touches
//! the key. Document the header with `params(IdempotencyKeyHeader)` in `#[utoipa::path]`.
//!
//! What the client sees:
//! - no `Idempotency-Key`, or one that is not 1..=255 printable ASCII characters: 400
//!   (`idempotency_key_missing`, `idempotency_key_invalid`);
//! - the key is the caller's ([`Scope`]: the user of the token, or a scope the handler names)
//!   on this route (method and route pattern), so two users, or two routes, never share one;
//! - the first answer (status, content type and body) is replayed for 24 h
//!   ([`Idempotency::with_ttl`]) with `Idempotent-Replayed: true`;
//! - the same key with another request (method, path with query, or body differ: a SHA-256
//!   fingerprint) is a 422 `idempotency_key_reused`;
//! - a retry while the first request still runs is a 409 `idempotency_key_in_progress`
//!   (retry later);
//! - answers that say the request could not be judged are not stored, so the client can fix
//!   it and retry with the same key: 400, 401, 403, 404, 408, 429, and a 422 that lists
//!   invalid fields. A 422 for a business rule and a 409 are outcomes, and are stored;
//! - a 5xx, or a request cancelled mid-way (the client went away, the service shut down),
//!   releases the key: the retry runs again. Unlike Stripe we do not store 500s: the kit's
//!   handlers roll their transaction back on error (see the style notes), so a 5xx means
//!   nothing happened and running again is the right answer.
//!
//! How: the key is claimed by an `INSERT .. ON CONFLICT` in its own short transaction before
//! the handler runs, so a concurrent second request finds the row and gets its 409; the
//! answer is written to the row after the handler returns. Between the handler's commit and
//! that write there is a window: if the process dies there (or the database goes away), the
//! row stays "in progress" until its lease ([`Idempotency::with_lease`]) lapses, and a
//! retry after that runs again. A handler whose effect must be exactly-once even then also
//! keeps a natural unique key in its own tables (an order's client reference).
//!
//! Expired rows count as absent at once; [`purge_expired`] deletes them, called by each
//! service from a periodic task.

use super::ApiResult;
use super::error::ApiError;
use crate::auth::AuthUser;
use crate::db::{DbError, DbPool};
use actix_web::body::{self, BoxBody};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use diesel::pg::data_types::PgInterval;
use diesel::sql_types::{Bytea, Interval, Nullable, SmallInt, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::RunQueryDsl;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;

/// The request header carrying the client's key.
pub const KEY_HEADER: &str = "idempotency-key";
/// Set to `true` on an answer that is a replay of a stored one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a completed answer is replayed (Stripe keeps keys at least 24 h).
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an unfinished claim blocks its key: longer than any handler runs (the kit's
/// statement timeout is 10 s, the shutdown grace 20 s), short enough that a key held by a
/// crashed process frees itself soon.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// Claim attempts when the row vanishes between the insert and the read (released or
/// purged in between); after that the key is treated as busy.
const CLAIM_ATTEMPTS: usize = 3;
/// Rows per `DELETE` in [`purge_expired`], so no statement holds many locks.
const PURGE_BATCH: usize = 10_000;

/// The `Idempotency-Key` header for `#[utoipa::path(params(IdempotencyKeyHeader))]`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKeyHeader(
    /// A key the client makes up per operation (a UUID), 1 to 255 printable ASCII
    /// characters; retries of the operation send the same key.
    #[allow(dead_code)]
    String,
);

/// Whose key it is. Keys of different scopes never meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    /// The signed-in user's keys (what `Scope::from(&user)` gives).
    pub fn user(id: Uuid) -> Self {
        Self(format!("user:{id}"))
    }

    /// A scope the handler names, for callers without a user token (a provider's webhook,
    /// another service). Do not start it with `user:`.
    pub fn named(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&AuthUser> for Scope {
    fn from(user: &AuthUser) -> Self {
        Self::user(user.id())
    }
}

/// The policy: how long answers are replayed and how long a claim may run. Cheap to copy;
/// `Idempotency::new()` at the call site is fine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idempotency {
    ttl: Duration,
    lease: Duration,
}

impl Default for Idempotency {
    fn default() -> Self {
        Self::new()
    }
}

/// The row a request is about: (scope, route, key).
#[derive(Debug, Clone)]
struct Slot {
    scope: String,
    route: String,
    key: String,
}

impl Idempotency {
    /// Replays for [`DEFAULT_TTL`], leases for [`DEFAULT_LEASE`].
    pub const fn new() -> Self {
        Self {
            ttl: DEFAULT_TTL,
            lease: DEFAULT_LEASE,
        }
    }

    /// How long a stored answer is replayed, counted from when it was stored.
    pub const fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long a claim whose request never finished (a crash) keeps its key busy.
    pub const fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Runs `work` at most once per key, or answers as the module docs describe. `body`
    /// is the request body as received (empty for none); `work` is the handler's own work.
    pub async fn run<F, Fut>(
        &self,
        pool: &DbPool,
        scope: impl Into<Scope>,
        req: &HttpRequest,
        body: &[u8],
        work: F,
    ) -> ApiResult<HttpResponse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<HttpResponse>>,
    {
        let slot = Slot {
            scope: scope.into().0,
            route: route_of(req),
            key: key_of(req)?,
        };
        let fingerprint = fingerprint(req, body);
        let claim = match self.claim(pool, slot, &fingerprint).await? {
            Claimed::Ours(claim) => claim,
            Claimed::Replay(answer) => return Ok(answer),
        };
        match work().await {
            Ok(response) => self.finish_ok(claim, response).await,
            Err(error) => self.finish_err(claim, error).await,
        }
    }

    async fn claim(
        &self,
        pool: &DbPool,
        slot: Slot,
        fingerprint: &[u8],
    ) -> Result<Claimed, ApiError> {
        let mut conn = crate::db::conn(pool).await?;
        for _ in 0..CLAIM_ATTEMPTS {
            let claim_id = Uuid::now_v7();
            // A live row (in progress, or answered and not expired) wins; an expired one is
            // taken over as if it were absent.
            let inserted = diesel::sql_query(
                "INSERT INTO idempotency_keys AS k \
                     (scope, route, key, claim_id, fingerprint, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, now() + $6) \
                 ON CONFLICT (scope, route, key) DO UPDATE SET \
                     claim_id = EXCLUDED.claim_id, fingerprint = EXCLUDED.fingerprint, \
                     status = NULL, content_type = NULL, body = NULL, \
                     created_at = now(), expires_at = EXCLUDED.expires_at \
                 WHERE k.expires_at <= now() \
                 RETURNING claim_id",
            )
            .bind::<Text, _>(&slot.scope)
            .bind::<Text, _>(&slot.route)
            .bind::<Text, _>(&slot.key)
            .bind::<diesel::sql_types::Uuid, _>(claim_id)
            .bind::<Bytea, _>(fingerprint)
            .bind::<Interval, _>(interval(self.lease))
            .get_result::<ClaimRow>(&mut conn)
            .await
            .optional()
            .map_err(DbError::from)?;
            if inserted.is_some() {
                return Ok(Claimed::Ours(Claim {
                    pool: pool.clone(),
                    slot,
                    claim_id,
                    armed: true,
                }));
            }
            let stored = diesel::sql_query(
                "SELECT fingerprint, status, content_type, body FROM idempotency_keys \
                 WHERE scope = $1 AND route = $2 AND key = $3 AND expires_at > now()",
            )
            .bind::<Text, _>(&slot.scope)
            .bind::<Text, _>(&slot.route)
            .bind::<Text, _>(&slot.key)
            .get_result::<StoredRow>(&mut conn)
            .await
            .optional()
            .map_err(DbError::from)?;
            let Some(stored) = stored else {
                continue;
            };
            if stored.fingerprint != fingerprint {
                return Err(reused());
            }
            return match (stored.status, stored.body) {
                (Some(status), Some(body)) => {
                    tracing::debug!(key = %slot.key, route = %slot.route, "idempotent replay");
                    Ok(Claimed::Replay(replay(status, stored.content_type, body)?))
                }
                _ => Err(in_progress()),
            };
        }
        Err(in_progress())
    }

    async fn finish_ok(&self, mut claim: Claim, response: HttpResponse) -> ApiResult<HttpResponse> {
        if !keeps(response.status(), false) {
            claim.release().await;
            return Ok(response);
        }
        let (head, body) = response.into_parts();
        let bytes = body::to_bytes(body)
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("reading the response body: {e}")))?;
        claim
            .store(head.status(), content_type(&head), &bytes, self.ttl)
            .await;
        Ok(head.set_body(bytes).map_into_boxed_body())
    }

    async fn finish_err(&self, mut claim: Claim, error: ApiError) -> ApiResult<HttpResponse> {
        if !keeps(error.status(), !error.field_errors().is_empty()) {
            claim.release().await;
            return Err(error);
        }
        // Rendered here for the row and again by actix for the client: an `ApiError` renders
        // the same bytes every time, and returning it as an error keeps it one to middleware.
        let (head, body) = error.error_response().into_parts();
        let bytes = body::to_bytes(body)
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("rendering the error: {e}")))?;
        claim
            .store(head.status(), content_type(&head), &bytes, self.ttl)
            .await;
        Err(error)
    }
}

/// Whether an answer is kept for replay; see the module docs for why these.
fn keeps(status: StatusCode, lists_invalid_fields: bool) -> bool {
    if status.is_server_error() {
        return false;
    }
    let unjudged = matches!(status.as_u16(), 400 | 401 | 403 | 404 | 408 | 429);
    let invalid_fields = status == StatusCode::UNPROCESSABLE_ENTITY && lists_invalid_fields;
    !unjudged && !invalid_fields
}

enum Claimed {
    Ours(Claim),
    Replay(HttpResponse),
}

/// A claimed key. Dropped while still armed (the request was cancelled, or the handler
/// panicked), it releases the key from a background task.
struct Claim {
    pool: DbPool,
    slot: Slot,
    claim_id: Uuid,
    armed: bool,
}

impl Claim {
    /// Writes the answer. If that fails the effect has happened anyway: the client still
    /// gets its answer, and the row stays claimed until its lease lapses (see module docs).
    async fn store(
        &mut self,
        status: StatusCode,
        content_type: Option<String>,
        body: &[u8],
        ttl: Duration,
    ) {
        self.armed = false;
        let written = async {
            let mut conn = crate::db::conn(&self.pool).await?;
            diesel::sql_query(
                "UPDATE idempotency_keys \
                 SET status = $5, content_type = $6, body = $7, expires_at = now() + $8 \
                 WHERE scope = $1 AND route = $2 AND key = $3 AND claim_id = $4",
            )
            .bind::<Text, _>(&self.slot.scope)
            .bind::<Text, _>(&self.slot.route)
            .bind::<Text, _>(&self.slot.key)
            .bind::<diesel::sql_types::Uuid, _>(self.claim_id)
            .bind::<SmallInt, _>(i16::try_from(status.as_u16()).unwrap_or(500))
            .bind::<Nullable<Text>, _>(content_type)
            .bind::<Bytea, _>(body)
            .bind::<Interval, _>(interval(ttl))
            .execute(&mut conn)
            .await
            .map_err(DbError::from)
        }
        .await;
        match written {
            Ok(1) => {}
            Ok(_) => tracing::warn!(key = %self.slot.key, route = %self.slot.route,
                "idempotency claim lost before its answer was stored (lease too short?)"),
            Err(e) => tracing::error!(key = %self.slot.key, route = %self.slot.route, error = %e,
                "could not store the idempotent answer; the key stays busy until its lease lapses"),
        }
    }

    async fn release(&mut self) {
        self.armed = false;
        if let Err(e) = release(&self.pool, &self.slot, self.claim_id).await {
            tracing::warn!(key = %self.slot.key, error = %e,
                "could not release an idempotency key; it frees itself when its lease lapses");
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Outside a runtime (process teardown) nothing can run; the lease covers it.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (pool, slot, claim_id) = (self.pool.clone(), self.slot.clone(), self.claim_id);
        runtime.spawn(async move {
            if let Err(e) = release(&pool, &slot, claim_id).await {
                tracing::warn!(key = %slot.key, error = %e,
                    "could not release a cancelled request's idempotency key");
            }
        });
    }
}

async fn release(pool: &DbPool, slot: &Slot, claim_id: Uuid) -> Result<(), DbError> {
    let mut conn = crate::db::conn(pool).await?;
    diesel::sql_query(
        "DELETE FROM idempotency_keys \
         WHERE scope = $1 AND route = $2 AND key = $3 AND claim_id = $4",
    )
    .bind::<Text, _>(&slot.scope)
    .bind::<Text, _>(&slot.route)
    .bind::<Text, _>(&slot.key)
    .bind::<diesel::sql_types::Uuid, _>(claim_id)
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// Deletes expired rows (answers past their replay window, claims past their lease);
/// returns how many. Services call it from a periodic task; between runs, expired rows are
/// already ignored.
pub async fn purge_expired(pool: &DbPool) -> Result<usize, DbError> {
    let mut conn = crate::db::conn(pool).await?;
    let mut total = 0;
    loop {
        // The outer condition is checked again on each row, so a key re-claimed since the
        // inner scan is kept.
        let deleted = diesel::sql_query(
            "DELETE FROM idempotency_keys k USING ( \
                 SELECT scope, route, key FROM idempotency_keys \
                 WHERE expires_at <= now() LIMIT $1) old \
             WHERE k.scope = old.scope AND k.route = old.route AND k.key = old.key \
               AND k.expires_at <= now()",
        )
        .bind::<diesel::sql_types::BigInt, _>(PURGE_BATCH as i64)
        .execute(&mut conn)
        .await?;
        total += deleted;
        if deleted < PURGE_BATCH {
            return Ok(total);
        }
    }
}

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    #[allow(dead_code)]
    claim_id: Uuid,
}

#[derive(QueryableByName)]
struct StoredRow {
    #[diesel(sql_type = Bytea)]
    fingerprint: Vec<u8>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    status: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    content_type: Option<String>,
    #[diesel(sql_type = Nullable<Bytea>)]
    body: Option<Vec<u8>>,
}

/// The client's key: exactly one header, 1..=255 printable ASCII characters (space to `~`).
fn key_of(req: &HttpRequest) -> Result<String, ApiError> {
    let mut values = req.headers().get_all(KEY_HEADER);
    let Some(value) = values.next() else {
        return Err(ApiError::bad_request(
            "this request needs an Idempotency-Key header (a UUID you keep for its retries)",
        )
        .with_code("idempotency_key_missing"));
    };
    let bytes = value.as_bytes();
    let valid = values.next().is_none()
        && (1..=255).contains(&bytes.len())
        && bytes.iter().all(|b| (b' '..=b'~').contains(b));
    match (valid, value.to_str()) {
        (true, Ok(key)) => Ok(key.to_owned()),
        _ => Err(ApiError::bad_request(
            "Idempotency-Key must be one header of 1 to 255 printable ASCII characters",
        )
        .with_code("idempotency_key_invalid")),
    }
}

/// `POST /orders/{id}/cancel`: the route pattern, so the key is per endpoint, not per path
/// (the path is in the fingerprint, so reusing a key on another order is caught).
fn route_of(req: &HttpRequest) -> String {
    let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    format!("{} {pattern}", req.method())
}

/// SHA-256 over method, path with query and body, each part length-prefixed so no two
/// different requests hash the same bytes.
fn fingerprint(req: &HttpRequest, body: &[u8]) -> Vec<u8> {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path(), |pq| pq.as_str());
    let mut hash = Sha256::new();
    for part in [req.method().as_str().as_bytes(), target.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().to_vec()
}

fn content_type(head: &HttpResponse<()>) -> Option<String> {
    head.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn replay(
    status: i16,
    content_type: Option<String>,
    body: Vec<u8>,
) -> Result<HttpResponse, ApiError> {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {status} is not one")))?;
    let mut answer = HttpResponse::build(status);
    answer.insert_header((REPLAYED_HEADER, HeaderValue::from_static("true")));
    if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
        answer.insert_header((header::CONTENT_TYPE, ct));
    }
    Ok(answer.body(BoxBody::new(body)))
}

fn interval(d: Duration) -> PgInterval {
    PgInterval::from_microseconds(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn reused() -> ApiError {
    ApiError::unprocessable("this Idempotency-Key was already used for a different request")
        .with_code("idempotency_key_reused")
}

fn in_progress() -> ApiError {
    ApiError::conflict("a request with this Idempotency-Key is still in progress; retry later")
        .with_code("idempotency_key_in_progress")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn keys_are_one_header_of_printable_ascii() {
        let with = |v: &[u8]| {
            let req = TestRequest::post()
                .insert_header((KEY_HEADER, HeaderValue::from_bytes(v).unwrap()))
                .to_http_request();
            key_of(&req).map_err(|e| e.code())
        };
        assert_eq!(with(b"3f2a-key ~ok").as_deref(), Ok("3f2a-key ~ok"));
        assert_eq!(with(&[b'k'; 255]).map(|k| k.len()), Ok(255));
        assert_eq!(with(&[b'k'; 256]), Err(Some("idempotency_key_invalid")));
        assert_eq!(with(b"tab\there"), Err(Some("idempotency_key_invalid")));
        assert_eq!(with("clé".as_bytes()), Err(Some("idempotency_key_invalid")));
        let none = TestRequest::post().to_http_request();
        assert_eq!(
            key_of(&none).map_err(|e| e.code()),
            Err(Some("idempotency_key_missing"))
        );
        let two = TestRequest::post()
            .append_header((KEY_HEADER, "a"))
            .append_header((KEY_HEADER, "b"))
            .to_http_request();
        assert_eq!(
            key_of(&two).map_err(|e| e.code()),
            Err(Some("idempotency_key_invalid"))
        );
    }

    #[test]
    fn fingerprints_tell_method_path_and_body_apart() {
        let fp = |method: actix_web::http::Method, uri: &str, body: &[u8]| {
            fingerprint(
                &TestRequest::default()
                    .method(method)
                    .uri(uri)
                    .to_http_request(),
                body,
            )
        };
        use actix_web::http::Method;
        let base = fp(Method::POST, "/orders", b"{}");
        assert_eq!(base.len(), 32);
        assert_eq!(base, fp(Method::POST, "/orders", b"{}"));
        assert_ne!(base, fp(Method::PUT, "/orders", b"{}"));
        assert_ne!(base, fp(Method::POST, "/orders?x=1", b"{}"));
        assert_ne!(base, fp(Method::POST, "/orders", b"{ }"));
        // Length prefixes: moving bytes between parts changes the hash.
        assert_ne!(fp(Method::POST, "/a", b"b"), fp(Method::POST, "/ab", b""));
    }

    #[test]
    fn only_judged_answers_are_stored() {
        for kept in [200, 201, 202, 204, 302, 402, 409, 410, 412] {
            assert!(keeps(StatusCode::from_u16(kept).unwrap(), false), "{kept}");
        }
        for released in [400, 401, 403, 404, 408, 429, 500, 502, 503] {
            assert!(
                !keeps(StatusCode::from_u16(released).unwrap(), false),
                "{released}"
            );
        }
        assert!(keeps(StatusCode::UNPROCESSABLE_ENTITY, false));
        assert!(!keeps(StatusCode::UNPROCESSABLE_ENTITY, true));
    }

    #[test]
    fn scopes_keep_users_apart() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_ne!(Scope::user(a), Scope::user(b));
        assert_eq!(Scope::user(a).as_str(), format!("user:{a}"));
        assert_eq!(
            Scope::named("provider:sandbox").as_str(),
            "provider:sandbox"
        );
    }

    #[test]
    fn the_header_is_documented_as_a_header_parameter() {
        use utoipa::IntoParams;
        let params = IdempotencyKeyHeader::into_params(|| None);
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json[0]["name"], "Idempotency-Key");
        assert_eq!(json[0]["in"], "header");
        assert_eq!(json[0]["required"], true);
    }
}
