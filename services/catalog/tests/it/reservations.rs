//! Bookings, as the order saga takes them: holds over half-open periods plus the buffer,
//! all or nothing, once per order; confirmation, release, extension, lapsed holds; and
//! the exclusion constraint that makes a double booking impossible underneath it all.

use crate::common::{self, Library, day, line, rejected, reserved};
use catalog::communities::Visibility;
use catalog::reservations::Held;
use events::proto::catalog::v1 as ev;
use serde_json::json;
use uuid::Uuid;

async fn library(svc: &common::Service) -> (Library, Uuid) {
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    (library, category)
}

#[tokio::test]
async fn back_to_back_bookings_need_the_buffer_between_them() {
    let svc = common::start().await;
    let (library, category) = library(&svc).await;
    let plain = svc.tool(&library, category, "Drill", json!({})).await;
    let buffered = svc
        .tool(
            &library,
            category,
            "Hammer drill",
            json!({ "bufferDays": 1 }),
        )
        .await;

    // No buffer: [1, 5) then [5, 9) on the one item.
    let (_, first) = svc.hold_new(&library, plain, 1, 1, 5).await;
    let (_, second) = svc.hold_new(&library, plain, 1, 5, 9).await;
    assert_eq!(reserved(&first), reserved(&second));
    let (_, overlap) = svc.hold_new(&library, plain, 1, 4, 6).await;
    assert_eq!(rejected(&overlap), "unavailable");

    // A day's buffer: the next rental starts a day after the last one ends.
    let (_, first) = svc.hold_new(&library, buffered, 1, 1, 5).await;
    reserved(&first);
    let (too_soon, second) = svc.hold_new(&library, buffered, 1, 5, 9).await;
    assert_eq!(rejected(&second), "unavailable");
    let (_, third) = svc.hold_new(&library, buffered, 1, 6, 10).await;
    assert_eq!(reserved(&third), reserved(&first));
    // A rental ending the day the first starts needs its own buffer day, day 1: taken.
    let (_, before) = svc.hold_new(&library, buffered, 1, 0, 1).await;
    assert_eq!(rejected(&before), "unavailable");

    let refused: Vec<ev::ReservationRejected> = svc.events("catalog.reservation.rejected").await;
    let mine = refused
        .iter()
        .find(|e| e.order_id == too_soon.to_string())
        .unwrap();
    assert_eq!(mine.reason, "unavailable");
    assert_eq!(mine.tool_ids, [buffered.to_string()]);
    let held: Vec<ev::ReservationReserved> = svc.events("catalog.reservation.reserved").await;
    assert_eq!(held.len(), 4);
    let last = &held[3].items[0];
    assert_eq!(
        (last.start_date.as_str(), last.end_date.as_str()),
        (day(6).to_string().as_str(), day(10).to_string().as_str())
    );
    assert!(held[3].expires_at.is_some());
}

#[tokio::test]
async fn an_order_holds_all_its_lines_or_nothing_and_only_once() {
    let svc = common::start().await;
    let (library, category) = library(&svc).await;
    let saw = svc.tool(&library, category, "Saw", json!({})).await;
    let drills = svc
        .tool(&library, category, "Drill", json!({ "initialItems": 2 }))
        .await;
    svc.hold_new(&library, drills, 1, 3, 6).await;

    // Two drills wanted, one free: the saw is not held either.
    let order = Uuid::now_v7();
    let held = svc
        .hold(
            order,
            library.id,
            &[line(saw, 1, 2, 5), line(drills, 2, 4, 7)],
        )
        .await;
    assert_eq!(rejected(&held), "unavailable");
    assert_eq!(svc.live(order).await, 0);
    let (_, saw_free) = svc.hold_new(&library, saw, 1, 2, 5).await;
    reserved(&saw_free);

    // One drill is free: held. Twice the same order (a redelivery): nothing more.
    let order = Uuid::now_v7();
    let lines = [line(drills, 1, 4, 7)];
    let first = svc.hold(order, library.id, &lines).await;
    assert_eq!(reserved(&first).len(), 1);
    let again = svc.hold(order, library.id, &lines).await;
    assert_eq!(again, Held::Already);
    assert_eq!(svc.live(order).await, 1);
    let held: Vec<ev::ReservationReserved> = svc.events("catalog.reservation.reserved").await;
    assert_eq!(
        held.iter()
            .filter(|e| e.order_id == order.to_string())
            .count(),
        1
    );

    // Refusals that are not about dates.
    let other = svc.library("Birch Road", "EUR", Visibility::Members).await;
    let (_, wrong) = svc.hold_new(&other, saw, 1, 20, 22).await;
    assert_eq!(rejected(&wrong), "wrong_community");
    let (_, long) = svc.hold_new(&library, saw, 1, 20, 60).await;
    assert_eq!(rejected(&long), "rental_length");
    let (_, unknown) = svc.hold_new(&library, Uuid::now_v7(), 1, 20, 22).await;
    assert_eq!(rejected(&unknown), "tool_not_found");
    let empty = svc.hold(Uuid::now_v7(), library.id, &[]).await;
    assert_eq!(rejected(&empty), "empty_order");
}

