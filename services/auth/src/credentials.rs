//! Changing what a person signs in with: password (forgot, reset, change), e-mail and
//! phone, and verifying a phone or e-mail by code.

use crate::accounts;
use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::mfa::reauthenticated;
use crate::one_time::{self, Kind};
use crate::otp::{self, Purpose};
use crate::schema::users;
use crate::sessions::{self, Scope};
use crate::state::State;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::db::DbError;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

pub const RESET_TTL: Duration = Duration::from_secs(30 * 60);

/// Always succeeds from the caller's point of view; a link (e-mail) or a code (phone) is
/// sent only when the account exists.
pub async fn forgot_password(
    state: &State,
    identifier: &Identifier,
    rid: &RequestId,
) -> Result<()> {
    if let Identifier::Phone(_) = identifier {
        return match otp::send(state, identifier, Purpose::PasswordReset, rid).await {
            // The code limit must not become a way to probe accounts either.
            Err(Error::RateLimited { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        };
    }
    // A few links per address per hour: enough for a lost mail, too few to flood an inbox.
    // Over the budget the answer stays the same; only no mail is sent.
    let key = format!(
        "forgot:{}",
        hex::encode(state.kek.hash("forgot", identifier.as_str()))
    );
    match state
        .limits
        .check_budget(&key, 5, Duration::from_secs(3600))
        .await
    {
        Err(Error::RateLimited { .. }) => return Ok(()),
        other => other?,
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let Some(user) = accounts::find_by_identifier(conn, identifier).await? else {
                return Ok(());
            };
            if user.ensure_active().is_err() {
                return Ok(());
            }
            let (token, expires_at) = one_time::issue(
                conn,
                state,
                Kind::PasswordReset,
                user.id,
                json!({}),
                RESET_TTL,
            )
            .await?;
            let event = ev::PasswordResetRequested {
                user_id: user.id.to_string(),
                email: identifier.as_str().to_owned(),
                token,
                expires_at: Some(events::timestamp(expires_at)),
            };
            state.emit(conn, user.id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

async fn set_password(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    hash: &str,
    method: &str,
    rid: &RequestId,
) -> Result<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(diesel::dsl::now),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let event = ev::PasswordChanged {
        user_id: user_id.to_string(),
        method: method.to_owned(),
    };
    state.emit(conn, user_id, &event, Some(rid)).await?;
    Ok(())
}

/// Sets a new password with a reset token (from the e-mail link or a verified reset code)
/// and ends every session.
pub async fn reset_password(
    state: &State,
    token: &str,
    new_password: &str,
    rid: &RequestId,
) -> Result<()> {
    crate::password::check_policy(new_password, &[])?;
    let hash = state.hasher.hash(new_password.to_owned()).await?;
    let mut conn = platform::db::conn(&state.pool).await?;
    let (user_id, revoked) = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let (user_id, _) =
                    one_time::consume(conn, state, Kind::PasswordReset, token).await?;
                set_password(conn, state, user_id, &hash, "reset", rid).await?;
                let revoked =
                    sessions::revoke(conn, state, Scope::All(user_id), "password_reset", rid)
                        .await?;
                Ok((user_id, revoked))
            }
            .scope_boxed()
        })
        .await?;
    let ids: Vec<Uuid> = revoked.into_iter().map(|(s, _)| s).collect();
    sessions::deny(state, &ids).await;
    // Whoever reset the password owns the mailbox; a lock from someone else's guessing
    // should not keep them out.
    state.limits.clear_failures(&format!("u:{user_id}")).await?;
    Ok(())
}

/// Changes the password knowing the current one; every other session ends.
pub async fn change_password(
    state: &State,
    user_id: Uuid,
    current_session: Uuid,
    current: &str,
    new_password: &str,
    rid: &RequestId,
) -> Result<()> {
    let (mut conn, user) = reauthenticated(state, user_id, current)
        .await
        .map_err(|e| match e {
            Error::Field { message, .. } => Error::Field {
                field: "currentPassword",
                message,
            },
            other => other,
        })?;
    let inputs: Vec<&str> = [user.email.as_deref(), user.phone.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    crate::password::check_policy(new_password, &inputs).map_err(|e| match e {
        Error::Field { message, .. } => Error::Field {
            field: "newPassword",
            message,
        },
        other => other,
    })?;
    let hash = state.hasher.hash(new_password.to_owned()).await?;
    let revoked = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                set_password(conn, state, user_id, &hash, "change", rid).await?;
                sessions::revoke(
                    conn,
                    state,
                    Scope::AllExcept {
                        user_id,
                        keep: current_session,
                    },
                    "password_changed",
                    rid,
                )
                .await
            }
            .scope_boxed()
        })
        .await?;
    let ids: Vec<Uuid> = revoked.into_iter().map(|(s, _)| s).collect();
    sessions::deny(state, &ids).await;
    Ok(())
}

