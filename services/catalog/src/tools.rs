//! Tools of a community's library: what they are, what they cost, who sees them. Prices
//! are in the community's currency, as the kit's money type; the price of a period comes
//! from the `rental` crate, the same function the order service's cart uses.

use crate::access::{self, Standing, Viewer};
use crate::communities;
use crate::error::{Error, Result};
use crate::schema::{categories as cat, items as i, reservations as r, tools as t};
use crate::state::State;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::catalog::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use platform::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// The longest period availability is shown for in one request.
pub const MAX_AVAILABILITY_DAYS: i64 = 186;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Tool {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_id: Uuid,
    pub name: String,
    pub description: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub specifications: serde_json::Value,
    pub currency: Currency,
    pub daily_price: i64,
    pub deposit: i64,
    pub weekly_price: Option<i64>,
    pub monthly_price: Option<i64>,
    pub min_rental_days: i32,
    pub max_rental_days: i32,
    pub buffer_days: i32,
    pub active: bool,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub main_image_id: Option<Uuid>,
}

/// One line of a tool's specifications: `{"name": "Power", "value": "750", "unit": "W"}`.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    #[validate(length(min = 1, max = 60))]
    #[schema(min_length = 1, max_length = 60)]
    pub name: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub value: String,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_id: Uuid,
    pub name: String,
    pub description: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub specifications: Vec<Spec>,
    pub daily_price: Money,
    pub weekly_price: Option<Money>,
    pub monthly_price: Option<Money>,
    /// Per unit, held on the customer's card and released on a good return.
    pub deposit: Money,
    pub min_rental_days: i32,
    pub max_rental_days: i32,
    /// Days an item stays at the depot after each rental (cleaning, checks).
    pub buffer_days: i32,
    pub active: bool,
    /// Tenths of a star, 10 to 50; null without reviews (no floats for what is counted).
    pub rating_tenths: Option<i64>,
    pub rating_count: i64,
    /// The first picture, in its three sizes.
    pub main_image: Option<crate::images::ImageUrls>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Tool {
    pub fn money(&self, amount: i64) -> Money {
        Money::new(amount, self.currency)
    }

    pub fn rates(&self) -> rental::Rates {
        rental::Rates {
            daily: self.money(self.daily_price),
            weekly: self.weekly_price.map(|a| self.money(a)),
            monthly: self.monthly_price.map(|a| self.money(a)),
            deposit: self.money(self.deposit),
            min_days: i64::from(self.min_rental_days),
            max_days: i64::from(self.max_rental_days),
        }
    }

    pub fn view(&self) -> ToolView {
        ToolView {
            id: self.id,
            community_id: self.community_id,
            category_id: self.category_id,
            name: self.name.clone(),
            description: self.description.clone(),
            brand: self.brand.clone(),
            model: self.model.clone(),
            specifications: serde_json::from_value(self.specifications.clone()).unwrap_or_default(),
            daily_price: self.money(self.daily_price),
            weekly_price: self.weekly_price.map(|a| self.money(a)),
            monthly_price: self.monthly_price.map(|a| self.money(a)),
            deposit: self.money(self.deposit),
            min_rental_days: self.min_rental_days,
            max_rental_days: self.max_rental_days,
            buffer_days: self.buffer_days,
            active: self.active,
            rating_tenths: (self.rating_count > 0)
                .then(|| (self.rating_sum * 10 + self.rating_count / 2) / self.rating_count),
            rating_count: self.rating_count,
            main_image: self
                .main_image_id
                .map(|image| crate::images::urls(self.id, image)),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn to_proto(&self) -> ev::Tool {
        let money = |amount: i64| ev::Money {
            amount,
            currency: self.currency.as_str().to_owned(),
        };
        ev::Tool {
            tool_id: self.id.to_string(),
            community_id: self.community_id.to_string(),
            category_id: self.category_id.to_string(),
            name: self.name.clone(),
            daily_price: Some(money(self.daily_price)),
            deposit: Some(money(self.deposit)),
            weekly_price: self.weekly_price.map(money),
            monthly_price: self.monthly_price.map(money),
            min_rental_days: self.min_rental_days,
            max_rental_days: self.max_rental_days,
            buffer_days: self.buffer_days,
            active: self.active && self.deleted_at.is_none(),
            main_image_url: self
                .main_image_id
                .map(|image| crate::images::urls(self.id, image).medium)
                .unwrap_or_default(),
        }
    }
}

/// Amounts are minor units of the community's currency (the tool takes its community's).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTool {
    pub community_id: Uuid,
    pub category_id: Uuid,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "platform::http::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, example = "Cordless drill 18V")]
    pub name: String,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    #[serde(default)]
    pub description: String,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub brand: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub model: Option<String>,
    #[validate(length(max = 50), nested)]
    #[serde(default)]
    pub specifications: Vec<Spec>,
    /// Minor units per day.
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000, example = 1200)]
    pub daily_price: i64,
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub weekly_price: Option<i64>,
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub monthly_price: Option<i64>,
    /// Minor units per unit rented.
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000, example = 5000)]
    pub deposit: i64,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365, default = 1)]
    pub min_rental_days: Option<i32>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365, default = 30)]
    pub max_rental_days: Option<i32>,
    #[validate(range(min = 0, max = 30))]
    #[schema(minimum = 0, maximum = 30, default = 0)]
    pub buffer_days: Option<i32>,
    /// Items to create with the tool (serial numbers may follow later).
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100, default = 0)]
    pub initial_items: Option<i32>,
}

