//! Devices a person signs in from: the first sign-in from one is announced (new sign-in
//! alert), the owner can trust or block each, and a blocked one cannot sign in.

use crate::error::{Error, Result};
use crate::schema::devices;
use crate::sessions::{self, Scope};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a sign-in comes from.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// The client's own device id, or a fingerprint of the user agent when it sends none.
    pub device_key: String,
    pub name: Option<String>,
    pub user_agent: Option<String>,
    pub ip: IpAddr,
}

impl DeviceInfo {
    pub fn new(
        device_id: Option<String>,
        name: Option<String>,
        user_agent: Option<String>,
        ip: IpAddr,
    ) -> Self {
        let device_key = device_id
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| {
                let digest = Sha256::digest(user_agent.as_deref().unwrap_or("").as_bytes());
                format!("ua:{}", hex::encode(&digest[..16]))
            });
        Self {
            device_key,
            name,
            user_agent,
            ip,
        }
    }
}

#[derive(QueryableByName)]
pub struct Upserted {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Bool)]
    pub blocked: bool,
    #[diesel(sql_type = Bool)]
    pub inserted: bool,
}

/// Records a sign-in from `device` and says whether it is blocked. A new device publishes
/// `DeviceRegistered` in the same transaction.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    device: &DeviceInfo,
    rid: &RequestId,
) -> Result<Upserted> {
    // `xmax = 0` tells an inserted row from an updated one in a single round trip.
    let row: Upserted = diesel::sql_query(
        "INSERT INTO devices (id, user_id, device_key, name, user_agent, last_ip) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, device_key) DO UPDATE SET \
           last_seen_at = now(), user_agent = EXCLUDED.user_agent, last_ip = EXCLUDED.last_ip, \
           name = COALESCE(EXCLUDED.name, devices.name) \
         RETURNING id, blocked_at IS NOT NULL AS blocked, (xmax = 0) AS inserted",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(&device.device_key)
    .bind::<Nullable<Text>, _>(&device.name)
    .bind::<Nullable<Text>, _>(&device.user_agent)
    .bind::<Nullable<Text>, _>(Some(device.ip.to_string()))
    .get_result(conn)
    .await?;
    if row.inserted {
        let event = ev::DeviceRegistered {
            device_id: row.id.to_string(),
            user_id: user_id.to_string(),
            name: device.name.clone().unwrap_or_default(),
            user_agent: device.user_agent.clone().unwrap_or_default(),
            ip: device.ip.to_string(),
        };
        state.emit(conn, user_id, &event, Some(rid)).await?;
    }
    Ok(row)
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = devices)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    pub id: Uuid,
    pub name: Option<String>,
    pub user_agent: Option<String>,
    pub last_ip: Option<String>,
    pub trusted_at: Option<DateTime<Utc>>,
    pub blocked_at: Option<DateTime<Utc>>,
    pub blocked_reason: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn list(state: &State, user_id: Uuid) -> Result<Vec<DeviceView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    Ok(devices::table
        .filter(devices::user_id.eq(user_id))
        .order(devices::last_seen_at.desc())
        .select(DeviceView::as_select())
        .load(&mut conn)
        .await?)
}

pub async fn trust(state: &State, user_id: Uuid, device_id: Uuid, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let n = diesel::update(
                devices::table
                    .find(device_id)
                    .filter(devices::user_id.eq(user_id))
                    .filter(devices::blocked_at.is_null()),
            )
            .set(devices::trusted_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
            if n == 0 {
                return Err(Error::NotFound("device"));
            }
            let event = ev::DeviceTrusted {
                device_id: device_id.to_string(),
                user_id: user_id.to_string(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Blocks a device and ends every session on it.
pub async fn block(
    state: &State,
    user_id: Uuid,
    device_id: Uuid,
    reason: &str,
    rid: &RequestId,
) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let revoked = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let n = diesel::update(
                    devices::table
                        .find(device_id)
                        .filter(devices::user_id.eq(user_id)),
                )
                .set((
                    devices::blocked_at.eq(diesel::dsl::now),
                    devices::blocked_reason.eq(reason),
                    devices::trusted_at.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)
                .await?;
                if n == 0 {
                    return Err(Error::NotFound("device"));
                }
                let event = ev::DeviceBlocked {
                    device_id: device_id.to_string(),
                    user_id: user_id.to_string(),
                    reason: reason.to_owned(),
                };
                state.emit(conn, user_id, &event, Some(rid)).await?;
                sessions::revoke(
                    conn,
                    state,
                    Scope::Device { user_id, device_id },
                    "device_blocked",
                    rid,
                )
                .await
            }
            .scope_boxed()
        })
        .await?;
    let ids: Vec<Uuid> = revoked.into_iter().map(|(sid, _)| sid).collect();
    sessions::deny(state, &ids).await;
    Ok(())
}

pub async fn unblock(state: &State, user_id: Uuid, device_id: Uuid) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let n = diesel::update(
        devices::table
            .find(device_id)
            .filter(devices::user_id.eq(user_id)),
    )
    .set((
        devices::blocked_at.eq(None::<DateTime<Utc>>),
        devices::blocked_reason.eq(None::<String>),
    ))
    .execute(&mut conn)
    .await?;
    if n == 0 {
        return Err(Error::NotFound("device"));
    }
    Ok(())
}
