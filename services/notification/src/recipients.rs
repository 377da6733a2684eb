//! The recipient directory: e-mail, phone, name, roles and channel preferences of every
//! account, from auth and user events (never by calling those services), and the
//! communities' members from community events.

use crate::catalogue::{Category, Channel};
use crate::error::Result;
use crate::schema::{community_members as cm, push_tokens as pt, recipients as r};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = r)]
pub struct Recipient {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub pref_email: bool,
    pub pref_sms: bool,
    pub pref_push: bool,
    pub pref_promotions: bool,
}

impl Recipient {
    /// How to greet them: their name, else the part of their address before the @.
    pub fn greeting(&self) -> String {
        self.display_name
            .clone()
            .or_else(|| {
                self.email
                    .as_deref()
                    .and_then(|e| e.split('@').next())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "there".to_owned())
    }

    /// Whether a message of `category` may go out on `channel`.
    pub fn accepts(&self, category: Category, channel: Channel) -> bool {
        let channel_ok = match channel {
            Channel::Email => self.pref_email,
            Channel::Sms => self.pref_sms,
            Channel::Push => self.pref_push,
            Channel::InApp => true,
        };
        match category {
            Category::Essential => true,
            Category::Activity => channel_ok,
            Category::Promotional => channel_ok && self.pref_promotions,
        }
    }
}

/// A (not deleted) account.
pub async fn find(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Option<Recipient>> {
    Ok(r::table
        .find(user)
        .filter(r::deleted_at.is_null())
        .select(Recipient::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The account whose verified address is `email`, if any.
pub async fn by_email(conn: &mut AsyncPgConnection, email: &str) -> Result<Option<Recipient>> {
    Ok(r::table
        .filter(r::email.eq(email.trim().to_lowercase()))
        .filter(r::email_verified.eq(true))
        .filter(r::deleted_at.is_null())
        .select(Recipient::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn push_tokens(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Vec<String>> {
    Ok(pt::table
        .filter(pt::user_id.eq(user))
        .select(pt::token)
        .load(conn)
        .await?)
}

pub async fn community_members(conn: &mut AsyncPgConnection, community: Uuid) -> Result<Vec<Uuid>> {
    Ok(cm::table
        .filter(cm::community_id.eq(community))
        .select(cm::user_id)
        .load(conn)
        .await?)
}

/// Creates the row if needed; later updates only touch a live (not deleted) one.
async fn ensure(conn: &mut AsyncPgConnection, user: Uuid) -> Result<()> {
    diesel::insert_into(r::table)
        .values(r::user_id.eq(user))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

fn live(
    user: Uuid,
) -> diesel::dsl::Filter<diesel::dsl::Find<r::table, Uuid>, diesel::dsl::IsNull<r::deleted_at>> {
    r::table.find(user).filter(r::deleted_at.is_null())
}

fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub async fn registered(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    email: &str,
    phone: &str,
    roles: &[String],
) -> Result<()> {
    ensure(conn, user).await?;
    diesel::update(live(user))
        .set((
            r::email.eq(given(email).map(|e| e.to_lowercase())),
            r::phone.eq(given(phone)),
            r::roles.eq(roles),
            r::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn email_verified(conn: &mut AsyncPgConnection, user: Uuid, email: &str) -> Result<()> {
    ensure(conn, user).await?;
    diesel::update(live(user))
        .set((
            r::email.eq(email.trim().to_lowercase()),
            r::email_verified.eq(true),
            r::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn phone_verified(conn: &mut AsyncPgConnection, user: Uuid, phone: &str) -> Result<()> {
    ensure(conn, user).await?;
    diesel::update(live(user))
        .set((
            r::phone.eq(given(phone)),
            r::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn roles(conn: &mut AsyncPgConnection, user: Uuid, roles: &[String]) -> Result<()> {
    ensure(conn, user).await?;
    diesel::update(live(user))
        .set((r::roles.eq(roles), r::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn name(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    username: &str,
    first: &str,
    last: &str,
) -> Result<()> {
    ensure(conn, user).await?;
    let full = [first.trim(), last.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let display = given(&full).or_else(|| given(username));
    diesel::update(live(user))
        .set((
            r::display_name.eq(display),
            r::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn preferences(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    email: bool,
    sms: bool,
    push: bool,
    promotions: bool,
) -> Result<()> {
    ensure(conn, user).await?;
    diesel::update(live(user))
        .set((
            r::pref_email.eq(email),
            r::pref_sms.eq(sms),
            r::pref_push.eq(push),
            r::pref_promotions.eq(promotions),
            r::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A deleted account: contact data gone, push tokens and memberships too; the row stays
/// as a tombstone so a late event cannot bring the data back.
pub async fn forget(conn: &mut AsyncPgConnection, user: Uuid) -> Result<()> {
    ensure(conn, user).await?;
    diesel::update(r::table.find(user))
        .set((
            r::email.eq(None::<String>),
            r::phone.eq(None::<String>),
            r::display_name.eq(None::<String>),
            r::roles.eq(Vec::<String>::new()),
            r::deleted_at.eq(diesel::dsl::now),
            r::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    diesel::delete(pt::table.filter(pt::user_id.eq(user)))
        .execute(conn)
        .await?;
    // Their messages still waiting are not sent, and the log keeps no address of theirs.
    {
        use crate::deliveries::DeliveryStatus;
        use crate::schema::deliveries as d;
        diesel::update(
            d::table
                .filter(d::user_id.eq(user))
                .filter(d::status.eq(DeliveryStatus::Queued)),
        )
        .set((
            d::status.eq(DeliveryStatus::Failed),
            d::last_error.eq("account deleted"),
        ))
        .execute(conn)
        .await?;
        diesel::update(d::table.filter(d::user_id.eq(user)))
            .set((
                // Unique per row, as (source, channel, destination) must stay.
                d::destination.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                    "'deleted:' || id::text",
                )),
                d::content.eq(None::<serde_json::Value>),
                d::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
    }
    diesel::delete(cm::table.filter(cm::user_id.eq(user)))
        .execute(conn)
        .await?;
    diesel::delete(
        crate::schema::notifications::table.filter(crate::schema::notifications::user_id.eq(user)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn joined(conn: &mut AsyncPgConnection, community: Uuid, user: Uuid) -> Result<()> {
    diesel::insert_into(cm::table)
        .values((cm::community_id.eq(community), cm::user_id.eq(user)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn left(conn: &mut AsyncPgConnection, community: Uuid, user: Uuid) -> Result<()> {
    diesel::delete(cm::table.find((community, user)))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone() -> Recipient {
        Recipient {
            user_id: Uuid::nil(),
            email: Some("ada@example.com".into()),
            email_verified: true,
            phone: None,
            display_name: None,
            pref_email: false,
            pref_sms: true,
            pref_push: true,
            pref_promotions: false,
        }
    }

    #[test]
    fn security_messages_ignore_preferences_and_promotions_need_consent() {
        let r = someone();
        assert!(r.accepts(Category::Essential, Channel::Email));
        assert!(!r.accepts(Category::Activity, Channel::Email));
        assert!(r.accepts(Category::Activity, Channel::Push));
        assert!(!r.accepts(Category::Promotional, Channel::Push));
        assert!(r.accepts(Category::Activity, Channel::InApp));
        assert_eq!(r.greeting(), "ada");
    }
}
