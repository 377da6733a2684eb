//! What the catalog knows of communities: a projection of `community.community.v1` and
//! `community.member.v1` (names, currency, who may see the library, who runs it). The
//! catalog never reads the community service's database; what it has not heard of yet
//! does not exist here.

use crate::error::Result;
use crate::schema::{communities as c, memberships as m};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::money::Currency;
use uuid::Uuid;

platform::text_enum! {
    /// Who may browse a community's tool library.
    pub enum Visibility {
        /// Its members (and admins).
        Members = "members",
        /// Anyone, even without an account.
        Public = "public",
    }
}

platform::text_enum! {
    /// A member's role in a community, as community.member.v1 tells it.
    pub enum MemberRole {
        Resident = "resident",
        /// Helps the manager run the library.
        Moderator = "moderator",
        Manager = "manager",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = c)]
pub struct Community {
    pub id: Uuid,
    pub name: String,
    pub currency: Currency,
    pub catalog_visibility: Visibility,
    pub manager_id: Uuid,
    pub deleted: bool,
}

/// A community's details as an event tells them (created or updated).
pub struct Details<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub currency: Currency,
    pub visibility: Visibility,
    /// Unset on updates, which do not carry it.
    pub manager_id: Option<Uuid>,
}

pub async fn upsert(conn: &mut AsyncPgConnection, d: Details<'_>) -> Result<()> {
    let now = chrono::Utc::now();
    match d.manager_id {
        Some(manager) => {
            diesel::insert_into(c::table)
                .values((
                    c::id.eq(d.id),
                    c::name.eq(d.name),
                    c::currency.eq(d.currency),
                    c::catalog_visibility.eq(d.visibility),
                    c::manager_id.eq(manager),
                    c::updated_at.eq(now),
                ))
                .on_conflict(c::id)
                .do_update()
                .set((
                    c::name.eq(excluded(c::name)),
                    c::currency.eq(excluded(c::currency)),
                    c::catalog_visibility.eq(excluded(c::catalog_visibility)),
                    c::manager_id.eq(excluded(c::manager_id)),
                    c::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
        }
        None => {
            // An update of a community never heard of (its creation predates this service,
            // or was lost to the DLQ) cannot create it: its manager is unknown. The member
            // events still arrive; an operator replays community.community.v1 to repair.
            let n = diesel::update(c::table.find(d.id))
                .set((
                    c::name.eq(d.name),
                    c::currency.eq(d.currency),
                    c::catalog_visibility.eq(d.visibility),
                    c::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            if n == 0 {
                tracing::warn!(community = %d.id, "update of an unknown community ignored");
            }
        }
    }
    Ok(())
}

/// The community is gone: its tools disappear from every list (bookings stand).
pub async fn deleted(conn: &mut AsyncPgConnection, id: Uuid) -> Result<()> {
    diesel::update(c::table.find(id))
        .set((c::deleted.eq(true), c::updated_at.eq(chrono::Utc::now())))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_member(
    conn: &mut AsyncPgConnection,
    community: Uuid,
    user: Uuid,
    role: MemberRole,
) -> Result<()> {
    diesel::insert_into(m::table)
        .values((
            m::community_id.eq(community),
            m::user_id.eq(user),
            m::role.eq(role),
        ))
        .on_conflict((m::community_id, m::user_id))
        .do_update()
        .set(m::role.eq(role))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    community: Uuid,
    user: Uuid,
) -> Result<()> {
    diesel::delete(m::table.find((community, user)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Community>> {
    Ok(c::table
        .find(id)
        .select(Community::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn role_of(
    conn: &mut AsyncPgConnection,
    community: Uuid,
    user: Uuid,
) -> Result<Option<MemberRole>> {
    Ok(m::table
        .find((community, user))
        .select(m::role)
        .first(conn)
        .await
        .optional()?)
}
