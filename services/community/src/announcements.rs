//! Announcements: the manager and moderators publish to their community, members read the
//! ones still current, pinned first.

use crate::access::{self, Caller};
use crate::communities::PersonRef;
use crate::error::{Error, Result};
use crate::people;
use crate::schema::announcements as a;
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use events::proto::community::v1 as ev;
use platform::http::RequestId;
use platform::http::pagination::{Page, Paginated};
use platform::kafka::outbox::Emits;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAnnouncement {
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    #[validate(length(min = 1, max = 10000))]
    pub body: String,
    /// Shown above the others.
    #[serde(default)]
    pub pinned: bool,
    /// No longer listed after this moment (must be in the future).
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = a)]
struct Announcement {
    id: Uuid,
    community_id: Uuid,
    author_id: Uuid,
    title: String,
    body: String,
    pinned: bool,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnnouncementView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub author: PersonRef,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn view(row: Announcement, author_name: Option<String>) -> AnnouncementView {
    AnnouncementView {
        id: row.id,
        community_id: row.community_id,
        author: PersonRef {
            id: row.author_id,
            name: author_name,
        },
        title: row.title,
        body: row.body,
        pinned: row.pinned,
        expires_at: row.expires_at,
        created_at: row.created_at,
    }
}

pub async fn publish(
    state: &State,
    id: Uuid,
    caller: Caller,
    input: NewAnnouncement,
    rid: &RequestId,
) -> Result<AnnouncementView> {
    let title = input.title.trim().to_owned();
    let body = input.body.trim().to_owned();
    if title.is_empty() {
        return Err(Error::field("title", "must not be blank"));
    }
    if body.is_empty() {
        return Err(Error::field("body", "must not be blank"));
    }
    if input.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(Error::field("expiresAt", "must be in the future"));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            access::standing(conn, id, caller, false)
                .await?
                .require_publisher()?;
            let row: Announcement = diesel::insert_into(a::table)
                .values((
                    a::id.eq(Uuid::now_v7()),
                    a::community_id.eq(id),
                    a::author_id.eq(caller.id),
                    a::title.eq(title),
                    a::body.eq(body),
                    a::pinned.eq(input.pinned),
                    a::expires_at.eq(input.expires_at),
                ))
                .returning(Announcement::as_returning())
                .get_result(conn)
                .await?;
            let event = ev::AnnouncementPublished {
                announcement_id: row.id.to_string(),
                community_id: id.to_string(),
                author_id: caller.id.to_string(),
                title: row.title.clone(),
                body: row.body.clone(),
                pinned: row.pinned,
                expires_at: row.expires_at.map(events::timestamp),
            };
            state.emit(conn, id, &event, Some(rid)).await?;
            let names = people::names(conn, &[caller.id]).await?;
            Ok(view(row, names.get(&caller.id).cloned()))
        }
        .scope_boxed()
    })
    .await
}

/// The current (not expired) announcements, pinned first, newest first.
pub async fn list(
    state: &State,
    id: Uuid,
    caller: Caller,
    page: Page,
) -> Result<Paginated<AnnouncementView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    access::standing(&mut conn, id, caller, false).await?;
    let current = || {
        a::table
            .filter(a::community_id.eq(id))
            .filter(
                a::expires_at
                    .is_null()
                    .or(a::expires_at.gt(diesel::dsl::now)),
            )
            .into_boxed()
    };
    let total: i64 = current().count().get_result(&mut conn).await?;
    let rows: Vec<Announcement> = current()
        .order((a::pinned.desc(), a::created_at.desc(), a::id))
        .limit(page.limit())
        .offset(page.offset())
        .select(Announcement::as_select())
        .load(&mut conn)
        .await?;
    let authors: Vec<Uuid> = rows.iter().map(|r| r.author_id).collect();
    let names = people::names(&mut conn, &authors).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let name = names.get(&r.author_id).cloned();
            view(r, name)
        })
        .collect();
    Ok(Paginated::new(
        items,
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

/// Removes an announcement: its author, the manager or an admin.
pub async fn delete(state: &State, id: Uuid, announcement: Uuid, caller: Caller) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let standing = access::standing(&mut conn, id, caller, false).await?;
    let author: Uuid = a::table
        .find(announcement)
        .filter(a::community_id.eq(id))
        .select(a::author_id)
        .first(&mut conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("announcement"))?;
    if author != caller.id {
        standing.require_manager()?;
    }
    diesel::delete(a::table.find(announcement))
        .execute(&mut conn)
        .await?;
    Ok(())
}
