//! Tools: browsing and search (anyone, for what they may see), a tool, its availability,
//! the price of a period, similar tools; creating and changing tools (the library's
//! manager and moderators, admins).

use super::{Ctx, page};
use crate::access::Viewer;
use crate::error::Error;
use crate::search::{self, Filter, Sort, ToolPage};
use crate::tools::{self, Availability, NewTool, ToolPatch, ToolView};
use actix_web::{HttpRequest, delete, get, patch, post, web};
use chrono::NaiveDate;
use platform::auth::{AuthUser, MaybeAuthUser};
use platform::http::cache::{Audience, cached};
use platform::http::envelope::{created, ok};
use platform::http::surface::Routes;
use platform::http::{ApiResult, RequestId, ValidJson};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    // Fixed paths before `/tools/{id}`, which would otherwise claim them.
    cfg.service(list)
        .service(search_tools)
        .service(popular)
        .service(create)
        .service(get_one)
        .service(update)
        .service(remove)
        .service(availability)
        .service(quote)
        .service(similar);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    pub community_id: Option<Uuid>,
    /// The category and everything below it.
    pub category_id: Option<Uuid>,
    /// Lowest daily price, minor units.
    #[param(minimum = 0)]
    pub min_price: Option<i64>,
    /// Highest daily price, minor units.
    #[param(minimum = 0)]
    pub max_price: Option<i64>,
    /// Free from this date (with `availableTo`).
    pub available_from: Option<NaiveDate>,
    /// Free until this date, exclusive.
    pub available_to: Option<NaiveDate>,
    /// Lowest rating, in tenths of a star (35 is 3.5).
    #[param(minimum = 10, maximum = 50)]
    pub min_rating: Option<i64>,
    pub brand: Option<String>,
    /// Words to search for (as in `/api/tools/search`).
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<Sort>,
}

fn filter(q: ListQuery) -> Result<(Filter, platform::http::Page), platform::http::ApiError> {
    let page = page(q.page, q.page_size)?;
    let available = match (q.available_from, q.available_to) {
        (Some(from), Some(to)) if to > from => Some((from, to)),
        (Some(_), Some(_)) => {
            return Err(Error::field("availableTo", "must be after availableFrom").into());
        }
        (None, None) => None,
        _ => {
            return Err(
                Error::field("availableTo", "availableFrom and availableTo go together").into(),
            );
        }
    };
    if let (Some(min), Some(max)) = (q.min_price, q.max_price)
        && min > max
    {
        return Err(Error::field("maxPrice", "must be at least minPrice").into());
    }
    if q.min_price.is_some_and(|p| p < 0) || q.max_price.is_some_and(|p| p < 0) {
        return Err(Error::field("minPrice", "prices are not negative").into());
    }
    if q.min_rating.is_some_and(|r| !(10..=50).contains(&r)) {
        return Err(Error::field("minRating", "10 to 50 (tenths of a star)").into());
    }
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(Error::field("q", "at most 200 characters").into());
    }
    Ok((
        Filter {
            community: q.community_id,
            category: q.category_id,
            min_price: q.min_price,
            max_price: q.max_price,
            available,
            min_rating_tenths: q.min_rating,
            brand: q.brand,
            q: q.q,
            sort: q.sort,
        },
        page,
    ))
}

fn audience(user: &MaybeAuthUser) -> Audience {
    if user.as_ref().is_some() {
        Audience::Private
    } else {
        Audience::Public
    }
}

/// Tools the caller may see (members: their communities'; everyone: public libraries),
/// filtered and sorted, with counts per category.
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(ListQuery),
    responses((status = 200, description = "A page of tools", body = ToolPage),
        (status = 304, description = "Not modified since the ETag sent")))]
#[get("/tools")]
pub async fn list(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    query: web::Query<ListQuery>,
) -> ApiResult {
    let (f, page) = filter(query.into_inner())?;
    let found = search::list(&state, Viewer::of(user.as_ref()), f, page).await?;
    cached(&req, &found, audience(&user), 30)
}

/// Full-text search with typo tolerance: best match first. `q` is required.
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(ListQuery),
    responses((status = 200, description = "A page of matches", body = ToolPage),
        (status = 304, description = "Not modified since the ETag sent")))]
#[get("/tools/search")]
pub async fn search_tools(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    query: web::Query<ListQuery>,
) -> ApiResult {
    let q = query.into_inner();
    if q.q.as_deref().map(str::trim).is_none_or(str::is_empty) {
        return Err(Error::field("q", "words to search for are required").into());
    }
    let (f, page) = filter(q)?;
    let found = search::list(&state, Viewer::of(user.as_ref()), f, page).await?;
    cached(&req, &found, audience(&user), 30)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PopularQuery {
    pub community_id: Option<Uuid>,
    /// How many (1 to 50, default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

/// The most booked tools of the last 30 days, then the most favourited.
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(PopularQuery),
    responses((status = 200, description = "Popular tools", body = ToolPage)))]
