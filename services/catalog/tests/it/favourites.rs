//! Favourites: keeping tools, how many keep one, and "back in stock" for those who keep a
//! tool that had nothing free today.

use crate::common::{self, ANONYMOUS, reserved};
use catalog::communities::{MemberRole, Visibility};
use events::proto::catalog::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn members_keep_favourites_and_a_tool_counts_its_fans() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let drill = svc.tool(&library, category, "Drill", json!({})).await;
    let saw = svc.tool(&library, category, "Saw", json!({})).await;
    let ann = svc.member(&library, MemberRole::Resident).await;
    let bob = svc.member(&library, MemberRole::Resident).await;
    let path = |tool: Uuid| format!("/api/favorites/{tool}");

    let r = svc
        .send(Method::PUT, &path(drill), None, &ann)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.data(),
        &json!({ "toolId": drill, "favourite": true, "count": 1 })
    );
    // Again: nothing changes.
    let r = svc
        .send(Method::PUT, &path(drill), None, &ann)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["count"], 1);
    let r = svc
        .send(Method::PUT, &path(drill), None, &bob)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["count"], 2);
    svc.send(Method::PUT, &path(saw), None, &ann)
        .await
        .expect(StatusCode::OK);

    let r = svc.get(&path(drill), &bob).await.expect(StatusCode::OK);
    assert_eq!(
        r.data(),
        &json!({ "toolId": drill, "favourite": true, "count": 2 })
    );
    let r = svc.get(&path(saw), &bob).await.expect(StatusCode::OK);
    assert_eq!(
        r.data(),
        &json!({ "toolId": saw, "favourite": false, "count": 1 })
    );

    // Newest first.
    let r = svc.get("/api/favorites", &ann).await.expect(StatusCode::OK);
    let listed: Vec<&str> = r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["tool"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["Saw", "Drill"]);
    assert_eq!(r.data()["totalCount"], 2);
    assert!(r.data()["items"][0]["addedAt"].is_string());
    let r = svc
        .get("/api/favorites?pageSize=1&page=2", &ann)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["items"][0]["tool"]["name"], "Drill");

    let r = svc
        .send(Method::DELETE, &path(drill), None, &ann)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.data(),
        &json!({ "toolId": drill, "favourite": false, "count": 1 })
    );
    // Not there is fine.
    svc.send(Method::DELETE, &path(drill), None, &ann)
        .await
        .expect(StatusCode::OK);
    let r = svc.get("/api/favorites", &ann).await.expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);

    // Favourites need an account and a tool that exists.
    svc.send(Method::PUT, &path(drill), None, ANONYMOUS)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    svc.get("/api/favorites", ANONYMOUS)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    svc.send(Method::PUT, &path(Uuid::now_v7()), None, &ann)
        .await
        .expect(StatusCode::NOT_FOUND);
    // A member who leaves no longer sees the library's tools among their favourites.
    svc.sql(&format!(
        "DELETE FROM memberships WHERE community_id = '{}' AND user_id = '{}'",
        library.id, bob.id
    ))
    .await;
    let r = svc.get("/api/favorites", &bob).await.expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 0);
}

/// Whether the service has the tool in stock today (an item free).
async fn in_stock(svc: &common::Service, tool: Uuid) -> bool {
    svc.count(&format!(
        "SELECT count(*) AS n FROM tools WHERE id = '{tool}' AND in_stock"
    ))
    .await
        == 1
}

async fn back_in_stock(svc: &common::Service, tool: Uuid) -> Vec<ev::BackInStock> {
    svc.events::<ev::BackInStock>("catalog.stock.back_in_stock")
        .await
        .into_iter()
        .filter(|e| e.tool_id == tool.to_string())
        .collect()
}

#[tokio::test]
async fn a_booking_released_tells_the_fans_the_tool_is_back_in_stock() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let fan = svc.member(&library, MemberRole::Resident).await;
    assert!(in_stock(&svc, tool).await);
    svc.send(Method::PUT, &format!("/api/favorites/{tool}"), None, &fan)
        .await
        .expect(StatusCode::OK);

    // The only item is booked from today: out of stock.
    let (order, held) = svc.hold_new(&library, tool, 1, 0, 3).await;
    reserved(&held);
    assert!(!in_stock(&svc, tool).await);
    assert!(back_in_stock(&svc, tool).await.is_empty());

    svc.release(order).await;
    assert!(in_stock(&svc, tool).await);
    let told = back_in_stock(&svc, tool).await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].user_ids, [fan.id.to_string()]);
    assert_eq!(told[0].tool_name, "Drill");
    assert_eq!(told[0].community_id, library.id.to_string());

    // A booking ahead does not take today's stock; maintenance does, and its end tells.
    let (_, held) = svc.hold_new(&library, tool, 1, 5, 7).await;
    let item = reserved(&held)[0];
    assert!(in_stock(&svc, tool).await);
    for status in ["maintenance", "available"] {
        svc.patch(
            &format!("/api/tools/{tool}/items/{item}"),
            json!({ "status": status }),
            &library.manager,
        )
        .await
        .expect(StatusCode::OK);
    }
    assert_eq!(back_in_stock(&svc, tool).await.len(), 2);
}

#[tokio::test]
async fn the_sweep_notices_a_booking_whose_day_has_come() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let fan = svc.member(&library, MemberRole::Resident).await;
    svc.send(Method::PUT, &format!("/api/favorites/{tool}"), None, &fan)
        .await
        .expect(StatusCode::OK);
    let (order, held) = svc.hold_new(&library, tool, 1, 1, 3).await;
    reserved(&held);
    assert!(in_stock(&svc, tool).await);

    // A day passes: the booking starts today (moved a day earlier, as time would).
    svc.sql(&format!(
        "UPDATE reservations SET period = daterange(lower(period) - 1, upper(period) - 1),
                                 blocked = daterange(lower(blocked) - 1, upper(blocked) - 1)
          WHERE order_id = '{order}'"
    ))
    .await;
    catalog::stock::sweep(&svc.state).await.unwrap();
    assert!(!in_stock(&svc, tool).await);
    svc.release(order).await;
    assert_eq!(back_in_stock(&svc, tool).await.len(), 1);
}
