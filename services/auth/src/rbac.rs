//! Roles and permissions: what admins manage, and what goes into tokens.
//!
//! Services check permissions (`users.manage`), never role names, so roles can be reshaped
//! here without a deployment elsewhere. Grants reach tokens at the next refresh.

use crate::accounts::{self, SUPER_ADMIN};
use crate::error::{Error, Result};
use crate::schema::{permissions, role_permissions, roles, user_roles, users};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::db::DbError;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub is_system: bool,
    pub self_service: bool,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = permissions)]
#[serde(rename_all = "camelCase")]
pub struct PermissionView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// Names of roles and permissions: lower-case words joined by `_` or `.`.
pub fn valid_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        && name.as_bytes()[0].is_ascii_lowercase()
}

type RoleRow = (Uuid, String, String, bool, bool, DateTime<Utc>);

async fn views(conn: &mut AsyncPgConnection, rows: Vec<RoleRow>) -> Result<Vec<RoleView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let pairs: Vec<(Uuid, String)> = role_permissions::table
        .inner_join(permissions::table)
        .filter(role_permissions::role_id.eq_any(&ids))
        .select((role_permissions::role_id, permissions::name))
        .order(permissions::name)
        .load(conn)
        .await?;
    let mut by_role: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for (role, perm) in pairs {
        by_role.entry(role).or_default().push(perm);
    }
    Ok(rows
        .into_iter()
        .map(|r| RoleView {
            permissions: by_role.remove(&r.0).unwrap_or_default(),
            id: r.0,
            name: r.1,
            description: r.2,
            is_system: r.3,
            self_service: r.4,
            created_at: r.5,
        })
        .collect())
}

const ROLE_COLUMNS: (
    roles::id,
    roles::name,
    roles::description,
    roles::is_system,
    roles::self_service,
    roles::created_at,
) = (
    roles::id,
    roles::name,
    roles::description,
    roles::is_system,
    roles::self_service,
    roles::created_at,
);

pub async fn list_roles(state: &State) -> Result<Vec<RoleView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let rows: Vec<RoleRow> = roles::table
        .order(roles::name)
        .select(ROLE_COLUMNS)
        .load(&mut conn)
        .await?;
    views(&mut conn, rows).await
}

pub async fn get_role(conn: &mut AsyncPgConnection, id: Uuid) -> Result<RoleView> {
    let rows: Vec<RoleRow> = roles::table
        .find(id)
        .select(ROLE_COLUMNS)
        .load(conn)
        .await?;
    views(conn, rows)
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound("role"))
}

async fn permission_ids(conn: &mut AsyncPgConnection, names: &[String]) -> Result<Vec<Uuid>> {
    let found: Vec<(Uuid, String)> = permissions::table
        .filter(permissions::name.eq_any(names))
        .select((permissions::id, permissions::name))
        .load(conn)
        .await?;
    if let Some(missing) = names.iter().find(|n| !found.iter().any(|(_, f)| f == *n)) {
        return Err(Error::field(
            "permissions",
            format!("unknown permission {missing:?}"),
        ));
    }
    Ok(found.into_iter().map(|(id, _)| id).collect())
}

async fn set_permissions(
    conn: &mut AsyncPgConnection,
    role_id: Uuid,
    names: &[String],
) -> Result<()> {
    let ids = permission_ids(conn, names).await?;
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(role_id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = ids
        .into_iter()
        .map(|p| {
            (
                role_permissions::role_id.eq(role_id),
                role_permissions::permission_id.eq(p),
            )
        })
        .collect();
    diesel::insert_into(role_permissions::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn create_role(
    state: &State,
    name: &str,
    description: &str,
    perms: &[String],
) -> Result<RoleView> {
    if !valid_name(name) {
        return Err(Error::field(
            "name",
            "use 2-64 lower-case letters, digits, '_' or '.'",
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let id = Uuid::now_v7();
            diesel::insert_into(roles::table)
                .values((
                    roles::id.eq(id),
                    roles::name.eq(name),
                    roles::description.eq(description),
                ))
                .execute(conn)
                .await
                .map_err(|e| match DbError::from(e) {
                    DbError::UniqueViolation(_) => Error::Conflict(format!("role {name:?} exists")),
                    other => other.into(),
                })?;
            set_permissions(conn, id, perms).await?;
            get_role(conn, id).await
        }
        .scope_boxed()
    })
    .await
}

pub async fn update_role(
    state: &State,
    id: Uuid,
    description: Option<&str>,
    perms: Option<&[String]>,
) -> Result<RoleView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let role = get_role(conn, id).await?;
            if role.name == SUPER_ADMIN && perms.is_some() {
                return Err(Error::Rule(
                    "super_admin always holds every permission".into(),
                ));
            }
            if let Some(d) = description {
                diesel::update(roles::table.find(id))
                    .set(roles::description.eq(d))
                    .execute(conn)
                    .await?;
            }
            if let Some(p) = perms {
                set_permissions(conn, id, p).await?;
            }
            get_role(conn, id).await
        }
        .scope_boxed()
    })
    .await
}