#[tokio::test]
async fn a_confirmed_booking_stays_and_a_released_one_frees_the_item() {
    let svc = common::start().await;
    let (library, category) = library(&svc).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let (order, held) = svc.hold_new(&library, tool, 1, 2, 6).await;
    let item = reserved(&held)[0];
    svc.confirm(order).await;
    // Twice is once.
    svc.confirm(order).await;
    let status = |order: Uuid| {
        let svc = &svc;
        async move {
            svc.count(&format!(
                "SELECT count(*) AS n FROM reservations WHERE order_id = '{order}' AND status = 'confirmed' AND expires_at IS NULL"
            ))
            .await
        }
    };
    assert_eq!(status(order).await, 1);
    let confirmed: Vec<ev::ReservationConfirmed> =
        svc.events("catalog.reservation.confirmed").await;
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].order_id, order.to_string());
    let (_, taken) = svc.hold_new(&library, tool, 1, 3, 4).await;
    assert_eq!(rejected(&taken), "unavailable");

    svc.release(order).await;
    svc.release(order).await;
    assert_eq!(svc.live(order).await, 0);
    let released: Vec<ev::ReservationReleased> = svc.events("catalog.reservation.released").await;
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].reason, "order_cancelled");
    let (_, free) = svc.hold_new(&library, tool, 1, 3, 4).await;
    assert_eq!(reserved(&free), [item]);
    // A released order confirmed late takes nothing back.
    svc.confirm(order).await;
    assert_eq!(status(order).await, 0);
}

#[tokio::test]
async fn an_extension_is_accepted_unless_it_runs_into_another_booking() {
    let svc = common::start().await;
    let (library, category) = library(&svc).await;
    let tool = svc
        .tool(&library, category, "Drill", json!({ "bufferDays": 1 }))
        .await;
    let (first, _) = svc.hold_new(&library, tool, 1, 1, 5).await;
    svc.confirm(first).await;
    let (next, held) = svc.hold_new(&library, tool, 1, 9, 12).await;
    reserved(&held);
    svc.confirm(next).await;

    // To day 8: its buffer day 8 stays clear of the next rental on day 9.
    let ok = Uuid::now_v7();
    assert!(svc.extend(first, ok, day(8)).await);
    // To day 9: the buffer would cover the next rental's first day.
    let clash = Uuid::now_v7();
    assert!(!svc.extend(first, clash, day(9)).await);
    // The same request again gets the same answer, and no second event.
    assert!(!svc.extend(first, clash, day(9)).await);
    assert!(svc.extend(first, ok, day(8)).await);
    // Not later than now, and an order with nothing booked.
    assert!(!svc.extend(first, Uuid::now_v7(), day(6)).await);
    assert!(!svc.extend(Uuid::now_v7(), Uuid::now_v7(), day(6)).await);

    let extended: Vec<ev::ReservationExtended> = svc.events("catalog.reservation.extended").await;
    assert_eq!(extended.len(), 1);
    assert_eq!(extended[0].extension_id, ok.to_string());
    assert_eq!(extended[0].new_end_date, day(8).to_string());
    let refused: Vec<ev::ReservationExtensionRejected> =
        svc.events("catalog.reservation.extension_rejected").await;
    let reasons: Vec<&str> = refused.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["unavailable", "not_later", "not_booked"]);
    assert_eq!(refused[0].extension_id, clash.to_string());

    // The booking is [1, 8) now: day 7 is taken, day 8 is the buffer.
    let r = svc
        .get(
            &format!(
                "/api/tools/{tool}/availability?from={}&to={}",
                day(7),
                day(10)
            ),
            &library.manager,
        )
        .await;
    let free: Vec<i64> = r.data()["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["free"].as_i64().unwrap())
        .collect();
    assert_eq!(free, [0, 0, 0]);
    let r = svc
        .get(
            &format!(
                "/api/tools/{tool}/availability?from={}&to={}",
                day(6),
                day(16)
            ),
            &library.manager,
        )
        .await;
    let free: Vec<i64> = r.data()["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["free"].as_i64().unwrap())
        .collect();
    // 6, 7 booked, 8 buffer, 9-11 booked, 12 buffer, 13-15 free.
    assert_eq!(free, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
}

#[tokio::test]
async fn lapsed_holds_are_released_by_the_sweep() {
    let svc = common::start_with(
        common::builder()
            .env("CATALOG_HOLD_TTL", "1s")
            .env("CATALOG_SWEEP_INTERVAL", "1s"),
    )
    .await;
    let (library, category) = library(&svc).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let (order, held) = svc.hold_new(&library, tool, 1, 2, 4).await;
    let item = reserved(&held)[0];
    common::eventually("the lapsed hold released", || async {
        svc.live(order).await == 0
    })
    .await;
    let released: Vec<ev::ReservationReleased> = svc.events("catalog.reservation.released").await;
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].order_id, order.to_string());
    assert_eq!(released[0].reason, "expired");
    assert_eq!(
        svc.count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE order_id = '{order}' AND status = 'released' AND release_reason = 'expired'"
        ))
        .await,
        1
    );
    let (_, again) = svc.hold_new(&library, tool, 1, 2, 4).await;
    assert_eq!(reserved(&again), [item]);
}