/// Absent fields stay; `null` clears the optional ones.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolPatch {
    pub category_id: Option<Uuid>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "platform::http::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub brand: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub model: Option<Option<String>>,
    #[validate(length(max = 50), nested)]
    pub specifications: Option<Vec<Spec>>,
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub daily_price: Option<i64>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000)]
    pub weekly_price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000_000)]
    pub monthly_price: Option<Option<i64>>,
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub deposit: Option<i64>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub min_rental_days: Option<i32>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub max_rental_days: Option<i32>,
    #[validate(range(min = 0, max = 30))]
    #[schema(minimum = 0, maximum = 30)]
    pub buffer_days: Option<i32>,
    pub active: Option<bool>,
}

pub(crate) fn check_lengths(min: i32, max: i32) -> Result<()> {
    if min > max {
        return Err(Error::field(
            "maxRentalDays",
            "must be at least minRentalDays",
        ));
    }
    Ok(())
}

fn check_text(field: &'static str, value: &Option<String>, max: usize) -> Result<()> {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(Error::field(field, format!("at most {max} characters")));
    }
    Ok(())
}

async fn active_category(conn: &mut AsyncPgConnection, id: Uuid) -> Result<()> {
    let active: Option<bool> = cat::table
        .find(id)
        .select(cat::active)
        .first(conn)
        .await
        .optional()?;
    match active {
        Some(true) => Ok(()),
        _ => Err(Error::field("categoryId", "no active category has this id")),
    }
}

pub async fn create(
    state: &State,
    viewer: Viewer,
    new: NewTool,
    rid: &RequestId,
) -> Result<ToolView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let community = access::managed(conn, viewer, new.community_id).await?;
            Ok(create_in(conn, state, viewer, &community, &new, rid)
                .await?
                .view())
        }
        .scope_boxed()
    })
    .await
}

/// [`create`] inside the caller's transaction, in `community` (whose library the caller
/// has checked the viewer runs; `new.community_id` is not read): the CSV import adds many
/// tools in one transaction after one access check.
pub async fn create_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    viewer: Viewer,
    community: &communities::Community,
    new: &NewTool,
    rid: &RequestId,
) -> Result<Tool> {
    let min = new.min_rental_days.unwrap_or(1);
    let max = new.max_rental_days.unwrap_or(30);
    check_lengths(min, max)?;
    active_category(conn, new.category_id).await?;
    let id = Uuid::now_v7();
    let specs = serde_json::to_value(&new.specifications).map_err(anyhow::Error::from)?;
    let tool: Tool = diesel::insert_into(t::table)
        .values((
            t::id.eq(id),
            t::community_id.eq(community.id),
            t::category_id.eq(new.category_id),
            t::name.eq(new.name.trim()),
            t::description.eq(&new.description),
            t::brand.eq(&new.brand),
            t::model.eq(&new.model),
            t::specifications.eq(specs),
            // The community's currency: a library is priced in one currency.
            t::currency.eq(community.currency),
            t::daily_price.eq(new.daily_price),
            t::deposit.eq(new.deposit),
            t::weekly_price.eq(new.weekly_price),
            t::monthly_price.eq(new.monthly_price),
            t::min_rental_days.eq(min),
            t::max_rental_days.eq(max),
            t::buffer_days.eq(new.buffer_days.unwrap_or(0)),
            t::created_by.eq(viewer.user_id().unwrap_or_default()),
        ))
        .returning(Tool::as_returning())
        .get_result(conn)
        .await?;
    for _ in 0..new.initial_items.unwrap_or(0) {
        crate::items::insert_in(conn, tool.id, None).await?;
    }
    // In stock from the start when it has items (the flag defaults to false).
    crate::stock::check_in(conn, state, tool.id).await?;
    state
        .emit(
            conn,
            tool.id,
            &ev::ToolCreated {
                tool: Some(tool.to_proto()),
                created_by: viewer.user_id().unwrap_or_default().to_string(),
            },
            Some(rid),
        )
        .await?;
    Ok(tool)
}

