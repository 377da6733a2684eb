//! Community CRUD: `communities.create` to create; members, the manager and admins
//! (`communities.manage`) to read; the manager and admins to change and delete.

use super::Ctx;
use crate::access::{COMMUNITIES_CREATE, COMMUNITIES_MANAGE, Caller};
use crate::communities::{self, CommunityPatch, CommunityView, Filter, NewCommunity, Scope, Sort};
use actix_web::{delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::pagination::{PageQuery, Paginated};
use platform::http::surface::Routes;
use platform::http::{ApiError, ApiResult, RequestId, ValidJson};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(delete);
}

/// Creates a community; the caller becomes its manager and first member.
#[utoipa::path(tag = "communities", security(("bearer" = [])),
    request_body = NewCommunity,
    responses((status = 201, description = "The community", body = CommunityView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Needs communities.create", body = platform::http::ErrorBody)))]
#[post("")]
pub async fn create(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    body: ValidJson<NewCommunity>,
) -> ApiResult {
    if !user.has_permission(COMMUNITIES_CREATE) && !user.has_permission(COMMUNITIES_MANAGE) {
        return Err(ApiError::forbidden()
            .with_message("only community managers and admins can create communities"));
    }
    let view = communities::create(&state, Caller::of(&user), body.into_inner(), &rid).await?;
    Ok(created(view))
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
    /// `member` (default: the ones I belong to), `managed` (the ones I run) or `all`
    /// (admins).
    // The enum itself, so the document lists the accepted values.
    #[param(inline)]
    pub scope: Option<Scope>,
    /// Part of the name.
    pub q: Option<String>,
    /// City, any case.
    pub city: Option<String>,
    /// Created at or after (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// `name`, `-name`, `createdAt` or `-createdAt` (default).
    // The enum itself, so the document lists the accepted values.
    #[param(inline)]
    pub sort: Option<Sort>,
}

/// Lists communities: mine, the ones I manage, or (admins) all; filtered and sorted.
#[utoipa::path(tag = "communities", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of communities", body = Paginated<CommunityView>),
        (status = 400, description = "Bad filter or page", body = platform::http::ErrorBody),
        (status = 403, description = "scope=all needs communities.manage", body = platform::http::ErrorBody)))]
#[get("")]
pub async fn list(state: Ctx, user: AuthUser, query: web::Query<ListQuery>) -> ApiResult {
    let q = query.into_inner();
    let page = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    if let (Some(from), Some(to)) = (q.created_from, q.created_to)
        && from >= to
    {
        return Err(crate::error::Error::field("createdTo", "must be after createdFrom").into());
    }
    let filter = Filter {
        scope: q.scope.unwrap_or_default(),
        q: q.q,
        city: q.city,
        created_from: q.created_from,
        created_to: q.created_to,
        sort: q.sort.unwrap_or_default(),
    };
    Ok(ok(communities::list(
        &state,
        Caller::of(&user),
        filter,
        page,
    )
    .await?))
}

/// A community the caller belongs to, manages, or (admins) any; otherwise 404.
#[utoipa::path(tag = "communities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    responses((status = 200, description = "The community", body = CommunityView),
        (status = 404, description = "No such community, or not the caller's", body = platform::http::ErrorBody)))]
#[get("/{id}")]
pub async fn get(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(communities::get(
        &state,
        id.into_inner(),
        Caller::of(&user),
    )
    .await?))
}

/// Changes some of a community's details (the manager or an admin).
#[utoipa::path(tag = "communities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    request_body = CommunityPatch,
    responses((status = 200, description = "The community", body = CommunityView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "A member, not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[patch("/{id}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<CommunityPatch>,
) -> ApiResult {
    let view = communities::update(
        &state,
        id.into_inner(),
        Caller::of(&user),
        body.into_inner(),
        &rid,
    )
    .await?;
    Ok(ok(view))
}

/// Deletes a community (soft): members are told, open invites withdrawn.
#[utoipa::path(tag = "communities", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    responses((status = 200, description = "Deleted"),
        (status = 403, description = "A member, not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[delete("/{id}")]
pub async fn delete(state: Ctx, user: AuthUser, rid: RequestId, id: web::Path<Uuid>) -> ApiResult {
    communities::delete(&state, id.into_inner(), Caller::of(&user), &rid).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}
