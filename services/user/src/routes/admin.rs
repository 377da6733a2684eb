//! Admin routes: search users (`users.read`), suspend, ban, reinstate (`users.manage`).

use super::Ctx;
use crate::lifecycle;
use crate::profiles::{ProfileStatus, ProfileView};
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use platform::auth::AuthUser;
use platform::http::envelope::ok;
use platform::http::pagination::PageQuery;
use platform::http::surface::Routes;
use platform::http::{ApiResult, RequestId, ValidJson};
use platform::permissions::{USERS_MANAGE, USERS_READ};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// An admin cannot suspend or ban themselves (and lock the last admin out by mistake).
fn not_self(user: &AuthUser, id: &Uuid) -> Result<(), platform::http::ApiError> {
    if user.id() == *id {
        return Err(platform::http::ApiError::unprocessable(
            "you cannot suspend or ban your own account",
        ));
    }
    Ok(())
}

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(search)
        .service(suspend)
        .service(ban)
        .service(reinstate);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// 1-based page number (default 1); `PageQuery::resolve` refuses 0.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// pending, active, suspended, banned or deleted.
    // Parsed by the handler (its own message on a bad value); documented as the enum.
    #[param(value_type = Option<crate::profiles::ProfileStatus>, inline)]
    pub status: Option<String>,
    /// A role name, like `courier`.
    pub role: Option<String>,
    /// Part of a username, name, e-mail or phone.
    pub q: Option<String>,
}

/// Lists and searches users.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = "A page of profiles", body = platform::http::Paginated<ProfileView>), (status = 403, description = "Needs users.read")))]
#[get("/admin")]
pub async fn search(state: Ctx, user: AuthUser, query: web::Query<SearchQuery>) -> ApiResult {
    user.require(USERS_READ)?;
    let q = query.into_inner();
    let status = q
        .status
        .as_deref()
        .map(str::parse::<ProfileStatus>)
        .transpose()
        .map_err(|_| crate::error::Error::field("status", "unknown status"))?;
    let page = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let result = lifecycle::search(&state, status, q.role.as_deref(), q.q.as_deref(), page).await?;
    Ok(ok(result))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuspendRequest {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// When the suspension lifts itself; open-ended when absent.
    pub until: Option<DateTime<Utc>>,
}

/// Suspends a user: auth revokes their sessions and refuses login until reinstated or
/// `until` has passed.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = SuspendRequest,
    responses((status = 200, description = "Suspended", body = ProfileView),
              (status = 422, description = "Not allowed from the current state")))]
#[post("/admin/{id}/suspend")]
pub async fn suspend(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<SuspendRequest>,
) -> ApiResult {
    user.require(USERS_MANAGE)?;
    not_self(&user, &id)?;
    let b = body.into_inner();
    Ok(ok(lifecycle::suspend(
        &state,
        id.into_inner(),
        &b.reason,
        b.until,
        &rid,
    )
    .await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct BanRequest {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Bans a user (until an admin reinstates them).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = BanRequest,
    responses((status = 200, description = "Banned", body = ProfileView),
              (status = 422, description = "Not allowed from the current state, or the caller's own account")))]
#[post("/admin/{id}/ban")]
pub async fn ban(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<BanRequest>,
) -> ApiResult {
    user.require(USERS_MANAGE)?;
    not_self(&user, &id)?;
    Ok(ok(lifecycle::ban(
        &state,
        id.into_inner(),
        &body.into_inner().reason,
        &rid,
    )
    .await?))
}

/// Lifts a suspension or ban.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "Active again", body = ProfileView),
              (status = 422, description = "Neither suspended nor banned")))]
#[post("/admin/{id}/reinstate")]
pub async fn reinstate(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
) -> ApiResult {
    user.require(USERS_MANAGE)?;
    Ok(ok(
        lifecycle::reinstate(&state, id.into_inner(), &rid).await?
    ))
}
