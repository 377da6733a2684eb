//! Inventory: the physical items of a tool, for the library's manager and moderators.

use super::Ctx;
use crate::access::Viewer;
use crate::items::{self, Change, Item, ItemPatch, NewItem};
use actix_web::{get, patch, post, web};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::surface::Routes;
use platform::http::{ApiError, ApiResult, ValidJson};
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list).service(create).service(update);
}

/// The tool's items.
#[utoipa::path(tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "The items", body = Vec<Item>),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/items")]
pub async fn list(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(items::list(
        &state,
        Viewer::of(Some(&user)),
        id.into_inner(),
    )
    .await?))
}

/// Adds a physical item.
#[utoipa::path(tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")), request_body = NewItem,
    responses((status = 201, description = "The item", body = Item),
        (status = 400, description = "Invalid fields or a serial number taken", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[post("/tools/{id}/items")]
pub async fn create(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: ValidJson<NewItem>,
) -> ApiResult {
    let item = items::create(
        &state,
        Viewer::of(Some(&user)),
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(created(item))
}

/// Changes an item: status (maintenance, back to available, retired), condition, notes.
/// Retiring an item with bookings ahead is refused with those bookings (`has_bookings`).
#[utoipa::path(tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("item" = Uuid, Path, description = "Item id")),
    request_body = ItemPatch,
    responses((status = 200, description = "The item", body = Item),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 409, description = "Bookings ahead; `errors` lists them", body = platform::http::ErrorBody)))]
#[patch("/tools/{id}/items/{item}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<ItemPatch>,
) -> ApiResult {
    let (tool, item_id) = path.into_inner();
    match items::update(
        &state,
        Viewer::of(Some(&user)),
        tool,
        item_id,
        body.into_inner(),
    )
    .await?
    {
        Change::Done(item) => Ok(ok(item)),
        Change::Blocked(bookings) => Err(ApiError::conflict(format!(
            "the item has {} bookings ahead; it can be retired once they are over",
            bookings.len()
        ))
        .with_code("has_bookings")
        .with_errors(
            bookings
                .iter()
                .map(|b| platform::http::FieldError {
                    field: format!("bookings.{}", b.order_id),
                    message: format!("booked from {} to {}", b.start_date, b.end_date),
                })
                .collect(),
        )),
    }
}
