//! Joining with a token, the member list, leaving, removing members, community roles.

use super::Ctx;
use crate::access::{Caller, Role};
use crate::members::{self, MemberView, Membership};
use actix_web::{delete, get, post, put, web};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::pagination::{PageQuery, Paginated};
use platform::http::surface::Routes;
use platform::http::{ApiResult, RequestId, ValidJson};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list)
        // Before `/{id}/members/{user}`, which would try to read `me` as an id.
        .service(leave)
        .service(remove)
        .service(change_role);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinRequest {
    /// The token from the invite e-mail.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub token: String,
}

/// Joins the community of an invite. The token must exist, be active and have been sent
/// to the caller's verified e-mail address.
#[utoipa::path(tag = "members", security(("bearer" = [])),
    request_body = JoinRequest,
    responses((status = 201, description = "Joined", body = Membership),
        (status = 403, description = "Someone else's invite, or the caller's e-mail is not verified", body = platform::http::ErrorBody),
        (status = 404, description = "No invite has this token", body = platform::http::ErrorBody),
        (status = 409, description = "Already used, or already a member", body = platform::http::ErrorBody),
        (status = 410, description = "Expired or revoked invite, or deleted community", body = platform::http::ErrorBody)))]
#[post("/join")]
pub async fn join(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    body: ValidJson<JoinRequest>,
) -> ApiResult {
    let membership = members::join(&state, user.id(), &body.into_inner().token, &rid).await?;
    Ok(created(membership))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number (default 1); `PageQuery::resolve` refuses 0.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// resident, moderator or manager.
    // The enum itself, so the document lists the accepted values.
    #[param(inline)]
    pub role: Option<Role>,
}

/// The community's members (members, the manager and admins see them).
#[utoipa::path(tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), ListQuery),
    responses((status = 200, description = "A page of members", body = Paginated<MemberView>),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/{id}/members")]
pub async fn list(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<ListQuery>,
) -> ApiResult {
    let q = query.into_inner();
    let page = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let result = members::list(&state, id.into_inner(), Caller::of(&user), q.role, page).await?;
    Ok(ok(result))
}

/// Leaves the community (not its manager).
#[utoipa::path(tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    responses((status = 200, description = "Left"),
        (status = 404, description = "Not a member", body = platform::http::ErrorBody),
        (status = 422, description = "The manager cannot leave", body = platform::http::ErrorBody)))]
#[delete("/{id}/members/me")]
pub async fn leave(state: Ctx, user: AuthUser, rid: RequestId, id: web::Path<Uuid>) -> ApiResult {
    members::leave(&state, id.into_inner(), Caller::of(&user), &rid).await?;
    Ok(ok(serde_json::json!({ "left": true })))
}

/// Removes a member (the manager or an admin).
#[utoipa::path(tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), ("user" = Uuid, Path, description = "Member's user id")),
    responses((status = 200, description = "Removed"),
        (status = 403, description = "Not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 422, description = "The manager cannot be removed", body = platform::http::ErrorBody)))]
#[delete("/{id}/members/{user}")]
pub async fn remove(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult {
    let (id, member) = path.into_inner();
    members::remove(&state, id, member, Caller::of(&user), &rid).await?;
    Ok(ok(serde_json::json!({ "removed": true })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleChange {
    /// `manager` hands the community over (the previous manager becomes a moderator).
    pub role: Role,
}

/// Changes a member's role in the community (the manager or an admin).
#[utoipa::path(tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), ("user" = Uuid, Path, description = "Member's user id")),
    request_body = RoleChange,
    responses((status = 200, description = "The member", body = MemberView),
        (status = 403, description = "Not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 422, description = "The manager's own role", body = platform::http::ErrorBody)))]
#[put("/{id}/members/{user}/role")]
pub async fn change_role(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RoleChange>,
) -> ApiResult {
    let (id, member) = path.into_inner();
    let view = members::change_role(
        &state,
        id,
        member,
        body.into_inner().role,
        Caller::of(&user),
        &rid,
    )
    .await?;
    Ok(ok(view))
}
