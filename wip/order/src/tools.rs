//! The order service's view of the catalog's tools: a projection of catalog.tool.v1 (each
//! event carries the tool's whole picture), so carts price lines without reading the
//! catalog's database and keep working while the catalog is down.

use crate::error::Result;
use crate::schema::tools as t;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::money::{Currency, Money};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = t, check_for_backend(diesel::pg::Pg))]
pub struct Tool {
    pub id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub currency: Currency,
    pub daily_price: i64,
    pub weekly_price: Option<i64>,
    pub monthly_price: Option<i64>,
    pub deposit: i64,
    pub min_rental_days: i32,
    pub max_rental_days: i32,
    pub active: bool,
    pub image_url: Option<String>,
}

impl Tool {
    /// The rates for `rental::quote`, the one price function the catalog also uses.
    pub fn rates(&self) -> rental::Rates {
        let money = |amount| Money::new(amount, self.currency);
        rental::Rates {
            daily: money(self.daily_price),
            weekly: self.weekly_price.map(money),
            monthly: self.monthly_price.map(money),
            deposit: money(self.deposit),
            min_days: i64::from(self.min_rental_days),
            max_days: i64::from(self.max_rental_days),
        }
    }
}

/// The tool as the last event said (created or updated).
pub async fn upsert(conn: &mut AsyncPgConnection, tool: &Tool) -> Result<()> {
    diesel::insert_into(t::table)
        .values(tool)
        .on_conflict(t::id)
        .do_update()
        .set((tool, t::updated_at.eq(Utc::now())))
        .execute(conn)
        .await?;
    Ok(())
}

/// A deleted tool stays known (orders name it) but can no longer be added or ordered.
pub async fn deleted(conn: &mut AsyncPgConnection, id: Uuid) -> Result<()> {
    diesel::update(t::table.find(id))
        .set((t::active.eq(false), t::updated_at.eq(Utc::now())))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Tool>> {
    Ok(t::table
        .find(id)
        .select(Tool::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Tool>> {
    Ok(t::table
        .filter(t::id.eq_any(ids))
        .select(Tool::as_select())
        .load(conn)
        .await?)
}
