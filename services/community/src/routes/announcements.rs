//! Announcements: published by the manager and moderators, read by members.

use super::Ctx;
use crate::access::Caller;
use crate::announcements::{self, AnnouncementView, NewAnnouncement};
use actix_web::{delete, get, post, web};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::pagination::{PageQuery, Paginated};
use platform::http::surface::Routes;
use platform::http::{ApiResult, RequestId, ValidJson};
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(publish).service(list).service(delete);
}

/// Publishes an announcement; members are notified.
#[utoipa::path(tag = "announcements", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    request_body = NewAnnouncement,
    responses((status = 201, description = "Published", body = AnnouncementView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Not the manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[post("/{id}/announcements")]
pub async fn publish(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<NewAnnouncement>,
) -> ApiResult {
    let view = announcements::publish(
        &state,
        id.into_inner(),
        Caller::of(&user),
        body.into_inner(),
        &rid,
    )
    .await?;
    Ok(created(view))
}

/// The current announcements, pinned first.
#[utoipa::path(tag = "announcements", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), PageQuery),
    responses((status = 200, description = "A page of announcements", body = Paginated<AnnouncementView>),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/{id}/announcements")]
pub async fn list(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult {
    let page = query.into_inner().resolve()?;
    Ok(ok(announcements::list(
        &state,
        id.into_inner(),
        Caller::of(&user),
        page,
    )
    .await?))
}

/// Removes an announcement (its author, the manager or an admin).
#[utoipa::path(tag = "announcements", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), ("announcement" = Uuid, Path, description = "Announcement id")),
    responses((status = 200, description = "Deleted"),
        (status = 403, description = "Not the author or the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[delete("/{id}/announcements/{announcement}")]
pub async fn delete(state: Ctx, user: AuthUser, path: web::Path<(Uuid, Uuid)>) -> ApiResult {
    let (id, announcement) = path.into_inner();
    announcements::delete(&state, id, announcement, Caller::of(&user)).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}
