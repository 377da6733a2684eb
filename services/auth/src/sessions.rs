//! Sessions and refresh-token families.
//!
//! A session belongs to one device. Its refresh tokens form one family: each refresh
//! spends the presented token and issues the next. Presenting a spent token means two
//! parties hold the family (one of them stole it), so the whole session is revoked.
//! Revoked sessions go to the Redis deny-list for as long as one of their access tokens
//! may still be alive, which is how every verifier learns of a logout within a request.

use crate::accounts::User;
use crate::devices::{self, DeviceInfo};
use crate::error::{Error, Result};
use crate::schema::{devices as devices_t, refresh_tokens, sessions};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const REFRESH: &str = "refresh";

fn chrono_dur(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// A session just started: its id, first refresh token and sliding expiry.
pub struct Started {
    pub session_id: Uuid,
    pub device_id: Uuid,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Starts a session for a user who has proven who they are, in the caller's transaction.
/// A blocked device is refused; a device seen for the first time is announced.
pub async fn start(
    conn: &mut AsyncPgConnection,
    state: &State,
    user: &User,
    device: &DeviceInfo,
    method: &str,
    rid: &RequestId,
) -> Result<Started> {
    let dev = devices::upsert(conn, state, user.id, device, rid).await?;
    if dev.blocked {
        return Err(Error::DeviceBlocked);
    }
    let policy = &state.config.tokens;
    let now = Utc::now();
    let absolute = now + chrono_dur(policy.refresh_absolute_ttl);
    let expires_at = (now + chrono_dur(policy.refresh_idle_ttl)).min(absolute);
    let session_id = Uuid::now_v7();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id),
            sessions::user_id.eq(user.id),
            sessions::device_id.eq(dev.id),
            sessions::ip.eq(device.ip.to_string()),
            sessions::user_agent.eq(&device.user_agent),
            sessions::expires_at.eq(expires_at),
            sessions::absolute_expires_at.eq(absolute),
        ))
        .execute(conn)
        .await?;
    let refresh_token = new_refresh_token(conn, state, session_id).await?;
    let event = ev::SessionCreated {
        session_id: session_id.to_string(),
        user_id: user.id.to_string(),
        device_id: dev.id.to_string(),
        ip: device.ip.to_string(),
        user_agent: device.user_agent.clone().unwrap_or_default(),
        expires_at: Some(events::timestamp(expires_at)),
        method: method.to_owned(),
    };
    state.emit(conn, user.id, &event, Some(rid)).await?;
    Ok(Started {
        session_id,
        device_id: dev.id,
        refresh_token,
        expires_at,
    })
}

async fn new_refresh_token(
    conn: &mut AsyncPgConnection,
    state: &State,
    session_id: Uuid,
) -> Result<String> {
    let token = crate::crypto::random_token()?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(state.kek.hash(REFRESH, &token)),
            refresh_tokens::session_id.eq(session_id),
        ))
        .execute(conn)
        .await?;
    Ok(token)
}

/// What a refresh led to.
pub enum Refreshed {
    Rotated {
        user_id: Uuid,
        session_id: Uuid,
        refresh_token: String,
        expires_at: DateTime<Utc>,
        roles: Vec<String>,
        perms: Vec<String>,
    },
    /// A spent token came back: the session was revoked.
    Reused { session_id: Uuid },
}

/// The rotation, done by the `rotate_refresh_token` function of the migrations (one round
/// trip, plans cached server-side). No row means the token is unknown, spent, or its
/// session is over; [`refresh`] then tells those apart.
const ROTATE: &str = "SELECT * FROM rotate_refresh_token($1, $2, $3)";

#[derive(QueryableByName)]
struct Rotated {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    session_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    expires_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    roles: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    perms: Vec<String>,
}

/// Spends `token` and issues the next one of its family.
pub async fn refresh(state: &State, token: &str, ip: &str, rid: &RequestId) -> Result<Refreshed> {
    let hash = state.kek.hash(REFRESH, token);
    let next = crate::crypto::random_token()?;
    let idle = chrono_dur(state.config.tokens.refresh_idle_ttl);
    let mut conn = platform::db::conn(&state.pool).await?;
    let rotated: Option<Rotated> = diesel::sql_query(ROTATE)
        .bind::<diesel::sql_types::Bytea, _>(&hash)
        .bind::<diesel::sql_types::Interval, _>(idle)
        .bind::<diesel::sql_types::Bytea, _>(state.kek.hash(REFRESH, &next))
        .get_result(&mut conn)
        .await
        .optional()?;
    if let Some(r) = rotated {
        return Ok(Refreshed::Rotated {
            user_id: r.user_id,
            session_id: r.session_id,
            refresh_token: next,
            expires_at: r.expires_at,
            roles: r.roles,
            perms: r.perms,
        });
    }
    let outcome = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let known: Option<(Uuid, Option<DateTime<Utc>>)> = refresh_tokens::table
                    .find(&hash)
                    .select((refresh_tokens::session_id, refresh_tokens::spent_at))
                    .first(conn)
                    .await
                    .optional()?;
                let Some((session_id, Some(_spent))) = known else {
                    // Unknown, or unspent but its session is over.
                    return Err(Error::SessionExpired);
                };
                let revoked = revoke(
                    conn,
                    state,
                    Scope::Family(session_id),
                    "refresh_token_reuse",
                    rid,
                )
                .await?;
                if let Some((_, user_id)) = <[_]>::first(&revoked) {
                    let event = ev::RefreshTokenReused {
                        session_id: session_id.to_string(),
                        user_id: user_id.to_string(),
                        ip: ip.to_owned(),
                    };
                    state.emit(conn, *user_id, &event, Some(rid)).await?;
                }
                Ok(Refreshed::Reused { session_id })
            }
            .scope_boxed()
        })
        .await?;
    if let Refreshed::Reused { session_id } = &outcome {
        deny(state, &[*session_id]).await;
    }
    Ok(outcome)
}

