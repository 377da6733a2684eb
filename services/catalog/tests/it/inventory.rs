//! Inventory: items added, maintenance takes an item out of booking, an item (or a tool)
//! with bookings ahead cannot go.

use crate::common::{self, day, rejected, reserved};
use catalog::communities::Visibility;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn items_are_added_with_unique_serial_numbers() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Ladders", None).await;
    let tool = svc
        .tool(&library, category, "Ladder", json!({ "initialItems": 0 }))
        .await;
    let path = format!("/api/tools/{tool}/items");
    let r = svc
        .post(
            &path,
            json!({ "serialNumber": "LD-1", "condition": "new", "notes": "Blue" }),
            &library.manager,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.data()["status"], "available");
    assert_eq!(r.data()["condition"], "new");
    assert_eq!(r.data()["toolId"], tool.to_string());
    svc.post(&path, json!({ "serialNumber": "LD-2" }), &library.manager)
        .await
        .expect(StatusCode::CREATED);
    let r = svc
        .post(&path, json!({ "serialNumber": "LD-1" }), &library.manager)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "serialNumber");
    svc.post(&path, json!({ "condition": "broken" }), &library.manager)
        .await
        .expect(StatusCode::BAD_REQUEST);

    let r = svc
        .get(&path, &library.manager)
        .await
        .expect(StatusCode::OK);
    let serials: Vec<&str> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["serialNumber"].as_str().unwrap())
        .collect();
    assert_eq!(serials, ["LD-1", "LD-2"]);
    // Another tool may reuse a serial number.
    let other = svc
        .tool(
            &library,
            category,
            "Step ladder",
            json!({ "initialItems": 0 }),
        )
        .await;
    svc.post(
        &format!("/api/tools/{other}/items"),
        json!({ "serialNumber": "LD-1" }),
        &library.manager,
    )
    .await
    .expect(StatusCode::CREATED);
    // An item of another tool is not found under this one.
    let foreign = svc.items(&library, other).await[0];
    svc.patch(
        &format!("{path}/{foreign}"),
        json!({ "notes": "x" }),
        &library.manager,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_item_in_maintenance_is_not_bookable() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Sanders", None).await;
    let tool = svc.tool(&library, category, "Belt sander", json!({})).await;
    let item = svc.items(&library, tool).await[0];
    let r = svc
        .patch(
            &format!("/api/tools/{tool}/items/{item}"),
            json!({ "status": "maintenance", "condition": "worn", "lastMaintenance": day(0) }),
            &library.manager,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["status"], "maintenance");
    assert_eq!(r.data()["lastMaintenance"], day(0).to_string());

    let (_, held) = svc.hold_new(&library, tool, 1, 3, 5).await;
    assert_eq!(rejected(&held), "unavailable");
    let r = svc
        .get(
            &format!(
                "/api/tools/{tool}/availability?from={}&to={}",
                day(3),
                day(5)
            ),
            &library.manager,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["bookableItems"], 0);
    assert!(
        r.data()["days"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["free"] == 0)
    );

    svc.patch(
        &format!("/api/tools/{tool}/items/{item}"),
        json!({ "status": "available" }),
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);
    let (_, held) = svc.hold_new(&library, tool, 1, 3, 5).await;
    assert_eq!(reserved(&held), [item]);
}

#[tokio::test]
async fn an_item_or_a_tool_with_bookings_ahead_cannot_go() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Mowers", None).await;
    let tool = svc
        .tool(
            &library,
            category,
            "Lawn mower",
            json!({ "initialItems": 2 }),
        )
        .await;
    let items = svc.items(&library, tool).await;
    let (order, held) = svc.hold_new(&library, tool, 1, 10, 14).await;
    let booked = reserved(&held)[0];
    let free = *items.iter().find(|i| **i != booked).unwrap();

    let r = svc
        .patch(
            &format!("/api/tools/{tool}/items/{booked}"),
            json!({ "status": "retired" }),
            &library.manager,
        )
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.body["code"], "has_bookings");
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["field"], format!("bookings.{order}"));
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&day(10).to_string()) && message.contains(&day(14).to_string()),
        "{message}"
    );
    // Deleting the tool is refused for the same booking.
    let r = svc
        .send(
            Method::DELETE,
            &format!("/api/tools/{tool}"),
            None,
            &library.manager,
        )
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.body["code"], "has_bookings");

    // The other item retires; the booked one after the booking is released.
    let r = svc
        .patch(
            &format!("/api/tools/{tool}/items/{free}"),
            json!({ "status": "retired" }),
            &library.manager,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["status"], "retired");
    let r = svc
        .get(&format!("/api/tools/{tool}/items"), &library.manager)
        .await
        .expect(StatusCode::OK);
    let booked_now = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == booked.to_string())
        .unwrap()
        .clone();
    assert_eq!(booked_now["status"], "available");
    // A retired item takes no booking: the booked one takes the next.
    let (next, held) = svc.hold_new(&library, tool, 1, 20, 22).await;
    assert_eq!(reserved(&held), [booked]);
    let (_, held) = svc.hold_new(&library, tool, 1, 20, 22).await;
    assert_eq!(rejected(&held), "unavailable");

    // The first booking released, the next still stands in the way.
    svc.release(order).await;
    let r = svc
        .patch(
            &format!("/api/tools/{tool}/items/{booked}"),
            json!({ "status": "retired" }),
            &library.manager,
        )
        .await
        .expect(StatusCode::CONFLICT);
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["field"], format!("bookings.{next}"));
    svc.release(next).await;
    svc.patch(
        &format!("/api/tools/{tool}/items/{booked}"),
        json!({ "status": "retired" }),
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);
    svc.send(
        Method::DELETE,
        &format!("/api/tools/{tool}"),
        None,
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);
}
