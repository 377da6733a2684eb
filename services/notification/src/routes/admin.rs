//! Admin routes (`notifications.broadcast`): broadcasts and the delivery log.

use super::Ctx;
use crate::broadcasts::{self, Audience, Broadcast, NewBroadcast};
use crate::catalogue::Channel;
use crate::deliveries::LogEntry;
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use platform::auth::AuthUser;
use platform::http::envelope::{ok, with_status};
use platform::http::pagination::{PageQuery, Paginated};
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use platform::permissions::NOTIFICATIONS_BROADCAST;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(broadcast)
        .service(get_broadcast)
        .service(deliveries);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BroadcastRequest {
    pub audience: Audience,
    /// The role name (`role`) or community id (`community`).
    pub target: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
    /// Any of in_app, push, email (default: in_app and push).
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Promotional messages reach only people who accept promotions.
    #[serde(default)]
    pub promotional: bool,
}

/// Starts a broadcast; it is sent in the background (202, poll its progress).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    request_body = BroadcastRequest,
    responses((status = 202, description = "Queued", body = Broadcast),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Needs notifications.broadcast", body = platform::http::ErrorBody)))]
#[post("/admin/broadcasts")]
pub async fn broadcast(state: Ctx, user: AuthUser, body: ValidJson<BroadcastRequest>) -> ApiResult {
    user.require(NOTIFICATIONS_BROADCAST)?;
    let b = body.into_inner();
    let mut channels = if b.channels.is_empty() {
        vec![Channel::InApp, Channel::Push]
    } else {
        b.channels
    };
    if channels.contains(&Channel::Sms) {
        return Err(crate::error::Error::field(
            "channels",
            "broadcasts go by in_app, push or email",
        )
        .into());
    }
    channels.dedup();
    let created = broadcasts::create(
        &state,
        user.id(),
        NewBroadcast {
            audience: b.audience,
            target: b.target,
            title: b.title,
            body: b.body,
            channels,
            promotional: b.promotional,
        },
    )
    .await?;
    Ok(with_status(StatusCode::ACCEPTED, created, None))
}

/// A broadcast and its progress.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Broadcast id")),
    responses((status = 200, description = "The broadcast", body = Broadcast),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/admin/broadcasts/{id}")]
pub async fn get_broadcast(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    user.require(NOTIFICATIONS_BROADCAST)?;
    Ok(ok(broadcasts::get(&state, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// 1-based page number (default 1); `PageQuery::resolve` refuses 0.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// queued, sent or failed.
    // Parsed by the handler (its own message on a bad value); documented as the enum.
    #[param(value_type = Option<crate::deliveries::DeliveryStatus>, inline)]
    pub status: Option<String>,
    /// The event or broadcast id.
    pub source: Option<Uuid>,
}

/// The delivery log, newest first (destinations masked, contents never shown).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(LogQuery),
    responses((status = 200, description = "A page of deliveries", body = Paginated<LogEntry>),
        (status = 403, description = "Needs notifications.broadcast", body = platform::http::ErrorBody)))]
#[get("/admin/deliveries")]
pub async fn deliveries(state: Ctx, user: AuthUser, query: web::Query<LogQuery>) -> ApiResult {
    user.require(NOTIFICATIONS_BROADCAST)?;
    let q = query.into_inner();
    let status = q
        .status
        .as_deref()
        .map(str::parse::<crate::deliveries::DeliveryStatus>)
        .transpose()
        .map_err(|_| crate::error::Error::field("status", "queued, sent or failed"))?;
    let page = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(ok(crate::deliveries::log(
        &mut conn, status, q.source, page,
    )
    .await?))
}
