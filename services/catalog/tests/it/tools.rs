//! Tools: who adds and changes them, their prices in the community's currency, the events
//! carts learn prices from, quotes, and the surface's 405.

use crate::common::{self, ANONYMOUS, day, id_of};
use catalog::communities::{MemberRole, Visibility};
use events::proto::catalog::v1 as ev;
use reqwest::{Method, StatusCode, header};
use serde_json::json;

#[tokio::test]
async fn a_manager_prices_a_tool_in_the_communitys_currency_and_residents_see_it() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "GBP", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let r = svc
        .post(
            "/api/tools",
            json!({
                "communityId": library.id,
                "categoryId": category,
                "name": "  Cordless drill  ",
                "description": "18V, two batteries",
                "brand": "Bosch",
                "specifications": [{ "name": "Voltage", "value": "18", "unit": "V" }],
                "dailyPrice": 1200,
                "weeklyPrice": 6000,
                "deposit": 5000,
                "bufferDays": 1,
                "initialItems": 2,
            }),
            &library.manager,
        )
        .await
        .expect(StatusCode::CREATED);
    let tool = id_of(&r);
    let d = r.data();
    assert_eq!(d["name"], "Cordless drill");
    assert_eq!(d["communityId"], library.id.to_string());
    assert_eq!(
        d["dailyPrice"],
        json!({ "amount": 1200, "currency": "GBP" })
    );
    assert_eq!(
        d["weeklyPrice"],
        json!({ "amount": 6000, "currency": "GBP" })
    );
    assert!(d["monthlyPrice"].is_null());
    assert_eq!(d["deposit"], json!({ "amount": 5000, "currency": "GBP" }));
    assert_eq!(
        (d["minRentalDays"].as_i64(), d["maxRentalDays"].as_i64()),
        (Some(1), Some(30))
    );
    assert_eq!(d["bufferDays"], 1);
    assert_eq!(d["specifications"][0]["unit"], "V");
    assert!(d["ratingTenths"].is_null());
    assert_eq!(svc.items(&library, tool).await.len(), 2);

    let resident = svc.member(&library, MemberRole::Resident).await;
    let r = svc
        .get(&format!("/api/tools/{tool}"), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["dailyPrice"]["currency"], "GBP");
    let r = svc
        .get("/api/tools", &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["items"][0]["id"], tool.to_string());
    assert_eq!(r.data()["totalCount"], 1);

    // A resident sees the tool but does not run the library.
    svc.patch(
        &format!("/api/tools/{tool}"),
        json!({ "dailyPrice": 1 }),
        &resident,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.send(
        Method::DELETE,
        &format!("/api/tools/{tool}"),
        None,
        &resident,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.get(&format!("/api/tools/{tool}/items"), &resident)
        .await
        .expect(StatusCode::FORBIDDEN);
    svc.post(
        &format!("/api/tools/{tool}/items"),
        json!({ "serialNumber": "X1" }),
        &resident,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.post(
        "/api/tools",
        json!({ "communityId": library.id, "categoryId": category, "name": "Saw", "dailyPrice": 1, "deposit": 0 }),
        &resident,
    )
    .await
    .expect(StatusCode::FORBIDDEN);

    let r = svc
        .patch(
            &format!("/api/tools/{tool}"),
            json!({ "dailyPrice": 1500, "weeklyPrice": null, "brand": null }),
            &library.manager,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.data()["dailyPrice"],
        json!({ "amount": 1500, "currency": "GBP" })
    );
    assert!(r.data()["weeklyPrice"].is_null());
    assert!(r.data()["brand"].is_null());
    assert_eq!(r.data()["description"], "18V, two batteries");

    let created: Vec<ev::ToolCreated> = svc.events("catalog.tool.created").await;
    assert_eq!(created.len(), 1);
    let t = created[0].tool.as_ref().unwrap();
    assert_eq!(t.tool_id, tool.to_string());
    assert_eq!(t.community_id, library.id.to_string());
    assert_eq!(
        t.daily_price,
        Some(ev::Money {
            amount: 1200,
            currency: "GBP".into()
        })
    );
    assert_eq!(t.weekly_price.as_ref().map(|m| m.amount), Some(6000));
    assert_eq!(t.deposit.as_ref().map(|m| m.amount), Some(5000));
    assert_eq!(t.buffer_days, 1);
    assert!(t.active);
    assert_eq!(created[0].created_by, library.manager.id.to_string());
    let updated: Vec<ev::ToolUpdated> = svc.events("catalog.tool.updated").await;
    assert_eq!(updated.len(), 1);
    let t = updated[0].tool.as_ref().unwrap();
    assert_eq!(
        t.daily_price,
        Some(ev::Money {
            amount: 1500,
            currency: "GBP".into()
        })
    );
    assert!(t.weekly_price.is_none());
}

#[tokio::test]
async fn moderators_and_admins_run_the_library_and_bad_tools_are_refused() {
    let svc = common::start().await;
    let library = svc.library("Oak Lane", "EUR", Visibility::Members).await;
    let category = svc.category("Garden", None).await;
    let moderator = svc.member(&library, MemberRole::Moderator).await;
    let body = |name: &str| json!({ "communityId": library.id, "categoryId": category, "name": name, "dailyPrice": 500, "deposit": 0 });
    let r = svc
        .post("/api/tools", body("Rake"), &moderator)
        .await
        .expect(StatusCode::CREATED);
    let rake = id_of(&r);
    let admin = svc.admin();
    svc.post("/api/tools", body("Hoe"), &admin)
        .await
        .expect(StatusCode::CREATED);
    svc.patch(
        &format!("/api/tools/{rake}"),
        json!({ "name": "Leaf rake" }),
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    // A manager of nothing here, and an unknown community.
    svc.post("/api/tools", body("Spade"), &svc.person(&[]))
        .await
        .expect(StatusCode::NOT_FOUND);
    let mut unknown = body("Spade");
    unknown["communityId"] = json!(uuid::Uuid::now_v7());
    svc.post("/api/tools", unknown, &library.manager)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.post("/api/tools", body("Spade"), ANONYMOUS)
        .await
        .expect(StatusCode::UNAUTHORIZED);

    let field = |r: &common::Resp| r.body["errors"][0]["field"].as_str().unwrap().to_owned();
    let mut bad = body("Spade");
    bad["categoryId"] = json!(uuid::Uuid::now_v7());
    let r = svc
        .post("/api/tools", bad, &library.manager)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(field(&r), "categoryId");
    let mut bad = body("Spade");
    bad["minRentalDays"] = json!(10);
    bad["maxRentalDays"] = json!(5);
    let r = svc
        .post("/api/tools", bad, &library.manager)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(field(&r), "maxRentalDays");
    let mut bad = body("Spade");
    bad["dailyPrice"] = json!(-1);
    let r = svc
        .post("/api/tools", bad, &library.manager)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(field(&r), "dailyPrice");
    // Only three tools were made, and only two events for the two accepted.
    assert_eq!(
        svc.events::<ev::ToolCreated>("catalog.tool.created")
            .await
            .len(),
        2
    );

    // Deleted: gone for everyone, an event says so.
    svc.send(
        Method::DELETE,
        &format!("/api/tools/{rake}"),
        None,
        &moderator,
    )
    .await
    .expect(StatusCode::OK);
    svc.get(&format!("/api/tools/{rake}"), &library.manager)
        .await
        .expect(StatusCode::NOT_FOUND);
    let deleted: Vec<ev::ToolDeleted> = svc.events("catalog.tool.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].tool_id, rake.to_string());
}

#[tokio::test]
async fn a_quote_applies_the_weekly_rate_within_the_rental_length() {
    let svc = common::start().await;
    let library = svc.library("Ash Close", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc
        .tool(
            &library,
            category,
            "Hammer drill",
            json!({ "dailyPrice": 1000, "weeklyPrice": 5000, "deposit": 7500, "minRentalDays": 2, "maxRentalDays": 20 }),
        )
        .await;
    let resident = svc.member(&library, MemberRole::Resident).await;
    let quote = |from: u64, to: u64, quantity: u32| {
        format!(
            "/api/tools/{tool}/quote?from={}&to={}&quantity={quantity}",
            day(from),
            day(to)
        )
    };
    // 10 days: a week and three days (3 days cost less than a week).
    let r = svc
        .get(&quote(1, 11, 2), &resident)
        .await
        .expect(StatusCode::OK);
    let d = r.data();
    assert_eq!(d["days"], 10);
    assert_eq!(d["quantity"], 2);
    assert_eq!(d["unitRent"], json!({ "amount": 8000, "currency": "EUR" }));
    assert_eq!(d["rent"], json!({ "amount": 16000, "currency": "EUR" }));
    assert_eq!(d["deposit"], json!({ "amount": 15000, "currency": "EUR" }));
    // 6 days never cost more than a week.
    let r = svc
        .get(&quote(1, 7, 1), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["unitRent"]["amount"], 5000);
    // 2 days: the daily rate.
    let r = svc
        .get(&quote(1, 3, 1), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["unitRent"]["amount"], 2000);

    for (from, to) in [(1, 2), (1, 22)] {
        let r = svc
            .get(&quote(from, to, 1), &resident)
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["code"], "rental_length", "{from}..{to}");
    }
    let r = svc
        .get(&quote(5, 5, 1), &resident)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["code"], "empty_period");
    svc.get(&quote(1, 3, 0), &resident)
        .await
        .expect(StatusCode::BAD_REQUEST);
    svc.get(
        &format!("/api/tools/{tool}/quote?from=tomorrow&to=later"),
        &resident,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let svc = common::start().await;
    let r = svc
        .send(Method::PUT, "/api/tools", Some(json!({})), ANONYMOUS)
        .await
        .expect(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["success"], false);
    assert_eq!(r.headers[header::ALLOW], "GET, POST");
    let r = svc
        .send(
            Method::POST,
            "/api/categories/0192f9a4-0000-7000-8000-000000000000",
            None,
            ANONYMOUS,
        )
        .await
        .expect(StatusCode::METHOD_NOT_ALLOWED);
    let allow = r.headers[header::ALLOW].to_str().unwrap();
    for m in ["GET", "PATCH", "DELETE"] {
        assert!(allow.contains(m), "{allow}");
    }
    assert!(!allow.contains("POST"), "{allow}");
    svc.get("/api/no-such-thing", ANONYMOUS)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn blank_names_and_reasons_are_400_not_a_database_refusal() {
    let svc = common::start().await;
    let library = svc
        .library("Elm Row", "EUR", catalog::communities::Visibility::Members)
        .await;
    let admin = svc.admin();
    let r = svc
        .post(
            "/api/categories",
            json!({ "name": "   ", "slug": "blank" }),
            &admin,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "name");
    let category = svc.category("Drills", None).await;
    let r = svc
        .post(
            "/api/tools",
            json!({ "communityId": library.id, "categoryId": category, "name": " \t ",
                    "dailyPrice": 100, "deposit": 0 }),
            &library.manager,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "name");
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    svc.patch(
        &format!("/api/tools/{tool}"),
        json!({ "name": "  " }),
        &library.manager,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
}
