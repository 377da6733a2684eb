//! The user service learns of accounts from the auth service: a registration creates the
//! profile (once, even if the event is delivered twice), a verified e-mail or phone
//! activates it, role changes are kept for admin search.

use crate::error::Error;
use crate::profiles::ProfileStatus;
use crate::schema::profiles;
use crate::state::State;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use events::DomainEvent;
use events::proto::auth::v1 as auth;
use platform::kafka::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Incoming, event_id_field as id,
};

pub fn config() -> ConsumerConfig {
    ConsumerConfig::new("user", &[events::topics::AUTH_USER.name()])
}

pub struct Handler {
    pub state: State,
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        match e {
            Error::Db(db) => db.into(),
            // Nothing else is a property of the event itself: retry, then dead-letter.
            other => HandlerError::Transient(anyhow::anyhow!("{other}")),
        }
    }
}

impl EventHandler for Handler {
    async fn handle(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
    ) -> Result<(), HandlerError> {
        let rid = event.request_id();
        match event.event_type() {
            t if t == auth::UserRegistered::TYPE => {
                let e: auth::UserRegistered = event.decode()?;
                crate::profiles::create_from_registration(conn, &self.state, &e, &rid).await?;
            }
            t if t == auth::EmailVerified::TYPE => {
                let e: auth::EmailVerified = event.decode()?;
                let user = id(&e.user_id)?;
                diesel::update(
                    profiles::table
                        .find(user)
                        .filter(profiles::status.ne(ProfileStatus::Deleted)),
                )
                .set(profiles::email.eq(Some(e.email)))
                .execute(conn)
                .await?;
                crate::lifecycle::activate(conn, user).await?;
            }
            t if t == auth::PhoneVerified::TYPE => {
                let e: auth::PhoneVerified = event.decode()?;
                let user = id(&e.user_id)?;
                diesel::update(
                    profiles::table
                        .find(user)
                        .filter(profiles::status.ne(ProfileStatus::Deleted)),
                )
                .set(profiles::phone.eq(Some(e.phone)))
                .execute(conn)
                .await?;
                crate::lifecycle::activate(conn, user).await?;
            }
            t if t == auth::RolesChanged::TYPE => {
                let e: auth::RolesChanged = event.decode()?;
                diesel::update(profiles::table.find(id(&e.user_id)?))
                    .set(profiles::roles.eq(e.roles))
                    .execute(conn)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