#[tokio::test]
async fn a_lapsed_hold_is_taken_again_on_payment_only_if_still_free() {
    let svc = common::start().await;
    let (library, category) = library(&svc).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let lapse = |order: Uuid| {
        let svc = &svc;
        async move {
            svc.sql(&format!(
                "UPDATE reservations SET expires_at = now() - interval '1 minute' WHERE order_id = '{order}'"
            ))
            .await;
            catalog::reservations::sweep(&svc.state).await.unwrap();
            assert_eq!(svc.live(order).await, 0);
        }
    };

    // Lapsed, still free: payment books it after all.
    let (paid_late, _) = svc.hold_new(&library, tool, 1, 2, 4).await;
    lapse(paid_late).await;
    svc.confirm(paid_late).await;
    assert_eq!(svc.live(paid_late).await, 1);
    let confirmed: Vec<ev::ReservationConfirmed> =
        svc.events("catalog.reservation.confirmed").await;
    assert_eq!(confirmed.len(), 1);

    // Lapsed, and someone else took the item meanwhile: the answer is a rejection.
    let (too_late, _) = svc.hold_new(&library, tool, 1, 10, 12).await;
    lapse(too_late).await;
    let (quicker, held) = svc.hold_new(&library, tool, 1, 11, 13).await;
    reserved(&held);
    svc.confirm(too_late).await;
    assert_eq!(svc.live(too_late).await, 0);
    assert_eq!(svc.live(quicker).await, 1);
    let refused: Vec<ev::ReservationRejected> = svc.events("catalog.reservation.rejected").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].order_id, too_late.to_string());
    assert_eq!(refused[0].reason, "hold_expired");
    let released: Vec<ev::ReservationReleased> = svc.events("catalog.reservation.released").await;
    assert!(released.iter().all(|e| e.reason == "expired"));
    assert_eq!(released.len(), 2);
}

#[tokio::test]
async fn the_database_refuses_an_overlapping_live_reservation() {
    let svc = common::start().await;
    let (library, category) = library(&svc).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let (_, held) = svc.hold_new(&library, tool, 1, 2, 6).await;
    let item = reserved(&held)[0];
    let insert = |status: &str, from: u64, to: u64| {
        format!(
            "INSERT INTO reservations (id, item_id, tool_id, order_id, order_item_id, period, blocked, status)
             VALUES ('{}', '{item}', '{tool}', '{}', '{}', '[{},{})', '[{},{})', '{status}')",
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            day(from),
            day(to),
            day(from),
            day(to),
        )
    };
    let run = |sql: String| {
        let svc = &svc;
        async move {
            use diesel_async::RunQueryDsl;
            let mut conn = platform::db::conn(&svc.pool).await.unwrap();
            diesel::sql_query(sql)
                .execute(&mut conn)
                .await
                .map_err(platform::db::DbError::from)
        }
    };
    for status in ["hold", "confirmed"] {
        match run(insert(status, 5, 7)).await {
            Err(platform::db::DbError::ExclusionViolation(_)) => {}
            other => panic!("an overlapping {status} row was not refused: {other:?}"),
        }
    }
    // What does not occupy the item, or does not overlap, is stored.
    run(insert("released", 3, 5)).await.unwrap();
    run(insert("returned", 3, 5)).await.unwrap();
    run(insert("hold", 6, 8)).await.unwrap();
    assert_eq!(
        svc.count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE item_id = '{item}' AND status IN ('hold', 'confirmed')"
        ))
        .await,
        2
    );
    // Nor can an update make two live rows overlap.
    match run(format!(
        "UPDATE reservations SET period = '[{d2},{d8})', blocked = '[{d2},{d8})' WHERE item_id = '{item}' AND status = 'released'",
        d2 = day(2),
        d8 = day(8)
    ))
    .await
    {
        Ok(_) => {}
        Err(e) => panic!("a released row may overlap: {e:?}"),
    }
    match run(format!(
        "UPDATE reservations SET status = 'hold' WHERE item_id = '{item}' AND status = 'released'"
    ))
    .await
    {
        Err(platform::db::DbError::ExclusionViolation(_)) => {}
        other => panic!("reviving an overlapping row was not refused: {other:?}"),
    }
}