fn in_use(e: Error, field: &'static str, what: &str) -> Error {
    match e {
        Error::Db(DbError::UniqueViolation(_)) => Error::field(
            field,
            format!("this {what} is already used by another account"),
        ),
        other => other,
    }
}

/// Replaces the e-mail address (after re-authentication); the new one must be verified.
pub async fn change_email(
    state: &State,
    user_id: Uuid,
    password: &str,
    new_email: &str,
    rid: &RequestId,
) -> Result<()> {
    let (mut conn, _user) = reauthenticated(state, user_id, password).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            diesel::update(users::table.find(user_id))
                .set((
                    users::email.eq(Some(new_email)),
                    users::email_verified_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            crate::registration::request_email_verification(conn, state, user_id, new_email, rid)
                .await
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| in_use(e, "email", "e-mail address"))
}

/// Replaces the phone number (after re-authentication) and sends a code to verify it.
pub async fn change_phone(
    state: &State,
    user_id: Uuid,
    password: &str,
    new_phone: &str,
    rid: &RequestId,
) -> Result<()> {
    let (mut conn, _user) = reauthenticated(state, user_id, password).await?;
    let identifier = Identifier::Phone(new_phone.to_owned());
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            diesel::update(users::table.find(user_id))
                .set((
                    users::phone.eq(Some(new_phone)),
                    users::phone_verified_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            otp::send_in(conn, state, &identifier, Purpose::VerifyPhone, rid).await
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| in_use(e, "phone", "phone number"))
}

/// Marks the identifier verified, provided it is still the account's: a code sent to an
/// earlier address proves nothing about the current one. False when it is not.
async fn mark_verified(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    identifier: &Identifier,
    rid: &RequestId,
) -> Result<bool> {
    let target = users::table.find(user_id);
    let n = match identifier {
        Identifier::Email(e) => {
            diesel::update(target.filter(users::email.eq(e)))
                .set(users::email_verified_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?
        }
        Identifier::Phone(p) => {
            diesel::update(target.filter(users::phone.eq(p)))
                .set(users::phone_verified_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?
        }
    };
    if n == 0 {
        return Ok(false);
    }
    let id = user_id.to_string();
    match identifier {
        Identifier::Email(email) => {
            let event = ev::EmailVerified {
                user_id: id,
                email: email.clone(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
        }
        Identifier::Phone(phone) => {
            let event = ev::PhoneVerified {
                user_id: id,
                phone: phone.clone(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
        }
    }
    Ok(true)
}

/// What a verified code leads to.
pub enum Verified {
    /// The e-mail or phone is now verified.
    Identifier,
    /// A reset token for `/password/reset`.
    ResetToken(String),
}

/// Checks a code for e-mail/phone verification or password reset.
pub async fn verify_code(
    state: &State,
    identifier: &Identifier,
    purpose: Purpose,
    code: &str,
    rid: &RequestId,
) -> Result<Verified> {
    if purpose == Purpose::Login {
        return Err(Error::field(
            "purpose",
            "login codes are sent to /login/otp",
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let user_id = match otp::verify(conn, state, identifier, purpose, code).await? {
                Ok(id) => id,
                Err(e) => return Ok(Err(e)),
            };
            let verified = match purpose {
                Purpose::VerifyEmail | Purpose::VerifyPhone => {
                    if !mark_verified(conn, state, user_id, identifier, rid).await? {
                        return Ok(Err(Error::InvalidCode));
                    }
                    Verified::Identifier
                }
                Purpose::PasswordReset | Purpose::Login => {
                    let (token, _) = one_time::issue(
                        conn,
                        state,
                        Kind::PasswordReset,
                        user_id,
                        json!({}),
                        RESET_TTL,
                    )
                    .await?;
                    Verified::ResetToken(token)
                }
            };
            Ok(Ok(verified))
        }
        .scope_boxed()
    })
    .await?
}
