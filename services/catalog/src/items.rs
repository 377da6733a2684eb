//! Inventory: one row per physical item of a tool (serial number, status, condition,
//! maintenance). Only `available` and `rented` items can be booked (`rented` is out now,
//! and bookable for later dates); an item in maintenance or retired takes no booking, and
//! an item with bookings ahead cannot be retired.

use crate::access::Viewer;
use crate::error::{Error, Result};
use crate::schema::items as i;
use crate::state::State;
use crate::tools::{self, Booking};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

platform::text_enum! {
    /// Where a physical item stands.
    pub enum Status {
        Available = "available",
        /// Out with a customer now; bookable for later dates.
        Rented = "rented",
        /// Being repaired or inspected (returned items come back here): not bookable.
        Maintenance = "maintenance",
        /// Out of the library for good.
        Retired = "retired",
    }
}

platform::text_enum! {
    pub enum Condition {
        New = "new",
        Good = "good",
        Fair = "fair",
        Worn = "worn",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = i)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub serial_number: Option<String>,
    pub status: Status,
    pub condition: Condition,
    pub last_maintenance: Option<NaiveDate>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewItem {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "BX-2231-07")]
    pub serial_number: Option<String>,
    pub condition: Option<Condition>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemPatch {
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub serial_number: Option<Option<String>>,
    pub status: Option<Status>,
    pub condition: Option<Condition>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<NaiveDate>)]
    pub last_maintenance: Option<Option<NaiveDate>>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

pub async fn insert_in(
    conn: &mut AsyncPgConnection,
    tool: Uuid,
    new: Option<&NewItem>,
) -> Result<Item> {
    diesel::insert_into(i::table)
        .values((
            i::id.eq(Uuid::now_v7()),
            i::tool_id.eq(tool),
            i::serial_number.eq(new.and_then(|n| n.serial_number.clone())),
            i::condition.eq(new.and_then(|n| n.condition).unwrap_or(Condition::Good)),
            i::notes.eq(new.map(|n| n.notes.clone()).unwrap_or_default()),
        ))
        .returning(Item::as_returning())
        .get_result(conn)
        .await
        .map_err(serial_taken)
}

fn serial_taken(e: diesel::result::Error) -> Error {
    match platform::db::DbError::from(e) {
        platform::db::DbError::UniqueViolation(_) => Error::field(
            "serialNumber",
            "another item of this tool has this serial number",
        ),
        other => Error::Db(other),
    }
}

async fn managed_tool(conn: &mut AsyncPgConnection, viewer: Viewer, tool: Uuid) -> Result<()> {
    let (_, standing) = tools::visible(conn, viewer, tool).await?;
    match standing {
        crate::access::Standing::Manage => Ok(()),
        // Members see the tool but not its inventory: the items are the library's business.
        _ => Err(Error::Forbidden(
            "only the community's manager, its moderators and admins manage its inventory",
        )),
    }
}

pub async fn list(state: &State, viewer: Viewer, tool: Uuid) -> Result<Vec<Item>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    managed_tool(&mut conn, viewer, tool).await?;
    Ok(i::table
        .filter(i::tool_id.eq(tool))
        .select(Item::as_select())
        .order(i::created_at.asc())
        .load(&mut conn)
        .await?)
}

pub async fn create(state: &State, viewer: Viewer, tool: Uuid, new: NewItem) -> Result<Item> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            managed_tool(conn, viewer, tool).await?;
            let item = insert_in(conn, tool, Some(&new)).await?;
            crate::stock::check_in(conn, state, tool).await?;
            Ok(item)
        }
        .scope_boxed()
    })
    .await
}

/// The answer to a change refused because of bookings ahead: the bookings themselves.
#[derive(Debug)]
pub enum Change {
    Done(Item),
    Blocked(Vec<Booking>),
}

pub async fn update(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    id: Uuid,
    patch: ItemPatch,
) -> Result<Change> {
    if patch
        .serial_number
        .as_ref()
        .and_then(|s| s.as_ref())
        .is_some_and(|s| s.is_empty() || s.chars().count() > 100)
    {
        return Err(Error::field("serialNumber", "1 to 100 characters"));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            managed_tool(conn, viewer, tool).await?;
            let mut item: Item = i::table
                .find(id)
                .filter(i::tool_id.eq(tool))
                .select(Item::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(Error::NotFound("item"))?;
            if let Some(status) = patch.status {
                if status == Status::Retired && item.status != Status::Retired {
                    let ahead = tools::future_bookings(conn, &[id]).await?;
                    if !ahead.is_empty() {
                        return Ok(Change::Blocked(ahead));
                    }
                }
                item.status = status;
            }
            if let Some(s) = patch.serial_number {
                item.serial_number = s;
            }
            if let Some(c) = patch.condition {
                item.condition = c;
            }
            if let Some(d) = patch.last_maintenance {
                item.last_maintenance = d;
            }
            if let Some(n) = patch.notes {
                item.notes = n;
            }
            let item: Item = diesel::update(i::table.find(id))
                .set((
                    i::serial_number.eq(&item.serial_number),
                    i::status.eq(item.status),
                    i::condition.eq(item.condition),
                    i::last_maintenance.eq(item.last_maintenance),
                    i::notes.eq(&item.notes),
                    i::updated_at.eq(Utc::now()),
                ))
                .returning(Item::as_returning())
                .get_result(conn)
                .await
                .map_err(serial_taken)?;
            crate::stock::check_in(conn, state, tool).await?;
            Ok(Change::Done(item))
        }
        .scope_boxed()
    })
    .await
}
