//! The caller's inbox and push tokens. Another user's notification or token is a 404.

use super::Ctx;
use crate::inbox::{self, InboxItem};
use crate::push_tokens::{self, PushToken};
use actix_web::{delete, get, post, web};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::pagination::{PageQuery, Paginated};
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list)
        .service(unread_count)
        .service(read_all)
        .service(register_token)
        .service(list_tokens)
        .service(remove_token)
        .service(read)
        .service(delete);
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
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
}

/// The caller's in-app notifications, newest first.
#[utoipa::path(tag = "inbox", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of notifications", body = Paginated<InboxItem>)))]
#[get("")]
pub async fn list(state: Ctx, user: AuthUser, query: web::Query<ListQuery>) -> ApiResult {
    let q = query.into_inner();
    let page = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(ok(inbox::list(&mut conn, user.id(), q.unread, page).await?))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(tag = "inbox", security(("bearer" = [])),
    responses((status = 200, description = "`{unread: n}`")))]
#[get("/unread-count")]
pub async fn unread_count(state: Ctx, user: AuthUser) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    let unread = inbox::unread_count(&mut conn, user.id()).await?;
    Ok(ok(serde_json::json!({ "unread": unread })))
}

/// Marks one notification read.
#[utoipa::path(tag = "inbox", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "The notification", body = InboxItem),
        (status = 404, description = "Not the caller's", body = platform::http::ErrorBody)))]
#[post("/{id}/read")]
pub async fn read(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(ok(
        inbox::mark_read(&mut conn, user.id(), id.into_inner()).await?
    ))
}

/// Marks every notification of the caller read.
#[utoipa::path(tag = "inbox", security(("bearer" = [])),
    responses((status = 200, description = "`{marked: n}`")))]
#[post("/read-all")]
pub async fn read_all(state: Ctx, user: AuthUser) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    let marked = inbox::mark_all_read(&mut conn, user.id()).await?;
    Ok(ok(serde_json::json!({ "marked": marked })))
}

/// Deletes one notification.
#[utoipa::path(tag = "inbox", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "Deleted"),
        (status = 404, description = "Not the caller's", body = platform::http::ErrorBody)))]
#[delete("/{id}")]
pub async fn delete(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    inbox::delete(&mut conn, user.id(), id.into_inner()).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPushToken {
    /// ios, android or web.
    #[validate(custom(function = "platform_name"))]
    pub platform: String,
    #[validate(length(min = 8, max = 4096))]
    #[schema(min_length = 8, max_length = 4096)]
    pub token: String,
}

fn platform_name(p: &str) -> Result<(), validator::ValidationError> {
    if matches!(p, "ios" | "android" | "web") {
        Ok(())
    } else {
        Err(validator::ValidationError::new("platform")
            .with_message("must be ios, android or web".into()))
    }
}

/// Registers this device's push token for the caller (moving it from anyone else).
#[utoipa::path(tag = "push", security(("bearer" = [])),
    request_body = NewPushToken,
    responses((status = 201, description = "Registered", body = PushToken),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody)))]
#[post("/push-tokens")]
pub async fn register_token(
    state: Ctx,
    user: AuthUser,
    body: ValidJson<NewPushToken>,
) -> ApiResult {
    let b = body.into_inner();
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(created(
        push_tokens::register(&mut conn, user.id(), &b.platform, b.token.trim()).await?,
    ))
}

/// The caller's devices (tokens shown by their last characters).
#[utoipa::path(tag = "push", security(("bearer" = [])),
    responses((status = 200, description = "Tokens", body = Vec<PushToken>)))]
#[get("/push-tokens")]
pub async fn list_tokens(state: Ctx, user: AuthUser) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(ok(push_tokens::list(&mut conn, user.id()).await?))
}

/// Removes a push token (sign-out on that device).
#[utoipa::path(tag = "push", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 200, description = "Removed"),
        (status = 404, description = "Not the caller's", body = platform::http::ErrorBody)))]
#[delete("/push-tokens/{id}")]
pub async fn remove_token(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    push_tokens::remove(&mut conn, user.id(), id.into_inner()).await?;
    Ok(ok(serde_json::json!({ "removed": true })))
}
