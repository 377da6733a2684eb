//! The caller's favourite tools.

use super::{Ctx, page};
use crate::access::Viewer;
use crate::favourites::{self, Favourite, FavouriteState};
use actix_web::{delete, get, put, web};
use platform::auth::AuthUser;
use platform::http::ApiResult;
use platform::http::envelope::ok;
use platform::http::pagination::Paginated;
use platform::http::surface::Routes;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list)
        .service(check)
        .service(add)
        .service(remove);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

/// My favourites, newest first (tools I can no longer see drop out).
#[utoipa::path(tag = "favorites", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "A page of favourites", body = Paginated<Favourite>)))]
#[get("/favorites")]
pub async fn list(state: Ctx, user: AuthUser, query: web::Query<ListQuery>) -> ApiResult {
    let page = page(query.page, query.page_size)?;
    Ok(ok(
        favourites::list(&state, Viewer::of(Some(&user)), page).await?
    ))
}

/// Whether the tool is one of mine, and how many keep it.
#[utoipa::path(tag = "favorites", security(("bearer" = [])),
    params(("toolId" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "The tool's favourite state", body = FavouriteState),
        (status = 404, description = "No such tool for the caller", body = platform::http::ErrorBody)))]
#[get("/favorites/{toolId}")]
pub async fn check(state: Ctx, user: AuthUser, tool: web::Path<Uuid>) -> ApiResult {
    Ok(ok(favourites::check(
        &state,
        Viewer::of(Some(&user)),
        tool.into_inner(),
    )
    .await?))
}

/// Keeps a tool (again is fine).
#[utoipa::path(tag = "favorites", security(("bearer" = [])),
    params(("toolId" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "The tool's favourite state", body = FavouriteState),
        (status = 404, description = "No such tool for the caller", body = platform::http::ErrorBody)))]
#[put("/favorites/{toolId}")]
pub async fn add(state: Ctx, user: AuthUser, tool: web::Path<Uuid>) -> ApiResult {
    Ok(ok(favourites::add(
        &state,
        Viewer::of(Some(&user)),
        tool.into_inner(),
    )
    .await?))
}

/// Drops a tool from my favourites (not there is fine).
#[utoipa::path(tag = "favorites", security(("bearer" = [])),
    params(("toolId" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "The tool's favourite state", body = FavouriteState),
        (status = 404, description = "No such tool for the caller", body = platform::http::ErrorBody)))]
#[delete("/favorites/{toolId}")]
pub async fn remove(state: Ctx, user: AuthUser, tool: web::Path<Uuid>) -> ApiResult {
    Ok(ok(favourites::remove(
        &state,
        Viewer::of(Some(&user)),
        tool.into_inner(),
    )
    .await?))
}
