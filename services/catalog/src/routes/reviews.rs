//! Reviews of a tool: anyone who sees the tool reads them; those who rented it write one
//! per rental; members report; admins moderate.

use super::{Ctx, page};
use crate::access::Viewer;
use crate::reviews::{self, Moderation, NewReview, Report, ReviewPatch, ReviewView};
use actix_web::{delete, get, patch, post, put, web};
use platform::auth::{AuthUser, MaybeAuthUser};
use platform::http::envelope::{created, ok};
use platform::http::pagination::Paginated;
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list)
        .service(create)
        .service(update)
        .service(remove)
        .service(report)
        .service(moderate);
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

/// The tool's reviews, newest first (admins also see hidden ones).
#[utoipa::path(security((), ("bearer" = [])), tag = "reviews", params(("id" = Uuid, Path, description = "Tool id"), ListQuery),
    responses((status = 200, description = "A page of reviews", body = Paginated<ReviewView>),
        (status = 404, description = "No such tool for the caller", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/reviews")]
pub async fn list(
    state: Ctx,
    user: MaybeAuthUser,
    id: web::Path<Uuid>,
    query: web::Query<ListQuery>,
) -> ApiResult {
    let page = page(query.page, query.page_size)?;
    Ok(ok(reviews::list(
        &state,
        Viewer::of(user.as_ref()),
        id.into_inner(),
        page,
    )
    .await?))
}

/// Reviews a rented tool: one review per completed rental line (`not_rented` otherwise,
/// `already_reviewed` for a second one).
#[utoipa::path(tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")), request_body = NewReview,
    responses((status = 201, description = "The review", body = ReviewView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 404, description = "No such tool for the caller", body = platform::http::ErrorBody),
        (status = 409, description = "This rental has a review already", body = platform::http::ErrorBody),
        (status = 422, description = "No completed rental of this tool by the caller", body = platform::http::ErrorBody)))]
#[post("/tools/{id}/reviews")]
pub async fn create(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: ValidJson<NewReview>,
) -> ApiResult {
    Ok(created(
        reviews::create(
            &state,
            Viewer::of(Some(&user)),
            id.into_inner(),
            body.into_inner(),
        )
        .await?,
    ))
}

/// Changes one's own review.
#[utoipa::path(tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("review" = Uuid, Path, description = "Review id")),
    request_body = ReviewPatch,
    responses((status = 200, description = "The review", body = ReviewView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 404, description = "Not the caller's review", body = platform::http::ErrorBody)))]
#[patch("/tools/{id}/reviews/{review}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<ReviewPatch>,
) -> ApiResult {
    let (tool, review_id) = path.into_inner();
    Ok(ok(reviews::update(
        &state,
        Viewer::of(Some(&user)),
        tool,
        review_id,
        body.into_inner(),
    )
    .await?))
}

/// Deletes one's own review.
#[utoipa::path(tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("review" = Uuid, Path, description = "Review id")),
    responses((status = 200, description = "Deleted"),
        (status = 404, description = "Not the caller's review", body = platform::http::ErrorBody)))]
#[delete("/tools/{id}/reviews/{review}")]
pub async fn remove(state: Ctx, user: AuthUser, path: web::Path<(Uuid, Uuid)>) -> ApiResult {
    let (tool, review_id) = path.into_inner();
    reviews::delete(&state, Viewer::of(Some(&user)), tool, review_id).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

/// Reports a review to the moderators (once per person).
#[utoipa::path(tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("review" = Uuid, Path, description = "Review id")),
    request_body = Report,
    responses((status = 202, description = "Reported"),
        (status = 400, description = "No reason", body = platform::http::ErrorBody),
        (status = 404, description = "No such review for the caller", body = platform::http::ErrorBody)))]
#[post("/tools/{id}/reviews/{review}/report")]
pub async fn report(
    state: Ctx,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<Report>,
) -> ApiResult {
    let (tool, review_id) = path.into_inner();
    reviews::report(
        &state,
        Viewer::of(Some(&user)),
        tool,
        review_id,
        body.into_inner(),
    )
    .await?;
    Ok(platform::http::envelope::accepted(
        "reported; the moderators will look at it",
    ))
}

/// Hides a review or shows it again (`catalog.manage`), with a reason.
#[utoipa::path(tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("review" = Uuid, Path, description = "Review id")),
    request_body = Moderation,
    responses((status = 200, description = "The review", body = ReviewView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Needs catalog.manage", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[put("/tools/{id}/reviews/{review}/moderation")]
pub async fn moderate(
    state: Ctx,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<Moderation>,
) -> ApiResult {
    let (tool, review_id) = path.into_inner();
    Ok(ok(reviews::moderate(
        &state,
        Viewer::of(Some(&user)),
        tool,
        review_id,
        body.into_inner(),
    )
    .await?))
}
