//! Who may see and run what. Seeing: a community's members (and admins) see its library,
//! everyone sees a public one. Running: the community's manager and moderators, and admins
//! (`catalog.manage`) everywhere. What the caller may not see is a 404, never a 403.

use crate::communities::{self, Community, MemberRole, Visibility};
use crate::error::{Error, Result};
use diesel_async::AsyncPgConnection;
use platform::auth::AuthUser;
use uuid::Uuid;

/// The permission this service checks, from the kit's catalogue.
pub use platform::permissions::CATALOG_MANAGE;

/// Who is asking: nobody (a public browse without a token) or a signed-in user.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    Anonymous,
    User {
        id: Uuid,
        /// Holds `catalog.manage`.
        admin: bool,
    },
}

impl Viewer {
    pub fn of(user: Option<&AuthUser>) -> Self {
        match user {
            None => Viewer::Anonymous,
            Some(u) => Viewer::User {
                id: u.id(),
                admin: u.has_permission(CATALOG_MANAGE),
            },
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Viewer::Anonymous => None,
            Viewer::User { id, .. } => Some(*id),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Viewer::User { admin: true, .. })
    }
}

/// What the viewer may do in one community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not visible: everything of the community is a 404.
    None,
    See,
    Manage,
}

pub async fn standing(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    community: &Community,
) -> Result<Standing> {
    if community.deleted {
        return Ok(Standing::None);
    }
    if viewer.is_admin() {
        return Ok(Standing::Manage);
    }
    let role = match viewer.user_id() {
        Some(user) => communities::role_of(conn, community.id, user).await?,
        None => None,
    };
    Ok(match role {
        Some(MemberRole::Manager | MemberRole::Moderator) => Standing::Manage,
        Some(MemberRole::Resident) => Standing::See,
        None if community.catalog_visibility == Visibility::Public => Standing::See,
        None => Standing::None,
    })
}

/// The community, if the viewer may run its library: 404 when they may not see it, 403
/// when they see it but do not run it.
pub async fn managed(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    community: Uuid,
) -> Result<Community> {
    let found = communities::find(conn, community)
        .await?
        .ok_or(Error::NotFound("community"))?;
    match standing(conn, viewer, &found).await? {
        Standing::Manage => Ok(found),
        Standing::See => Err(Error::Forbidden(
            "only the community's manager, its moderators and admins manage its tools",
        )),
        Standing::None => Err(Error::NotFound("community")),
    }
}
