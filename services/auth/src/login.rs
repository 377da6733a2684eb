//! Signing in: password, passwordless OTP, and the MFA second step, all ending in
//! [`finish`], which starts the session and signs the tokens.
//!
//! No enumeration: an unknown identifier and a wrong password get the same answer after
//! the same work (a full argon2 verification against a dummy hash), and lockout counts
//! both alike.

use crate::accounts::{self, User, UserView};
use crate::devices::DeviceInfo;
use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::one_time::{self, Kind};
use crate::otp::{self, Purpose};
use crate::sessions;
use crate::state::State;
use crate::tokens::{self, TokenPair};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;
use uuid::Uuid;

pub const MFA_CHALLENGE_TTL: Duration = Duration::from_secs(5 * 60);
pub const MFA_MAX_ATTEMPTS: i32 = 5;

/// A completed sign-in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedIn {
    pub user: UserView,
    pub tokens: TokenPair,
    pub session_id: Uuid,
    pub device_id: Uuid,
}

/// The answer to a first factor: tokens, or a challenge for the second.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// True when a TOTP or recovery code must be sent to `/login/mfa` with `mfaToken`.
    pub mfa_required: bool,
    pub mfa_token: Option<String>,
    #[serde(flatten)]
    pub logged_in: Option<LoggedIn>,
}

impl From<LoggedIn> for LoginResponse {
    fn from(l: LoggedIn) -> Self {
        Self {
            mfa_required: false,
            mfa_token: None,
            logged_in: Some(l),
        }
    }
}

/// The `outcome` label of `auth_logins_total`, so operators see credential stuffing
/// (invalid), lockouts and MFA use at a glance.
pub fn outcome<T>(result: &Result<T>, mfa_required: impl Fn(&T) -> bool) -> &'static str {
    match result {
        Ok(r) if mfa_required(r) => "mfa_required",
        Ok(_) => "success",
        Err(Error::InvalidCredentials) => "invalid_credentials",
        Err(Error::InvalidCode | Error::InvalidToken(_)) => "invalid_code",
        Err(Error::Locked { .. }) => "locked",
        Err(Error::RateLimited { .. }) => "rate_limited",
        Err(Error::AccountInactive(_)) => "inactive",
        Err(Error::DeviceBlocked) => "device_blocked",
        Err(_) => "error",
    }
}

/// What the MFA challenge remembers of the first step.
#[derive(Serialize, Deserialize)]
struct Pending {
    method: String,
    device_key: String,
    device_name: Option<String>,
    user_agent: Option<String>,
}

/// The lockout key: the account when it exists, a keyed hash of the identifier when it
/// does not, so both behave the same from outside.
fn lock_subject(state: &State, identifier: &Identifier, user: Option<&User>) -> String {
    match user {
        Some(u) => format!("u:{}", u.id),
        None => format!(
            "i:{}",
            hex::encode(state.kek.hash("lockout", identifier.as_str()))
        ),
    }
}

