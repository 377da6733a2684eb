//! What the service learns through the broker: communities and their members from the
//! community service, and the order saga's steps from the order service.

use crate::common::{self, ANONYMOUS, Library, day};
use events::proto::catalog::v1 as ev;
use events::proto::community::v1 as community;
use events::proto::order::v1 as order;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

fn placed(
    order_id: Uuid,
    community_id: Uuid,
    tool: Uuid,
    start: u64,
    end: u64,
) -> order::OrderPlaced {
    order::OrderPlaced {
        order_id: order_id.to_string(),
        user_id: Uuid::now_v7().to_string(),
        community_id: community_id.to_string(),
        items: vec![order::OrderItem {
            order_item_id: Uuid::now_v7().to_string(),
            tool_id: tool.to_string(),
            quantity: 1,
            start_date: day(start).to_string(),
            end_date: day(end).to_string(),
        }],
        ..Default::default()
    }
}

/// Waits until the outbox has an event of `event_type` meeting `check`.
async fn answered<E: prost::Message + Default>(
    svc: &common::Service,
    event_type: &str,
    check: impl Fn(&E) -> bool,
) {
    common::eventually(event_type, || async {
        svc.events::<E>(event_type).await.iter().any(&check)
    })
    .await;
}

#[tokio::test]
async fn communities_and_members_are_learnt_from_events() {
    let svc = common::start_with(common::builder().consumers()).await;
    let category = svc.category("Drills", None).await;
    let manager = svc.person(&[]);
    let id = Uuid::now_v7();
    svc.publish(
        id,
        &community::CommunityCreated {
            community_id: id.to_string(),
            name: "Elm Row".into(),
            manager_id: manager.id.to_string(),
            catalog_visibility: community::CatalogVisibility::Public as i32,
            currency: "CHF".into(),
            ..Default::default()
        },
    )
    .await;
    svc.publish(
        id,
        &community::MemberJoined {
            community_id: id.to_string(),
            user_id: manager.id.to_string(),
            role: community::CommunityRole::Manager as i32,
            ..Default::default()
        },
    )
    .await;
    let body = |name: &str| json!({ "communityId": id, "categoryId": category, "name": name, "dailyPrice": 900, "deposit": 0, "initialItems": 1 });
    // The manager runs the library once both events are in.
    common::eventually("the community and its manager", || async {
        svc.post("/api/tools", body("Drill"), &manager).await.status == StatusCode::CREATED
    })
    .await;
    // Public: anyone sees its tools, priced in the community's currency.
    let r = svc
        .get("/api/tools", ANONYMOUS)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);
    assert_eq!(
        r.data()["items"][0]["dailyPrice"],
        json!({ "amount": 900, "currency": "CHF" })
    );
    let drill = r.data()["items"][0]["id"].as_str().unwrap().to_owned();
    // Who runs the library sees its inventory (and changes nothing by looking).
    let inventory = format!("/api/tools/{drill}/items");

    // A moderator joins; a resident joins and is promoted.
    let moderator = svc.person(&[]);
    let resident = svc.person(&[]);
    for (who, role) in [
        (&moderator, community::CommunityRole::Moderator),
        (&resident, community::CommunityRole::Resident),
    ] {
        svc.publish(
            id,
            &community::MemberJoined {
                community_id: id.to_string(),
                user_id: who.id.to_string(),
                role: role as i32,
                ..Default::default()
            },
        )
        .await;
    }
    common::eventually("the moderator", || async {
        svc.post("/api/tools", body("Saw"), &moderator).await.status == StatusCode::CREATED
    })
    .await;
    svc.post("/api/tools", body("Rake"), &resident)
        .await
        .expect(StatusCode::FORBIDDEN);
    svc.publish(
        id,
        &community::MemberRoleChanged {
            community_id: id.to_string(),
            user_id: resident.id.to_string(),
            role: community::CommunityRole::Moderator as i32,
            ..Default::default()
        },
    )
    .await;
    common::eventually("the promotion", || async {
        svc.post("/api/tools", body("Rake"), &resident).await.status == StatusCode::CREATED
    })
    .await;
    svc.publish(
        id,
        &community::MemberLeft {
            community_id: id.to_string(),
            user_id: moderator.id.to_string(),
        },
    )
    .await;
    svc.get(&inventory, &moderator).await.expect(StatusCode::OK);
    // Gone from the library, but it is public: a 403, not a 404.
    common::eventually("the moderator leaving", || async {
        svc.get(&inventory, &moderator).await.status == StatusCode::FORBIDDEN
    })
    .await;
    svc.post("/api/tools", body("Hoe"), &moderator)
        .await
        .expect(StatusCode::FORBIDDEN);

    // Members only from now on: strangers see nothing, members still do.
    svc.publish(
        id,
        &community::CommunityUpdated {
            community_id: id.to_string(),
            name: "Elm Row".into(),
            catalog_visibility: community::CatalogVisibility::Members as i32,
            currency: "CHF".into(),
            ..Default::default()
        },
    )
    .await;
    common::eventually("the library closing to the public", || async {
        svc.get("/api/tools", ANONYMOUS).await.data()["totalCount"] == 0
    })
    .await;
    let r = svc
        .get("/api/tools", &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 3);

    // Deleted: its tools disappear for everyone.
    svc.publish(
        id,
        &community::CommunityDeleted {
            community_id: id.to_string(),
            ..Default::default()
        },
    )
    .await;
    common::eventually("the community deleted", || async {
        svc.get("/api/tools", &resident).await.data()["totalCount"] == 0
    })
    .await;
}

