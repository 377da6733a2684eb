//! Admin routes: roles, permissions and users' roles. Changing roles or permissions needs
//! `roles.manage`; reading a user's roles needs `users.read`.

use super::{Client, Ctx};
use crate::error::Error;
use crate::rbac::{self, PermissionView, RoleView};
use actix_web::{delete, get, patch, post, web};
use diesel_async::AsyncConnection;
use diesel_async::scoped_futures::ScopedFutureExt;
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use platform::permissions::{ROLES_MANAGE, USERS_READ};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list_roles)
        .service(create_role)
        .service(get_role)
        .service(update_role)
        .service(delete_role)
        .service(list_permissions)
        .service(create_permission)
        .service(delete_permission)
        .service(user_roles)
        .service(grant_role)
        .service(revoke_role);
}

/// Only a super_admin hands out or takes away super_admin: `roles.manage` alone must not
/// be a path to every permission.
fn guard_super_admin(user: &AuthUser, role: &str) -> Result<(), platform::http::ApiError> {
    if role == crate::accounts::SUPER_ADMIN && !user.has_role(crate::accounts::SUPER_ADMIN) {
        return Err(platform::http::ApiError::forbidden());
    }
    Ok(())
}

/// Every role with its permissions.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Roles", body = [RoleView]), (status = 403, description = "Needs roles.manage")))]
#[get("/admin/roles")]
pub async fn list_roles(state: Ctx, user: AuthUser) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    Ok(ok(rbac::list_roles(&state).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateRoleRequest {
    #[validate(length(min = 2, max = 64))]
    #[schema(min_length = 2, max_length = 64)]
    pub name: String,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[validate(length(max = 200))]
    #[schema(max_items = 200)]
    pub permissions: Vec<String>,
}

/// Creates a role.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    request_body = CreateRoleRequest,
    responses((status = 201, description = "Created", body = RoleView), (status = 409, description = "Name taken")))]
#[post("/admin/roles")]
pub async fn create_role(
    state: Ctx,
    user: AuthUser,
    body: ValidJson<CreateRoleRequest>,
) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    let b = body.into_inner();
    Ok(created(
        rbac::create_role(&state, &b.name, &b.description, &b.permissions).await?,
    ))
}

/// One role.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Role id")),
    responses((status = 200, description = "Role", body = RoleView), (status = 404, description = "No such role")))]
#[get("/admin/roles/{id}")]
pub async fn get_role(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(ok(rbac::get_role(&mut conn, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateRoleRequest {
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The complete new set, when given.
    #[validate(length(max = 200))]
    #[schema(max_items = 200)]
    pub permissions: Option<Vec<String>>,
}

/// Changes a role's description or permissions.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Role id")), request_body = UpdateRoleRequest,
    responses((status = 200, description = "Updated", body = RoleView)))]
#[patch("/admin/roles/{id}")]
pub async fn update_role(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: ValidJson<UpdateRoleRequest>,
) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    let b = body.into_inner();
    let role = rbac::update_role(
        &state,
        id.into_inner(),
        b.description.as_deref(),
        b.permissions.as_deref(),
    )
    .await?;
    Ok(ok(role))
}

/// Deletes a custom role (system roles stay).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Role id")),
    responses((status = 200, description = "Deleted"), (status = 422, description = "System role")))]
#[delete("/admin/roles/{id}")]
pub async fn delete_role(
    state: Ctx,
    user: AuthUser,
    client: Client,
    id: web::Path<Uuid>,
) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    rbac::delete_role(&state, id.into_inner(), user.id(), &client.request_id).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

/// Every permission.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Permissions", body = [PermissionView])))]
#[get("/admin/permissions")]
pub async fn list_permissions(state: Ctx, user: AuthUser) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    Ok(ok(rbac::list_permissions(&state).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreatePermissionRequest {
    #[validate(length(min = 2, max = 64))]
    #[schema(min_length = 2, max_length = 64)]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: String,
}

/// Creates a permission.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    request_body = CreatePermissionRequest,
    responses((status = 201, description = "Created", body = PermissionView),
              (status = 409, description = "Name taken")))]
#[post("/admin/permissions")]
pub async fn create_permission(
    state: Ctx,
    user: AuthUser,
    body: ValidJson<CreatePermissionRequest>,
) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    let b = body.into_inner();
    Ok(created(
        rbac::create_permission(&state, &b.name, &b.description).await?,
    ))
}

/// Deletes a permission (roles lose it).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Permission id")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "No such permission"),
              (status = 422, description = "A built-in permission")))]
#[delete("/admin/permissions/{id}")]
pub async fn delete_permission(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    rbac::delete_permission(&state, id.into_inner()).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRoles {
    pub roles: Vec<String>,
}

/// A user's roles.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "Roles", body = UserRoles), (status = 404, description = "No such user")))]
#[get("/admin/users/{id}/roles")]
pub async fn user_roles(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    user.require(USERS_READ)?;
    Ok(ok(UserRoles {
        roles: rbac::user_roles_of(&state, id.into_inner()).await?,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct GrantRoleRequest {
    #[validate(length(min = 2, max = 64))]
    #[schema(min_length = 2, max_length = 64)]
    pub role: String,
}

/// Grants a role (idempotent).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = GrantRoleRequest,
    responses((status = 200, description = "The user's roles now", body = UserRoles)))]
#[post("/admin/users/{id}/roles")]
pub async fn grant_role(
    state: Ctx,
    user: AuthUser,
    client: Client,
    id: web::Path<Uuid>,
    body: ValidJson<GrantRoleRequest>,
) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    let role = body.into_inner().role;
    guard_super_admin(&user, &role)?;
    let target = id.into_inner();
    let admin = user.id();
    let rid = &client.request_id;
    let state_ref = &state;
    let role_ref = &role;
    let mut conn = platform::db::conn(&state.pool).await?;
    let roles = conn
        .transaction::<_, Error, _>(|conn| {
            async move { rbac::grant(conn, state_ref, target, role_ref, Some(admin), rid).await }
                .scope_boxed()
        })
        .await?;
    Ok(ok(UserRoles { roles }))
}

/// Removes a role from a user.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id"), ("role" = String, Path, description = "Role name")),
    responses((status = 200, description = "The user's roles now", body = UserRoles)))]
#[delete("/admin/users/{id}/roles/{role}")]
pub async fn revoke_role(
    state: Ctx,
    user: AuthUser,
    client: Client,
    path: web::Path<(Uuid, String)>,
) -> ApiResult {
    user.require(ROLES_MANAGE)?;
    let (target, role) = path.into_inner();
    guard_super_admin(&user, &role)?;
    let roles = rbac::revoke(&state, target, &role, user.id(), &client.request_id).await?;
    Ok(ok(UserRoles { roles }))
}