async fn publish_failure(
    state: &State,
    user_id: Uuid,
    ip: &str,
    reason: &str,
    lock: Option<crate::limits::NewLock>,
    rid: &RequestId,
) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let failed = ev::LoginFailed {
                user_id: user_id.to_string(),
                ip: ip.to_owned(),
                reason: reason.to_owned(),
            };
            state.emit(conn, user_id, &failed, Some(rid)).await?;
            if let Some(lock) = lock {
                let until = chrono::Utc::now()
                    + chrono::Duration::from_std(lock.duration).unwrap_or(chrono::Duration::MAX);
                let locked = ev::AccountLocked {
                    user_id: user_id.to_string(),
                    failed_attempts: i32::try_from(lock.failures).unwrap_or(i32::MAX),
                    locked_until: Some(events::timestamp(until)),
                };
                state.emit(conn, user_id, &locked, Some(rid)).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

pub async fn with_password(
    state: &State,
    identifier: &Identifier,
    password: &str,
    device: DeviceInfo,
    rid: &RequestId,
) -> Result<LoginResponse> {
    state.limits.check_ip("login", device.ip).await?;
    let mut conn = platform::db::conn(&state.pool).await?;
    let user = accounts::find_by_identifier(&mut conn, identifier).await?;
    drop(conn);
    let subject = lock_subject(state, identifier, user.as_ref());
    state.limits.check_lock(&subject).await?;
    let ok = state
        .hasher
        .verify(
            password.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let Some(user) = user.filter(|_| ok) else {
        let lock = state.limits.record_failure(&subject).await?;
        if let Some(user_id) = subject.strip_prefix("u:").and_then(|s| s.parse().ok()) {
            publish_failure(
                state,
                user_id,
                &device.ip.to_string(),
                "bad_password",
                lock,
                rid,
            )
            .await?;
        }
        return Err(Error::InvalidCredentials);
    };
    user.ensure_active()?;
    if user.mfa_enabled() {
        // The failure count is kept until the second factor passes too, so the lockout
        // also caps guessing TOTP codes.
        return challenge(state, &user, &device, "password+mfa").await;
    }
    state.limits.clear_failures(&subject).await?;
    finish(state, &user, &device, "password", rid)
        .await
        .map(Into::into)
}

/// Passwordless: a verified login code stands in for the password.
pub async fn with_otp(
    state: &State,
    identifier: &Identifier,
    code: &str,
    device: DeviceInfo,
    rid: &RequestId,
) -> Result<LoginResponse> {
    state.limits.check_ip("login", device.ip).await?;
    let mut conn = platform::db::conn(&state.pool).await?;
    let verified = conn
        .transaction::<_, Error, _>(|conn| {
            async move { otp::verify(conn, state, identifier, Purpose::Login, code).await }
                .scope_boxed()
        })
        .await?;
    let user_id = verified?;
    let user = accounts::find(&mut conn, user_id)
        .await?
        .ok_or(Error::InvalidCode)?;
    drop(conn);
    user.ensure_active()?;
    if user.mfa_enabled() {
        return challenge(state, &user, &device, "otp+mfa").await;
    }
    finish(state, &user, &device, "otp", rid)
        .await
        .map(Into::into)
}

async fn challenge(
    state: &State,
    user: &User,
    device: &DeviceInfo,
    method: &str,
) -> Result<LoginResponse> {
    let pending = Pending {
        method: method.to_owned(),
        device_key: device.device_key.clone(),
        device_name: device.name.clone(),
        user_agent: device.user_agent.clone(),
    };
    let payload = serde_json::to_value(&pending).map_err(|e| Error::Internal(e.into()))?;
    let mut conn = platform::db::conn(&state.pool).await?;
    let (token, _) = one_time::issue(
        &mut conn,
        state,
        Kind::MfaChallenge,
        user.id,
        payload,
        MFA_CHALLENGE_TTL,
    )
    .await?;
    Ok(LoginResponse {
        mfa_required: true,
        mfa_token: Some(token),
        logged_in: None,
    })
}

/// The second step: a TOTP or recovery code for the challenge from the first.
pub async fn with_mfa(
    state: &State,
    mfa_token: &str,
    code: Option<&str>,
    recovery_code: Option<&str>,
    ip: std::net::IpAddr,
    rid: &RequestId,
) -> Result<LoggedIn> {
    state.limits.check_ip("login", ip).await?;
    let mut conn = platform::db::conn(&state.pool).await?;
    let outcome = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let (hash, user_id, payload, _) =
                    one_time::peek_for_update(conn, state, Kind::MfaChallenge, mfa_token).await?;
                let user = accounts::find_for_update(conn, user_id).await?;
                let subject = format!("u:{user_id}");
                state.limits.check_lock(&subject).await?;
                if !mfa::check_second_factor(conn, state, &user, code, recovery_code).await? {
                    one_time::fail_attempt(conn, &hash, MFA_MAX_ATTEMPTS).await?;
                    if let Some(lock) = state.limits.record_failure(&subject).await? {
                        let until = chrono::Utc::now()
                            + chrono::Duration::from_std(lock.duration)
                                .unwrap_or(chrono::Duration::zero());
                        let locked = ev::AccountLocked {
                            user_id: user_id.to_string(),
                            failed_attempts: i32::try_from(lock.failures).unwrap_or(i32::MAX),
                            locked_until: Some(events::timestamp(until)),
                        };
                        state.emit(conn, user_id, &locked, Some(rid)).await?;
                    }
                    let failed = ev::LoginFailed {
                        user_id: user_id.to_string(),
                        ip: ip.to_string(),
                        reason: "bad_mfa_code".into(),
                    };
                    state.emit(conn, user_id, &failed, Some(rid)).await?;
                    return Ok(Err(Error::InvalidCode));
                }
                one_time::mark_used(conn, &hash).await?;
                user.ensure_active()?;
                state.limits.clear_failures(&subject).await?;
                let pending: Pending =
                    serde_json::from_value(payload).map_err(|e| Error::Internal(e.into()))?;
                let device = DeviceInfo {
                    device_key: pending.device_key,
                    name: pending.device_name,
                    user_agent: pending.user_agent,
                    ip,
                };
                let started = start_in(conn, state, &user, &device, &pending.method, rid).await?;
                Ok(Ok((user, started)))
            }
            .scope_boxed()
        })
        .await?;
    let (user, (started, roles, perms)) = outcome?;
    complete(state, &user, started, roles, perms).await
}

use crate::mfa;

async fn start_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    user: &User,
    device: &DeviceInfo,
    method: &str,
    rid: &RequestId,
) -> Result<(sessions::Started, Vec<String>, Vec<String>)> {
    let started = sessions::start(conn, state, user, device, method, rid).await?;
    let succeeded = ev::LoginSucceeded {
        user_id: user.id.to_string(),
        session_id: started.session_id.to_string(),
        device_id: started.device_id.to_string(),
        ip: device.ip.to_string(),
        method: method.to_owned(),
    };
    state.emit(conn, user.id, &succeeded, Some(rid)).await?;
    let (roles, perms) = accounts::grants(conn, user.id).await?;
    Ok((started, roles, perms))
}

async fn complete(
    state: &State,
    user: &User,
    started: sessions::Started,
    roles: Vec<String>,
    perms: Vec<String>,
) -> Result<LoggedIn> {
    let access = tokens::sign(state, user.id, started.session_id, roles.clone(), perms).await?;
    Ok(LoggedIn {
        user: UserView::new(user, roles),
        tokens: tokens::pair(state, access, started.refresh_token, started.expires_at),
        session_id: started.session_id,
        device_id: started.device_id,
    })
}

/// Starts the session for a user who has passed every factor.
pub async fn finish(
    state: &State,
    user: &User,
    device: &DeviceInfo,
    method: &str,
    rid: &RequestId,
) -> Result<LoggedIn> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let (started, roles, perms) = conn
        .transaction::<_, Error, _>(|conn| {
            async move { start_in(conn, state, user, device, method, rid).await }.scope_boxed()
        })
        .await?;
    drop(conn);
    complete(state, user, started, roles, perms).await
}