#[tokio::test]
async fn the_order_saga_holds_confirms_extends_returns_and_releases() {
    let svc = common::start_with(common::builder().consumers()).await;
    let library: Library = svc
        .library("Elm Row", "EUR", catalog::communities::Visibility::Members)
        .await;
    let category = svc.category("Drills", None).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let item = svc.items(&library, tool).await[0];

    // Placed: held. A second order for the same days: rejected.
    let first = Uuid::now_v7();
    let placed_first = placed(first, library.id, tool, 2, 5);
    let placed_id = Uuid::now_v7();
    svc.publish_as(first, &placed_first, placed_id).await;
    answered(
        &svc,
        "catalog.reservation.reserved",
        |e: &ev::ReservationReserved| {
            e.order_id == first.to_string() && e.items[0].item_ids == [item.to_string()]
        },
    )
    .await;
    let second = Uuid::now_v7();
    svc.publish(second, &placed(second, library.id, tool, 3, 4))
        .await;
    answered(
        &svc,
        "catalog.reservation.rejected",
        |e: &ev::ReservationRejected| e.order_id == second.to_string() && e.reason == "unavailable",
    )
    .await;

    // The same event again (a redelivery), then the payment: held once, confirmed.
    svc.publish_as(first, &placed_first, placed_id).await;
    svc.publish(
        first,
        &order::OrderConfirmed {
            order_id: first.to_string(),
            ..Default::default()
        },
    )
    .await;
    answered(
        &svc,
        "catalog.reservation.confirmed",
        |e: &ev::ReservationConfirmed| e.order_id == first.to_string(),
    )
    .await;
    let reserved: Vec<ev::ReservationReserved> = svc.events("catalog.reservation.reserved").await;
    assert_eq!(reserved.len(), 1);

    // Extended by two days.
    let extension = Uuid::now_v7();
    svc.publish(
        first,
        &order::OrderExtensionRequested {
            order_id: first.to_string(),
            extension_id: extension.to_string(),
            new_end_date: day(7).to_string(),
        },
    )
    .await;
    answered(
        &svc,
        "catalog.reservation.extended",
        |e: &ev::ReservationExtended| {
            e.order_id == first.to_string()
                && e.extension_id == extension.to_string()
                && e.new_end_date == day(7).to_string()
        },
    )
    .await;
    assert_eq!(
        svc.count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE order_id = '{first}' AND status = 'confirmed' AND upper(period) = '{}'",
            day(7)
        ))
        .await,
        1
    );

    // Returned: the booking ends and the item goes to inspection.
    svc.publish(
        first,
        &order::OrderReturned {
            order_id: first.to_string(),
        },
    )
    .await;
    answered(
        &svc,
        "catalog.reservation.released",
        |e: &ev::ReservationReleased| e.order_id == first.to_string() && e.reason == "returned",
    )
    .await;
    let r = svc
        .get(&format!("/api/tools/{tool}/items"), &library.manager)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()[0]["status"], "maintenance");
    svc.patch(
        &format!("/api/tools/{tool}/items/{item}"),
        json!({ "status": "available" }),
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);

    // Placed and cancelled: the item is free again.
    let third = Uuid::now_v7();
    svc.publish(third, &placed(third, library.id, tool, 10, 12))
        .await;
    answered(
        &svc,
        "catalog.reservation.reserved",
        |e: &ev::ReservationReserved| e.order_id == third.to_string(),
    )
    .await;
    svc.publish(
        third,
        &order::OrderCancelled {
            order_id: third.to_string(),
            reason: "changed my mind".into(),
            ..Default::default()
        },
    )
    .await;
    answered(
        &svc,
        "catalog.reservation.released",
        |e: &ev::ReservationReleased| {
            e.order_id == third.to_string() && e.reason == "order_cancelled"
        },
    )
    .await;
    assert_eq!(svc.live(third).await, 0);
    let fourth = Uuid::now_v7();
    svc.publish(fourth, &placed(fourth, library.id, tool, 10, 12))
        .await;
    answered(
        &svc,
        "catalog.reservation.reserved",
        |e: &ev::ReservationReserved| e.order_id == fourth.to_string(),
    )
    .await;
}