/// The tool if the viewer may see it (an inactive one only to those who run the library).
pub async fn visible(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: Uuid,
) -> Result<(Tool, Standing)> {
    let tool: Tool = t::table
        .find(id)
        .filter(t::deleted_at.is_null())
        .select(Tool::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("tool"))?;
    let community = communities::find(conn, tool.community_id)
        .await?
        .ok_or(Error::NotFound("tool"))?;
    let standing = access::standing(conn, viewer, &community).await?;
    match standing {
        Standing::None => Err(Error::NotFound("tool")),
        Standing::See if !tool.active => Err(Error::NotFound("tool")),
        s => Ok((tool, s)),
    }
}

pub async fn get(state: &State, viewer: Viewer, id: Uuid) -> Result<ToolView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(visible(&mut conn, viewer, id).await?.0.view())
}

/// The tool, locked, if the viewer runs its library.
async fn managed_in(conn: &mut AsyncPgConnection, viewer: Viewer, id: Uuid) -> Result<Tool> {
    let (_, standing) = visible(conn, viewer, id).await?;
    if standing != Standing::Manage {
        return Err(Error::Forbidden(
            "only the community's manager, its moderators and admins manage its tools",
        ));
    }
    Ok(t::table
        .find(id)
        .select(Tool::as_select())
        .for_update()
        .first(conn)
        .await?)
}

pub async fn update(
    state: &State,
    viewer: Viewer,
    id: Uuid,
    patch: ToolPatch,
    rid: &RequestId,
) -> Result<ToolView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move { Ok(update_in(conn, state, viewer, id, patch, rid).await?.view()) }
            .scope_boxed()
    })
    .await
}

/// [`update`] inside the caller's transaction (the CSV import changes many tools in one).
pub async fn update_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    viewer: Viewer,
    id: Uuid,
    patch: ToolPatch,
    rid: &RequestId,
) -> Result<Tool> {
    check_text("brand", &patch.brand.clone().flatten(), 100)?;
    check_text("model", &patch.model.clone().flatten(), 100)?;
    for price in [patch.weekly_price.flatten(), patch.monthly_price.flatten()]
        .into_iter()
        .flatten()
    {
        if !(0..=100_000_000).contains(&price) {
            return Err(Error::field("weeklyPrice", "0 to 100000000 minor units"));
        }
    }
    let mut tool = managed_in(conn, viewer, id).await?;
    if let Some(category) = patch.category_id {
        active_category(conn, category).await?;
        tool.category_id = category;
    }
    if let Some(name) = patch.name {
        tool.name = name.trim().to_owned();
    }
    if let Some(d) = patch.description {
        tool.description = d;
    }
    if let Some(b) = patch.brand {
        tool.brand = b;
    }
    if let Some(m) = patch.model {
        tool.model = m;
    }
    if let Some(specs) = patch.specifications {
        tool.specifications = serde_json::to_value(specs).map_err(anyhow::Error::from)?;
    }
    if let Some(p) = patch.daily_price {
        tool.daily_price = p;
    }
    if let Some(p) = patch.weekly_price {
        tool.weekly_price = p;
    }
    if let Some(p) = patch.monthly_price {
        tool.monthly_price = p;
    }
    if let Some(p) = patch.deposit {
        tool.deposit = p;
    }
    if let Some(v) = patch.min_rental_days {
        tool.min_rental_days = v;
    }
    if let Some(v) = patch.max_rental_days {
        tool.max_rental_days = v;
    }
    check_lengths(tool.min_rental_days, tool.max_rental_days)?;
    if let Some(v) = patch.buffer_days {
        tool.buffer_days = v;
    }
    if let Some(v) = patch.active {
        tool.active = v;
    }
    let tool: Tool = diesel::update(t::table.find(id))
        .set((
            t::category_id.eq(tool.category_id),
            t::name.eq(&tool.name),
            t::description.eq(&tool.description),
            t::brand.eq(&tool.brand),
            t::model.eq(&tool.model),
            t::specifications.eq(&tool.specifications),
            t::daily_price.eq(tool.daily_price),
            t::weekly_price.eq(tool.weekly_price),
            t::monthly_price.eq(tool.monthly_price),
            t::deposit.eq(tool.deposit),
            t::min_rental_days.eq(tool.min_rental_days),
            t::max_rental_days.eq(tool.max_rental_days),
            t::buffer_days.eq(tool.buffer_days),
            t::active.eq(tool.active),
            t::updated_at.eq(Utc::now()),
        ))
        .returning(Tool::as_returning())
        .get_result(conn)
        .await?;
    state
        .emit(
            conn,
            tool.id,
            &ev::ToolUpdated {
                tool: Some(tool.to_proto()),
                updated_by: viewer.user_id().unwrap_or_default().to_string(),
            },
            Some(rid),
        )
        .await?;
    Ok(tool)
}

