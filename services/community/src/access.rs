//! Who may do what in a community: platform permissions from the token (creating
//! communities, administering all of them) plus the caller's membership in this service's
//! own data. A community the caller has no standing in is a 404, never a 403.

use crate::communities::Community;
use crate::error::{Error, Result};
use crate::schema::{communities as c, members as m};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use events::proto::community::v1 as ev;
use platform::auth::AuthUser;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The platform permissions this service checks: create communities (community managers,
/// admins), see and run every community (admins). Re-exported from the kit's catalogue.
pub use platform::permissions::{COMMUNITIES_CREATE, COMMUNITIES_MANAGE};

/// A member's role inside one community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    /// Publishes announcements.
    Moderator,
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Moderator => "moderator",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "resident" => Some(Role::Resident),
            "moderator" => Some(Role::Moderator),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }

    pub fn to_proto(self) -> ev::CommunityRole {
        match self {
            Role::Resident => ev::CommunityRole::Resident,
            Role::Moderator => ev::CommunityRole::Moderator,
            Role::Manager => ev::CommunityRole::Manager,
        }
    }
}

/// The caller as far as communities are concerned.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub id: Uuid,
    /// Holds `communities.manage`.
    pub admin: bool,
}

impl Caller {
    pub fn of(user: &AuthUser) -> Self {
        Self {
            id: user.id(),
            admin: user.has_permission(COMMUNITIES_MANAGE),
        }
    }
}

/// A community and where the caller stands in it.
pub struct Standing {
    pub community: Community,
    pub role: Option<Role>,
    pub caller: Caller,
}

impl Standing {
    pub fn is_manager(&self) -> bool {
        self.community.manager_id == self.caller.id || self.role == Some(Role::Manager)
    }

    /// The manager or an admin.
    pub fn require_manager(&self) -> Result<()> {
        if self.is_manager() || self.caller.admin {
            Ok(())
        } else {
            Err(Error::Forbidden("only the community's manager can do this"))
        }
    }

    /// The manager, a moderator or an admin.
    pub fn require_publisher(&self) -> Result<()> {
        if self.is_manager() || self.caller.admin || self.role == Some(Role::Moderator) {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "only the community's manager and moderators can publish announcements",
            ))
        }
    }
}

/// The (not deleted) community `id` if the caller is a member, its manager or an admin;
/// otherwise the same 404 as for a community that does not exist. `for_update` locks the
/// row, for changes that must not interleave with a deletion.
pub async fn standing(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    caller: Caller,
    for_update: bool,
) -> Result<Standing> {
    let query = c::table
        .find(id)
        .filter(c::deleted_at.is_null())
        .select(Community::as_select());
    let community = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    let community = community.ok_or(Error::NotFound("community"))?;
    let role: Option<String> = m::table
        .find((id, caller.id))
        .select(m::role)
        .first(conn)
        .await
        .optional()?;
    let role = role.as_deref().and_then(Role::parse);
    if role.is_none() && community.manager_id != caller.id && !caller.admin {
        return Err(Error::NotFound("community"));
    }
    Ok(Standing {
        community,
        role,
        caller,
    })
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_round_trip() {
        for r in [Role::Resident, Role::Moderator, Role::Manager] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
