//! Orders: placed from a cart (with an `Idempotency-Key`), read by their customer, cancelled
//! by the rules of their status, and managed by admins through the same guarded transitions
//! (`status::check`) the saga uses. Every change of status is a history row and an
//! `order.status_changed` event.

use crate::cart;
use crate::error::{Error, Result};
use crate::pricing::Totals;
use crate::promo;
use crate::saga;
use crate::schema::{order_items as oi, order_status_history as h, orders as o};
use crate::state::State;
use crate::status::{self, OrderStatus};
use crate::tools;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::order::v1 as ev;
use platform::http::RequestId;
use platform::http::pagination::{Page, Paginated};
use platform::kafka::outbox::Emits;
use platform::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

platform::text_enum! {
    pub enum DeliveryMethod {
        /// Brought to one of the customer's addresses in a delivery slot.
        Delivery = "delivery",
        /// Collected at the community's depot.
        Pickup = "pickup",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = o, check_for_backend(diesel::pg::Pg))]
pub struct Order {
    pub id: Uuid,
    pub number: String,
    pub user_id: Uuid,
    pub community_id: Uuid,
    pub status: OrderStatus,
    pub delivery_method: DeliveryMethod,
    pub address_id: Option<Uuid>,
    pub slot_id: Option<Uuid>,
    pub currency: Currency,
    pub rent: i64,
    pub discount: i64,
    pub deposit: i64,
    pub delivery_fee: Option<i64>,
    pub promo_code: Option<String>,
    pub notes: String,
    pub payment_id: Option<String>,
    pub pay_by: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Order {
    pub fn totals(&self) -> Result<Totals> {
        let m = |a| Money::new(a, self.currency);
        let fee = match self.delivery_method {
            DeliveryMethod::Pickup => Some(m(0)),
            DeliveryMethod::Delivery => self.delivery_fee.map(m),
        };
        Ok(Totals::new(
            m(self.rent),
            m(self.discount),
            m(self.deposit),
            fee,
        )?)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oi, check_for_backend(diesel::pg::Pg))]
struct ItemRow {
    id: Uuid,
    tool_id: Uuid,
    tool_name: String,
    quantity: i32,
    start_date: NaiveDate,
    end_date: NaiveDate,
    unit_rent: i64,
    rent: i64,
    deposit: i64,
    item_ids: Option<Vec<Option<Uuid>>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemView {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub tool_name: String,
    pub quantity: i32,
    pub start_date: NaiveDate,
    /// Exclusive: the day the items are back.
    pub end_date: NaiveDate,
    pub unit_rent: Money,
    pub rent: Money,
    pub deposit: Money,
    /// The physical items held, once the catalog said which.
    pub item_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub comment: String,
    /// Absent: the saga.
    pub changed_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// An order in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub id: Uuid,
    #[schema(example = "NB-2026-000042")]
    pub number: String,
    pub status: OrderStatus,
    pub community_id: Uuid,
    pub user_id: Uuid,
    pub delivery_method: DeliveryMethod,
    pub totals: Totals,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An order with its items and history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    #[serde(flatten)]
    pub summary: OrderSummary,
    pub address_id: Option<Uuid>,
    pub slot_id: Option<Uuid>,
    pub promo_code: Option<String>,
    pub notes: String,
    /// The payment's id at the provider, once authorised.
    pub payment_id: Option<String>,
    /// Pay before this, or the order is cancelled (`payment_expired`).
    pub pay_by: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub items: Vec<OrderItemView>,
    pub history: Vec<StatusChange>,
}

impl Order {
    fn summary(&self) -> Result<OrderSummary> {
        Ok(OrderSummary {
            id: self.id,
            number: self.number.clone(),
            status: self.status,
            community_id: self.community_id,
            user_id: self.user_id,
            delivery_method: self.delivery_method,
            totals: self.totals()?,
            placed_at: self.placed_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrder {
    /// Whose library: the cart of this community becomes the order.
    pub community_id: Uuid,
    pub delivery_method: DeliveryMethod,
    /// One of the customer's addresses (for `delivery`).
    pub address_id: Option<Uuid>,
    /// A slot from `GET /api/delivery/slots` (for `delivery`).
    pub slot_id: Option<Uuid>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    #[serde(default)]
    pub notes: String,
}

/// `NB-<year>-<6 digits>` from the sequence (more digits past a million a year).
fn number(year: i32, n: i64) -> String {
    format!("NB-{year}-{n:06}")
}

pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Order> {
    o::table
        .find(id)
        .select(Order::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("order"))
}

/// Writes a change of status (checked), its history row and its event.
async fn transition(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    to: OrderStatus,
    comment: &str,
    by: Option<Uuid>,
    rid: Option<&RequestId>,
) -> Result<Order> {
    status::check(order.status, to)?;
    let updated: Order = diesel::update(o::table.find(order.id))
        .set((o::status.eq(to), o::updated_at.eq(Utc::now())))
        .returning(Order::as_returning())
        .get_result(conn)
        .await?;
    history(conn, order.id, Some(order.status), to, comment, by).await?;
    let event = ev::OrderStatusChanged {
        order_id: order.id.to_string(),
        user_id: order.user_id.to_string(),
        order_number: order.number.clone(),
        from_status: order.status.to_string(),
        to_status: to.to_string(),
        comment: comment.to_owned(),
        changed_by: by.map(|u| u.to_string()).unwrap_or_default(),
    };
    state.emit(conn, order.id, &event, rid).await?;
    metrics::counter!("order_status_changes_total", "to" => to.as_str()).increment(1);
    Ok(updated)
}

async fn history(
    conn: &mut AsyncPgConnection,
    order: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    comment: &str,
    by: Option<Uuid>,
) -> Result<()> {
    diesel::insert_into(h::table)
        .values((
            h::order_id.eq(order),
            h::from_status.eq(from),
            h::to_status.eq(to),
            h::comment.eq(comment),
            h::changed_by.eq(by),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The saga cancels (a failed step, a deadline, the customer before payment).
pub async fn cancelled_by_saga(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    reason: &str,
    rid: Option<&RequestId>,
) -> Result<Order> {
    diesel::update(o::table.find(order.id))
        .set(o::cancel_reason.eq(reason))
        .execute(conn)
        .await?;
    let order = Order {
        cancel_reason: Some(reason.to_owned()),
        ..order.clone()
    };
    if order.status == OrderStatus::Cancelled {
        return Ok(order);
    }
    transition(conn, state, &order, OrderStatus::Cancelled, reason, None, rid).await
}

/// The pivot: the payment is authorised.
pub async fn confirmed_by_saga(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    payment_id: &str,
    rid: Option<&RequestId>,
) -> Result<Order> {
    diesel::update(o::table.find(order.id))
        .set(o::payment_id.eq(payment_id))
        .execute(conn)
        .await?;
    let order = Order {
        payment_id: Some(payment_id.to_owned()),
        ..order.clone()
    };
    transition(conn, state, &order, OrderStatus::Confirmed, "payment authorised", None, rid).await
}

/// Turns the customer's cart in `place.community_id` into an order and starts its saga, in
/// one transaction (the order, its items, the promo use, the emptied cart and the saga's
/// first command commit together or not at all).
pub async fn place(
    state: &State,
    user: Uuid,
    place: PlaceOrder,
    rid: &RequestId,
) -> Result<OrderDetail> {
    match place.delivery_method {
        DeliveryMethod::Delivery if place.address_id.is_none() => {
            return Err(Error::field("addressId", "required for delivery"));
        }
        DeliveryMethod::Delivery if place.slot_id.is_none() => {
            return Err(Error::field("slotId", "required for delivery"));
        }
        DeliveryMethod::Pickup if place.address_id.is_some() || place.slot_id.is_some() => {
            return Err(Error::field("deliveryMethod", "a pickup order takes no address or slot"));
        }
        _ => {}
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    // Prices first, committed on their own: a moved price is flagged on the cart even
    // though the placement is refused.
    if let Some(c) = cart::find(&mut conn, user, place.community_id).await?
        && cart::reprice(&mut conn, &c).await?
    {
        return Err(Error::conflict(
            "price_changed",
            "prices in the cart changed; review the cart and order again",
        ));
    }
    let id = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let (cart, lines) = cart::for_placement(conn, user, place.community_id).await?;
                let ids: Vec<Uuid> = lines.iter().map(|l| l.tool_id).collect();
                let tools = tools::find_many(conn, &ids).await?;
                let currency = lines[0].currency;
                let (mut rent, mut deposit) = (Money::zero(currency), Money::zero(currency));
                let id = Uuid::now_v7();
                let mut items = Vec::with_capacity(lines.len());
                for line in &lines {
                    let tool = tools
                        .iter()
                        .find(|t| t.id == line.tool_id)
                        .ok_or(Error::NotFound("tool"))?;
                    let quote = cart::priced(tool, line)?;
                    if quote.unit_rent.amount() != line.unit_rent || tool.deposit != line.unit_deposit {
                        return Err(Error::conflict(
                            "price_changed",
                            "prices in the cart changed; review the cart and order again",
                        ));
                    }
                    rent = rent.checked_add(quote.rent)?;
                    deposit = deposit.checked_add(quote.deposit)?;
                    items.push((
                        oi::id.eq(Uuid::now_v7()),
                        oi::order_id.eq(id),
                        oi::tool_id.eq(tool.id),
                        oi::tool_name.eq(tool.name.clone()),
                        oi::quantity.eq(line.quantity),
                        oi::start_date.eq(line.start_date),
                        oi::end_date.eq(line.end_date),
                        oi::unit_rent.eq(quote.unit_rent.amount()),
                        oi::rent.eq(quote.rent.amount()),
                        oi::deposit.eq(quote.deposit.amount()),
                    ));
                }
                let now = Utc::now();
                let mut discount = Money::zero(currency);
                let mut promo_used = None;
                if let Some(promo_id) = cart.promo_code_id {
                    let code = promo::get(conn, promo_id).await?;
                    code.applies(cart.community_id, rent, now)?;
                    discount = code.discount()?.off(rent)?;
                    promo_used = Some(code);
                }
                let seq: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "nextval('order_number_seq')",
                ))
                .get_result(conn)
                .await?;
                let fee = match place.delivery_method {
                    DeliveryMethod::Pickup => Some(0_i64),
                    DeliveryMethod::Delivery => None,
                };
                diesel::insert_into(o::table)
                    .values((
                        o::id.eq(id),
                        o::number.eq(number(now.year(), seq)),
                        o::user_id.eq(user),
                        o::community_id.eq(cart.community_id),
                        o::status.eq(OrderStatus::Pending),
                        o::delivery_method.eq(place.delivery_method),
                        o::address_id.eq(place.address_id),
                        o::slot_id.eq(place.slot_id),
                        o::currency.eq(currency),
                        o::rent.eq(rent.amount()),
                        o::discount.eq(discount.amount()),
                        o::deposit.eq(deposit.amount()),
                        o::delivery_fee.eq(fee),
                        o::promo_code_id.eq(promo_used.as_ref().map(|p| p.id)),
                        o::promo_code.eq(promo_used.as_ref().map(|p| p.code.clone())),
                        o::notes.eq(place.notes.trim()),
                    ))
                    .execute(conn)
                    .await?;
                diesel::insert_into(oi::table)
                    .values(&items)
                    .execute(conn)
                    .await?;
                if let Some(code) = &promo_used {
                    promo::redeem(conn, code, user, id, now).await?;
                }
                history(conn, id, None, OrderStatus::Pending, "placed", Some(user)).await?;
                cart::clear_in(conn, &cart).await?;
                let order = lock(conn, id).await?;
                saga::start(conn, state, &order, Some(rid)).await?;
                Ok(id)
            }
            .scope_boxed()
        })
        .await?;
    metrics::counter!("order_orders_placed_total").increment(1);
    detail_in(&mut conn, id).await
}

async fn detail_in(conn: &mut AsyncPgConnection, id: Uuid) -> Result<OrderDetail> {
    let order: Order = o::table
        .find(id)
        .select(Order::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("order"))?;
    let items: Vec<ItemRow> = oi::table
        .filter(oi::order_id.eq(id))
        .order(oi::id.asc())
        .select(ItemRow::as_select())
        .load(conn)
        .await?;
    type HistoryRow = (Option<OrderStatus>, OrderStatus, String, Option<Uuid>, DateTime<Utc>);
    let changes: Vec<HistoryRow> = h::table
        .filter(h::order_id.eq(id))
        .order(h::id.asc())
        .select((h::from_status, h::to_status, h::comment, h::changed_by, h::created_at))
        .load(conn)
        .await?;
    let m = |a| Money::new(a, order.currency);
    Ok(OrderDetail {
        summary: order.summary()?,
        address_id: order.address_id,
        slot_id: order.slot_id,
        promo_code: order.promo_code.clone(),
        notes: order.notes.clone(),
        payment_id: order.payment_id.clone(),
        pay_by: order.pay_by,
        cancel_reason: order.cancel_reason.clone(),
        items: items
            .into_iter()
            .map(|i| OrderItemView {
                id: i.id,
                tool_id: i.tool_id,
                tool_name: i.tool_name,
                quantity: i.quantity,
                start_date: i.start_date,
                end_date: i.end_date,
                unit_rent: m(i.unit_rent),
                rent: m(i.rent),
                deposit: m(i.deposit),
                item_ids: i.item_ids.unwrap_or_default().into_iter().flatten().collect(),
            })
            .collect(),
        history: changes
            .into_iter()
            .map(|(from, to, comment, changed_by, at)| StatusChange {
                from,
                to,
                comment,
                changed_by,
                at,
            })
            .collect(),
    })
}

/// The customer's own order; anyone else's is a 404.
pub async fn detail(state: &State, user: Uuid, id: Uuid) -> Result<OrderDetail> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let detail = detail_in(&mut conn, id).await?;
    if detail.summary.user_id != user {
        return Err(Error::NotFound("order"));
    }
    Ok(detail)
}

pub async fn admin_detail(state: &State, id: Uuid) -> Result<OrderDetail> {
    let mut conn = platform::db::conn(&state.pool).await?;
    detail_in(&mut conn, id).await
}

/// Which of a customer's orders.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    All(Option<OrderStatus>),
    /// Still running (not completed, cancelled or refunded).
    Active,
    /// Finished.
    History,
}

pub async fn list(state: &State, user: Uuid, which: Which, page: Page) -> Result<Paginated<OrderSummary>> {
    let filter = Filter {
        user: Some(user),
        ..Filter::default()
    };
    search(state, filter, which, page).await
}

/// The admins' search.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    pub status: Option<OrderStatus>,
    /// The customer.
    pub user: Option<Uuid>,
    pub community_id: Option<Uuid>,
    /// The order number, exactly (`NB-2026-000042`).
    #[param(max_length = 32)]
    pub number: Option<String>,
    /// Placed at or after.
    pub from: Option<DateTime<Utc>>,
    /// Placed before.
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

pub async fn search(state: &State, f: Filter, which: Which, page: Page) -> Result<Paginated<OrderSummary>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let finished = [OrderStatus::Completed, OrderStatus::Cancelled, OrderStatus::Refunded];
    let build = || {
        let mut q = o::table.into_boxed();
        if let Some(u) = f.user {
            q = q.filter(o::user_id.eq(u));
        }
        if let Some(c) = f.community_id {
            q = q.filter(o::community_id.eq(c));
        }
        if let Some(n) = &f.number {
            q = q.filter(o::number.eq(n.trim().to_ascii_uppercase()));
        }
        if let Some(t) = f.from {
            q = q.filter(o::placed_at.ge(t));
        }
        if let Some(t) = f.to {
            q = q.filter(o::placed_at.lt(t));
        }
        match which {
            Which::All(Some(s)) => q = q.filter(o::status.eq(s)),
            Which::All(None) => {}
            Which::Active => q = q.filter(o::status.ne_all(finished)),
            Which::History => q = q.filter(o::status.eq_any(finished)),
        }
        if let Some(s) = f.status {
            q = q.filter(o::status.eq(s));
        }
        q
    };
    let total: i64 = build().count().get_result(&mut conn).await?;
    let rows: Vec<Order> = build()
        .order((o::placed_at.desc(), o::id.desc()))
        .limit(page.limit())
        .offset(page.offset())
        .select(Order::as_select())
        .load(&mut conn)
        .await?;
    let items = rows.iter().map(Order::summary).collect::<Result<Vec<_>>>()?;
    Ok(Paginated::new(items, page, u64::try_from(total).unwrap_or(0)))
}

/// The customer cancels. Before payment the saga compensates and nothing is charged;
/// after it (confirmed, preparing) the order is cancelled and every participant undoes its
/// part from `order.cancelled` (the catalog frees the bookings, payment voids the
/// authorisation, delivery frees the slot); once the items are on their way it is too late
/// (`too_late`): the customer returns them instead.
pub async fn cancel(state: &State, user: Uuid, id: Uuid, reason: Option<String>, rid: &RequestId) -> Result<OrderDetail> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let order = lock(conn, id).await?;
            if order.user_id != user {
                return Err(Error::NotFound("order"));
            }
            if order.status == OrderStatus::Cancelled {
                return Ok(());
            }
            if !order.status.customer_may_cancel() {
                return Err(Error::conflict(
                    "too_late",
                    format!("an order that is {} can no longer be cancelled", order.status),
                ));
            }
            let comment = reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or("customer");
            cancel_in(conn, state, &order, comment, Some(user), Some(rid)).await
        }
        .scope_boxed()
    })
    .await?;
    detail_in(&mut conn, id).await
}

