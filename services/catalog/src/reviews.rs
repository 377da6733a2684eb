//! Reviews: only someone whose order of the tool completed may review it, once per rented
//! line (so every review carries the "rented it" badge by construction); edits and
//! deletion by the author; reports by members; moderation (hide or show again, with a
//! reason) by admins. The tool's rating sum and count change in the same transaction as
//! the review, and count visible reviews only.

use crate::access::Viewer;
use crate::error::{Error, Result};
use crate::schema::{rentals as rt, review_reports as rr, reviews as rv, tools as t};
use crate::state::State;
use crate::tools;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::http::pagination::{Page, Paginated};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

platform::text_enum! {
    pub enum Status {
        Visible = "visible",
        /// Hidden by a moderator: not shown, not in the rating.
        Hidden = "hidden",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rv)]
pub struct Review {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub user_id: Uuid,
    pub order_item_id: Uuid,
    pub rating: i16,
    pub comment: String,
    pub status: Status,
    pub moderation_reason: Option<String>,
    pub reports: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub author_id: Uuid,
    /// 1 to 5.
    pub rating: i16,
    pub comment: String,
    /// Always true: only those who rented the tool can review it.
    pub rented_it: bool,
    pub status: Status,
    /// Moderators and the author see why a review was hidden.
    pub moderation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Review {
    fn view(&self, viewer: Viewer) -> ReviewView {
        let privileged = viewer.is_admin() || viewer.user_id() == Some(self.user_id);
        ReviewView {
            id: self.id,
            tool_id: self.tool_id,
            author_id: self.user_id,
            rating: self.rating,
            comment: self.comment.clone(),
            rented_it: true,
            status: self.status,
            moderation_reason: self.moderation_reason.clone().filter(|_| privileged),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewReview {
    /// The rented order line this review is about (one review each).
    pub order_item_id: Uuid,
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i16,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewPatch {
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i16>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Report {
    #[validate(
        length(min = 1, max = 500),
        custom(function = "platform::http::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Moderation {
    pub status: Status,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "platform::http::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `order.completed`: each line becomes the right to one review.
pub async fn rented_in(
    conn: &mut AsyncPgConnection,
    order: Uuid,
    user: Uuid,
    lines: &[(Uuid, Uuid)],
) -> Result<()> {
    for (order_item, tool) in lines {
        diesel::insert_into(rt::table)
            .values((
                rt::order_item_id.eq(order_item),
                rt::order_id.eq(order),
                rt::user_id.eq(user),
                rt::tool_id.eq(tool),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Adds `delta` visible ratings worth `sum` to the tool, in the caller's transaction.
async fn rate_in(conn: &mut AsyncPgConnection, tool: Uuid, sum: i64, delta: i64) -> Result<()> {
    diesel::update(t::table.find(tool))
        .set((
            t::rating_sum.eq(t::rating_sum + sum),
            t::rating_count.eq(t::rating_count + delta),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn list(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    page: Page,
) -> Result<Paginated<ReviewView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    tools::visible(&mut conn, viewer, tool).await?;
    let shown = || {
        let mut q = rv::table.filter(rv::tool_id.eq(tool)).into_boxed();
        if !viewer.is_admin() {
            q = q.filter(rv::status.eq(Status::Visible));
        }
        q
    };
    let total: i64 = shown().count().get_result(&mut conn).await?;
    let rows: Vec<Review> = shown()
        .order((rv::created_at.desc(), rv::id.desc()))
        .limit(page.limit())
        .offset(page.offset())
        .select(Review::as_select())
        .load(&mut conn)
        .await?;
    Ok(Paginated::new(
        rows.iter().map(|r| r.view(viewer)).collect(),
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

pub async fn create(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    new: NewReview,
) -> Result<ReviewView> {
    let user = viewer
        .user_id()
        .ok_or(Error::Forbidden("reviews need an account"))?;
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            tools::visible(conn, viewer, tool).await?;
            let rented: Option<Uuid> = rt::table
                .find(new.order_item_id)
                .filter(rt::user_id.eq(user))
                .filter(rt::tool_id.eq(tool))
                .select(rt::order_item_id)
                .first(conn)
                .await
                .optional()?;
            if rented.is_none() {
                return Err(Error::rule(
                    "not_rented",
                    "only a completed rental of this tool can be reviewed",
                ));
            }
            let review: Review = diesel::insert_into(rv::table)
                .values((
                    rv::id.eq(Uuid::now_v7()),
                    rv::tool_id.eq(tool),
                    rv::user_id.eq(user),
                    rv::order_item_id.eq(new.order_item_id),
                    rv::rating.eq(new.rating),
                    rv::comment.eq(new.comment.trim()),
                ))
                .returning(Review::as_returning())
                .get_result(conn)
                .await
                .map_err(|e| match platform::db::DbError::from(e) {
                    platform::db::DbError::UniqueViolation(_) => {
                        Error::conflict("already_reviewed", "this rental has a review already")
                    }
                    other => Error::Db(other),
                })?;
            rate_in(conn, tool, i64::from(review.rating), 1).await?;
            Ok(review.view(viewer))
        }
        .scope_boxed()
    })
    .await
}

/// The review, locked, if it is the caller's (another's is a 404).
async fn own_in(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    tool: Uuid,
    id: Uuid,
) -> Result<Review> {
    let user = viewer.user_id().ok_or(Error::NotFound("review"))?;
    rv::table
        .find(id)
        .filter(rv::tool_id.eq(tool))
        .filter(rv::user_id.eq(user))
        .select(Review::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("review"))
}

pub async fn update(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    id: Uuid,
    patch: ReviewPatch,
) -> Result<ReviewView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let old = own_in(conn, viewer, tool, id).await?;
            let rating = patch.rating.unwrap_or(old.rating);
            let comment = patch
                .comment
                .map_or(old.comment.clone(), |c| c.trim().to_owned());
            let review: Review = diesel::update(rv::table.find(id))
                .set((
                    rv::rating.eq(rating),
                    rv::comment.eq(comment),
                    rv::updated_at.eq(Utc::now()),
                ))
                .returning(Review::as_returning())
                .get_result(conn)
                .await?;
            if old.status == Status::Visible {
                rate_in(conn, tool, i64::from(rating) - i64::from(old.rating), 0).await?;
            }
            Ok(review.view(viewer))
        }
        .scope_boxed()
    })
    .await
}

pub async fn delete(state: &State, viewer: Viewer, tool: Uuid, id: Uuid) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let old = own_in(conn, viewer, tool, id).await?;
            diesel::delete(rv::table.find(id)).execute(conn).await?;
            if old.status == Status::Visible {
                rate_in(conn, tool, -i64::from(old.rating), -1).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Reports a visible review (once per person); moderators see the most reported first.
pub async fn report(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    id: Uuid,
    report: Report,
) -> Result<()> {
    let user = viewer
        .user_id()
        .ok_or(Error::Forbidden("reports need an account"))?;
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            tools::visible(conn, viewer, tool).await?;
            let found: Option<Uuid> = rv::table
                .find(id)
                .filter(rv::tool_id.eq(tool))
                .filter(rv::status.eq(Status::Visible))
                .select(rv::id)
                .first(conn)
                .await
                .optional()?;
            found.ok_or(Error::NotFound("review"))?;
            let added = diesel::insert_into(rr::table)
                .values((
                    rr::review_id.eq(id),
                    rr::user_id.eq(user),
                    rr::reason.eq(report.reason.trim()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if added > 0 {
                diesel::update(rv::table.find(id))
                    .set(rv::reports.eq(rv::reports + 1))
                    .execute(conn)
                    .await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Hides or shows a review again (`catalog.manage`), with the reason the author sees.
pub async fn moderate(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    id: Uuid,
    m: Moderation,
) -> Result<ReviewView> {
    if !viewer.is_admin() {
        return Err(Error::Forbidden("moderating reviews needs catalog.manage"));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let old: Review = rv::table
                .find(id)
                .filter(rv::tool_id.eq(tool))
                .select(Review::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(Error::NotFound("review"))?;
            let review: Review = diesel::update(rv::table.find(id))
                .set((
                    rv::status.eq(m.status),
                    rv::moderation_reason.eq(m.reason.trim()),
                    rv::updated_at.eq(Utc::now()),
                ))
                .returning(Review::as_returning())
                .get_result(conn)
                .await?;
            let rating = i64::from(old.rating);
            match (old.status, m.status) {
                (Status::Visible, Status::Hidden) => rate_in(conn, tool, -rating, -1).await?,
                (Status::Hidden, Status::Visible) => rate_in(conn, tool, rating, 1).await?,
                _ => {}
            }
            Ok(review.view(viewer))
        }
        .scope_boxed()
    })
    .await
}