/// A booking that stands in the way of a change (retiring an item, deleting a tool).
#[derive(Debug, Clone, Serialize, ToSchema, Queryable)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub order_id: Uuid,
    pub item_id: Uuid,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// Bookings (holds included) that end after today, of the given items.
pub async fn future_bookings(conn: &mut AsyncPgConnection, items: &[Uuid]) -> Result<Vec<Booking>> {
    let today = Utc::now().date_naive();
    let rows: Vec<(Uuid, Uuid, crate::reservations::DateRange)> = r::table
        .filter(r::item_id.eq_any(items))
        .filter(r::status.eq_any([
            crate::reservations::Status::Hold,
            crate::reservations::Status::Confirmed,
        ]))
        .select((r::order_id, r::item_id, r::period))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(order_id, item_id, period)| {
            let (start, end) = crate::reservations::bounds(period)?;
            (end > today).then_some(Booking {
                order_id,
                item_id,
                start_date: start,
                end_date: end,
            })
        })
        .collect())
}

/// Deletes (hides for good) a tool with no booking ahead.
pub async fn delete(state: &State, viewer: Viewer, id: Uuid, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let tool = managed_in(conn, viewer, id).await?;
            let items: Vec<Uuid> = i::table
                .filter(i::tool_id.eq(id))
                .select(i::id)
                .load(conn)
                .await?;
            let ahead = future_bookings(conn, &items).await?;
            if !ahead.is_empty() {
                return Err(Error::conflict(
                    "has_bookings",
                    format!(
                        "the tool has {} bookings ahead; deactivate it (active: false) so it takes no new ones",
                        ahead.len()
                    ),
                ));
            }
            diesel::update(t::table.find(id))
                .set((t::deleted_at.eq(Utc::now()), t::active.eq(false)))
                .execute(conn)
                .await?;
            state
                .emit(
                    conn,
                    id,
                    &ev::ToolDeleted {
                        tool_id: id.to_string(),
                        community_id: tool.community_id.to_string(),
                        deleted_by: viewer.user_id().unwrap_or_default().to_string(),
                    },
                    Some(rid),
                )
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Free items per day of `[from, to)`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayAvailability {
    pub date: NaiveDate,
    pub free: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub tool_id: Uuid,
    /// Items that can be booked at all (not in maintenance, not retired).
    pub bookable_items: i64,
    pub buffer_days: i32,
    pub days: Vec<DayAvailability>,
}

pub async fn availability(
    state: &State,
    viewer: Viewer,
    id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Availability> {
    if to <= from {
        return Err(Error::field("to", "must be after from"));
    }
    if (to - from).num_days() > MAX_AVAILABILITY_DAYS {
        return Err(Error::field(
            "to",
            format!("at most {MAX_AVAILABILITY_DAYS} days after from"),
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    let (tool, _) = visible(&mut conn, viewer, id).await?;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Date)]
        day: NaiveDate,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        free: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT d::date AS day,
                (SELECT count(*) FROM items i
                  WHERE i.tool_id = $1 AND i.status IN ('available', 'rented')
                    AND NOT EXISTS (SELECT 1 FROM reservations r
                                     WHERE r.item_id = i.id AND r.status IN ('hold', 'confirmed')
                                       AND r.blocked @> d::date)) AS free
           FROM generate_series($2::date, $3::date - 1, interval '1 day') AS d
          ORDER BY 1",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Date, _>(from)
    .bind::<diesel::sql_types::Date, _>(to)
    .load(&mut conn)
    .await?;
    let bookable: i64 = i::table
        .filter(i::tool_id.eq(id))
        .filter(i::status.eq_any([
            crate::items::Status::Available,
            crate::items::Status::Rented,
        ]))
        .count()
        .get_result(&mut conn)
        .await?;
    Ok(Availability {
        tool_id: tool.id,
        bookable_items: bookable,
        buffer_days: tool.buffer_days,
        days: rows
            .into_iter()
            .map(|r| DayAvailability {
                date: r.day,
                free: r.free,
            })
            .collect(),
    })
}

/// The price of a period, as the cart will compute it.
pub async fn quote(
    state: &State,
    viewer: Viewer,
    id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    quantity: i64,
) -> Result<rental::Quote> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let (tool, _) = visible(&mut conn, viewer, id).await?;
    rental::quote(&tool.rates(), from, to, quantity)
        .map_err(|e| Error::rule(e.code(), e.to_string()))
}

pub async fn load_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Tool>> {
    let mut rows: Vec<Tool> = t::table
        .filter(t::id.eq_any(ids))
        .select(Tool::as_select())
        .load(conn)
        .await?;
    // Back in the order asked for (a ranking).
    rows.sort_by_key(|tool| ids.iter().position(|id| *id == tool.id));
    Ok(rows)
}
