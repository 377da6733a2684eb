//! The order saga, orchestrated here. Each order has one saga row (where it stands) and an
//! append-only log (every command sent, every answer, every timeout, every operator
//! action); the row is locked (`FOR UPDATE`) while the saga advances, so a reply, the
//! deadline sweep and a customer's cancel never advance one saga twice.
//!
//! Forward: `reserve` (catalog holds the items) -> `slot` (delivery holds a place and fixes
//! the fee; skipped for pickup) -> `payment` (the customer pays before the deadline) ->
//! the pivot: `payment.authorized` confirms the order -> `confirm` (catalog turns holds
//! into bookings) -> `done`.
//!
//! Before the pivot any failure, timeout or cancel compensates every step that may have
//! taken effect, in reverse (`slot`, then `reserve`), and the order is `cancelled`; after
//! it, steps are resent until they succeed. A command whose answer is late is resent with
//! the next attempt number and the same command id (a UUIDv5 of order, step and direction),
//! waiting twice as long each time. A step before the pivot that never answers is
//! compensated; a step after it, or a compensation, that never answers goes to
//! `needs_operator` with a metric and an alert, never a silent stop. An answer that is not
//! the one awaited (late, duplicated, or for a step already left) is dropped, counted and
//! logged.

use crate::error::{Error, Result};
use crate::orders::{self, DeliveryMethod, Order};
use crate::promo;
use crate::schema::{order_items as oi, orders as o, saga_log as l, sagas as s};
use crate::state::State;
use crate::status::OrderStatus;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::order::v1 as ev;
use platform::db::TextList;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use platform::money::Money;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

platform::text_enum! {
    pub enum Step {
        Reserve = "reserve",
        Slot = "slot",
        Payment = "payment",
        Confirm = "confirm",
        Done = "done",
    }
}

platform::text_enum! {
    pub enum Direction {
        Forward = "forward",
        Backward = "backward",
    }
}

platform::text_enum! {
    pub enum SagaStatus {
        Running = "running",
        Compensating = "compensating",
        Completed = "completed",
        Compensated = "compensated",
        /// Stopped retrying: an operator looks (`GET /orders/admin/{id}/saga`) and retries
        /// or compensates.
        NeedsOperator = "needs_operator",
    }
}

platform::text_enum! {
    pub enum Outcome {
        Sent = "sent",
        Succeeded = "succeeded",
        Failed = "failed",
        TimedOut = "timed_out",
        Dropped = "dropped",
        Operator = "operator",
    }
}

