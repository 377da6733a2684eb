//! Accounts: the `users` row, its roles and permissions, and how the API shows it.

use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::schema::{permissions, role_permissions, roles, user_roles, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub const SUPER_ADMIN: &str = "super_admin";
pub const DEFAULT_ROLE: &str = "resident";

platform::text_enum! {
    /// Where an account stands (`users.status`): the user service decides, this service
    /// follows its events (consumer).
    pub enum UserStatus {
        Active = "active",
        Suspended = "suspended",
        Banned = "banned",
        Deleted = "deleted",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub status: UserStatus,
    pub suspended_until: Option<DateTime<Utc>>,
    pub totp_secret_enc: Option<Vec<u8>>,
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    pub totp_last_step: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl User {
    /// Err unless the account may sign in. A suspension past its end date no longer
    /// counts, even before the user service's reinstatement event arrives.
    pub fn ensure_active(&self) -> Result<()> {
        match self.status {
            UserStatus::Active => Ok(()),
            UserStatus::Suspended if self.suspended_until.is_some_and(|u| u <= Utc::now()) => {
                Ok(())
            }
            other => Err(Error::AccountInactive(other.to_string())),
        }
    }

    pub fn mfa_enabled(&self) -> bool {
        self.mfa_enabled_at.is_some()
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Locks the row for the rest of the transaction (password and MFA changes).
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> Result<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("user"))
}

pub async fn find_by_identifier(
    conn: &mut AsyncPgConnection,
    identifier: &Identifier,
) -> Result<Option<User>> {
    let query = users::table.select(User::as_select()).into_boxed();
    let query = match identifier {
        Identifier::Email(e) => query.filter(users::email.eq(e)),
        Identifier::Phone(p) => query.filter(users::phone.eq(p)),
    };
    Ok(query.first(conn).await.optional()?)
}

/// The roles and permissions that go into an access token. `super_admin` holds every
/// permission, including ones created after it was granted.
pub async fn grants(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<(Vec<String>, Vec<String>)> {
    let role_names: Vec<String> = user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq(user_id))
        .select(roles::name)
        .order(roles::name)
        .load(conn)
        .await?;
    let perms: Vec<String> = if role_names.iter().any(|r| r == SUPER_ADMIN) {
        permissions::table
            .select(permissions::name)
            .order(permissions::name)
            .load(conn)
            .await?
    } else {
        user_roles::table
            .inner_join(
                role_permissions::table.on(role_permissions::role_id.eq(user_roles::role_id)),
            )
            .inner_join(permissions::table.on(permissions::id.eq(role_permissions::permission_id)))
            .filter(user_roles::user_id.eq(user_id))
            .select(permissions::name)
            .distinct()
            .order(permissions::name)
            .load(conn)
            .await?
    };
    Ok((role_names, perms))
}

pub async fn role_names(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Vec<String>> {
    Ok(user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq(user_id))
        .select(roles::name)
        .order(roles::name)
        .load(conn)
        .await?)
}

/// The account as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub status: UserStatus,
    pub roles: Vec<String>,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl UserView {
    pub fn new(user: &User, roles: Vec<String>) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            phone: user.phone.clone(),
            email_verified: user.email_verified_at.is_some(),
            phone_verified: user.phone_verified_at.is_some(),
            status: user.status,
            roles,
            mfa_enabled: user.mfa_enabled(),
            created_at: user.created_at,
        }
    }
}
