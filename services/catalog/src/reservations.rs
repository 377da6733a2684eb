//! Bookings of physical items over dates: the catalog's part in the order saga.
//!
//! A reservation row is one item for one order line over `period = [start, end)`;
//! `blocked` is the period plus the tool's buffer days, and the table's exclusion
//! constraint refuses two live rows of one item whose `blocked` ranges overlap. So with a
//! buffer of `b` days, the next rental of an item can start `b` days after the last one
//! ends: `[1, 5)` then `[5, 9)` is fine without a buffer, and needs `[6, 10)` with one day.
//!
//! Holds are taken with the order's tools locked (in id order, so two orders cannot
//! deadlock), so they queue per tool instead of racing into the constraint; the constraint
//! is what makes a double booking impossible even so. An order's holds are all or nothing.
//! Every function here runs in the consumer's transaction, with the inbox row, so a
//! redelivered event changes nothing twice.

use crate::error::{Error, Result};
use crate::schema::{extensions as x, items as i, reservations as r, tools as t};
use crate::state::State;
use crate::tools::Tool;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::catalog::v1 as ev;
use platform::db::DbError;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use std::collections::BTreeSet;
use std::ops::Bound;
use uuid::Uuid;

platform::text_enum! {
    /// Where a booking stands. `hold` and `confirmed` occupy the item.
    pub enum Status {
        /// Taken for an order not paid yet; lapses at `expires_at`.
        Hold = "hold",
        /// The order is paid.
        Confirmed = "confirmed",
        /// Given back (the order was cancelled, or the hold lapsed).
        Released = "released",
        /// The rental happened and the item came back.
        Returned = "returned",
    }
}

/// A `DATERANGE` column as diesel reads and writes it.
pub type DateRange = (Bound<NaiveDate>, Bound<NaiveDate>);

/// The `[start, end)` of a stored range (PostgreSQL keeps date ranges in that form).
pub fn bounds((lo, hi): DateRange) -> Option<(NaiveDate, NaiveDate)> {
    let start = match lo {
        Bound::Included(d) => d,
        Bound::Excluded(d) => d.succ_opt()?,
        Bound::Unbounded => return None,
    };
    let end = match hi {
        Bound::Excluded(d) => d,
        Bound::Included(d) => d.succ_opt()?,
        Bound::Unbounded => return None,
    };
    Some((start, end))
}

/// The end of what a booking blocks: its end plus the buffer days; `None` past the last
/// date chrono knows (an event from far in the future must be refused, not panic).
fn plus_buffer(end: NaiveDate, buffer_days: i32) -> Option<NaiveDate> {
    end.checked_add_days(chrono::Days::new(u64::try_from(buffer_days).unwrap_or(0)))
}

fn range(start: NaiveDate, end: NaiveDate) -> DateRange {
    (Bound::Included(start), Bound::Excluded(end))
}

/// One line of an order, as `order.placed` gives it.
#[derive(Debug, Clone)]
pub struct Line {
    pub order_item_id: Uuid,
    pub tool_id: Uuid,
    pub quantity: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Why an order's holds were refused: a stable code and the lines concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub tool_ids: Vec<Uuid>,
    pub detail: String,
}

/// What a hold request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Reserved {
        items: Vec<(Uuid, Vec<Uuid>)>,
        expires_at: DateTime<Utc>,
    },
    Rejected(Refusal),
    /// The order already holds items: a redelivery that slipped past the inbox.
    Already,
}

fn refuse(reason: &'static str, tool: Uuid, detail: String) -> Held {
    Held::Rejected(Refusal {
        reason,
        tool_ids: vec![tool],
        detail,
    })
}

/// Holds one item per unit of every line, or nothing; emits the answer.
pub async fn hold_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: Uuid,
    community: Uuid,
    lines: &[Line],
    rid: Option<&RequestId>,
) -> Result<Held> {
    let held = choose(conn, state, order, community, lines).await?;
    match &held {
        Held::Reserved { items, expires_at } => {
            let event = ev::ReservationReserved {
                order_id: order.to_string(),
                items: lines
                    .iter()
                    .zip(items)
                    .map(|(line, (_, chosen))| ev::HeldItem {
                        order_item_id: line.order_item_id.to_string(),
                        tool_id: line.tool_id.to_string(),
                        item_ids: chosen.iter().map(Uuid::to_string).collect(),
                        start_date: line.start.to_string(),
                        end_date: line.end.to_string(),
                    })
                    .collect(),
                expires_at: Some(events::timestamp(*expires_at)),
            };
            state.emit(conn, order, &event, rid).await?;
            // A hold from today may take the last free item: out of stock, so that its
            // release can tell the favourites it is back.
            for tool in lines.iter().map(|l| l.tool_id).collect::<BTreeSet<_>>() {
                crate::stock::check_in(conn, state, tool).await?;
            }
            metrics::counter!("catalog_holds_total", "outcome" => "reserved").increment(1);
        }
        Held::Rejected(refusal) => {
            let event = ev::ReservationRejected {
                order_id: order.to_string(),
                reason: refusal.reason.to_owned(),
                tool_ids: refusal.tool_ids.iter().map(Uuid::to_string).collect(),
                detail: refusal.detail.clone(),
            };
            state.emit(conn, order, &event, rid).await?;
            metrics::counter!("catalog_holds_total", "outcome" => refusal.reason).increment(1);
        }
        Held::Already => {}
    }
    Ok(held)
}

