//! The category tree (anyone) and its management (`catalog.manage`).

use super::Ctx;
use crate::access::CATALOG_MANAGE;
use crate::categories::{self, Category, CategoryNode, CategoryPatch, NewCategory};
use actix_web::{HttpRequest, delete, get, patch, post, web};
use platform::auth::{AuthUser, MaybeAuthUser};
use platform::http::cache::{Audience, cached};
use platform::http::envelope::{created, ok};
use platform::http::surface::Routes;
use platform::http::{ApiError, ApiResult, ValidJson};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(tree)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// Inactive categories too (admins only).
    pub include_inactive: Option<bool>,
}

/// The whole category tree, roots first, children in sort order. Cached: send the ETag
/// back in `If-None-Match` for a 304 while nothing changed.
#[utoipa::path(security((), ("bearer" = [])), tag = "categories", params(TreeQuery),
    responses((status = 200, description = "The tree", body = Vec<CategoryNode>),
        (status = 304, description = "Not modified since the ETag sent"),
        (status = 403, description = "includeInactive without catalog.manage", body = platform::http::ErrorBody)))]
#[get("/categories")]
pub async fn tree(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    query: web::Query<TreeQuery>,
) -> ApiResult {
    let all = query.include_inactive.unwrap_or(false);
    if all
        && !user
            .as_ref()
            .is_some_and(|u| u.has_permission(CATALOG_MANAGE))
    {
        return Err(ApiError::forbidden().with_message("inactive categories are for admins"));
    }
    let tree = categories::tree(&state, all).await?;
    let audience = if all {
        Audience::Private
    } else {
        Audience::Public
    };
    cached(&req, &tree, audience, 60)
}

/// One category.
#[utoipa::path(security((), ("bearer" = [])), tag = "categories", params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, description = "The category", body = Category),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/categories/{id}")]
pub async fn get_one(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    id: web::Path<Uuid>,
) -> ApiResult {
    let category = categories::get(&state, id.into_inner()).await?;
    // An inactive category is an admin's business, like in the tree.
    if !category.active
        && !user
            .as_ref()
            .is_some_and(|u| u.has_permission(CATALOG_MANAGE))
    {
        return Err(ApiError::not_found("category"));
    }
    cached(&req, &category, Audience::Public, 60)
}

/// Adds a category (`catalog.manage`).
#[utoipa::path(tag = "categories", security(("bearer" = [])), request_body = NewCategory,
    responses((status = 201, description = "The category", body = Category),
        (status = 400, description = "Invalid fields, a taken slug or an unknown parent", body = platform::http::ErrorBody),
        (status = 403, description = "Needs catalog.manage", body = platform::http::ErrorBody),
        (status = 404, description = "No such parent", body = platform::http::ErrorBody)))]
#[post("/categories")]
pub async fn create(state: Ctx, user: AuthUser, body: ValidJson<NewCategory>) -> ApiResult {
    user.require(CATALOG_MANAGE)?;
    Ok(created(
        categories::create(&state, body.into_inner()).await?,
    ))
}

/// Changes a category; moving it under itself or a descendant is refused
/// (`category_cycle`).
#[utoipa::path(tag = "categories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Category id")), request_body = CategoryPatch,
    responses((status = 200, description = "The category", body = Category),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Needs catalog.manage", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 422, description = "The move would make a cycle", body = platform::http::ErrorBody)))]
#[patch("/categories/{id}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: ValidJson<CategoryPatch>,
) -> ApiResult {
    user.require(CATALOG_MANAGE)?;
    Ok(ok(categories::update(
        &state,
        id.into_inner(),
        body.into_inner(),
    )
    .await?))
}

/// Deletes a category without subcategories or tools (`category_in_use` otherwise).
#[utoipa::path(tag = "categories", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, description = "Deleted"),
        (status = 403, description = "Needs catalog.manage", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 409, description = "Still has subcategories or tools", body = platform::http::ErrorBody)))]
#[delete("/categories/{id}")]
pub async fn remove(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    user.require(CATALOG_MANAGE)?;
    categories::delete(&state, id.into_inner()).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}
