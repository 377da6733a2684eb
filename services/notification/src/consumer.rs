//! The events people should hear about, and the ones that keep the recipient directory
//! current. One arm per event type; a new notification is one arm here, one entry in
//! `catalogue` and one template folder.

use crate::catalogue::{self, Channel};
use crate::error::Error;
use crate::notify::{self, Message, To};
use crate::recipients;
use crate::schema::communities as c;
use crate::state::State;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use events::DomainEvent;
use events::proto::auth::v1 as auth;
use events::proto::catalog::v1 as catalog;
use events::proto::community::v1 as community;
use events::proto::user::v1 as user;
use platform::kafka::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Incoming, event_id_field as id,
};
use serde_json::json;
use uuid::Uuid;

pub fn config() -> ConsumerConfig {
    use events::topics::*;
    ConsumerConfig::new(
        "notification",
        &[
            AUTH_USER.name(),
            AUTH_OTP.name(),
            AUTH_DEVICE.name(),
            USER_PROFILE.name(),
            COMMUNITY_COMMUNITY.name(),
            COMMUNITY_INVITE.name(),
            COMMUNITY_MEMBER.name(),
            COMMUNITY_ANNOUNCEMENT.name(),
            CATALOG_STOCK.name(),
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
            // A template that cannot render this event will not render it on a retry.
            Error::Internal(e) => HandlerError::Permanent(e),
            other => HandlerError::Transient(anyhow::anyhow!("{other}")),
        }
    }
}

fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn minutes_until(t: Option<&prost_types::Timestamp>) -> i64 {
    t.map(|t| (t.seconds - chrono::Utc::now().timestamp()).max(0) / 60)
        .unwrap_or(0)
        .max(1)
}

async fn community_name(conn: &mut AsyncPgConnection, id: Uuid) -> Result<String, HandlerError> {
    let name: Option<String> = c::table
        .find(id)
        .select(c::name)
        .first(conn)
        .await
        .optional()
        .map_err(Error::from)?;
    Ok(name.unwrap_or_else(|| "your community".to_owned()))
}

impl Handler {
    /// Tells account `user` (if it exists and is not deleted) about `kind`.
    async fn tell(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
        user: Uuid,
        kind: &catalogue::Kind,
        vars: serde_json::Value,
        data: serde_json::Value,
    ) -> Result<(), HandlerError> {
        let Some(person) = recipients::find(conn, user).await? else {
            tracing::info!(%user, kind = kind.name, "no such recipient (yet); nothing sent");
            return Ok(());
        };
        let mut vars = vars;
        if let Some(v) = vars.as_object_mut() {
            v.entry("name").or_insert_with(|| json!(person.greeting()));
        }
        let message = Message {
            source: event.envelope.id,
            kind,
            category: kind.category,
            channels: kind.channels,
            vars,
            data,
            expires_at: None,
        };
        notify::send(conn, &self.state, &message, To::User(&person)).await?;
        Ok(())
    }

    /// Sends `kind` on one channel to an address the event names.
    async fn tell_address(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
        (user, channel, destination): (Option<Uuid>, Channel, &str),
        kind: &catalogue::Kind,
        vars: serde_json::Value,
        expires: Option<&prost_types::Timestamp>,
    ) -> Result<(), HandlerError> {
        if destination.trim().is_empty() {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "{}: no destination",
                kind.name
            )));
        }
        let message = Message {
            source: event.envelope.id,
            kind,
            category: kind.category,
            channels: &[],
            vars,
            data: json!({}),
            expires_at: expires.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)),
        };
        let to = To::Address {
            channel,
            destination: destination.trim(),
            user,
        };
        notify::send(conn, &self.state, &message, to).await?;
        Ok(())
    }

    fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.state.app_url)
    }

    fn greeting_of(email: &str) -> String {
        email.split('@').next().unwrap_or("there").to_owned()
    }
}

