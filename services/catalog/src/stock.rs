//! "Back in stock": a tool with no item free today that gets one again tells those who
//! favourited it (`catalog.stock.back_in_stock`, delivered by the notification service).
//! The flag is recomputed wherever the answer can change: items added or changed, holds
//! released, rentals returned, and by the sweep as days pass.

use crate::error::Result;
use crate::schema::{favourites as f, tools as t};
use crate::state::State;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use events::proto::catalog::v1 as ev;
use platform::kafka::outbox::Emits;
use uuid::Uuid;

#[derive(QueryableByName)]
struct Free {
    #[diesel(sql_type = BigInt)]
    free: i64,
}

/// Items of the tool that could be handed out today.
pub async fn free_today(conn: &mut AsyncPgConnection, tool: Uuid) -> Result<i64> {
    let row: Free = diesel::sql_query(
        "SELECT count(*) AS free FROM items i
          WHERE i.tool_id = $1 AND i.status = 'available'
            AND NOT EXISTS (SELECT 1 FROM reservations r
                             WHERE r.item_id = i.id AND r.status IN ('hold', 'confirmed')
                               AND r.blocked @> current_date)",
    )
    .bind::<SqlUuid, _>(tool)
    .get_result(conn)
    .await?;
    Ok(row.free)
}

/// Recomputes the tool's flag, in the caller's transaction; on a change to "in stock",
/// emits the event for those who favourited it.
pub async fn check_in(conn: &mut AsyncPgConnection, state: &State, tool: Uuid) -> Result<()> {
    let now = free_today(conn, tool).await? > 0;
    let before: Option<(bool, Uuid, String, bool)> = t::table
        .find(tool)
        .select((t::in_stock, t::community_id, t::name, t::active))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((was, community, name, active)) = before else {
        return Ok(());
    };
    if was == now {
        return Ok(());
    }
    diesel::update(t::table.find(tool))
        .set(t::in_stock.eq(now))
        .execute(conn)
        .await?;
    if now && active {
        let fans: Vec<Uuid> = f::table
            .filter(f::tool_id.eq(tool))
            .select(f::user_id)
            .load(conn)
            .await?;
        if !fans.is_empty() {
            state
                .emit(
                    conn,
                    tool,
                    &ev::BackInStock {
                        tool_id: tool.to_string(),
                        community_id: community.to_string(),
                        tool_name: name,
                        user_ids: fans.iter().map(Uuid::to_string).collect(),
                    },
                    None,
                )
                .await?;
        }
    }
    Ok(())
}

/// Tools out of stock whose state may have changed since (bookings that ended).
pub async fn sweep(state: &State) -> Result<usize> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let out: Vec<Uuid> = t::table
        .filter(t::in_stock.eq(false))
        .filter(t::deleted_at.is_null())
        .select(t::id)
        .limit(500)
        .load(&mut conn)
        .await?;
    let mut changed = 0;
    for tool in out {
        use diesel_async::AsyncConnection;
        use diesel_async::scoped_futures::ScopedFutureExt;
        let flipped = conn
            .transaction::<_, crate::error::Error, _>(|conn| {
                async move {
                    check_in(conn, state, tool).await?;
                    Ok(t::table
                        .find(tool)
                        .select(t::in_stock)
                        .first::<bool>(conn)
                        .await?)
                }
                .scope_boxed()
            })
            .await?;
        changed += usize::from(flipped);
    }
    Ok(changed)
}
