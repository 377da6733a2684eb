//! The in-app inbox: stored here, read through the API. One row per source event and
//! person, so a redelivered event adds nothing.

use crate::error::{Error, Result};
use crate::schema::notifications as n;
use crate::templates::Content;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::http::pagination::{Page, Paginated};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = n)]
#[serde(rename_all = "camelCase")]
pub struct InboxItem {
    pub id: Uuid,
    /// The notification type, like `member_joined`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Ids the client can link to (community, announcement...).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn store(
    conn: &mut AsyncPgConnection,
    source: Uuid,
    user: Uuid,
    kind: &str,
    content: &Content,
    data: &serde_json::Value,
) -> Result<bool> {
    let n = diesel::insert_into(n::table)
        .values((
            n::id.eq(Uuid::now_v7()),
            n::user_id.eq(user),
            n::source_id.eq(source),
            n::kind.eq(kind),
            n::title.eq(content.title.clone().unwrap_or_default()),
            n::body.eq(&content.text),
            n::data.eq(data),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    unread_only: bool,
    page: Page,
) -> Result<Paginated<InboxItem>> {
    let mine = || {
        let mut q = n::table.filter(n::user_id.eq(user)).into_boxed();
        if unread_only {
            q = q.filter(n::read_at.is_null());
        }
        q
    };
    let total: i64 = mine().count().get_result(conn).await?;
    let items = mine()
        .order((n::created_at.desc(), n::id.desc()))
        .limit(page.limit())
        .offset(page.offset())
        .select(InboxItem::as_select())
        .load(conn)
        .await?;
    Ok(Paginated::new(
        items,
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

pub async fn unread_count(conn: &mut AsyncPgConnection, user: Uuid) -> Result<i64> {
    Ok(n::table
        .filter(n::user_id.eq(user))
        .filter(n::read_at.is_null())
        .count()
        .get_result(conn)
        .await?)
}

/// Marks one of the caller's notifications read (again: no change). Another user's is a 404.
pub async fn mark_read(conn: &mut AsyncPgConnection, user: Uuid, id: Uuid) -> Result<InboxItem> {
    diesel::update(n::table.find(id).filter(n::user_id.eq(user)))
        .set(n::read_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("coalesce(read_at, now())")))
        .returning(InboxItem::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("notification"))
}

pub async fn mark_all_read(conn: &mut AsyncPgConnection, user: Uuid) -> Result<usize> {
    Ok(diesel::update(
        n::table
            .filter(n::user_id.eq(user))
            .filter(n::read_at.is_null()),
    )
    .set(n::read_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, user: Uuid, id: Uuid) -> Result<()> {
    let n = diesel::delete(n::table.find(id).filter(n::user_id.eq(user)))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound("notification"));
    }
    Ok(())
}