use Direction::{Backward, Forward};
use Step::{Confirm, Done, Payment, Reserve, Slot};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = s, check_for_backend(diesel::pg::Pg))]
pub struct Saga {
    pub order_id: Uuid,
    pub step: Step,
    pub direction: Direction,
    pub status: SagaStatus,
    pub deadline: Option<DateTime<Utc>>,
    pub attempt: i32,
    pub last_error: Option<String>,
    pub reason: Option<String>,
    #[diesel(deserialize_as = TextList)]
    pub done: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Saga {
    fn has_done(&self, step: Step) -> bool {
        self.done.iter().any(|d| d == step.as_str())
    }

    /// Before the pivot: still compensable.
    pub fn before_pivot(&self) -> bool {
        self.direction == Forward && matches!(self.step, Reserve | Slot | Payment)
    }
}

/// A participant's answer, decoded from its event.
#[derive(Debug, Clone)]
pub enum Reply {
    /// catalog.reservation.reserved: the physical items per order line.
    Reserved { items: Vec<(Uuid, Vec<Uuid>)> },
    /// catalog.reservation.rejected: to the hold, or (`hold_expired`) to the confirmation.
    Rejected { reason: String, detail: String },
    /// catalog.reservation.released: the compensation of `reserve`.
    Released { reason: String },
    /// catalog.reservation.confirmed.
    Confirmed,
    SlotHeld { fee: Money },
    SlotRejected { reason: String, detail: String },
    SlotReleased,
    Authorized {
        payment_id: String,
        amount: Money,
        deposit: Money,
    },
    PaymentFailed { reason: String, detail: String },
}

impl Reply {
    /// The step and direction this kind of answer belongs to, given where the saga is
    /// (a catalog rejection answers the hold or, after the pivot, the confirmation).
    fn answers(&self, current: Step) -> (Step, Direction) {
        match self {
            Reply::Reserved { .. } => (Reserve, Forward),
            Reply::Rejected { .. } if current == Confirm => (Confirm, Forward),
            Reply::Rejected { .. } => (Reserve, Forward),
            Reply::Released { .. } => (Reserve, Backward),
            Reply::Confirmed => (Confirm, Forward),
            Reply::SlotHeld { .. } | Reply::SlotRejected { .. } => (Slot, Forward),
            Reply::SlotReleased => (Slot, Backward),
            Reply::Authorized { .. } | Reply::PaymentFailed { .. } => (Payment, Forward),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Reply::Reserved { .. } => "reserved",
            Reply::Rejected { .. } => "rejected",
            Reply::Released { .. } => "released",
            Reply::Confirmed => "confirmed",
            Reply::SlotHeld { .. } => "slot_held",
            Reply::SlotRejected { .. } => "slot_rejected",
            Reply::SlotReleased => "slot_released",
            Reply::Authorized { .. } => "authorized",
            Reply::PaymentFailed { .. } => "payment_failed",
        }
    }
}

/// The id of a step's command: the same for every attempt, so a participant can tell a
/// resend from a new request.
pub fn command_id(order: Uuid, step: Step, direction: Direction) -> Uuid {
    Uuid::new_v5(&order, format!("{step}:{direction}").as_bytes())
}

async fn log(
    conn: &mut AsyncPgConnection,
    order: Uuid,
    step: Step,
    direction: Direction,
    attempt: i32,
    outcome: Outcome,
    detail: &str,
) -> Result<()> {
    let command = matches!(outcome, Outcome::Sent).then(|| command_id(order, step, direction));
    diesel::insert_into(l::table)
        .values((
            l::order_id.eq(order),
            l::step.eq(step.as_str()),
            l::direction.eq(direction),
            l::attempt.eq(attempt),
            l::command_id.eq(command),
            l::outcome.eq(outcome),
            l::detail.eq(detail),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

fn money(m: Money) -> ev::Money {
    ev::Money {
        amount: m.amount(),
        currency: m.currency().to_string(),
    }
}

/// Emits the command of `step` in `direction`, attempt `attempt`, and logs it.
async fn send(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    step: Step,
    direction: Direction,
    attempt: i32,
    rid: Option<&RequestId>,
) -> Result<()> {
    let command = command_id(order.id, step, direction).to_string();
    let (id, user) = (order.id.to_string(), order.user_id.to_string());
    match (step, direction) {
        (Reserve, Forward) => {
            let items: Vec<(Uuid, Uuid, i32, chrono::NaiveDate, chrono::NaiveDate)> =
                oi::table
                    .filter(oi::order_id.eq(order.id))
                    .order(oi::id.asc())
                    .select((
                        oi::id,
                        oi::tool_id,
                        oi::quantity,
                        oi::start_date,
                        oi::end_date,
                    ))
                    .load(conn)
                    .await?;
            let event = ev::OrderPlaced {
                order_id: id,
                user_id: user,
                community_id: order.community_id.to_string(),
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
                placed_at: Some(events::timestamp(order.placed_at)),
                order_number: order.number.clone(),
                attempt,
                delivery_method: order.delivery_method.to_string(),
                command_id: command,
            };
            state.emit(conn, order.id, &event, rid).await?;
        }
        (Slot, Forward) => {
            let event = ev::OrderSlotRequested {
                order_id: id,
                user_id: user,
                community_id: order.community_id.to_string(),
                slot_id: order.slot_id.map(|s| s.to_string()).unwrap_or_default(),
                address_id: order.address_id.map(|a| a.to_string()).unwrap_or_default(),
                attempt,
                command_id: command,
            };
            state.emit(conn, order.id, &event, rid).await?;
        }
        (Payment, Forward) => {
            let totals = order.totals()?;
            let event = ev::OrderAwaitingPayment {
                order_id: id,
                user_id: user,
                order_number: order.number.clone(),
                total: Some(money(totals.total)),
                deposit: Some(money(totals.deposit)),
                pay_by: order.pay_by.map(events::timestamp),
                attempt,
                command_id: command,
            };
            state.emit(conn, order.id, &event, rid).await?;
        }
        (Confirm, Forward) => {
            let totals = order.totals()?;
            let event = ev::OrderConfirmed {
                order_id: id,
                user_id: user,
                attempt,
                order_number: order.number.clone(),
                total: Some(money(totals.total)),
                deposit: Some(money(totals.deposit)),
                command_id: command,
            };
            state.emit(conn, order.id, &event, rid).await?;
        }
        (Slot, Backward) => {
            let event = ev::OrderSlotReleaseRequested {
                order_id: id,
                reason: order.cancel_reason.clone().unwrap_or_default(),
                attempt,
                command_id: command,
            };
            state.emit(conn, order.id, &event, rid).await?;
        }
        (Reserve, Backward) => {
            let event = ev::OrderCancelled {
                order_id: id,
                user_id: user,
                reason: order.cancel_reason.clone().unwrap_or_default(),
                attempt,
                order_number: order.number.clone(),
                command_id: command,
            };
            state.emit(conn, order.id, &event, rid).await?;
        }
        // Nothing to ask: paying is the customer's act, and nothing undoes a payment
        // that never happened.
        (Payment, Backward) | (Confirm, Backward) | (Done, _) => return Ok(()),
    }
    log(conn, order.id, step, direction, attempt, Outcome::Sent, "").await
}

/// Moves the saga to `step` in `direction` and sends its command (attempt 1).
async fn enter(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    step: Step,
    direction: Direction,
    status: SagaStatus,
    rid: Option<&RequestId>,
) -> Result<()> {
    let deadline = match (step, direction) {
        (Done, _) => None,
        (Payment, Forward) => order.pay_by,
        _ => Some(after(state.saga.wait(1))),
    };
    diesel::update(s::table.find(order.id))
        .set((
            s::step.eq(step),
            s::direction.eq(direction),
            s::status.eq(status),
            s::deadline.eq(deadline),
            s::attempt.eq(1),
            s::last_error.eq(None::<String>),
            s::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    send(conn, state, order, step, direction, 1, rid).await
}

fn after(wait: std::time::Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

/// Starts the saga of a just-placed order, in the placement's transaction.
pub async fn start(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    rid: Option<&RequestId>,
) -> Result<()> {
    diesel::insert_into(s::table)
        .values((
            s::order_id.eq(order.id),
            s::step.eq(Reserve),
            s::direction.eq(Forward),
            s::status.eq(SagaStatus::Running),
            s::deadline.eq(Some(after(state.saga.wait(1)))),
        ))
        .execute(conn)
        .await?;
    metrics::counter!("order_sagas_started_total").increment(1);
    send(conn, state, order, Reserve, Forward, 1, rid).await
}

async fn lock(conn: &mut AsyncPgConnection, order: Uuid) -> Result<Option<Saga>> {
    Ok(s::table
        .find(order)
        .select(Saga::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

async fn mark_done(conn: &mut AsyncPgConnection, saga: &mut Saga, step: Step) -> Result<()> {
    if !saga.has_done(step) {
        saga.done.push(step.as_str().to_owned());
        diesel::update(s::table.find(saga.order_id))
            .set(s::done.eq(&saga.done))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The forward step after `step` for this order.
fn next_forward(order: &Order, step: Step) -> Step {
    match step {
        Reserve if order.delivery_method == DeliveryMethod::Delivery => Slot,
        Reserve | Slot => Payment,
        Payment => Confirm,
        Confirm | Done => Done,
    }
}

async fn forward(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    from: Step,
    rid: Option<&RequestId>,
) -> Result<()> {
    let next = next_forward(order, from);
    match next {
        Payment => {
            let pay_by = after(state.saga.payment_deadline);
            diesel::update(o::table.find(order.id))
                .set((o::pay_by.eq(pay_by), o::updated_at.eq(Utc::now())))
                .execute(conn)
                .await?;
            let order = Order {
                pay_by: Some(pay_by),
                ..order.clone()
            };
            enter(conn, state, &order, Payment, Forward, SagaStatus::Running, rid).await
        }
        Done => {
            diesel::update(s::table.find(order.id))
                .set((
                    s::step.eq(Done),
                    s::status.eq(SagaStatus::Completed),
                    s::deadline.eq(None::<DateTime<Utc>>),
                    s::updated_at.eq(Utc::now()),
                ))
                .execute(conn)
                .await?;
            metrics::counter!("order_sagas_finished_total", "outcome" => "completed").increment(1);
            Ok(())
        }
        step => enter(conn, state, order, step, Forward, SagaStatus::Running, rid).await,
    }
}

/// Starts compensating: the order is `cancelled` (reason `reason`), its promo use given
/// back, and every step that may have taken effect undone in reverse. `current_may_have_acted`:
/// the step awaited was sent without an answer (a timeout, a cancel), so it is undone too.
async fn compensate(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    saga: &mut Saga,
    reason: &str,
    current_may_have_acted: bool,
    rid: Option<&RequestId>,
) -> Result<()> {
    if current_may_have_acted && saga.direction == Forward && matches!(saga.step, Reserve | Slot)
    {
        let step = saga.step;
        mark_done(conn, saga, step).await?;
    }
    diesel::update(s::table.find(order.id))
        .set((
            s::status.eq(SagaStatus::Compensating),
            s::reason.eq(reason),
            s::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    let order = orders::cancelled_by_saga(conn, state, order, reason, rid).await?;
    promo::give_back(conn, order.id).await?;
    metrics::counter!("order_sagas_compensating_total", "reason" => reason.to_owned())
        .increment(1);
    backward(conn, state, &order, saga, None, rid).await
}

/// The next compensation after `from` (None: the first), or the end of compensation.
async fn backward(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    saga: &Saga,
    from: Option<Step>,
    rid: Option<&RequestId>,
) -> Result<()> {
    const REVERSE: [Step; 2] = [Slot, Reserve];
    let start = match from {
        None => 0,
        Some(step) => REVERSE.iter().position(|s| *s == step).map_or(REVERSE.len(), |i| i + 1),
    };
    if let Some(step) = REVERSE[start..].iter().find(|s| saga.has_done(**s)) {
        return enter(conn, state, order, *step, Backward, SagaStatus::Compensating, rid).await;
    }
    // Nothing (more) to undo. If the catalog never held anything, the cancellation has
    // not been told yet: it is still a fact others act on (payment voids, the customer is
    // told).
    if !saga.has_done(Reserve) {
        send(conn, state, order, Reserve, Backward, 1, rid).await?;
    }
    diesel::update(s::table.find(order.id))
        .set((
            s::step.eq(Done),
            s::direction.eq(Backward),
            s::status.eq(SagaStatus::Compensated),
            s::deadline.eq(None::<DateTime<Utc>>),
            s::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    metrics::counter!("order_sagas_finished_total", "outcome" => "compensated").increment(1);
    Ok(())
}

async fn dropped(conn: &mut AsyncPgConnection, saga: Option<&Saga>, order: Uuid, reply: &Reply) -> Result<()> {
    metrics::counter!("order_saga_replies_dropped_total", "reply" => reply.name()).increment(1);
    tracing::info!(%order, reply = reply.name(), "saga reply not awaited; dropped");
    if let Some(saga) = saga {
        let (step, direction) = reply.answers(saga.step);
        log(
            conn,
            order,
            step,
            direction,
            saga.attempt,
            Outcome::Dropped,
            &format!("{} while the saga was at {} {} ({})", reply.name(), saga.step, saga.direction, saga.status),
        )
        .await?;
    }
    Ok(())
}

/// A participant answered; in the consumer's transaction (with the inbox row).
pub async fn on_reply(
    conn: &mut AsyncPgConnection,
    state: &State,
    order_id: Uuid,
    reply: Reply,
    rid: Option<&RequestId>,
) -> Result<()> {
    let Some(mut saga) = lock(conn, order_id).await? else {
        return dropped(conn, None, order_id, &reply).await;
    };
    let (step, direction) = reply.answers(saga.step);
    let waiting = matches!(
        saga.status,
        SagaStatus::Running | SagaStatus::Compensating | SagaStatus::NeedsOperator
    );
    if !waiting || (saga.step, saga.direction) != (step, direction) {
        return dropped(conn, Some(&saga), order_id, &reply).await;
    }
    let order = orders::lock(conn, order_id).await?;
    let attempt = saga.attempt;
    match reply {
        Reply::Reserved { items } => {
            log(conn, order.id, Reserve, Forward, attempt, Outcome::Succeeded, "").await?;
            for (line, held) in items {
                diesel::update(oi::table.find(line).filter(oi::order_id.eq(order.id)))
                    .set(oi::item_ids.eq(Some(held)))
                    .execute(conn)
                    .await?;
            }
            mark_done(conn, &mut saga, Reserve).await?;
            forward(conn, state, &order, Reserve, rid).await
        }
        Reply::Rejected { reason, detail } if step == Reserve => {
            log(conn, order.id, Reserve, Forward, attempt, Outcome::Failed, &format!("{reason}: {detail}")).await?;
            compensate(conn, state, &order, &mut saga, &format!("reservation_{reason}"), false, rid).await
        }
        Reply::Rejected { reason, detail } => {
            // After the pivot the bookings could not be made (the hold lapsed and the
            // items went to someone else): nothing to retry; the order is cancelled and
            // the payment voided (payment acts on order.cancelled).
            log(conn, order.id, Confirm, Forward, attempt, Outcome::Failed, &format!("{reason}: {detail}")).await?;
            diesel::update(s::table.find(order.id))
                .set((s::step.eq(Confirm), s::direction.eq(Forward)))
                .execute(conn)
                .await?;
            compensate(conn, state, &order, &mut saga, &format!("confirmation_{reason}"), false, rid).await
        }
        Reply::Released { reason } => {
            log(conn, order.id, Reserve, Backward, attempt, Outcome::Succeeded, &reason).await?;
            backward(conn, state, &order, &saga, Some(Reserve), rid).await
        }
        Reply::Confirmed => {
            log(conn, order.id, Confirm, Forward, attempt, Outcome::Succeeded, "").await?;
            forward(conn, state, &order, Confirm, rid).await
        }
        Reply::SlotHeld { fee } => {
            log(conn, order.id, Slot, Forward, attempt, Outcome::Succeeded, &fee.to_string()).await?;
            if fee.currency() != order.currency || fee.is_negative() {
                return compensate(conn, state, &order, &mut saga, "slot_fee_invalid", true, rid).await;
            }
            diesel::update(o::table.find(order.id))
                .set((o::delivery_fee.eq(Some(fee.amount())), o::updated_at.eq(Utc::now())))
                .execute(conn)
                .await?;
            mark_done(conn, &mut saga, Slot).await?;
            let order = Order {
                delivery_fee: Some(fee.amount()),
                ..order
            };
            forward(conn, state, &order, Slot, rid).await
        }
        Reply::SlotRejected { reason, detail } => {
            log(conn, order.id, Slot, Forward, attempt, Outcome::Failed, &format!("{reason}: {detail}")).await?;
            compensate(conn, state, &order, &mut saga, &reason, false, rid).await
        }
        Reply::SlotReleased => {
            log(conn, order.id, Slot, Backward, attempt, Outcome::Succeeded, "").await?;
            backward(conn, state, &order, &saga, Some(Slot), rid).await
        }
        Reply::Authorized {
            payment_id,
            amount,
            deposit,
        } => {
            let totals = order.totals()?;
            if amount != totals.total || deposit != totals.deposit {
                log(conn, order.id, Payment, Forward, attempt, Outcome::Failed,
                    &format!("authorised {amount} + {deposit}, the order is {} + {}", totals.total, totals.deposit)).await?;
                return compensate(conn, state, &order, &mut saga, "payment_mismatch", false, rid).await;
            }
            log(conn, order.id, Payment, Forward, attempt, Outcome::Succeeded, &payment_id).await?;
            // The pivot: from here on the order goes through.
            let order = orders::confirmed_by_saga(conn, state, &order, &payment_id, rid).await?;
            forward(conn, state, &order, Payment, rid).await
        }
        Reply::PaymentFailed { reason, detail } => {
            log(conn, order.id, Payment, Forward, attempt, Outcome::Failed, &format!("{reason}: {detail}")).await?;
            compensate(conn, state, &order, &mut saga, "payment_failed", false, rid).await
        }
    }
}

/// The customer (or an admin) cancels before the pivot: compensation, nothing charged.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: &Order,
    reason: &str,
    rid: Option<&RequestId>,
) -> Result<()> {
    let mut saga = lock(conn, order.id)
        .await?
        .ok_or(Error::NotFound("saga"))?;
    if !saga.before_pivot()
        || !matches!(saga.status, SagaStatus::Running | SagaStatus::NeedsOperator)
    {
        return Err(Error::conflict(
            "saga_busy",
            "the order is being confirmed or cancelled; try again shortly",
        ));
    }
    log(conn, order.id, saga.step, saga.direction, saga.attempt, Outcome::Operator, &format!("cancel: {reason}")).await?;
    compensate(conn, state, order, &mut saga, reason, true, rid).await
}

/// One saga whose deadline passed, handled; `false` when none is left. Replicas share
/// the work: each takes a row the others have not locked.
pub async fn sweep_one(state: &State) -> Result<bool> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let saga: Option<Saga> = s::table
                .filter(s::status.eq_any([SagaStatus::Running, SagaStatus::Compensating]))
                .filter(s::deadline.le(Utc::now()))
                .order(s::deadline.asc())
                .select(Saga::as_select())
                .for_update()
                .skip_locked()
                .first(conn)
                .await
                .optional()?;
            let Some(saga) = saga else {
                return Ok(false);
            };
            timed_out(conn, state, saga).await?;
            Ok(true)
        }
        .scope_boxed()
    })
    .await
}

/// Handles every saga whose deadline passed, up to `limit`; how many.
pub async fn sweep(state: &State, limit: usize) -> Result<usize> {
    let mut n = 0;
    while n < limit && sweep_one(state).await? {
        n += 1;
    }
    Ok(n)
}

async fn timed_out(conn: &mut AsyncPgConnection, state: &State, mut saga: Saga) -> Result<()> {
    let order = orders::lock(conn, saga.order_id).await?;
    let (step, direction, attempt) = (saga.step, saga.direction, saga.attempt);
    log(conn, order.id, step, direction, attempt, Outcome::TimedOut, "").await?;
    metrics::counter!("order_saga_timeouts_total", "step" => step.as_str()).increment(1);
    if (step, direction) == (Payment, Forward) {
        return compensate(conn, state, &order, &mut saga, "payment_expired", false, None).await;
    }
    if attempt < state.saga.max_attempts {
        let next = attempt + 1;
        diesel::update(s::table.find(order.id))
            .set((
                s::attempt.eq(next),
                s::deadline.eq(Some(after(state.saga.wait(next)))),
                s::last_error.eq(Some(format!("no answer to attempt {attempt}"))),
                s::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        return send(conn, state, &order, step, direction, next, None).await;
    }
    if saga.before_pivot() {
        return compensate(conn, state, &order, &mut saga, &format!("{step}_timeout"), true, None).await;
    }
    let error = format!("no answer after {attempt} attempts of {step} {direction}");
    tracing::error!(order = %order.id, %step, %direction, attempts = attempt, "saga needs an operator");
    metrics::counter!("order_saga_needs_operator_total", "step" => step.as_str()).increment(1);
    diesel::update(s::table.find(order.id))
        .set((
            s::status.eq(SagaStatus::NeedsOperator),
            s::deadline.eq(None::<DateTime<Utc>>),
            s::last_error.eq(Some(error)),
            s::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// An operator resends the step the saga stopped at (attempts start again).
pub async fn retry(state: &State, order: Uuid, by: Uuid) -> Result<SagaView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let saga = lock(conn, order).await?.ok_or(Error::NotFound("order"))?;
            if !matches!(saga.status, SagaStatus::NeedsOperator | SagaStatus::Running | SagaStatus::Compensating)
                || saga.step == Done
            {
                return Err(Error::conflict("saga_finished", format!("the saga is {}", saga.status)));
            }
            let order = orders::lock(conn, order).await?;
            log(conn, order.id, saga.step, saga.direction, saga.attempt, Outcome::Operator, &format!("retry by {by}")).await?;
            let status = match saga.direction {
                Forward => SagaStatus::Running,
                Backward => SagaStatus::Compensating,
            };
            enter(conn, state, &order, saga.step, saga.direction, status, None).await?;
            view_in(conn, order.id).await
        }
        .scope_boxed()
    })
    .await
}

/// An operator gives up on a saga before the pivot: compensation as for a timeout.
pub async fn force_compensation(state: &State, order: Uuid, by: Uuid) -> Result<SagaView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let mut saga = lock(conn, order).await?.ok_or(Error::NotFound("order"))?;
            if !saga.before_pivot()
                || !matches!(saga.status, SagaStatus::Running | SagaStatus::NeedsOperator)
            {
                return Err(Error::conflict(
                    "past_pivot",
                    "only a saga before payment can be compensated; after it, retry or refund",
                ));
            }
            let order = orders::lock(conn, order).await?;
            log(conn, order.id, saga.step, saga.direction, saga.attempt, Outcome::Operator, &format!("compensation forced by {by}")).await?;
            compensate(conn, state, &order, &mut saga, "operator", true, None).await?;
            view_in(conn, order.id).await
        }
        .scope_boxed()
    })
    .await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub step: String,
    pub direction: Direction,
    pub attempt: i32,
    pub command_id: Option<Uuid>,
    pub outcome: Outcome,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// The saga as an operator sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SagaView {
    pub order_id: Uuid,
    pub step: Step,
    pub direction: Direction,
    pub status: SagaStatus,
    /// When the step awaited times out.
    pub deadline: Option<DateTime<Utc>>,
    pub attempt: i32,
    pub last_error: Option<String>,
    /// Why it compensates (or compensated).
    pub reason: Option<String>,
    /// Forward steps that took effect (undone in reverse on compensation).
    pub done: Vec<String>,
    pub log: Vec<LogEntry>,
}

pub async fn view_in(conn: &mut AsyncPgConnection, order: Uuid) -> Result<SagaView> {
    let saga: Saga = s::table
        .find(order)
        .select(Saga::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("order"))?;
    type Row = (String, Direction, i32, Option<Uuid>, Outcome, String, DateTime<Utc>);
    let rows: Vec<Row> = l::table
        .filter(l::order_id.eq(order))
        .order(l::id.asc())
        .select((l::step, l::direction, l::attempt, l::command_id, l::outcome, l::detail, l::created_at))
        .load(conn)
        .await?;
    Ok(SagaView {
        order_id: saga.order_id,
        step: saga.step,
        direction: saga.direction,
        status: saga.status,
        deadline: saga.deadline,
        attempt: saga.attempt,
        last_error: saga.last_error,
        reason: saga.reason,
        done: saga.done,
        log: rows
            .into_iter()
            .map(|(step, direction, attempt, command_id, outcome, detail, at)| LogEntry {
                step,
                direction,
                attempt,
                command_id,
                outcome,
                detail,
                at,
            })
            .collect(),
    })
}

pub async fn view(state: &State, order: Uuid) -> Result<SagaView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    view_in(&mut conn, order).await
}

/// Sagas an operator must look at (the gauge behind the `OrderSagaNeedsOperator` alert).
pub async fn stuck(state: &State) -> Result<i64> {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(s::table
        .filter(s::status.eq(SagaStatus::NeedsOperator))
        .count()
        .get_result(&mut conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_are_stable_per_step_and_direction() {
        let order = Uuid::now_v7();
        assert_eq!(command_id(order, Reserve, Forward), command_id(order, Reserve, Forward));
        assert_ne!(command_id(order, Reserve, Forward), command_id(order, Reserve, Backward));
        assert_ne!(command_id(order, Reserve, Forward), command_id(order, Slot, Forward));
        assert_ne!(command_id(order, Reserve, Forward), command_id(Uuid::now_v7(), Reserve, Forward));
    }

    #[test]
    fn a_catalog_rejection_answers_the_hold_or_after_the_pivot_the_confirmation() {
        let r = Reply::Rejected { reason: "unavailable".into(), detail: String::new() };
        assert_eq!(r.answers(Reserve), (Reserve, Forward));
        assert_eq!(r.answers(Payment), (Reserve, Forward));
        assert_eq!(r.answers(Confirm), (Confirm, Forward));
    }
}
