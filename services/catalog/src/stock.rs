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
                               AND r.blocked @> $2)",
    )
    .bind::<SqlUuid, _>(tool)
    // Today in UTC, as everywhere else in the service (not the session's time zone).
    .bind::<diesel::sql_types::Date, _>(chrono::Utc::now().date_naive())
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

/// Tools whose flag today no longer tells the truth, as days pass: a booking that ended
/// gives an item back, one that began today may take the last. Returns how many came back.
pub async fn sweep(state: &State) -> Result<usize> {
    #[derive(QueryableByName)]
    struct Stale {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    // Both ways: a tool must be seen going out of stock to be told coming back.
    let stale: Vec<Stale> = diesel::sql_query(
        "SELECT t.id FROM tools t
          WHERE t.deleted_at IS NULL
            AND t.in_stock <> EXISTS (
                SELECT 1 FROM items i
                 WHERE i.tool_id = t.id AND i.status = 'available'
                   AND NOT EXISTS (SELECT 1 FROM reservations r
                                    WHERE r.item_id = i.id AND r.status IN ('hold', 'confirmed')
                                      AND r.blocked @> $1))
          LIMIT 500",
    )
    .bind::<diesel::sql_types::Date, _>(chrono::Utc::now().date_naive())
    .load(&mut conn)
    .await?;
    let mut changed = 0;
    for tool in stale.into_iter().map(|s| s.id) {
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
