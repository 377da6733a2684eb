//! One-time codes by e-mail or SMS: 6 digits, 5 minutes, 3 attempts, single use, at most 3
//! per identifier per 15 minutes.
//!
//! A code is recorded for unknown identifiers too (nothing is sent, and it can never be
//! verified), so neither the answer nor the rate limit tells who has an account.

use crate::accounts;
use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::schema::otp_codes;
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use std::time::Duration;
use uuid::Uuid;

pub const CODE_LEN: usize = 6;
pub const TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_ATTEMPTS: i32 = 3;
pub const MAX_PER_WINDOW: i64 = 3;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

platform::text_enum! {
    /// What a code is for (`otp_codes.purpose`, and the `purpose` of the API's requests).
    pub enum Purpose {
        Login = "login",
        VerifyEmail = "verify_email",
        VerifyPhone = "verify_phone",
        PasswordReset = "password_reset",
    }
}

fn code_hash(state: &State, id: Uuid, code: &str) -> Vec<u8> {
    state.kek.hash("otp", &format!("{id}:{code}"))
}

/// Whether a code for `purpose` would reach this account at all.
fn deliverable(user: &accounts::User, identifier: &Identifier, purpose: Purpose) -> bool {
    if user.ensure_active().is_err() {
        return false;
    }
    match (purpose, identifier) {
        (Purpose::VerifyEmail, Identifier::Email(_)) => user.email_verified_at.is_none(),
        (Purpose::VerifyEmail, Identifier::Phone(_)) => false,
        (Purpose::VerifyPhone, Identifier::Phone(_)) => user.phone_verified_at.is_none(),
        (Purpose::VerifyPhone, Identifier::Email(_)) => false,
        // Signing in by code to an address nobody has proven would let whoever registered
        // it first (perhaps not its owner) keep a password into the account.
        (Purpose::Login, Identifier::Email(_)) => user.email_verified_at.is_some(),
        (Purpose::Login, Identifier::Phone(_)) => user.phone_verified_at.is_some(),
        (Purpose::PasswordReset, _) => true,
    }
}

/// Creates a code and, when the account exists, the event that delivers it.
pub async fn send(
    state: &State,
    identifier: &Identifier,
    purpose: Purpose,
    rid: &RequestId,
) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move { send_in(conn, state, identifier, purpose, rid).await }.scope_boxed()
    })
    .await
}

pub async fn send_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    identifier: &Identifier,
    purpose: Purpose,
    rid: &RequestId,
) -> Result<()> {
    // Concurrent sends for one identifier must not both pass the count below.
    platform::db::advisory_xact_lock(conn, &format!("otp:{}", identifier.as_str())).await?;
    let window_start =
        Utc::now() - chrono::Duration::from_std(WINDOW).unwrap_or(chrono::Duration::MAX);
    let recent: Vec<DateTime<Utc>> = otp_codes::table
        .filter(otp_codes::identifier.eq(identifier.as_str()))
        .filter(otp_codes::created_at.gt(window_start))
        .order(otp_codes::created_at.asc())
        .select(otp_codes::created_at)
        .load(conn)
        .await?;
    if i64::try_from(recent.len()).unwrap_or(i64::MAX) >= MAX_PER_WINDOW {
        let frees_at = <[_]>::first(&recent).copied().unwrap_or_else(Utc::now)
            + chrono::Duration::from_std(WINDOW).unwrap_or(chrono::Duration::MAX);
        let retry_after = (frees_at - Utc::now())
            .to_std()
            .unwrap_or(Duration::from_secs(1));
        return Err(Error::RateLimited { retry_after });
    }
    let user = accounts::find_by_identifier(conn, identifier)
        .await?
        .filter(|u| deliverable(u, identifier, purpose));
    // Only the newest code works: earlier ones for the same purpose die now.
    diesel::update(
        otp_codes::table
            .filter(otp_codes::identifier.eq(identifier.as_str()))
            .filter(otp_codes::purpose.eq(purpose))
            .filter(otp_codes::consumed_at.is_null()),
    )
    .set(otp_codes::consumed_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    let id = Uuid::now_v7();
    let code = crate::crypto::random_digits(CODE_LEN)?;
    let expires_at = Utc::now() + chrono::Duration::from_std(TTL).unwrap_or(chrono::Duration::MAX);
    diesel::insert_into(otp_codes::table)
        .values((
            otp_codes::id.eq(id),
            otp_codes::identifier.eq(identifier.as_str()),
            otp_codes::purpose.eq(purpose),
            otp_codes::user_id.eq(user.as_ref().map(|u| u.id)),
            otp_codes::code_hash.eq(code_hash(state, id, &code)),
            otp_codes::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    if let Some(user) = user {
        let channel = match identifier {
            Identifier::Email(_) => ev::OtpChannel::Email,
            Identifier::Phone(_) => ev::OtpChannel::Sms,
        };
        let event = ev::OtpRequested {
            user_id: user.id.to_string(),
            channel: channel.into(),
            destination: identifier.as_str().to_owned(),
            code,
            purpose: purpose.as_str().to_owned(),
            expires_at: Some(events::timestamp(expires_at)),
        };
        state.emit(conn, user.id, &event, Some(rid)).await?;
    }
    Ok(())
}

/// Checks a code inside the caller's transaction. The outer error is a storage failure;
/// the inner one means a wrong, expired, used or exhausted code, and the caller should
/// still commit, because the attempt was counted.
pub async fn verify(
    conn: &mut AsyncPgConnection,
    state: &State,
    identifier: &Identifier,
    purpose: Purpose,
    code: &str,
) -> Result<Result<Uuid>> {
    let latest: Option<(Uuid, Option<Uuid>, Vec<u8>, i32)> = otp_codes::table
        .filter(otp_codes::identifier.eq(identifier.as_str()))
        .filter(otp_codes::purpose.eq(purpose))
        .filter(otp_codes::consumed_at.is_null())
        .filter(otp_codes::expires_at.gt(diesel::dsl::now))
        .order(otp_codes::created_at.desc())
        .select((
            otp_codes::id,
            otp_codes::user_id,
            otp_codes::code_hash,
            otp_codes::attempts,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((id, user_id, stored, attempts)) = latest else {
        return Ok(Err(Error::InvalidCode));
    };
    if attempts >= MAX_ATTEMPTS {
        diesel::update(otp_codes::table.find(id))
            .set(otp_codes::consumed_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        return Ok(Err(Error::InvalidCode));
    }
    let matches = crate::crypto::same(&stored, &code_hash(state, id, code.trim()));
    match (matches, user_id) {
        (true, Some(user_id)) => {
            diesel::update(otp_codes::table.find(id))
                .set((
                    otp_codes::consumed_at.eq(diesel::dsl::now),
                    otp_codes::attempts.eq(attempts + 1),
                ))
                .execute(conn)
                .await?;
            Ok(Ok(user_id))
        }
        _ => {
            let exhausted = attempts + 1 >= MAX_ATTEMPTS;
            diesel::update(otp_codes::table.find(id))
                .set((
                    otp_codes::attempts.eq(attempts + 1),
                    otp_codes::consumed_at.eq(exhausted.then(Utc::now)),
                ))
                .execute(conn)
                .await?;
            Ok(Err(Error::InvalidCode))
        }
    }
}
