//! Single-use bearer tokens handed out by link or response: e-mail verification, password
//! reset, MFA challenge. Stored as keyed hashes; spending one is an atomic update, so a
//! token races with itself at most once.

use crate::error::{Error, Result};
use crate::schema::one_time_tokens;
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

platform::text_enum! {
    /// What a token is for (`one_time_tokens.kind`; its text also keys the token's hash).
    pub enum Kind {
        EmailVerification = "email_verification",
        PasswordReset = "password_reset",
        MfaChallenge = "mfa_challenge",
    }
}

impl Kind {
    /// How the API names the token in errors.
    pub fn label(self) -> &'static str {
        match self {
            Kind::EmailVerification => "verification token",
            Kind::PasswordReset => "reset token",
            Kind::MfaChallenge => "MFA challenge",
        }
    }
}

/// Issues a token, replacing any unused one of the same kind for the user (only the newest
/// link works).
pub async fn issue(
    conn: &mut AsyncPgConnection,
    state: &State,
    kind: Kind,
    user_id: Uuid,
    payload: Value,
    ttl: Duration,
) -> Result<(String, DateTime<Utc>)> {
    if kind != Kind::MfaChallenge {
        diesel::update(
            one_time_tokens::table
                .filter(one_time_tokens::user_id.eq(user_id))
                .filter(one_time_tokens::kind.eq(kind))
                .filter(one_time_tokens::used_at.is_null()),
        )
        .set(one_time_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    }
    let token = crate::crypto::random_token()?;
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::token_hash.eq(state.kek.hash(kind.as_str(), &token)),
            one_time_tokens::kind.eq(kind),
            one_time_tokens::user_id.eq(user_id),
            one_time_tokens::payload.eq(payload),
            one_time_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok((token, expires_at))
}

/// Spends a token: its user and payload, or `InvalidToken` when unknown, used or expired.
pub async fn consume(
    conn: &mut AsyncPgConnection,
    state: &State,
    kind: Kind,
    token: &str,
) -> Result<(Uuid, Value)> {
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::token_hash.eq(state.kek.hash(kind.as_str(), token)))
            .filter(one_time_tokens::kind.eq(kind))
            .filter(one_time_tokens::used_at.is_null())
            .filter(one_time_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(one_time_tokens::used_at.eq(diesel::dsl::now))
    .returning((one_time_tokens::user_id, one_time_tokens::payload))
    .get_result(conn)
    .await
    .optional()?
    .ok_or(Error::InvalidToken(kind.label()))
}

/// A live token, locked for the transaction, with its failed attempts so far (MFA
/// challenges allow a few wrong codes before they die).
pub async fn peek_for_update(
    conn: &mut AsyncPgConnection,
    state: &State,
    kind: Kind,
    token: &str,
) -> Result<(Vec<u8>, Uuid, Value, i32)> {
    let hash = state.kek.hash(kind.as_str(), token);
    let (user_id, payload, attempts) = one_time_tokens::table
        .find(&hash)
        .filter(one_time_tokens::kind.eq(kind))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(diesel::dsl::now))
        .select((
            one_time_tokens::user_id,
            one_time_tokens::payload,
            one_time_tokens::attempts,
        ))
        .for_update()
        .first::<(Uuid, Value, i32)>(conn)
        .await
        .optional()?
        .ok_or(Error::InvalidToken(kind.label()))?;
    Ok((hash, user_id, payload, attempts))
}

/// Counts a failed attempt; at `max` the token is spent.
pub async fn fail_attempt(conn: &mut AsyncPgConnection, hash: &[u8], max: i32) -> Result<()> {
    diesel::update(one_time_tokens::table.find(hash))
        .set((
            one_time_tokens::attempts.eq(one_time_tokens::attempts + 1),
            one_time_tokens::used_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("CASE WHEN attempts + 1 >= ")
            .bind::<diesel::sql_types::Integer, _>(max)
            .sql(" THEN now() ELSE NULL END")),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_used(conn: &mut AsyncPgConnection, hash: &[u8]) -> Result<()> {
    diesel::update(one_time_tokens::table.find(hash))
        .set(one_time_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}