async fn cancel_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    comment: &str,
    by: Option<Uuid>,
    rid: Option<&RequestId>,
) -> Result<()> {
    if order.status.before_pivot() {
        return saga::cancel(conn, state, order, "customer", rid).await;
    }
    diesel::update(o::table.find(order.id))
        .set(o::cancel_reason.eq("customer"))
        .execute(conn)
        .await?;
    let cancelled = transition(conn, state, order, OrderStatus::Cancelled, comment, by, rid).await?;
    let command = saga::command_id(order.id, saga::Step::Reserve, saga::Direction::Backward);
    if order.delivery_method == DeliveryMethod::Delivery {
        let release = ev::OrderSlotReleaseRequested {
            order_id: order.id.to_string(),
            reason: "customer".into(),
            attempt: 1,
            command_id: saga::command_id(order.id, saga::Step::Slot, saga::Direction::Backward).to_string(),
        };
        state.emit(conn, order.id, &release, rid).await?;
    }
    let event = ev::OrderCancelled {
        order_id: order.id.to_string(),
        user_id: order.user_id.to_string(),
        reason: "customer".into(),
        attempt: 1,
        order_number: cancelled.number.clone(),
        command_id: command.to_string(),
    };
    state.emit(conn, order.id, &event, rid).await?;
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusUpdate {
    pub status: OrderStatus,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    #[serde(default)]
    pub comment: String,
}

/// An admin moves an order on (through the guarded transitions). Confirmation belongs to
/// the payment (the saga's pivot) and cannot be set by hand; a cancellation goes the
/// customer's way (compensation before payment, `order.cancelled` after).
pub async fn set_status(state: &State, by: Uuid, id: Uuid, update: StatusUpdate, rid: &RequestId) -> Result<OrderDetail> {
    if update.status == OrderStatus::Confirmed {
        return Err(Error::rule(
            "saga_owned",
            "an order is confirmed by its payment, not by hand",
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let order = lock(conn, id).await?;
            status::check(order.status, update.status)?;
            let comment = update.comment.trim();
            if update.status == OrderStatus::Cancelled {
                return cancel_in(conn, state, &order, comment, Some(by), Some(rid)).await;
            }
            let changed = transition(conn, state, &order, update.status, comment, Some(by), Some(rid)).await?;
            match changed.status {
                OrderStatus::Returned => {
                    let event = ev::OrderReturned { order_id: id.to_string() };
                    state.emit(conn, id, &event, Some(rid)).await?;
                }
                OrderStatus::Completed => {
                    let items: Vec<(Uuid, Uuid, i32, NaiveDate, NaiveDate)> = oi::table
                        .filter(oi::order_id.eq(id))
                        .select((oi::id, oi::tool_id, oi::quantity, oi::start_date, oi::end_date))
                        .load(conn)
                        .await?;
                    let event = ev::OrderCompleted {
                        order_id: id.to_string(),
                        user_id: changed.user_id.to_string(),
                        community_id: changed.community_id.to_string(),
                        items: items
                            .into_iter()
                            .map(|(item, tool, quantity, start, end)| ev::OrderItem {
                                order_item_id: item.to_string(),
                                tool_id: tool.to_string(),
                                quantity,
                                start_date: start.to_string(),
                                end_date: end.to_string(),
                            })
                            .collect(),
                    };
                    state.emit(conn, id, &event, Some(rid)).await?;
                }
                _ => {}
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    detail_in(&mut conn, id).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_have_the_year_and_six_digits() {
        assert_eq!(super::number(2026, 42), "NB-2026-000042");
        assert_eq!(super::number(2027, 1_234_567), "NB-2027-1234567");
    }
}
