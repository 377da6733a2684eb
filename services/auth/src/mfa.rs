//! Two-factor authentication: TOTP (RFC 6238, 30 s steps, one step of clock skew) and ten
//! single-use recovery codes.
//!
//! The TOTP secret must be read back to check codes, so it is encrypted rather than hashed.
//! The last accepted step is remembered, so a code seen over someone's shoulder cannot be
//! replayed within its 90-second window.

use crate::accounts::{self, User};
use crate::error::{Error, Result};
use crate::schema::{recovery_codes, users};
use crate::state::State;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::Serialize;
use totp_rs::{Algorithm, TOTP};
use utoipa::ToSchema;
use uuid::Uuid;

pub const ISSUER: &str = "Neighbourly";
pub const RECOVERY_CODES: usize = 10;
const STEP: u64 = 30;

fn context(user_id: Uuid) -> String {
    format!("users/{user_id}/totp")
}

fn totp(secret: Vec<u8>, account: &str) -> Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        secret,
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP: {e}")))
}

fn account_name(user: &User) -> String {
    user.email
        .clone()
        .or_else(|| user.phone.clone())
        .unwrap_or_else(|| user.id.to_string())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    /// Base32 secret, for typing into an authenticator by hand.
    pub secret: String,
    /// `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// Re-authentication for sensitive changes: the account's password, counted against the
/// lockout like a login.
pub async fn reauthenticate(state: &State, user: &User, password: &str) -> Result<()> {
    let subject = format!("u:{}", user.id);
    state.limits.check_lock(&subject).await?;
    if state
        .hasher
        .verify(password.to_owned(), Some(user.password_hash.clone()))
        .await?
    {
        return Ok(());
    }
    state.limits.record_failure(&subject).await?;
    Err(Error::field("password", "is not the account's password"))
}

/// Loads the account and re-authenticates its owner with `password`.
pub async fn reauthenticated(
    state: &State,
    user_id: Uuid,
    password: &str,
) -> Result<(platform::db::DbConn, User)> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let user = accounts::find(&mut conn, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    reauthenticate(state, &user, password).await?;
    Ok((conn, user))
}

/// Starts enrolment: a fresh secret, stored encrypted but not active until `enable`.
pub async fn setup(state: &State, user_id: Uuid, password: &str) -> Result<Setup> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let user = accounts::find(&mut conn, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if user.mfa_enabled() {
        return Err(Error::Conflict(
            "two-factor authentication is already enabled".into(),
        ));
    }
    reauthenticate(state, &user, password).await?;
    let mut secret = vec![0u8; 20];
    getrandom::fill(&mut secret).map_err(|e| Error::Internal(e.into()))?;
    let t = totp(secret.clone(), &account_name(&user))?;
    let sealed = state.kek.encrypt(&secret, &context(user_id))?;
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret_enc.eq(Some(sealed)),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(&mut conn)
        .await?;
    Ok(Setup {
        secret: t.get_secret_base32(),
        otpauth_uri: t.get_url(),
    })
}

/// Checks a TOTP code and records its step; false for a wrong or replayed code.
pub async fn check_totp(
    conn: &mut AsyncPgConnection,
    state: &State,
    user: &User,
    code: &str,
) -> Result<bool> {
    let Some(sealed) = &user.totp_secret_enc else {
        return Ok(false);
    };
    let secret = state.kek.decrypt(sealed, &context(user.id))?;
    let t = totp(secret, &account_name(user))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| Error::Internal(e.into()))?
        .as_secs();
    let current = now / STEP;
    let code = code.trim();
    let matched = [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| crate::crypto::same(t.generate(step * STEP).as_bytes(), code.as_bytes()));
    let Some(step) = matched.and_then(|s| i64::try_from(s).ok()) else {
        return Ok(false);
    };
    if user.totp_last_step.is_some_and(|last| step <= last) {
        return Ok(false);
    }
    diesel::update(users::table.find(user.id))
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)
        .await?;
    Ok(true)
}