#[get("/tools/popular")]
pub async fn popular(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    query: web::Query<PopularQuery>,
) -> ApiResult {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(Error::field("limit", "1 to 50").into());
    }
    let f = Filter {
        community: q.community_id,
        sort: Some(Sort::Popular),
        ..Filter::default()
    };
    let found = search::list(
        &state,
        Viewer::of(user.as_ref()),
        f,
        page(Some(1), Some(limit))?,
    )
    .await?;
    cached(&req, &found, audience(&user), 60)
}

/// Adds a tool to a community's library, priced in the community's currency.
#[utoipa::path(tag = "tools", security(("bearer" = [])), request_body = NewTool,
    responses((status = 201, description = "The tool", body = ToolView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "No such community for the caller", body = platform::http::ErrorBody)))]
#[post("/tools")]
pub async fn create(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    body: ValidJson<NewTool>,
) -> ApiResult {
    let tool = tools::create(&state, Viewer::of(Some(&user)), body.into_inner(), &rid).await?;
    Ok(created(tool))
}

/// One tool.
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(("id" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "The tool", body = ToolView),
        (status = 304, description = "Not modified since the ETag sent"),
        (status = 404, description = "Not found (or not visible to the caller)", body = platform::http::ErrorBody)))]
#[get("/tools/{id}")]
pub async fn get_one(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    id: web::Path<Uuid>,
) -> ApiResult {
    let tool = tools::get(&state, Viewer::of(user.as_ref()), id.into_inner()).await?;
    cached(&req, &tool, audience(&user), 30)
}

/// Changes a tool; the change reaches carts through `catalog.tool.updated`.
#[utoipa::path(tag = "tools", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")), request_body = ToolPatch,
    responses((status = 200, description = "The tool", body = ToolView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[patch("/tools/{id}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<ToolPatch>,
) -> ApiResult {
    let tool = tools::update(
        &state,
        Viewer::of(Some(&user)),
        id.into_inner(),
        body.into_inner(),
        &rid,
    )
    .await?;
    Ok(ok(tool))
}

/// Deletes a tool with no bookings ahead (`has_bookings` otherwise: deactivate it).
#[utoipa::path(tag = "tools", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "Deleted"),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 409, description = "Bookings ahead", body = platform::http::ErrorBody)))]
#[delete("/tools/{id}")]
pub async fn remove(state: Ctx, user: AuthUser, rid: RequestId, id: web::Path<Uuid>) -> ApiResult {
    tools::delete(&state, Viewer::of(Some(&user)), id.into_inner(), &rid).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day.
    pub from: NaiveDate,
    /// The day after the last (half-open: from 24 to 27 is three days).
    pub to: NaiveDate,
}

/// Free items per day of `[from, to)` (at most 186 days).
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(("id" = Uuid, Path, description = "Tool id"), PeriodQuery),
    responses((status = 200, description = "Free items per day", body = Availability),
        (status = 400, description = "A bad period", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/availability")]
pub async fn availability(
    state: Ctx,
    user: MaybeAuthUser,
    id: web::Path<Uuid>,
    query: web::Query<PeriodQuery>,
) -> ApiResult {
    let q = query.into_inner();
    Ok(ok(tools::availability(
        &state,
        Viewer::of(user.as_ref()),
        id.into_inner(),
        q.from,
        q.to,
    )
    .await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    /// Units (default 1).
    #[param(minimum = 1, maximum = 100)]
    pub quantity: Option<u32>,
}

/// The price of renting for `[from, to)`, as the cart computes it (rates applied).
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(("id" = Uuid, Path, description = "Tool id"), QuoteQuery),
    responses((status = 200, description = "The price", body = rental::Quote),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 422, description = "Outside the tool's rental length (`rental_length`) or an empty period", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/quote")]
pub async fn quote(
    state: Ctx,
    user: MaybeAuthUser,
    id: web::Path<Uuid>,
    query: web::Query<QuoteQuery>,
) -> ApiResult {
    let q = query.into_inner();
    let quantity = q.quantity.unwrap_or(1);
    if !(1..=100).contains(&quantity) {
        return Err(Error::field("quantity", "1 to 100").into());
    }
    let quote = tools::quote(
        &state,
        Viewer::of(user.as_ref()),
        id.into_inner(),
        q.from,
        q.to,
        i64::from(quantity),
    )
    .await?;
    Ok(ok(quote))
}

/// Tools like this one, in the same library: the same category first, then by name.
#[utoipa::path(security((), ("bearer" = [])), tag = "tools", params(("id" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "Similar tools", body = Vec<ToolView>),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/similar")]
pub async fn similar(state: Ctx, user: MaybeAuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(search::similar(
        &state,
        Viewer::of(user.as_ref()),
        id.into_inner(),
        8,
    )
    .await?))
}
