//! Favourites: a member keeps a list of tools; a tool knows how many keep it. Only a tool
//! the caller may see can be favourited (another community's is a 404).

use crate::access::Viewer;
use crate::communities::Visibility;
use crate::error::{Error, Result};
use crate::schema::{communities as c, favourites as f, memberships as m, tools as t};
use crate::state::State;
use crate::tools::{self, Tool, ToolView};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use platform::http::pagination::{Page, Paginated};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FavouriteState {
    pub tool_id: Uuid,
    pub favourite: bool,
    /// How many people keep this tool.
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Favourite {
    pub tool: ToolView,
    pub added_at: DateTime<Utc>,
}

async fn state_of(
    conn: &mut diesel_async::AsyncPgConnection,
    user: Uuid,
    tool: Uuid,
) -> Result<FavouriteState> {
    let count: i64 = f::table
        .filter(f::tool_id.eq(tool))
        .count()
        .get_result(conn)
        .await?;
    let mine: i64 = f::table
        .filter(f::tool_id.eq(tool))
        .filter(f::user_id.eq(user))
        .count()
        .get_result(conn)
        .await?;
    Ok(FavouriteState {
        tool_id: tool,
        favourite: mine > 0,
        count,
    })
}

fn user_of(viewer: Viewer) -> Result<Uuid> {
    viewer
        .user_id()
        .ok_or(Error::Forbidden("favourites need an account"))
}

/// Adds the tool (again: nothing changes).
pub async fn add(state: &State, viewer: Viewer, tool: Uuid) -> Result<FavouriteState> {
    let user = user_of(viewer)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    tools::visible(&mut conn, viewer, tool).await?;
    diesel::insert_into(f::table)
        .values((f::user_id.eq(user), f::tool_id.eq(tool)))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    state_of(&mut conn, user, tool).await
}

pub async fn remove(state: &State, viewer: Viewer, tool: Uuid) -> Result<FavouriteState> {
    let user = user_of(viewer)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    tools::visible(&mut conn, viewer, tool).await?;
    diesel::delete(f::table.find((user, tool)))
        .execute(&mut conn)
        .await?;
    state_of(&mut conn, user, tool).await
}

pub async fn check(state: &State, viewer: Viewer, tool: Uuid) -> Result<FavouriteState> {
    let user = user_of(viewer)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    tools::visible(&mut conn, viewer, tool).await?;
    state_of(&mut conn, user, tool).await
}

/// The caller's favourites that they can still see, newest first.
pub async fn list(state: &State, viewer: Viewer, page: Page) -> Result<Paginated<Favourite>> {
    let user = user_of(viewer)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    // Only what the caller may still see: a community left takes its tools off the list.
    let mine = m::table.filter(m::user_id.eq(user)).select(m::community_id);
    let public = c::table
        .filter(c::catalog_visibility.eq(Visibility::Public))
        .filter(c::deleted.eq(false))
        .select(c::id);
    let live = c::table.filter(c::deleted.eq(false)).select(c::id);
    let visible = f::table
        .inner_join(t::table)
        .filter(f::user_id.eq(user))
        .filter(t::deleted_at.is_null())
        .filter(t::active.eq(true))
        .filter(
            t::community_id
                .eq_any(mine)
                .or(t::community_id.eq_any(public)),
        )
        .filter(t::community_id.eq_any(live));
    let total: i64 = visible.count().get_result(&mut conn).await?;
    let rows: Vec<(Tool, DateTime<Utc>)> = visible
        .order((f::created_at.desc(), f::tool_id.desc()))
        .limit(page.limit())
        .offset(page.offset())
        .select((Tool::as_select(), f::created_at))
        .load(&mut conn)
        .await?;
    Ok(Paginated::new(
        rows.into_iter()
            .map(|(tool, added_at)| Favourite {
                tool: tool.view(),
                added_at,
            })
            .collect(),
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}
