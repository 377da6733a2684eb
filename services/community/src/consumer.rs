//! What the community service learns from others: who people are (a verified e-mail
//! decides whose invite is whose; names are shown) and that an account was deleted (its
//! memberships end).

use crate::error::Error;
use crate::state::State;
use crate::{invites, members, people};
use diesel_async::AsyncPgConnection;
use events::DomainEvent;
use events::proto::auth::v1 as auth;
use events::proto::user::v1 as user;
use platform::kafka::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Incoming, event_id_field as id,
};

pub fn config() -> ConsumerConfig {
    ConsumerConfig::new(
        "community",
        &[
            events::topics::AUTH_USER.name(),
            events::topics::USER_PROFILE.name(),
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
        match event.event_type() {
            t if t == auth::UserRegistered::TYPE => {
                let e: auth::UserRegistered = event.decode()?;
                people::registered(conn, id(&e.user_id)?).await?;
            }
            t if t == auth::EmailVerified::TYPE => {
                let e: auth::EmailVerified = event.decode()?;
                people::set_verified_email(conn, id(&e.user_id)?, &e.email).await?;
            }
            t if t == user::ProfileCreated::TYPE => {
                let e: user::ProfileCreated = event.decode()?;
                people::set_names(conn, id(&e.user_id)?, &e.username, None, None).await?;
            }
            t if t == user::ProfileUpdated::TYPE => {
                let e: user::ProfileUpdated = event.decode()?;
                people::set_names(
                    conn,
                    id(&e.user_id)?,
                    &e.username,
                    Some(&e.first_name),
                    Some(&e.last_name),
                )
                .await?;
            }
            t if t == user::UserDeleted::TYPE => {
                let e: user::UserDeleted = event.decode()?;
                let user = id(&e.user_id)?;
                if let Some(email) = people::verified_email(conn, user).await? {
                    invites::forget_address(conn, &email, user).await?;
                }
                people::forget(conn, user).await?;
                let left = members::remove_everywhere(conn, &self.state, user, &event.request_id())
                    .await?;
                tracing::info!(%user, communities = left, "deleted account left its communities");
            }
            // Other events on these topics are not this service's business.
            _ => {}
        }
        Ok(())
    }
}
