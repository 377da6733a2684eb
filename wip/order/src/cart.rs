//! Carts: one per customer and community (an order is lent from one depot). Lines carry
//! the price seen when they were added (a snapshot from the tool projection); reading the
//! cart re-prices every line and flags the ones whose price moved, and placing an order
//! refuses a cart whose prices moved since it was last read (`price_changed`), so the
//! customer always pays the price they saw.

use crate::catalog::{Answer, Availability};
use crate::error::{Error, Result};
use crate::pricing::Totals;
use crate::promo::{self, Promo};
use crate::schema::{cart_items as ci, carts as c};
use crate::state::State;
use crate::tools::{self, Tool};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = c, check_for_backend(diesel::pg::Pg))]
pub struct Cart {
    pub id: Uuid,
    pub user_id: Uuid,
    pub community_id: Uuid,
    pub promo_code_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ci, check_for_backend(diesel::pg::Pg))]
pub struct Line {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub quantity: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub currency: Currency,
    pub unit_rent: i64,
    pub unit_deposit: i64,
    pub price_changed: bool,
    pub availability: Availability,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub tool_name: String,
    pub image_url: Option<String>,
    pub quantity: i32,
    /// First day of the rental.
    pub start_date: NaiveDate,
    /// The day the items are back (half-open: 24 to 27 is three days).
    pub end_date: NaiveDate,
    pub days: i64,
    /// One unit for the whole period.
    pub unit_rent: Money,
    pub rent: Money,
    pub deposit: Money,
    /// The price moved since the line was added or last changed.
    pub price_changed: bool,
    pub availability: Availability,
    /// False: the library no longer offers the tool; remove the line to order.
    pub orderable: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    pub community_id: Uuid,
    pub items: Vec<CartLine>,
    pub promo_code: Option<String>,
    /// Why the code on the cart gives no discount now (absent when it does, or none).
    pub promo_problem: Option<String>,
    /// The delivery fee is not known before the order (absent here).
    pub summary: Totals,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddItem {
    pub tool_id: Uuid,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100, default = 1)]
    pub quantity: Option<i32>,
    pub start_date: NaiveDate,
    /// Exclusive.
    pub end_date: NaiveDate,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemPatch {
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: Option<i32>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A line's price now, or why it cannot be rented as asked.
fn price(tool: &Tool, start: NaiveDate, end: NaiveDate, quantity: i64) -> Result<rental::Quote> {
    if start < Utc::now().date_naive() {
        return Err(Error::rule("dates_past", "the rental cannot start in the past"));
    }
    Ok(rental::quote(&tool.rates(), start, end, quantity)?)
}

fn orderable(tool: &Tool) -> Result<()> {
    if tool.active {
        Ok(())
    } else {
        Err(Error::rule(
            "tool_unavailable",
            format!("{} is no longer offered", tool.name),
        ))
    }
}

async fn cart_of(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    community: Uuid,
) -> Result<Option<Cart>> {
    Ok(c::table
        .filter(c::user_id.eq(user))
        .filter(c::community_id.eq(community))
        .select(Cart::as_select())
        .first(conn)
        .await
        .optional()?)
}

async fn lines_of(conn: &mut AsyncPgConnection, cart: Uuid) -> Result<Vec<Line>> {
    Ok(ci::table
        .filter(ci::cart_id.eq(cart))
        .order((ci::created_at.asc(), ci::id.asc()))
        .select(Line::as_select())
        .load(conn)
        .await?)
}

async fn touch(conn: &mut AsyncPgConnection, cart: Uuid) -> Result<()> {
    diesel::update(c::table.find(cart))
        .set(c::updated_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Re-prices every line from the projection; a line whose price moved gets the new
/// snapshot and the flag. Returns whether any moved.
pub async fn reprice(conn: &mut AsyncPgConnection, cart: &Cart) -> Result<bool> {
    let lines = lines_of(conn, cart.id).await?;
    let ids: Vec<Uuid> = lines.iter().map(|l| l.tool_id).collect();
    let tools = tools::find_many(conn, &ids).await?;
    let mut moved = false;
    for line in &lines {
        let Some(tool) = tools.iter().find(|t| t.id == line.tool_id) else {
            continue;
        };
        let Ok(quote) = rental::quote(
            &tool.rates(),
            line.start_date,
            line.end_date,
            1,
        ) else {
            continue;
        };
        let (rent, deposit) = (quote.unit_rent, quote.deposit);
        if rent.amount() != line.unit_rent
            || deposit.amount() != line.unit_deposit
            || rent.currency() != line.currency
        {
            moved = true;
            diesel::update(ci::table.find(line.id))
                .set((
                    ci::unit_rent.eq(rent.amount()),
                    ci::unit_deposit.eq(deposit.amount()),
                    ci::currency.eq(rent.currency()),
                    ci::price_changed.eq(true),
                    ci::updated_at.eq(Utc::now()),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(moved)
}

/// The cart as the customer sees it (lines priced from their snapshots).
pub async fn view_of(conn: &mut AsyncPgConnection, cart: &Cart) -> Result<CartView> {
    let lines = lines_of(conn, cart.id).await?;
    let ids: Vec<Uuid> = lines.iter().map(|l| l.tool_id).collect();
    let tools = tools::find_many(conn, &ids).await?;
    let currency = lines
        .first()
        .map(|l| l.currency)
        .or(tools.first().map(|t| t.currency))
        .unwrap_or(Currency::EUR);
    let mut items = Vec::with_capacity(lines.len());
    let (mut rent, mut deposit) = (Money::zero(currency), Money::zero(currency));
    for line in lines {
        let tool = tools.iter().find(|t| t.id == line.tool_id);
        let quantity = i64::from(line.quantity);
        let unit_rent = Money::new(line.unit_rent, line.currency);
        let line_rent = unit_rent.checked_mul(quantity)?;
        let line_deposit = Money::new(line.unit_deposit, line.currency).checked_mul(quantity)?;
        rent = rent.checked_add(line_rent)?;
        deposit = deposit.checked_add(line_deposit)?;
        items.push(CartLine {
            id: line.id,
            tool_id: line.tool_id,
            tool_name: tool.map(|t| t.name.clone()).unwrap_or_default(),
            image_url: tool.and_then(|t| t.image_url.clone()),
            quantity: line.quantity,
            start_date: line.start_date,
            end_date: line.end_date,
            days: rental::days(line.start_date, line.end_date),
            unit_rent,
            rent: line_rent,
            deposit: line_deposit,
            price_changed: line.price_changed,
            availability: line.availability,
            orderable: tool.is_some_and(|t| t.active),
        });
    }
    let (mut promo_code, mut promo_problem, mut discount) = (None, None, Money::zero(currency));
    if let Some(id) = cart.promo_code_id {
        let promo = promo::get(conn, id).await?;
        match promo.applies(cart.community_id, rent, Utc::now()) {
            Ok(()) => discount = promo.discount()?.off(rent)?,
            Err(e) => promo_problem = Some(e.to_string()),
        }
        promo_code = Some(promo.code);
    }
    Ok(CartView {
        community_id: cart.community_id,
        items,
        promo_code,
        promo_problem,
        summary: Totals::new(rent, discount, deposit, None)?,
        updated_at: cart.updated_at,
    })
}

fn empty(community: Uuid) -> Result<CartView> {
    let zero = Money::zero(Currency::EUR);
    Ok(CartView {
        community_id: community,
        items: vec![],
        promo_code: None,
        promo_problem: None,
        summary: Totals::new(zero, zero, zero, None)?,
        updated_at: Utc::now(),
    })
}

/// The customer's cart in `community` (empty if none), re-priced.
pub async fn get(state: &State, user: Uuid, community: Uuid) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let Some(cart) = cart_of(&mut conn, user, community).await? else {
        return empty(community);
    };
    reprice(&mut conn, &cart).await?;
    view_of(&mut conn, &cart).await
}

/// Every cart of the customer that has lines, newest first.
pub async fn list(state: &State, user: Uuid) -> Result<Vec<CartView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let carts: Vec<Cart> = c::table
        .filter(c::user_id.eq(user))
        .filter(diesel::dsl::exists(
            ci::table.filter(ci::cart_id.eq(c::id)),
        ))
        .order(c::updated_at.desc())
        .select(Cart::as_select())
        .load(&mut conn)
        .await?;
    let mut views = Vec::with_capacity(carts.len());
    for cart in &carts {
        reprice(&mut conn, cart).await?;
        views.push(view_of(&mut conn, cart).await?);
    }
    Ok(views)
}

/// Adds a line (the same tool and dates again adds to its quantity).
pub async fn add(
    state: &State,
    user: Uuid,
    authorization: Option<&str>,
    item: AddItem,
) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let tool = tools::find(&mut conn, item.tool_id)
        .await?
        .ok_or(Error::NotFound("tool"))?;
    orderable(&tool)?;
    let quantity = item.quantity.unwrap_or(1);
    let quote = price(&tool, item.start_date, item.end_date, i64::from(quantity))?;
    let availability = match state
        .catalog
        .check(
            authorization,
            tool.id,
            item.start_date,
            item.end_date,
            i64::from(quantity),
        )
        .await
    {
        Answer::NotVisible => return Err(Error::NotFound("tool")),
        Answer::Known(a) => a,
    };
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            diesel::insert_into(c::table)
                .values((
                    c::id.eq(Uuid::now_v7()),
                    c::user_id.eq(user),
                    c::community_id.eq(tool.community_id),
                ))
                .on_conflict((c::user_id, c::community_id))
                .do_nothing()
                .execute(conn)
                .await?;
            let cart = cart_of(conn, user, tool.community_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the cart just made is gone"))?;
            let same: Option<(Uuid, i32)> = ci::table
                .filter(ci::cart_id.eq(cart.id))
                .filter(ci::tool_id.eq(tool.id))
                .filter(ci::start_date.eq(item.start_date))
                .filter(ci::end_date.eq(item.end_date))
                .select((ci::id, ci::quantity))
                .for_update()
                .first(conn)
                .await
                .optional()?;
            match same {
                Some((id, had)) => {
                    let total = had + quantity;
                    if total > 100 {
                        return Err(Error::field("quantity", "at most 100 of one tool per line"));
                    }
                    price(&tool, item.start_date, item.end_date, i64::from(total))?;
                    diesel::update(ci::table.find(id))
                        .set((
                            ci::quantity.eq(total),
                            ci::unit_rent.eq(quote.unit_rent.amount()),
                            ci::unit_deposit.eq(tool.deposit),
                            ci::currency.eq(tool.currency),
                            ci::price_changed.eq(false),
                            ci::availability.eq(availability),
                            ci::updated_at.eq(Utc::now()),
                        ))
                        .execute(conn)
                        .await?;
                }
                None => {
                    diesel::insert_into(ci::table)
                        .values((
                            ci::id.eq(Uuid::now_v7()),
                            ci::cart_id.eq(cart.id),
                            ci::tool_id.eq(tool.id),
                            ci::quantity.eq(quantity),
                            ci::start_date.eq(item.start_date),
                            ci::end_date.eq(item.end_date),
                            ci::currency.eq(tool.currency),
                            ci::unit_rent.eq(quote.unit_rent.amount()),
                            ci::unit_deposit.eq(tool.deposit),
                            ci::availability.eq(availability),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
            touch(conn, cart.id).await?;
            view_of(conn, &cart).await
        }
        .scope_boxed()
    })
    .await
}

/// The customer's line and its cart, or a 404 (another customer's line is not found).
async fn own_line(conn: &mut AsyncPgConnection, user: Uuid, line: Uuid) -> Result<(Cart, Line)> {
    let found: Option<(Cart, Line)> = ci::table
        .inner_join(c::table)
        .filter(ci::id.eq(line))
        .filter(c::user_id.eq(user))
        .select((Cart::as_select(), Line::as_select()))
        .first(conn)
        .await
        .optional()?;
    found.ok_or(Error::NotFound("cart item"))
}

/// Changes a line's quantity or dates; the price and availability are taken afresh.
pub async fn update_item(
    state: &State,
    user: Uuid,
    authorization: Option<&str>,
    line: Uuid,
    patch: ItemPatch,
) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let (cart, current) = own_line(&mut conn, user, line).await?;
    let tool = tools::find(&mut conn, current.tool_id)
        .await?
        .ok_or(Error::NotFound("tool"))?;
    orderable(&tool)?;
    let quantity = patch.quantity.unwrap_or(current.quantity);
    let start = patch.start_date.unwrap_or(current.start_date);
    let end = patch.end_date.unwrap_or(current.end_date);
    let quote = price(&tool, start, end, i64::from(quantity))?;
    let availability = match state
        .catalog
        .check(authorization, tool.id, start, end, i64::from(quantity))
        .await
    {
        Answer::NotVisible => return Err(Error::NotFound("tool")),
        Answer::Known(a) => a,
    };
    let updated = diesel::update(ci::table.find(line))
        .set((
            ci::quantity.eq(quantity),
            ci::start_date.eq(start),
            ci::end_date.eq(end),
            ci::unit_rent.eq(quote.unit_rent.amount()),
            ci::unit_deposit.eq(tool.deposit),
            ci::currency.eq(tool.currency),
            ci::price_changed.eq(false),
            ci::availability.eq(availability),
            ci::updated_at.eq(Utc::now()),
        ))
        .execute(&mut conn)
        .await;
    match updated.map_err(platform::db::DbError::from) {
        Ok(_) => {}
        Err(platform::db::DbError::UniqueViolation(_)) => {
            return Err(Error::conflict(
                "duplicate_line",
                "the cart has this tool for these dates already; change that line",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    touch(&mut conn, cart.id).await?;
    view_of(&mut conn, &cart).await
}

pub async fn remove_item(state: &State, user: Uuid, line: Uuid) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let (cart, _) = own_line(&mut conn, user, line).await?;
    diesel::delete(ci::table.find(line))
        .execute(&mut conn)
        .await?;
    touch(&mut conn, cart.id).await?;
    view_of(&mut conn, &cart).await
}

/// Empties the cart (the code on it goes too).
pub async fn clear(state: &State, user: Uuid, community: Uuid) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    if let Some(cart) = cart_of(&mut conn, user, community).await? {
        clear_in(&mut conn, &cart).await?;
    }
    empty(community)
}

pub async fn clear_in(conn: &mut AsyncPgConnection, cart: &Cart) -> Result<()> {
    diesel::delete(ci::table.filter(ci::cart_id.eq(cart.id)))
        .execute(conn)
        .await?;
    diesel::update(c::table.find(cart.id))
        .set((
            c::promo_code_id.eq(None::<Uuid>),
            c::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts a code on the cart if it applies to it now (a 422 with the code's problem if not).
pub async fn apply_promo(
    state: &State,
    user: Uuid,
    community: Uuid,
    code: &str,
) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let cart = cart_of(&mut conn, user, community)
        .await?
        .ok_or_else(|| Error::rule("cart_empty", "add something to the cart first"))?;
    // Unknown and inactive codes answer alike: codes cannot be probed.
    let promo: Promo = promo::by_code(&mut conn, code)
        .await?
        .ok_or_else(|| Error::rule("promo_inactive", "this code is not valid now"))?;
    let view = view_of(&mut conn, &cart).await?;
    promo.applies(community, view.summary.rent, Utc::now())?;
    diesel::update(c::table.find(cart.id))
        .set((
            c::promo_code_id.eq(promo.id),
            c::updated_at.eq(Utc::now()),
        ))
        .execute(&mut conn)
        .await?;
    let cart = cart_of(&mut conn, user, community)
        .await?
        .ok_or(Error::NotFound("cart"))?;
    view_of(&mut conn, &cart).await
}

pub async fn remove_promo(state: &State, user: Uuid, community: Uuid) -> Result<CartView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let Some(cart) = cart_of(&mut conn, user, community).await? else {
        return empty(community);
    };
    diesel::update(c::table.find(cart.id))
        .set((
            c::promo_code_id.eq(None::<Uuid>),
            c::updated_at.eq(Utc::now()),
        ))
        .execute(&mut conn)
        .await?;
    let cart = Cart {
        promo_code_id: None,
        ..cart
    };
    view_of(&mut conn, &cart).await
}

/// The cart to place, locked for the placement's transaction.
pub async fn for_placement(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    community: Uuid,
) -> Result<(Cart, Vec<Line>)> {
    let cart: Cart = c::table
        .filter(c::user_id.eq(user))
        .filter(c::community_id.eq(community))
        .select(Cart::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::rule("cart_empty", "the cart is empty"))?;
    let lines = lines_of(conn, cart.id).await?;
    if lines.is_empty() {
        return Err(Error::rule("cart_empty", "the cart is empty"));
    }
    Ok((cart, lines))
}

/// Looks the cart up without locking (the price check before placement).
pub async fn find(conn: &mut AsyncPgConnection, user: Uuid, community: Uuid) -> Result<Option<Cart>> {
    cart_of(conn, user, community).await
}

/// Validates a line for an order: its tool offered, its dates still ahead and its length
/// allowed; the price it would have now.
pub fn priced(tool: &Tool, line: &Line) -> Result<rental::Quote> {
    orderable(tool)?;
    price(tool, line.start_date, line.end_date, i64::from(line.quantity))
}