/// Spends a recovery code; false when unknown or already used.
pub async fn use_recovery_code(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    code: &str,
) -> Result<bool> {
    let hash = state
        .kek
        .hash("recovery", &crate::crypto::normalize_recovery_code(code));
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// A TOTP code or a recovery code, whichever was given.
pub async fn check_second_factor(
    conn: &mut AsyncPgConnection,
    state: &State,
    user: &User,
    code: Option<&str>,
    recovery_code: Option<&str>,
) -> Result<bool> {
    match (code, recovery_code) {
        (Some(c), _) => check_totp(conn, state, user, c).await,
        (None, Some(r)) => use_recovery_code(conn, state, user.id, r).await,
        (None, None) => Ok(false),
    }
}

async fn new_recovery_codes(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
) -> Result<Vec<String>> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let code = crate::crypto::recovery_code()?;
        let hash = state
            .kek
            .hash("recovery", &crate::crypto::normalize_recovery_code(&code));
        rows.push((
            recovery_codes::user_id.eq(user_id),
            recovery_codes::code_hash.eq(hash),
        ));
        codes.push(code);
    }
    diesel::insert_into(recovery_codes::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(codes)
}

/// Activates the pending secret once the user proves their authenticator has it; returns
/// the recovery codes (shown once).
pub async fn enable(
    state: &State,
    user_id: Uuid,
    code: &str,
    rid: &RequestId,
) -> Result<Vec<String>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let user = accounts::find_for_update(conn, user_id).await?;
            if user.mfa_enabled() {
                return Err(Error::Conflict(
                    "two-factor authentication is already enabled".into(),
                ));
            }
            if user.totp_secret_enc.is_none() {
                return Err(Error::Rule("start with /2fa/setup".into()));
            }
            if !check_totp(conn, state, &user, code).await? {
                return Err(Error::InvalidCode);
            }
            diesel::update(users::table.find(user_id))
                .set((
                    users::mfa_enabled_at.eq(diesel::dsl::now),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let codes = new_recovery_codes(conn, state, user_id).await?;
            let event = ev::MfaChanged {
                user_id: user_id.to_string(),
                enabled: true,
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(codes)
        }
        .scope_boxed()
    })
    .await
}

/// Turns MFA off; needs the password and a current code (or a recovery code).
pub async fn disable(
    state: &State,
    user_id: Uuid,
    password: &str,
    code: Option<&str>,
    recovery_code: Option<&str>,
    rid: &RequestId,
) -> Result<()> {
    let (mut conn, user) = reauthenticated(state, user_id, password).await?;
    if !user.mfa_enabled() {
        return Err(Error::Rule(
            "two-factor authentication is not enabled".into(),
        ));
    }
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let user = accounts::find_for_update(conn, user_id).await?;
            if !check_second_factor(conn, state, &user, code, recovery_code).await? {
                state.limits.record_failure(&format!("u:{user_id}")).await?;
                return Err(Error::InvalidCode);
            }
            diesel::update(users::table.find(user_id))
                .set((
                    users::mfa_enabled_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                    users::totp_secret_enc.eq(None::<Vec<u8>>),
                    users::totp_last_step.eq(None::<i64>),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
                .execute(conn)
                .await?;
            let event = ev::MfaChanged {
                user_id: user_id.to_string(),
                enabled: false,
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Replaces the recovery codes; needs the password and a current TOTP code.
pub async fn regenerate_recovery_codes(
    state: &State,
    user_id: Uuid,
    password: &str,
    code: &str,
) -> Result<Vec<String>> {
    let (mut conn, user) = reauthenticated(state, user_id, password).await?;
    if !user.mfa_enabled() {
        return Err(Error::Rule(
            "two-factor authentication is not enabled".into(),
        ));
    }
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let user = accounts::find_for_update(conn, user_id).await?;
            if !check_totp(conn, state, &user, code).await? {
                state.limits.record_failure(&format!("u:{user_id}")).await?;
                return Err(Error::InvalidCode);
            }
            new_recovery_codes(conn, state, user_id).await
        }
        .scope_boxed()
    })
    .await
}
