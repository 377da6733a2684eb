//! Admin broadcasts: to everyone, a role, or a community's members. The request only
//! records the broadcast; a background task in every replica fans it out in batches of
//! 200 recipients, each batch in one transaction with the broadcast's cursor, so progress
//! is visible and a crash resumes where it stopped without repeating anyone.

use crate::catalogue::{self, Category, Channel};
use crate::error::{Error, Result};
use crate::notify::{self, Message, To};
use crate::recipients::Recipient;
use crate::schema::{broadcasts as b, community_members as cm, recipients as r};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const BATCH: i64 = 200;

platform::text_enum! {
    /// Who a broadcast is for (`broadcasts.audience`); `target` names the role or the
    /// community.
    pub enum Audience {
        All = "all",
        Role = "role",
        Community = "community",
    }
}

platform::text_enum! {
    /// How far a broadcast's fan-out got (`broadcasts.status`).
    pub enum BroadcastStatus {
        Queued = "queued",
        Running = "running",
        Done = "done",
    }
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = b)]
#[serde(rename_all = "camelCase")]
pub struct Broadcast {
    pub id: Uuid,
    pub audience: Audience,
    /// The role or the community id.
    pub target: Option<String>,
    pub title: String,
    pub body: String,
    #[diesel(deserialize_as = platform::db::TextList)]
    pub channels: Vec<String>,
    pub promotional: bool,
    pub status: BroadcastStatus,
    /// People a message was queued or stored for so far.
    pub recipients: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub struct NewBroadcast {
    pub audience: Audience,
    pub target: Option<String>,
    pub title: String,
    pub body: String,
    pub channels: Vec<Channel>,
    pub promotional: bool,
}

pub async fn create(state: &State, by: Uuid, new: NewBroadcast) -> Result<Broadcast> {
    if new.audience != Audience::All && new.target.as_deref().is_none_or(str::is_empty) {
        return Err(Error::field("target", "name the role or the community"));
    }
    if new.audience == Audience::Community
        && new
            .target
            .as_deref()
            .and_then(|t| t.parse::<Uuid>().ok())
            .is_none()
    {
        return Err(Error::field("target", "must be a community id"));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    let channels: Vec<String> = new.channels.iter().map(|c| c.as_str().to_owned()).collect();
    Ok(diesel::insert_into(b::table)
        .values((
            b::id.eq(Uuid::now_v7()),
            b::created_by.eq(by),
            b::audience.eq(new.audience),
            b::target.eq(new.target.filter(|_| new.audience != Audience::All)),
            b::title.eq(new.title),
            b::body.eq(new.body),
            b::channels.eq(channels),
            b::promotional.eq(new.promotional),
        ))
        .returning(Broadcast::as_returning())
        .get_result(&mut conn)
        .await?)
}

pub async fn get(state: &State, id: Uuid) -> Result<Broadcast> {
    let mut conn = platform::db::conn(&state.pool).await?;
    b::table
        .find(id)
        .select(Broadcast::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("broadcast"))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = b)]
struct Pending {
    id: Uuid,
    audience: Audience,
    target: Option<String>,
    title: String,
    body: String,
    #[diesel(deserialize_as = platform::db::TextList)]
    channels: Vec<String>,
    promotional: bool,
    cursor: Option<Uuid>,
}

/// Sends the next batch of one unfinished broadcast; returns the people it reached.
pub async fn advance(state: &State) -> Result<usize> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let Some(job): Option<Pending> = b::table
                .filter(b::status.ne(BroadcastStatus::Done))
                .order(b::created_at)
                .select(Pending::as_select())
                .for_update()
                .skip_locked()
                .first(conn)
                .await
                .optional()?
            else {
                return Ok(0);
            };
            let after = job.cursor.unwrap_or(Uuid::nil());
            let mut q = r::table
                .filter(r::deleted_at.is_null())
                .filter(r::user_id.gt(after))
                .into_boxed();
            match job.audience {
                Audience::Role => q = q.filter(r::roles.contains(vec![job.target.clone().unwrap_or_default()])),
                Audience::Community => {
                    let community = job.target.as_deref().and_then(|t| t.parse::<Uuid>().ok()).unwrap_or(Uuid::nil());
                    q = q.filter(
                        r::user_id.eq_any(cm::table.filter(cm::community_id.eq(community)).select(cm::user_id)),
                    );
                }
                Audience::All => {}
            }
            let people: Vec<Recipient> = q
                .order(r::user_id)
                .limit(BATCH)
                .select(Recipient::as_select())
                .load(conn)
                .await?;
            let channels: Vec<Channel> = job.channels.iter().filter_map(|c| Channel::parse(c)).collect();
            let category = if job.promotional { Category::Promotional } else { Category::Activity };
            let mut reached = 0i32;
            for person in &people {
                let message = Message {
                    source: job.id,
                    kind: &catalogue::BROADCAST,
                    category,
                    channels: &channels,
                    vars: serde_json::json!({ "name": person.greeting(), "title": job.title, "body": job.body }),
                    data: serde_json::json!({ "broadcastId": job.id }),
                    expires_at: None,
                };
                // Reached: at least one message queued or stored for them (preferences may
                // leave someone with none).
                if notify::send(conn, state, &message, To::User(person)).await? > 0 {
                    reached += 1;
                }
            }
            let finished = i64::try_from(people.len()).unwrap_or(0) < BATCH;
            diesel::update(b::table.find(job.id))
                .set((
                    b::cursor.eq(people.last().map(|p| p.user_id).or(job.cursor)),
                    b::recipients.eq(b::recipients + reached),
                    b::status.eq(if finished {
                        BroadcastStatus::Done
                    } else {
                        BroadcastStatus::Running
                    }),
                    b::finished_at.eq(finished.then(Utc::now)),
                ))
                .execute(conn)
                .await?;
            Ok(people.len())
        }
        .scope_boxed()
    })
    .await
}

/// The fan-out loop.
pub async fn run(state: State, shutdown: tokio_util::sync::CancellationToken) {
    loop {
        let pause = match advance(&state).await {
            Ok(0) => std::time::Duration::from_secs(1),
            Ok(_) => std::time::Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "broadcast fan-out failed");
                std::time::Duration::from_secs(2)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}
