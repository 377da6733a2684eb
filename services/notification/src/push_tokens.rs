//! Devices that receive push messages. A token belongs to whoever registered it last (a
//! phone changing hands); another user's token id is a 404.

use crate::error::{Error, Result};
use crate::schema::push_tokens as pt;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = pt)]
#[serde(rename_all = "camelCase")]
pub struct PushToken {
    pub id: Uuid,
    pub platform: String,
    /// The last characters only.
    pub token: String,
    pub created_at: DateTime<Utc>,
}

fn masked(mut t: PushToken) -> PushToken {
    t.token = crate::channels::mask(&t.token);
    t
}

pub async fn register(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    platform: &str,
    token: &str,
) -> Result<PushToken> {
    let row: PushToken = diesel::insert_into(pt::table)
        .values((
            pt::id.eq(Uuid::now_v7()),
            pt::user_id.eq(user),
            pt::platform.eq(platform),
            pt::token.eq(token),
        ))
        .on_conflict(pt::token)
        .do_update()
        .set((
            pt::user_id.eq(excluded(pt::user_id)),
            pt::platform.eq(excluded(pt::platform)),
        ))
        .returning(PushToken::as_returning())
        .get_result(conn)
        .await?;
    Ok(masked(row))
}

pub async fn list(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Vec<PushToken>> {
    let rows: Vec<PushToken> = pt::table
        .filter(pt::user_id.eq(user))
        .order(pt::created_at.desc())
        .select(PushToken::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(masked).collect())
}

pub async fn remove(conn: &mut AsyncPgConnection, user: Uuid, id: Uuid) -> Result<()> {
    let n = diesel::delete(pt::table.find(id).filter(pt::user_id.eq(user)))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound("push token"));
    }
    Ok(())
}
