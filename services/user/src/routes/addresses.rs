//! The caller's addresses. Another user's address id is a 404, never a 403.

use super::Ctx;
use crate::addresses::{self, Address, Fields};
use actix_web::{delete, get, patch, post, put, web};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok};
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(delete)
        .service(set_default);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAddress {
    /// "Home", "Work"...
    #[validate(length(min = 1, max = 60))]
    #[schema(min_length = 1, max_length = 60)]
    pub name: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub street: String,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub building: String,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub apartment: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub entrance: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub floor: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub intercom: Option<String>,
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<f64>,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub is_default: bool,
}

/// Every field optional: absent keeps a value, `null` clears an optional one; coordinates
/// come in pairs.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressPatch {
    #[validate(length(min = 1, max = 60))]
    #[schema(min_length = 1, max_length = 60)]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub city: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub street: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub building: Option<String>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub apartment: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub entrance: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub floor: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub intercom: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<Option<f64>>,
}

/// Required text after trimming: a name of spaces is no name.
fn required(value: &str, field: &'static str) -> Result<String, crate::error::Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(crate::error::Error::field(field, "must not be blank"));
    }
    Ok(v.to_owned())
}

fn optional(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn pair(lat: Option<f64>, lon: Option<f64>) -> Result<(), crate::error::Error> {
    if lat.is_some() != lon.is_some() {
        return Err(crate::error::Error::field(
            "latitude",
            "latitude and longitude go together",
        ));
    }
    Ok(())
}

/// The caller's addresses, the default first.
#[utoipa::path(tag = "addresses", security(("bearer" = [])),
    responses((status = 200, description = "Addresses", body = [Address])))]
#[get("/me/addresses")]
pub async fn list(state: Ctx, user: AuthUser) -> ApiResult {
    Ok(ok(addresses::list(&state, user.id()).await?))
}

/// Adds an address (the first one becomes the default).
#[utoipa::path(tag = "addresses", security(("bearer" = [])),
    request_body = NewAddress,
    responses((status = 201, description = "Created", body = Address),
              (status = 400, description = "Invalid fields"),
              (status = 422, description = "At most 20 addresses")))]
#[post("/me/addresses")]
pub async fn create(state: Ctx, user: AuthUser, body: ValidJson<NewAddress>) -> ApiResult {
    let b = body.into_inner();
    pair(b.latitude, b.longitude)?;
    let fields = Fields {
        name: Some(required(&b.name, "name")?),
        city: Some(required(&b.city, "city")?),
        street: Some(required(&b.street, "street")?),
        building: Some(required(&b.building, "building")?),
        apartment: Some(optional(b.apartment)),
        entrance: Some(optional(b.entrance)),
        floor: Some(optional(b.floor)),
        intercom: Some(optional(b.intercom)),
        latitude: Some(b.latitude),
        longitude: Some(b.longitude),
    };
    Ok(created(
        addresses::create(&state, user.id(), fields, b.is_default).await?,
    ))
}

/// One of the caller's addresses.
#[utoipa::path(tag = "addresses", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 200, description = "Address", body = Address), (status = 404, description = "Not the caller's")))]
#[get("/me/addresses/{id}")]
pub async fn get(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(addresses::get(&state, user.id(), id.into_inner()).await?))
}

/// Changes some fields of an address.
#[utoipa::path(tag = "addresses", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")), request_body = AddressPatch,
    responses((status = 200, description = "Address", body = Address), (status = 404, description = "Not the caller's")))]
#[patch("/me/addresses/{id}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: ValidJson<AddressPatch>,
) -> ApiResult {
    let b = body.into_inner();
    if b.latitude.is_some() != b.longitude.is_some() {
        return Err(
            crate::error::Error::field("latitude", "latitude and longitude go together").into(),
        );
    }
    pair(b.latitude.flatten(), b.longitude.flatten())?;
    let text = |v: Option<String>, f: &'static str| v.map(|v| required(&v, f)).transpose();
    let fields = Fields {
        name: text(b.name, "name")?,
        city: text(b.city, "city")?,
        street: text(b.street, "street")?,
        building: text(b.building, "building")?,
        apartment: b.apartment.map(optional),
        entrance: b.entrance.map(optional),
        floor: b.floor.map(optional),
        intercom: b.intercom.map(optional),
        latitude: b.latitude,
        longitude: b.longitude,
    };
    Ok(ok(addresses::update(
        &state,
        user.id(),
        id.into_inner(),
        fields,
    )
    .await?))
}

/// Deletes an address; if it was the default, the oldest remaining one takes over.
#[utoipa::path(tag = "addresses", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "Not the caller's")))]
#[delete("/me/addresses/{id}")]
pub async fn delete(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    addresses::delete(&state, user.id(), id.into_inner()).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

/// Makes an address the default (and the previous default not).
#[utoipa::path(tag = "addresses", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")),
    responses((status = 200, description = "Address", body = Address), (status = 404, description = "Not the caller's")))]
#[put("/me/addresses/{id}/default")]
pub async fn set_default(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(addresses::set_default(
        &state,
        user.id(),
        id.into_inner(),
    )
    .await?))
}