/// Which sessions a revocation covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// One of the user's own sessions.
    One {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// A session whose refresh family was compromised (the owner is looked up).
    Family(Uuid),
    All(Uuid),
    AllExcept {
        user_id: Uuid,
        keep: Uuid,
    },
    Device {
        user_id: Uuid,
        device_id: Uuid,
    },
}

/// Revokes the live sessions in `scope` inside the caller's transaction and publishes one
/// event each; returns (session, user) pairs. Call [`deny`] with them after the commit.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    state: &State,
    scope: Scope,
    reason: &str,
    rid: &RequestId,
) -> Result<Vec<(Uuid, Uuid)>> {
    let target = sessions::table
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    let target = match scope {
        Scope::One {
            user_id,
            session_id,
        } => target
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.eq(session_id)),
        Scope::Family(session_id) => target.filter(sessions::id.eq(session_id)),
        Scope::All(user_id) => target.filter(sessions::user_id.eq(user_id)),
        Scope::AllExcept { user_id, keep } => target
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep)),
        Scope::Device { user_id, device_id } => target
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::device_id.eq(device_id)),
    };
    let ids: Vec<Uuid> = target.select(sessions::id).load(conn).await?;
    let revoked: Vec<(Uuid, Uuid)> =
        diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
            .filter(sessions::revoked_at.is_null())
            .set((
                sessions::revoked_at.eq(diesel::dsl::now),
                sessions::revoked_reason.eq(reason),
            ))
            .returning((sessions::id, sessions::user_id))
            .get_results(conn)
            .await?;
    for (session_id, user_id) in &revoked {
        let event = ev::SessionRevoked {
            session_id: session_id.to_string(),
            user_id: user_id.to_string(),
            reason: reason.to_owned(),
        };
        state.emit(conn, *user_id, &event, Some(rid)).await?;
    }
    Ok(revoked)
}

/// Puts sessions on the deny-list. A failure is logged, not returned: the revocation is
/// already committed, and [`repair_deny_list`] writes it again within a minute.
pub async fn deny(state: &State, session_ids: &[Uuid]) {
    if session_ids.is_empty() {
        return;
    }
    let ttl = state.config.tokens.access_ttl + state.config.verify.leeway;
    let mut pipe = redis::pipe();
    for sid in session_ids {
        pipe.set_ex(platform::auth::revoked_session_key(sid), 1, ttl.as_secs())
            .ignore();
    }
    let mut redis = state.redis.clone();
    if let Err(e) = pipe.query_async::<()>(&mut redis).await {
        tracing::warn!(error = %e, count = session_ids.len(), "deny-list write failed; the repair task will retry");
    }
}

/// Rewrites the deny-list entries of every session revoked within an access token's
/// lifetime, so a Redis restart or a failed write cannot resurrect a revoked session.
pub async fn repair_deny_list(state: &State) -> Result<usize> {
    let since =
        Utc::now() - chrono_dur(state.config.tokens.access_ttl + state.config.verify.leeway);
    let mut conn = platform::db::conn(&state.pool).await?;
    let ids: Vec<Uuid> = sessions::table
        .filter(sessions::revoked_at.gt(since))
        .select(sessions::id)
        .load(&mut conn)
        .await?;
    drop(conn);
    for chunk in ids.chunks(500) {
        deny(state, chunk).await;
    }
    Ok(ids.len())
}

/// A live session as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: Uuid,
    pub device_id: Uuid,
    pub device_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session the request was made with.
    pub current: bool,
}

type SessionRow = (
    Uuid,
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
);

pub async fn list(state: &State, user_id: Uuid, current: Uuid) -> Result<Vec<SessionView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let rows: Vec<SessionRow> = sessions::table
        .inner_join(devices_t::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .order(sessions::last_used_at.desc())
        .select((
            sessions::id,
            sessions::device_id,
            devices_t::name,
            sessions::ip,
            sessions::user_agent,
            sessions::created_at,
            sessions::last_used_at,
            sessions::expires_at,
        ))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionView {
            id: r.0,
            device_id: r.1,
            device_name: r.2,
            ip: r.3,
            user_agent: r.4,
            created_at: r.5,
            last_used_at: r.6,
            expires_at: r.7,
            current: r.0 == current,
        })
        .collect())
}