impl EventHandler for Handler {
    async fn handle(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
    ) -> Result<(), HandlerError> {
        match event.event_type() {
            // The directory.
            t if t == auth::UserRegistered::TYPE => {
                let e: auth::UserRegistered = event.decode()?;
                recipients::registered(conn, id(&e.user_id)?, &e.email, &e.phone, &e.roles).await?;
            }
            t if t == auth::RegistrationAttempted::TYPE => {
                // Someone tried to sign up with an address or number that has an account:
                // its owner hears of it (the sign-up answer itself says nothing).
                let e: auth::RegistrationAttempted = event.decode()?;
                self.tell(
                    conn,
                    event,
                    id(&e.user_id)?,
                    &catalogue::REGISTRATION_ATTEMPTED,
                    json!({}),
                    json!({}),
                )
                .await?;
            }
            t if t == auth::EmailVerified::TYPE => {
                let e: auth::EmailVerified = event.decode()?;
                recipients::email_verified(conn, id(&e.user_id)?, &e.email).await?;
            }
            t if t == auth::PhoneVerified::TYPE => {
                let e: auth::PhoneVerified = event.decode()?;
                recipients::phone_verified(conn, id(&e.user_id)?, &e.phone).await?;
            }
            t if t == auth::RolesChanged::TYPE => {
                let e: auth::RolesChanged = event.decode()?;
                recipients::roles(conn, id(&e.user_id)?, &e.roles).await?;
            }
            t if t == user::ProfileCreated::TYPE => {
                let e: user::ProfileCreated = event.decode()?;
                recipients::name(conn, id(&e.user_id)?, &e.username, "", "").await?;
            }
            t if t == user::ProfileUpdated::TYPE => {
                let e: user::ProfileUpdated = event.decode()?;
                recipients::name(
                    conn,
                    id(&e.user_id)?,
                    &e.username,
                    &e.first_name,
                    &e.last_name,
                )
                .await?;
            }
            t if t == user::PreferencesUpdated::TYPE => {
                let e: user::PreferencesUpdated = event.decode()?;
                recipients::preferences(
                    conn,
                    id(&e.user_id)?,
                    e.email,
                    e.sms,
                    e.push,
                    e.promotions,
                )
                .await?;
            }
            t if t == user::UserDeleted::TYPE => {
                let e: user::UserDeleted = event.decode()?;
                recipients::forget(conn, id(&e.user_id)?).await?;
            }
            t if t == community::CommunityCreated::TYPE => {
                let e: community::CommunityCreated = event.decode()?;
                let manager = e.manager_id.parse::<Uuid>().ok();
                diesel::insert_into(c::table)
                    .values((
                        c::id.eq(id(&e.community_id)?),
                        c::name.eq(&e.name),
                        c::manager_id.eq(manager),
                    ))
                    .on_conflict(c::id)
                    .do_update()
                    .set((c::name.eq(&e.name), c::manager_id.eq(manager)))
                    .execute(conn)
                    .await
                    .map_err(Error::from)?;
            }
            t if t == community::CommunityUpdated::TYPE => {
                let e: community::CommunityUpdated = event.decode()?;
                diesel::update(c::table.find(id(&e.community_id)?))
                    .set(c::name.eq(&e.name))
                    .execute(conn)
                    .await
                    .map_err(Error::from)?;
            }
            t if t == community::CommunityDeleted::TYPE => {
                let e: community::CommunityDeleted = event.decode()?;
                let cid = id(&e.community_id)?;
                let name = community_name(conn, cid).await?;
                for member in &e.member_ids {
                    // The one who closed it knows.
                    if *member == e.deleted_by {
                        continue;
                    }
                    let vars = json!({ "community_name": name });
                    let data = json!({ "communityId": cid });
                    self.tell(
                        conn,
                        event,
                        id(member)?,
                        &catalogue::COMMUNITY_CLOSED,
                        vars,
                        data,
                    )
                    .await?;
                }
                diesel::update(c::table.find(id(&e.community_id)?))
                    .set(c::deleted_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await
                    .map_err(Error::from)?;
            }
            t if t == community::MemberLeft::TYPE => {
                let e: community::MemberLeft = event.decode()?;
                recipients::left(conn, id(&e.community_id)?, id(&e.user_id)?).await?;
            }
            t if t == community::MemberRemoved::TYPE => {
                let e: community::MemberRemoved = event.decode()?;
                recipients::left(conn, id(&e.community_id)?, id(&e.user_id)?).await?;
            }

            // Security and account messages: always sent.
            t if t == auth::OtpRequested::TYPE => {
                let e: auth::OtpRequested = event.decode()?;
                let channel = if e.channel == auth::OtpChannel::Sms as i32 {
                    Channel::Sms
                } else {
                    Channel::Email
                };
                let vars = json!({
                    "code": e.code, "purpose": e.purpose.replace('_', " "),
                    "expires_minutes": minutes_until(e.expires_at.as_ref()),
                });
                let user = e.user_id.parse().ok();
                self.tell_address(
                    conn,
                    event,
                    (user, channel, &e.destination),
                    &catalogue::OTP,
                    vars,
                    e.expires_at.as_ref(),
                )
                .await?;
            }
            t if t == auth::EmailVerificationRequested::TYPE => {
                let e: auth::EmailVerificationRequested = event.decode()?;
                let vars = json!({
                    "name": Self::greeting_of(&e.email), "link": self.link("/verify-email", &e.token),
                    "token": e.token, "expires_at": time(e.expires_at.as_ref()),
                });
                let user = e.user_id.parse().ok();
                self.tell_address(
                    conn,
                    event,
                    (user, Channel::Email, &e.email),
                    &catalogue::EMAIL_VERIFICATION,
                    vars,
                    e.expires_at.as_ref(),
                )
                .await?;
            }
            t if t == auth::PasswordResetRequested::TYPE => {
                let e: auth::PasswordResetRequested = event.decode()?;
                let vars = json!({
                    "name": Self::greeting_of(&e.email), "link": self.link("/reset-password", &e.token),
                    "token": e.token, "expires_at": time(e.expires_at.as_ref()),
                });
                let user = e.user_id.parse().ok();
                self.tell_address(
                    conn,
                    event,
                    (user, Channel::Email, &e.email),
                    &catalogue::PASSWORD_RESET,
                    vars,
                    e.expires_at.as_ref(),
                )
                .await?;
            }
            t if t == auth::DeviceRegistered::TYPE => {
                let e: auth::DeviceRegistered = event.decode()?;
                let device = if e.name.is_empty() {
                    e.user_agent.clone()
                } else {
                    e.name.clone()
                };
                let vars = json!({ "device": device, "ip": e.ip });
                self.tell(
                    conn,
                    event,
                    id(&e.user_id)?,
                    &catalogue::NEW_DEVICE,
                    vars,
                    json!({ "deviceId": e.device_id }),
                )
                .await?;
            }
            t if t == auth::AccountLocked::TYPE => {
                let e: auth::AccountLocked = event.decode()?;
                let vars = json!({
                    "locked_until": time(e.locked_until.as_ref()), "failed_attempts": e.failed_attempts,
                });
                self.tell(
                    conn,
                    event,
                    id(&e.user_id)?,
                    &catalogue::ACCOUNT_LOCKED,
                    vars,
                    json!({}),
                )
                .await?;
            }
            t if t == user::UserSuspended::TYPE => {
                let e: user::UserSuspended = event.decode()?;
                let vars = json!({ "reason": e.reason, "until": time(e.until.as_ref()) });
                self.tell(
                    conn,
                    event,
                    id(&e.user_id)?,
                    &catalogue::ACCOUNT_SUSPENDED,
                    vars,
                    json!({}),
                )
                .await?;
            }
            t if t == user::UserBanned::TYPE => {
                let e: user::UserBanned = event.decode()?;
                let vars = json!({ "reason": e.reason });
                self.tell(
                    conn,
                    event,
                    id(&e.user_id)?,
                    &catalogue::ACCOUNT_BANNED,
                    vars,
                    json!({}),
                )
                .await?;
            }
            t if t == community::InviteCreated::TYPE => {
                let e: community::InviteCreated = event.decode()?;
                let inviter = match e.invited_by.parse::<Uuid>().ok() {
                    Some(u) => recipients::find(conn, u).await?.map(|r| r.greeting()),
                    None => None,
                };
                let vars = json!({
                    "community_name": e.community_name,
                    "inviter_name": inviter.unwrap_or_else(|| "A neighbour".to_owned()),
                    "link": self.link("/join", &e.token), "token": e.token,
                    "expires_at": time(e.expires_at.as_ref()),
                });
                // The invitee may already have an account; the invite goes to the address.
                let user = recipients::by_email(conn, &e.email)
                    .await?
                    .map(|r| r.user_id);
                self.tell_address(
                    conn,
                    event,
                    (user, Channel::Email, &e.email),
                    &catalogue::COMMUNITY_INVITE,
                    vars,
                    e.expires_at.as_ref(),
                )
                .await?;
            }

            // Community activity: as each person chose.
            t if t == community::MemberJoined::TYPE => {
                let e: community::MemberJoined = event.decode()?;
                let (cid, member) = (id(&e.community_id)?, id(&e.user_id)?);
                recipients::joined(conn, cid, member).await?;
                // The manager joining their own new community is no news to them.
                if e.invite_id.is_empty() || e.manager_id == e.user_id {
                    return Ok(());
                }
                let member_name = recipients::find(conn, member)
                    .await?
                    .map_or_else(|| "A new neighbour".to_owned(), |r| r.greeting());
                let vars = json!({
                    "member_name": member_name, "community_name": community_name(conn, cid).await?,
                });
                let data = json!({ "communityId": cid, "userId": member });
                self.tell(
                    conn,
                    event,
                    id(&e.manager_id)?,
                    &catalogue::MEMBER_JOINED,
                    vars,
                    data,
                )
                .await?;
            }
            t if t == community::AnnouncementPublished::TYPE => {
                let e: community::AnnouncementPublished = event.decode()?;
                let cid = id(&e.community_id)?;
                let name = community_name(conn, cid).await?;
                for member in recipients::community_members(conn, cid).await? {
                    if member.to_string() == e.author_id {
                        continue;
                    }
                    let vars = json!({ "community_name": name, "title": e.title, "body": e.body });
                    let data = json!({ "communityId": cid, "announcementId": e.announcement_id });
                    self.tell(conn, event, member, &catalogue::ANNOUNCEMENT, vars, data)
                        .await?;
                }
            }
            // Favourites: each person who kept the tool, as they chose.
            t if t == catalog::BackInStock::TYPE => {
                let e: catalog::BackInStock = event.decode()?;
                let cid = id(&e.community_id)?;
                let name = community_name(conn, cid).await?;
                for user in &e.user_ids {
                    let vars = json!({ "tool_name": e.tool_name, "community_name": name });
                    let data = json!({ "toolId": e.tool_id, "communityId": cid });
                    self.tell(
                        conn,
                        event,
                        id(user)?,
                        &catalogue::BACK_IN_STOCK,
                        vars,
                        data,
                    )
                    .await?;
                }
            }
            // Other events on these topics are not this service's business.
            _ => {}
        }
        Ok(())
    }
}
