//! Registration and e-mail verification.
//!
//! Registration answers the same whether or not the e-mail or phone already has an account
//! (the owner of an existing account is told by e-mail instead), and does the same work
//! either way: the password is hashed before anything is looked up.

use crate::accounts::{self, DEFAULT_ROLE};
use crate::error::{Error, Result};
use crate::one_time::{self, Kind};
use crate::schema::{roles, user_roles, users};
use crate::state::State;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

pub const EMAIL_VERIFICATION_TTL: Duration = Duration::from_secs(24 * 3600);

pub struct NewAccount {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password: String,
    pub role: Option<String>,
    pub referral_code: Option<String>,
}

pub async fn register(state: &State, new: NewAccount, rid: &RequestId) -> Result<()> {
    if new.email.is_none() && new.phone.is_none() {
        return Err(Error::field(
            "email",
            "an e-mail address or a phone number is required",
        ));
    }
    let inputs: Vec<&str> = [new.email.as_deref(), new.phone.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    crate::password::check_policy(&new.password, &inputs)?;
    let hash = state.hasher.hash(new.password.clone()).await?;
    let role = new.role.clone().unwrap_or_else(|| DEFAULT_ROLE.to_owned());
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let role_id: Option<Uuid> = roles::table
                .filter(roles::name.eq(&role))
                .filter(roles::self_service.eq(true))
                .select(roles::id)
                .first(conn)
                .await
                .optional()?;
            let role_id = role_id.ok_or_else(|| {
                Error::field(
                    "role",
                    "must be one of resident, community_manager, courier",
                )
            })?;
            let id = Uuid::now_v7();
            let inserted = diesel::insert_into(users::table)
                .values((
                    users::id.eq(id),
                    users::email.eq(&new.email),
                    users::phone.eq(&new.phone),
                    users::password_hash.eq(&hash),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                return tell_existing_owner(conn, state, &new, rid).await;
            }
            diesel::insert_into(user_roles::table)
                .values((user_roles::user_id.eq(id), user_roles::role_id.eq(role_id)))
                .execute(conn)
                .await?;
            let registered = ev::UserRegistered {
                user_id: id.to_string(),
                email: new.email.clone().unwrap_or_default(),
                phone: new.phone.clone().unwrap_or_default(),
                roles: vec![role.clone()],
                referral_code: new.referral_code.clone().unwrap_or_default(),
                registered_at: Some(events::timestamp(chrono::Utc::now())),
            };
            state.emit(conn, id, &registered, Some(rid)).await?;
            if let Some(email) = &new.email {
                request_email_verification(conn, state, id, email, rid).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

async fn tell_existing_owner(
    conn: &mut AsyncPgConnection,
    state: &State,
    new: &NewAccount,
    rid: &RequestId,
) -> Result<()> {
    let existing: Option<Uuid> = users::table
        .filter(
            users::email
                .eq(&new.email)
                .and(users::email.is_not_null())
                .or(users::phone.eq(&new.phone).and(users::phone.is_not_null())),
        )
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(user_id) = existing {
        let event = ev::RegistrationAttempted {
            user_id: user_id.to_string(),
            email: new.email.clone().unwrap_or_default(),
            phone: new.phone.clone().unwrap_or_default(),
        };
        state.emit(conn, user_id, &event, Some(rid)).await?;
    }
    Ok(())
}

/// Issues a verification link token for `email` (replacing any earlier one).
pub async fn request_email_verification(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    email: &str,
    rid: &RequestId,
) -> Result<()> {
    let (token, expires_at) = one_time::issue(
        conn,
        state,
        Kind::EmailVerification,
        user_id,
        json!({ "email": email }),
        EMAIL_VERIFICATION_TTL,
    )
    .await?;
    let event = ev::EmailVerificationRequested {
        user_id: user_id.to_string(),
        email: email.to_owned(),
        token,
        expires_at: Some(events::timestamp(expires_at)),
    };
    state.emit(conn, user_id, &event, Some(rid)).await?;
    Ok(())
}

/// Resends the verification link to the caller's unverified address.
pub async fn resend_verification(state: &State, user_id: Uuid, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let user = accounts::find_for_update(conn, user_id).await?;
            let Some(email) = user.email.as_deref() else {
                return Err(Error::Rule("the account has no e-mail address".into()));
            };
            if user.email_verified_at.is_some() {
                return Err(Error::Rule("the e-mail address is already verified".into()));
            }
            request_email_verification(conn, state, user_id, email, rid).await
        }
        .scope_boxed()
    })
    .await
}

/// Spends a verification token; the address must still be the account's.
pub async fn verify_email(state: &State, token: &str, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let (user_id, payload) =
                one_time::consume(conn, state, Kind::EmailVerification, token).await?;
            let email = payload.get("email").and_then(|e| e.as_str()).unwrap_or("");
            let n = diesel::update(users::table.find(user_id).filter(users::email.eq(email)))
                .set((
                    users::email_verified_at.eq(diesel::dsl::now),
                    users::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(Error::InvalidToken(Kind::EmailVerification.label()));
            }
            let event = ev::EmailVerified {
                user_id: user_id.to_string(),
                email: email.to_owned(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}
