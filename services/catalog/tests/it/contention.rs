//! A hundred orders race for the last free item over overlapping dates: one wins, the
//! others are told it is unavailable, and the database holds exactly one live booking.

use crate::common::{self, line, rejected, reserved};
use catalog::communities::Visibility;
use catalog::error::Error;
use catalog::reservations::{self, Held};
use diesel_async::AsyncConnection;
use diesel_async::scoped_futures::ScopedFutureExt;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Barrier;
use uuid::Uuid;

const ORDERS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_orders_race_for_the_last_item_and_one_wins() {
    // A connection for every order at once (and a few for the service itself).
    let svc = common::start_with(
        common::builder()
            .env("DATABASE_POOL_MAX_SIZE", (ORDERS + 10).to_string())
            .env("DATABASE_POOL_WAIT_TIMEOUT", "30s"),
    )
    .await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc
        .tool(&library, category, "Drill", json!({ "initialItems": 3 }))
        .await;
    // Two of the three are taken for the whole time: one is left.
    let (_, taken) = svc.hold_new(&library, tool, 2, 1, 20).await;
    let taken = reserved(&taken);
    let last = *svc
        .items(&library, tool)
        .await
        .iter()
        .find(|i| !taken.contains(i))
        .unwrap();

    let barrier = Arc::new(Barrier::new(ORDERS));
    let tasks: Vec<_> = (0..ORDERS)
        .map(|k| {
            let pool = svc.pool.clone();
            let state = svc.state.clone();
            let barrier = barrier.clone();
            let community = library.id;
            // Every period holds days 5 to 8: any two overlap.
            let start = 2 + (k % 4) as u64;
            let lines = vec![line(tool, 1, start, start + 6)];
            tokio::spawn(async move {
                let order = Uuid::now_v7();
                let mut conn = platform::db::conn(&pool).await.unwrap();
                // All connected before any starts.
                barrier.wait().await;
                let state = &state;
                let lines = &lines;
                let held = conn
                    .transaction::<_, Error, _>(|conn| {
                        async move {
                            reservations::hold_in(conn, state, order, community, lines, None).await
                        }
                        .scope_boxed()
                    })
                    .await
                    .unwrap();
                (order, held)
            })
        })
        .collect();
    let outcomes: Vec<(Uuid, Held)> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();

    let winners: Vec<&(Uuid, Held)> = outcomes
        .iter()
        .filter(|(_, h)| matches!(h, Held::Reserved { .. }))
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let (winner, held) = winners[0];
    assert_eq!(reserved(held), [last]);
    let losers: Vec<&'static str> = outcomes
        .iter()
        .filter(|(o, _)| o != winner)
        .map(|(_, h)| rejected(h))
        .collect();
    assert_eq!(losers.len(), ORDERS - 1);
    assert!(losers.iter().all(|r| *r == "unavailable"), "{losers:?}");

    assert_eq!(
        svc.count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE item_id = '{last}' AND status IN ('hold', 'confirmed')"
        ))
        .await,
        1
    );
    assert_eq!(svc.live(*winner).await, 1);
    let reserved_events: Vec<events::proto::catalog::v1::ReservationReserved> =
        svc.events("catalog.reservation.reserved").await;
    // The hold of the two taken first, and the winner's.
    assert_eq!(reserved_events.len(), 2);
    assert_eq!(reserved_events[1].order_id, winner.to_string());
    let rejected_events: Vec<events::proto::catalog::v1::ReservationRejected> =
        svc.events("catalog.reservation.rejected").await;
    assert_eq!(rejected_events.len(), ORDERS - 1);
}
