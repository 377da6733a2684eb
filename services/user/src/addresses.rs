//! Delivery addresses: any number per user, at most one default. Switching the default
//! locks the owner's profile row first, so concurrent switches run one after another and
//! the partial unique index is never the one to say no.

use crate::error::{Error, Result};
use crate::profiles::ProfileStatus;
use crate::schema::{addresses, profiles};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_PER_USER: i64 = 20;

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = addresses)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub id: Uuid,
    pub name: String,
    pub city: String,
    pub street: String,
    pub building: String,
    pub apartment: Option<String>,
    pub entrance: Option<String>,
    pub floor: Option<String>,
    pub intercom: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a client sets; `None` leaves a field alone on update.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = addresses)]
pub struct Fields {
    pub name: Option<String>,
    pub city: Option<String>,
    pub street: Option<String>,
    pub building: Option<String>,
    pub apartment: Option<Option<String>>,
    pub entrance: Option<Option<String>>,
    pub floor: Option<Option<String>>,
    pub intercom: Option<Option<String>>,
    pub latitude: Option<Option<f64>>,
    pub longitude: Option<Option<f64>>,
}

/// Serialises address changes of one user (and proves the profile exists).
async fn lock_owner(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<()> {
    profiles::table
        .find(user_id)
        .filter(profiles::status.ne(ProfileStatus::Deleted))
        .select(profiles::user_id)
        .for_update()
        .first::<Uuid>(conn)
        .await
        .optional()?
        .ok_or(Error::ProfileNotReady)?;
    Ok(())
}

pub async fn list(state: &State, user_id: Uuid) -> Result<Vec<Address>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(addresses::table
        .filter(addresses::user_id.eq(user_id))
        .order((addresses::is_default.desc(), addresses::created_at.asc()))
        .select(Address::as_select())
        .load(&mut conn)
        .await?)
}

async fn one(conn: &mut AsyncPgConnection, user_id: Uuid, id: Uuid) -> Result<Address> {
    addresses::table
        .find(id)
        .filter(addresses::user_id.eq(user_id))
        .select(Address::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("address"))
}

pub async fn get(state: &State, user_id: Uuid, id: Uuid) -> Result<Address> {
    let mut conn = platform::db::conn(&state.pool).await?;
    one(&mut conn, user_id, id).await
}

/// Adds an address; the first one, or one asked to be, becomes the default.
pub async fn create(
    state: &State,
    user_id: Uuid,
    f: Fields,
    make_default: bool,
) -> Result<Address> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            lock_owner(conn, user_id).await?;
            let count: i64 = addresses::table
                .filter(addresses::user_id.eq(user_id))
                .count()
                .get_result(conn)
                .await?;
            if count >= MAX_PER_USER {
                return Err(Error::Rule(format!("at most {MAX_PER_USER} addresses")));
            }
            let is_default = make_default || count == 0;
            if is_default {
                clear_default(conn, user_id).await?;
            }
            let id = Uuid::now_v7();
            diesel::insert_into(addresses::table)
                .values((
                    addresses::id.eq(id),
                    addresses::user_id.eq(user_id),
                    addresses::name.eq(f.name.unwrap_or_default()),
                    addresses::city.eq(f.city.unwrap_or_default()),
                    addresses::street.eq(f.street.unwrap_or_default()),
                    addresses::building.eq(f.building.unwrap_or_default()),
                    addresses::apartment.eq(f.apartment.flatten()),
                    addresses::entrance.eq(f.entrance.flatten()),
                    addresses::floor.eq(f.floor.flatten()),
                    addresses::intercom.eq(f.intercom.flatten()),
                    addresses::latitude.eq(f.latitude.flatten()),
                    addresses::longitude.eq(f.longitude.flatten()),
                    addresses::is_default.eq(is_default),
                ))
                .execute(conn)
                .await?;
            one(conn, user_id, id).await
        }
        .scope_boxed()
    })
    .await
}

async fn clear_default(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<()> {
    diesel::update(
        addresses::table
            .filter(addresses::user_id.eq(user_id))
            .filter(addresses::is_default),
    )
    .set(addresses::is_default.eq(false))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(state: &State, user_id: Uuid, id: Uuid, f: Fields) -> Result<Address> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let n = diesel::update(
        addresses::table
            .find(id)
            .filter(addresses::user_id.eq(user_id)),
    )
    .set((&f, addresses::updated_at.eq(diesel::dsl::now)))
    .execute(&mut conn)
    .await?;
    if n == 0 {
        return Err(Error::NotFound("address"));
    }
    one(&mut conn, user_id, id).await
}

/// Makes `id` the default and every other address of the user not.
pub async fn set_default(state: &State, user_id: Uuid, id: Uuid) -> Result<Address> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            lock_owner(conn, user_id).await?;
            one(conn, user_id, id).await?;
            clear_default(conn, user_id).await?;
            diesel::update(addresses::table.find(id))
                .set((
                    addresses::is_default.eq(true),
                    addresses::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            one(conn, user_id, id).await
        }
        .scope_boxed()
    })
    .await
}

/// Deletes an address; when it was the default, the oldest remaining one takes over.
pub async fn delete(state: &State, user_id: Uuid, id: Uuid) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            lock_owner(conn, user_id).await?;
            let gone = one(conn, user_id, id).await?;
            diesel::delete(addresses::table.find(id))
                .execute(conn)
                .await?;
            if gone.is_default {
                let next: Option<Uuid> = addresses::table
                    .filter(addresses::user_id.eq(user_id))
                    .order(addresses::created_at.asc())
                    .select(addresses::id)
                    .first(conn)
                    .await
                    .optional()?;
                if let Some(next) = next {
                    diesel::update(addresses::table.find(next))
                        .set(addresses::is_default.eq(true))
                        .execute(conn)
                        .await?;
                }
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}
