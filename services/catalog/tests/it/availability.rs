//! Availability: free items per day, with holds, bookings and buffer days taken off.

use crate::common::{self, day, reserved};
use catalog::communities::{MemberRole, Visibility};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn free_items_per_day_reflect_holds_and_the_buffer() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc
        .tool(
            &library,
            category,
            "Drill",
            json!({ "initialItems": 2, "bufferDays": 1 }),
        )
        .await;
    let resident = svc.member(&library, MemberRole::Resident).await;
    let free = |from: u64, to: u64| {
        let (svc, resident) = (&svc, &resident);
        async move {
            let r = svc
                .get(
                    &format!(
                        "/api/tools/{tool}/availability?from={}&to={}",
                        day(from),
                        day(to)
                    ),
                    resident,
                )
                .await
                .expect(StatusCode::OK);
            let days = r.data()["days"].as_array().unwrap().clone();
            assert_eq!(days[0]["date"], day(from).to_string());
            assert_eq!(r.data()["bookableItems"], 2);
            assert_eq!(r.data()["bufferDays"], 1);
            days.iter()
                .map(|d| d["free"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(free(2, 8).await, [2, 2, 2, 2, 2, 2]);

    // [3, 5) holds an item on days 3 and 4, and day 5 for the buffer.
    let (first, held) = svc.hold_new(&library, tool, 1, 3, 5).await;
    reserved(&held);
    assert_eq!(free(2, 8).await, [2, 1, 1, 1, 2, 2]);
    // [4, 5) takes the other one: days 4 and 5 have nothing free.
    let (_, held) = svc.hold_new(&library, tool, 1, 4, 5).await;
    reserved(&held);
    assert_eq!(free(2, 8).await, [2, 1, 0, 0, 2, 2]);
    // A confirmed booking counts the same; a released one gives the days back.
    svc.confirm(first).await;
    assert_eq!(free(2, 8).await, [2, 1, 0, 0, 2, 2]);
    svc.release(first).await;
    assert_eq!(free(2, 8).await, [2, 2, 1, 1, 2, 2]);

    // Half-open: [from, to) has to - from days; 186 at most.
    assert_eq!(free(0, 186).await.len(), 186);
    for (from, to) in [(0, 187), (5, 5), (6, 5)] {
        let r = svc
            .get(
                &format!(
                    "/api/tools/{tool}/availability?from={}&to={}",
                    day(from),
                    day(to)
                ),
                &resident,
            )
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["errors"][0]["field"], "to", "{from}..{to}");
    }
    svc.get(
        &format!("/api/tools/{tool}/availability?from={}", day(1)),
        &resident,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
}