/// Deletes a custom role; its holders lose it (and are told through `RolesChanged`).
pub async fn delete_role(state: &State, id: Uuid, admin: Uuid, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let role = get_role(conn, id).await?;
            if role.is_system {
                return Err(Error::Rule(format!("{} is a system role", role.name)));
            }
            let holders: Vec<Uuid> = user_roles::table
                .filter(user_roles::role_id.eq(id))
                .select(user_roles::user_id)
                .load(conn)
                .await?;
            diesel::delete(roles::table.find(id)).execute(conn).await?;
            for user_id in holders {
                roles_changed(conn, state, user_id, Some(admin), rid).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

pub async fn list_permissions(state: &State) -> Result<Vec<PermissionView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(permissions::table
        .order(permissions::name)
        .select(PermissionView::as_select())
        .load(&mut conn)
        .await?)
}

pub async fn create_permission(
    state: &State,
    name: &str,
    description: &str,
) -> Result<PermissionView> {
    if !valid_name(name) {
        return Err(Error::field(
            "name",
            "use 2-64 lower-case letters, digits, '_' or '.'",
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    diesel::insert_into(permissions::table)
        .values((
            permissions::id.eq(Uuid::now_v7()),
            permissions::name.eq(name),
            permissions::description.eq(description),
        ))
        .returning(PermissionView::as_returning())
        .get_result(&mut conn)
        .await
        .map_err(|e| match DbError::from(e) {
            DbError::UniqueViolation(_) => Error::Conflict(format!("permission {name:?} exists")),
            other => other.into(),
        })
}

pub async fn delete_permission(state: &State, id: Uuid) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let system: Option<bool> = permissions::table
        .find(id)
        .select(permissions::is_system)
        .first(&mut conn)
        .await
        .optional()?;
    if system == Some(true) {
        return Err(Error::Rule("built-in permissions cannot be deleted".into()));
    }
    let n = diesel::delete(permissions::table.find(id))
        .execute(&mut conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound("permission"));
    }
    Ok(())
}

async fn roles_changed(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    by: Option<Uuid>,
    rid: &RequestId,
) -> Result<Vec<String>> {
    let roles = accounts::role_names(conn, user_id).await?;
    let event = ev::RolesChanged {
        user_id: user_id.to_string(),
        roles: roles.clone(),
        changed_by: by.map(|b| b.to_string()).unwrap_or_default(),
    };
    state.emit(conn, user_id, &event, Some(rid)).await?;
    Ok(roles)
}

/// Grants `role` to a user (idempotent); returns the user's roles afterwards.
pub async fn grant(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    role: &str,
    by: Option<Uuid>,
    rid: &RequestId,
) -> Result<Vec<String>> {
    let exists: i64 = users::table.find(user_id).count().get_result(conn).await?;
    if exists == 0 {
        return Err(Error::NotFound("user"));
    }
    let role_id: Uuid = roles::table
        .filter(roles::name.eq(role))
        .select(roles::id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::field("role", format!("unknown role {role:?}")))?;
    let n = diesel::insert_into(user_roles::table)
        .values((
            user_roles::user_id.eq(user_id),
            user_roles::role_id.eq(role_id),
            user_roles::granted_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if n == 0 {
        return accounts::role_names(conn, user_id).await;
    }
    roles_changed(conn, state, user_id, by, rid).await
}

pub async fn revoke(
    state: &State,
    user_id: Uuid,
    role: &str,
    by: Uuid,
    rid: &RequestId,
) -> Result<Vec<String>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let role_id: Option<Uuid> = roles::table
                .filter(roles::name.eq(role))
                .select(roles::id)
                .first(conn)
                .await
                .optional()?;
            let Some(role_id) = role_id else {
                return Err(Error::NotFound("role"));
            };
            if role == SUPER_ADMIN && user_id == by {
                return Err(Error::Rule(
                    "you cannot remove your own super_admin role".into(),
                ));
            }
            let n = diesel::delete(
                user_roles::table
                    .filter(user_roles::user_id.eq(user_id))
                    .filter(user_roles::role_id.eq(role_id)),
            )
            .execute(conn)
            .await?;
            if n == 0 {
                return Err(Error::NotFound("role assignment"));
            }
            roles_changed(conn, state, user_id, Some(by), rid).await
        }
        .scope_boxed()
    })
    .await
}

pub async fn user_roles_of(state: &State, user_id: Uuid) -> Result<Vec<String>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    if accounts::find(&mut conn, user_id).await?.is_none() {
        return Err(Error::NotFound("user"));
    }
    accounts::role_names(&mut conn, user_id).await
}