async fn choose(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: Uuid,
    community: Uuid,
    lines: &[Line],
) -> Result<Held> {
    let existing: i64 = r::table
        .filter(r::order_id.eq(order))
        .count()
        .get_result(conn)
        .await?;
    if existing > 0 {
        return Ok(Held::Already);
    }
    if lines.is_empty() {
        return Ok(Held::Rejected(Refusal {
            reason: "empty_order",
            tool_ids: vec![],
            detail: "the order has no lines".into(),
        }));
    }
    // Lock the tools in id order: holds on one tool queue here, and two orders sharing
    // tools take the locks in the same order, so they cannot deadlock.
    let ids: BTreeSet<Uuid> = lines.iter().map(|l| l.tool_id).collect();
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let tools: Vec<Tool> = t::table
        .filter(t::id.eq_any(&ids))
        .order(t::id.asc())
        .select(Tool::as_select())
        .for_update()
        .load(conn)
        .await?;
    let mut taken: Vec<Uuid> = Vec::new();
    let mut chosen: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
    for line in lines {
        let Some(tool) = tools.iter().find(|t| t.id == line.tool_id) else {
            return Ok(refuse(
                "tool_not_found",
                line.tool_id,
                "no such tool".into(),
            ));
        };
        if tool.deleted_at.is_some() || !tool.active {
            return Ok(refuse(
                "tool_inactive",
                tool.id,
                format!("{} is not offered", tool.name),
            ));
        }
        if tool.community_id != community {
            return Ok(refuse(
                "wrong_community",
                tool.id,
                "the tool belongs to another community's library".into(),
            ));
        }
        if let Err(e) = rental::quote(&tool.rates(), line.start, line.end, line.quantity) {
            return Ok(refuse(e.code(), tool.id, e.to_string()));
        }
        let blocked_end = match plus_buffer(line.end, tool.buffer_days) {
            Some(end) => end,
            None => {
                return Ok(refuse(
                    "rental_length",
                    tool.id,
                    "the period ends too far ahead".into(),
                ));
            }
        };
        let free: Vec<Uuid> = i::table
            .filter(i::tool_id.eq(tool.id))
            .filter(i::status.eq_any([
                crate::items::Status::Available,
                crate::items::Status::Rented,
            ]))
            .filter(diesel::dsl::not(i::id.eq_any(&taken)))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                r::table
                    .filter(r::item_id.eq(i::id))
                    .filter(r::status.eq_any([Status::Hold, Status::Confirmed]))
                    .filter(r::blocked.overlaps_with(range(line.start, blocked_end))),
            )))
            .order(i::id.asc())
            .limit(line.quantity)
            .select(i::id)
            .load(conn)
            .await?;
        if i64::try_from(free.len()).unwrap_or(0) < line.quantity {
            return Ok(refuse(
                "unavailable",
                tool.id,
                format!(
                    "{} of {} wanted are free from {} to {}",
                    free.len(),
                    line.quantity,
                    line.start,
                    line.end
                ),
            ));
        }
        taken.extend(&free);
        chosen.push((line.order_item_id, free));
    }
    let expires_at =
        Utc::now() + chrono::Duration::from_std(state.hold_ttl).map_err(anyhow::Error::from)?;
    for (line, (_, items)) in lines.iter().zip(&chosen) {
        let buffer = tools
            .iter()
            .find(|t| t.id == line.tool_id)
            .map_or(0, |t| t.buffer_days);
        // Checked when the items were chosen above.
        let blocked_end = plus_buffer(line.end, buffer).unwrap_or(line.end);
        let rows: Vec<_> = items
            .iter()
            .map(|item| {
                (
                    r::id.eq(Uuid::now_v7()),
                    r::item_id.eq(*item),
                    r::tool_id.eq(line.tool_id),
                    r::order_id.eq(order),
                    r::order_item_id.eq(line.order_item_id),
                    r::period.eq(range(line.start, line.end)),
                    r::blocked.eq(range(line.start, blocked_end)),
                    r::status.eq(Status::Hold),
                    r::expires_at.eq(Some(expires_at)),
                )
            })
            .collect();
        diesel::insert_into(r::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(Held::Reserved {
        items: chosen,
        expires_at,
    })
}

/// The order is paid: its holds become bookings. A hold that lapsed meanwhile is taken
/// again if its item is still free; if not, the answer is a rejection (`hold_expired`),
/// which the saga compensates (the payment is refunded).
pub async fn confirm_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: Uuid,
    rid: Option<&RequestId>,
) -> Result<()> {
    let live: i64 = r::table
        .filter(r::order_id.eq(order))
        .filter(r::status.eq(Status::Hold))
        .count()
        .get_result(conn)
        .await?;
    let lapsed: i64 = r::table
        .filter(r::order_id.eq(order))
        .filter(r::status.eq(Status::Released))
        .filter(r::release_reason.eq("expired"))
        .count()
        .get_result(conn)
        .await?;
    if live == 0 && lapsed == 0 {
        // Nothing held for the order (confirmed already, or never reserved): nothing to do.
        return Ok(());
    }
    // A savepoint: a lapsed item taken by someone else meanwhile hits the constraint, and
    // only this step is undone.
    let retaken = conn
        .transaction::<_, DbError, _>(|conn| {
            async move {
                diesel::update(
                    r::table.filter(r::order_id.eq(order)).filter(
                        r::status.eq(Status::Hold).or(r::status
                            .eq(Status::Released)
                            .and(r::release_reason.eq("expired"))),
                    ),
                )
                .set((
                    r::status.eq(Status::Confirmed),
                    r::expires_at.eq(None::<DateTime<Utc>>),
                    r::updated_at.eq(Utc::now()),
                ))
                .execute(conn)
                .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    match retaken {
        Ok(()) => {
            state
                .emit(
                    conn,
                    order,
                    &ev::ReservationConfirmed {
                        order_id: order.to_string(),
                    },
                    rid,
                )
                .await?;
            if lapsed > 0 {
                // Items taken again may be today's last free ones.
                let tools: Vec<Uuid> = r::table
                    .filter(r::order_id.eq(order))
                    .select(r::tool_id)
                    .distinct()
                    .load(conn)
                    .await?;
                for tool in tools {
                    crate::stock::check_in(conn, state, tool).await?;
                }
            }
        }
        Err(DbError::ExclusionViolation(_)) => {
            state
                .emit(
                    conn,
                    order,
                    &ev::ReservationRejected {
                        order_id: order.to_string(),
                        reason: "hold_expired".into(),
                        tool_ids: vec![],
                        detail: "the hold lapsed before payment and the items were booked by someone else".into(),
                    },
                    rid,
                )
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Gives back everything the order holds or booked (cancelled, or its deadline passed).
pub async fn release_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: Uuid,
    reason: &str,
    rid: Option<&RequestId>,
) -> Result<()> {
    let tools: Vec<Uuid> = diesel::update(
        r::table
            .filter(r::order_id.eq(order))
            .filter(r::status.eq_any([Status::Hold, Status::Confirmed])),
    )
    .set((
        r::status.eq(Status::Released),
        r::release_reason.eq(reason),
        r::updated_at.eq(Utc::now()),
    ))
    .returning(r::tool_id)
    .get_results(conn)
    .await?;
    if tools.is_empty() {
        return Ok(());
    }
    state
        .emit(
            conn,
            order,
            &ev::ReservationReleased {
                order_id: order.to_string(),
                reason: reason.to_owned(),
            },
            rid,
        )
        .await?;
    for tool in tools.into_iter().collect::<BTreeSet<_>>() {
        crate::stock::check_in(conn, state, tool).await?;
    }
    Ok(())
}

/// The items are back: the bookings end, and the items go to inspection (maintenance)
/// until the library marks them available again.
pub async fn returned_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: Uuid,
    rid: Option<&RequestId>,
) -> Result<()> {
    let items: Vec<(Uuid, Uuid)> = diesel::update(
        r::table
            .filter(r::order_id.eq(order))
            .filter(r::status.eq(Status::Confirmed)),
    )
    .set((r::status.eq(Status::Returned), r::updated_at.eq(Utc::now())))
    .returning((r::item_id, r::tool_id))
    .get_results(conn)
    .await?;
    if items.is_empty() {
        return Ok(());
    }
    let item_ids: Vec<Uuid> = items.iter().map(|(item, _)| *item).collect();
    diesel::update(i::table.filter(i::id.eq_any(&item_ids)))
        .filter(i::status.ne(crate::items::Status::Retired))
        .set((
            i::status.eq(crate::items::Status::Maintenance),
            i::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    state
        .emit(
            conn,
            order,
            &ev::ReservationReleased {
                order_id: order.to_string(),
                reason: "returned".into(),
            },
            rid,
        )
        .await?;
    for tool in items.into_iter().map(|(_, t)| t).collect::<BTreeSet<_>>() {
        crate::stock::check_in(conn, state, tool).await?;
    }
    Ok(())
}

/// Extends every booking of the order to `new_end`, or none; answers either way, once
/// per extension id.
pub async fn extend_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    order: Uuid,
    extension: Uuid,
    new_end: NaiveDate,
    rid: Option<&RequestId>,
) -> Result<bool> {
    if let Some(accepted) = x::table
        .find(extension)
        .select(x::accepted)
        .first::<bool>(conn)
        .await
        .optional()?
    {
        return Ok(accepted);
    }
    let outcome = try_extend(conn, order, new_end).await?;
    let accepted = outcome.is_ok();
    diesel::insert_into(x::table)
        .values((
            x::id.eq(extension),
            x::order_id.eq(order),
            x::new_end.eq(new_end),
            x::accepted.eq(accepted),
        ))
        .execute(conn)
        .await?;
    match outcome {
        Ok(()) => {
            state
                .emit(
                    conn,
                    order,
                    &ev::ReservationExtended {
                        order_id: order.to_string(),
                        extension_id: extension.to_string(),
                        new_end_date: new_end.to_string(),
                    },
                    rid,
                )
                .await?
        }
        Err(reason) => {
            state
                .emit(
                    conn,
                    order,
                    &ev::ReservationExtensionRejected {
                        order_id: order.to_string(),
                        extension_id: extension.to_string(),
                        reason: reason.to_owned(),
                    },
                    rid,
                )
                .await?
        }
    }
    Ok(accepted)
}

/// `Err(reason)` for a refusal the saga is told about; database trouble is the outer error.
async fn try_extend(
    conn: &mut AsyncPgConnection,
    order: Uuid,
    new_end: NaiveDate,
) -> Result<std::result::Result<(), &'static str>> {
    let rows: Vec<(Uuid, Uuid, DateRange)> = r::table
        .filter(r::order_id.eq(order))
        .filter(r::status.eq(Status::Confirmed))
        .select((r::id, r::tool_id, r::period))
        .load(conn)
        .await?;
    if rows.is_empty() {
        return Ok(Err("not_booked"));
    }
    let tool_ids: Vec<Uuid> = rows.iter().map(|(_, tool, _)| *tool).collect();
    let tools: Vec<Tool> = t::table
        .filter(t::id.eq_any(&tool_ids))
        .order(t::id.asc())
        .select(Tool::as_select())
        .for_update()
        .load(conn)
        .await?;
    let mut updates = Vec::new();
    for (id, tool_id, period) in &rows {
        let Some((start, end)) = bounds(*period) else {
            return Ok(Err("not_booked"));
        };
        if new_end <= end {
            return Ok(Err("not_later"));
        }
        let Some(tool) = tools.iter().find(|t| t.id == *tool_id) else {
            return Ok(Err("tool_not_found"));
        };
        if rental::days(start, new_end) > i64::from(tool.max_rental_days) {
            return Ok(Err("rental_length"));
        }
        let Some(blocked_end) = plus_buffer(new_end, tool.buffer_days) else {
            return Ok(Err("rental_length"));
        };
        updates.push((*id, start, blocked_end));
    }
    let result = conn
        .transaction::<_, DbError, _>(|conn| {
            async move {
                for (id, start, blocked_end) in &updates {
                    diesel::update(r::table.find(*id))
                        .set((
                            r::period.eq(range(*start, new_end)),
                            r::blocked.eq(range(*start, *blocked_end)),
                            r::updated_at.eq(Utc::now()),
                        ))
                        .execute(conn)
                        .await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    match result {
        Ok(()) => Ok(Ok(())),
        Err(DbError::ExclusionViolation(_)) => Ok(Err("unavailable")),
        Err(e) => Err(e.into()),
    }
}

/// Releases holds whose time is up; each replica claims its own with SKIP LOCKED.
pub async fn sweep(state: &State) -> Result<usize> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let due: Vec<(Uuid, Uuid)> = r::table
                .filter(r::status.eq(Status::Hold))
                .filter(r::expires_at.lt(Utc::now()))
                .select((r::id, r::order_id))
                .limit(500)
                .for_update()
                .skip_locked()
                .load(conn)
                .await?;
            let orders: BTreeSet<Uuid> = due.iter().map(|(_, o)| *o).collect();
            for order in &orders {
                release_in(conn, state, *order, "expired", None).await?;
            }
            Ok(orders.len())
        }
        .scope_boxed()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_past_the_last_date_is_none_not_a_panic() {
        let last = NaiveDate::MAX;
        assert_eq!(plus_buffer(last, 1), None);
        assert_eq!(plus_buffer(last, 0), Some(last));
        let d = NaiveDate::from_ymd_opt(2027, 1, 30).unwrap();
        assert_eq!(plus_buffer(d, 3), NaiveDate::from_ymd_opt(2027, 2, 2));
    }
}
