//! What the order service learns from others: the catalog's tools (prices for carts), and
//! the saga participants' answers (catalog holds, delivery slots, payments).

use crate::error::Error;
use crate::saga::{self, Reply};
use crate::state::State;
use crate::tools::{self, Tool};
use diesel_async::AsyncPgConnection;
use events::DomainEvent;
use events::proto::catalog::v1 as catalog;
use events::proto::delivery::v1 as delivery;
use events::proto::payment::v1 as payment;
use platform::kafka::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Incoming, event_id_field as id,
};
use platform::money::{Currency, Money};

pub fn config() -> ConsumerConfig {
    ConsumerConfig::new(
        "order",
        &[
            events::topics::CATALOG_TOOL.name(),
            events::topics::CATALOG_RESERVATION.name(),
            events::topics::DELIVERY_SLOT.name(),
            events::topics::PAYMENT_PAYMENT.name(),
        ],
    )
}

pub struct Handler {
    pub state: State,
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        match e {
            Error::Db(db) => db.into(),
            other => HandlerError::Transient(anyhow::anyhow!("{other}")),
        }
    }
}

fn permanent(what: &str) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{what}"))
}

fn money(
    m: Option<&impl MoneyParts>,
    what: &str,
) -> Result<Money, HandlerError> {
    let m = m.ok_or_else(|| permanent(&format!("{what} missing")))?;
    let currency = Currency::parse(m.currency()).map_err(|_| permanent(&format!("{what}: bad currency")))?;
    Ok(Money::new(m.amount(), currency))
}

/// The three packages' `Money` messages are alike; one reader for them.
trait MoneyParts {
    fn amount(&self) -> i64;
    fn currency(&self) -> &str;
}

macro_rules! money_parts {
    ($($t:ty),*) => {$(
        impl MoneyParts for $t {
            fn amount(&self) -> i64 { self.amount }
            fn currency(&self) -> &str { &self.currency }
        }
    )*};
}
money_parts!(catalog::Money, delivery::Money, payment::Money);

fn tool(t: &catalog::Tool) -> Result<Tool, HandlerError> {
    let daily = money(t.daily_price.as_ref(), "daily price")?;
    let deposit = money(t.deposit.as_ref(), "deposit")?;
    let optional = |m: Option<&catalog::Money>| m.map(|m| m.amount);
    Ok(Tool {
        id: id(&t.tool_id)?,
        community_id: id(&t.community_id)?,
        name: t.name.clone(),
        currency: daily.currency(),
        daily_price: daily.amount(),
        weekly_price: optional(t.weekly_price.as_ref()),
        monthly_price: optional(t.monthly_price.as_ref()),
        deposit: deposit.amount(),
        min_rental_days: t.min_rental_days.max(1),
        max_rental_days: t.max_rental_days.max(t.min_rental_days.max(1)),
        active: t.active,
        image_url: Some(t.main_image_url.clone()).filter(|u| !u.is_empty()),
    })
}

impl EventHandler for Handler {
    async fn handle(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
    ) -> Result<(), HandlerError> {
        let state = &self.state;
        let rid = event.request_id();
        let rid = Some(&rid);
        let (order, reply) = match event.event_type() {
            t if t == catalog::ToolCreated::TYPE => {
                let e: catalog::ToolCreated = event.decode()?;
                let t = e.tool.ok_or_else(|| permanent("tool missing"))?;
                tools::upsert(conn, &tool(&t)?).await?;
                return Ok(());
            }
            t if t == catalog::ToolUpdated::TYPE => {
                let e: catalog::ToolUpdated = event.decode()?;
                let t = e.tool.ok_or_else(|| permanent("tool missing"))?;
                tools::upsert(conn, &tool(&t)?).await?;
                return Ok(());
            }
            t if t == catalog::ToolDeleted::TYPE => {
                let e: catalog::ToolDeleted = event.decode()?;
                tools::deleted(conn, id(&e.tool_id)?).await?;
                return Ok(());
            }
            t if t == catalog::ReservationReserved::TYPE => {
                let e: catalog::ReservationReserved = event.decode()?;
                let items = e
                    .items
                    .iter()
                    .map(|i| {
                        Ok((
                            id(&i.order_item_id)?,
                            i.item_ids.iter().map(|x| id(x)).collect::<Result<Vec<_>, _>>()?,
                        ))
                    })
                    .collect::<Result<Vec<_>, HandlerError>>()?;
                (e.order_id, Reply::Reserved { items })
            }
            t if t == catalog::ReservationRejected::TYPE => {
                let e: catalog::ReservationRejected = event.decode()?;
                (e.order_id, Reply::Rejected { reason: e.reason, detail: e.detail })
            }
            t if t == catalog::ReservationReleased::TYPE => {
                let e: catalog::ReservationReleased = event.decode()?;
                (e.order_id, Reply::Released { reason: e.reason })
            }
            t if t == catalog::ReservationConfirmed::TYPE => {
                let e: catalog::ReservationConfirmed = event.decode()?;
                (e.order_id, Reply::Confirmed)
            }
            t if t == delivery::SlotHeld::TYPE => {
                let e: delivery::SlotHeld = event.decode()?;
                let fee = money(e.fee.as_ref(), "fee")?;
                (e.order_id, Reply::SlotHeld { fee })
            }
            t if t == delivery::SlotRejected::TYPE => {
                let e: delivery::SlotRejected = event.decode()?;
                (e.order_id, Reply::SlotRejected { reason: e.reason, detail: e.detail })
            }
            t if t == delivery::SlotReleased::TYPE => {
                let e: delivery::SlotReleased = event.decode()?;
                (e.order_id, Reply::SlotReleased)
            }
            t if t == payment::PaymentAuthorized::TYPE => {
                let e: payment::PaymentAuthorized = event.decode()?;
                let amount = money(e.amount.as_ref(), "amount")?;
                let deposit = money(e.deposit.as_ref(), "deposit")?;
                (
                    e.order_id,
                    Reply::Authorized {
                        payment_id: e.payment_id,
                        amount,
                        deposit,
                    },
                )
            }
            t if t == payment::PaymentFailed::TYPE => {
                let e: payment::PaymentFailed = event.decode()?;
                (e.order_id, Reply::PaymentFailed { reason: e.reason, detail: e.detail })
            }
            // Other events on these topics (extensions, stock) are not the saga's.
            _ => return Ok(()),
        };
        saga::on_reply(conn, state, id(&order)?, reply, rid).await?;
        Ok(())
    }
}
