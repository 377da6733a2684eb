//! What the auth service does about other services' decisions:
//!
//! - user suspended / banned / deleted: the account is marked so login is refused, and
//!   every live session is revoked (and deny-listed, so access tokens die at once);
//! - user reinstated: login works again;
//! - courier verified: the courier role is granted;
//! - community member joined: a member without the `resident` role gets it (a courier or
//!   a manager who joins a community becomes a resident there too).
//!
//! Runs inside the kit's inbox transaction, so each event takes effect exactly once.

use crate::accounts::UserStatus;
use crate::error::Error;
use crate::schema::users;
use crate::sessions::{self, Scope};
use crate::state::State;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use events::DomainEvent;
use events::proto::{community::v1 as community, courier::v1 as courier, user::v1 as user};
use platform::http::RequestId;
use platform::kafka::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Incoming, event_id_field as user_id,
};
use uuid::Uuid;

pub fn config() -> ConsumerConfig {
    ConsumerConfig::new(
        "auth",
        &[
            events::topics::USER_PROFILE.name(),
            events::topics::COURIER_COURIER.name(),
            events::topics::COMMUNITY_MEMBER.name(),
        ],
    )
}

pub struct Handler {
    pub state: State,
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        match e {
            Error::Db(db) => db.into(),
            Error::Redis(r) => HandlerError::Transient(r.into()),
            other => HandlerError::Transient(anyhow::anyhow!("{other}")),
        }
    }
}

impl Handler {
    async fn set_status(
        &self,
        conn: &mut AsyncPgConnection,
        id: Uuid,
        status: UserStatus,
        reason: Option<&str>,
        until: Option<chrono::DateTime<chrono::Utc>>,
        rid: &RequestId,
    ) -> Result<(), HandlerError> {
        // A deleted account stays deleted whatever arrives after.
        let n = diesel::update(
            users::table
                .find(id)
                .filter(users::status.ne(UserStatus::Deleted)),
        )
        .set((
            users::status.eq(status),
            users::status_reason.eq(reason),
            users::suspended_until.eq(until),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
        if n == 0 {
            // An account this service never had, or one already deleted: nothing to do.
            tracing::warn!(user_id = %id, %status, "status change for an unknown or deleted user");
            return Ok(());
        }
        if status != UserStatus::Active {
            // The session's revocation reason is the status that ended it.
            let reason = status.as_str();
            let revoked = sessions::revoke(conn, &self.state, Scope::All(id), reason, rid).await?;
            let ids: Vec<Uuid> = revoked.into_iter().map(|(s, _)| s).collect();
            // Written before the commit: if the commit fails the event is redelivered and
            // the entries are merely written again.
            sessions::deny(&self.state, &ids).await;
        }
        Ok(())
    }
}

/// The role that carries `courier.work`; signing up as a courier only grants `courier`
/// (an applicant).
pub const VERIFIED_COURIER: &str = "verified_courier";
/// The platform role every community member holds.
pub const RESIDENT: &str = "resident";

/// Removes what identifies a deleted person beyond the users row: devices, session
/// addresses, codes and tokens.
async fn forget(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), HandlerError> {
    use crate::schema::{devices, one_time_tokens, otp_codes, recovery_codes, sessions};
    diesel::update(sessions::table.filter(sessions::user_id.eq(id)))
        .set((
            sessions::ip.eq(None::<String>),
            sessions::user_agent.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    diesel::update(devices::table.filter(devices::user_id.eq(id)))
        .set((
            devices::name.eq(None::<String>),
            devices::user_agent.eq(None::<String>),
            devices::last_ip.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    diesel::delete(otp_codes::table.filter(otp_codes::user_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(one_time_tokens::table.filter(one_time_tokens::user_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id)))
        .execute(conn)
        .await?;
    Ok(())
}

impl EventHandler for Handler {
    async fn handle(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
    ) -> Result<(), HandlerError> {
        let rid = event.request_id();
        match event.event_type() {
            t if t == user::UserSuspended::TYPE => {
                let e: user::UserSuspended = event.decode()?;
                let until = events::from_timestamp(e.until.as_ref());
                self.set_status(
                    conn,
                    user_id(&e.user_id)?,
                    UserStatus::Suspended,
                    Some(&e.reason),
                    until,
                    &rid,
                )
                .await
            }
            t if t == user::UserBanned::TYPE => {
                let e: user::UserBanned = event.decode()?;
                self.set_status(
                    conn,
                    user_id(&e.user_id)?,
                    UserStatus::Banned,
                    Some(&e.reason),
                    None,
                    &rid,
                )
                .await
            }
            t if t == user::UserReinstated::TYPE => {
                let e: user::UserReinstated = event.decode()?;
                self.set_status(
                    conn,
                    user_id(&e.user_id)?,
                    UserStatus::Active,
                    None,
                    None,
                    &rid,
                )
                .await
            }
            t if t == user::UserDeleted::TYPE => {
                let e: user::UserDeleted = event.decode()?;
                let id = user_id(&e.user_id)?;
                self.set_status(conn, id, UserStatus::Deleted, None, None, &rid)
                    .await?;
                // Personal data goes; the row stays so ids in other services' history
                // never get reused.
                diesel::update(users::table.find(id))
                    .set((
                        users::email.eq(None::<String>),
                        users::phone.eq(None::<String>),
                        users::totp_secret_enc.eq(None::<Vec<u8>>),
                        users::mfa_enabled_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                    ))
                    .execute(conn)
                    .await?;
                forget(conn, id).await?;
                Ok(())
            }
            t if t == courier::CourierVerified::TYPE => {
                let e: courier::CourierVerified = event.decode()?;
                let by = e.verified_by.parse().ok();
                match crate::rbac::grant(
                    conn,
                    &self.state,
                    user_id(&e.user_id)?,
                    VERIFIED_COURIER,
                    by,
                    &rid,
                )
                .await
                {
                    Ok(_) | Err(Error::NotFound(_)) => Ok(()),
                    Err(other) => Err(other.into()),
                }
            }
            t if t == community::MemberJoined::TYPE => {
                let e: community::MemberJoined = event.decode()?;
                // Idempotent: a member who already is a resident gets no new grant (and
                // no roles_changed event).
                match crate::rbac::grant(
                    conn,
                    &self.state,
                    user_id(&e.user_id)?,
                    RESIDENT,
                    None,
                    &rid,
                )
                .await
                {
                    Ok(_) | Err(Error::NotFound(_)) => Ok(()),
                    Err(other) => Err(other.into()),
                }
            }
            // Other events on these topics are not the auth service's business.
            _ => Ok(()),
        }
    }
}
