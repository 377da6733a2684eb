//! Reviews: only a completed rental gives the right to one, per rented line; the tool's
//! rating follows visible reviews in the same transaction; authors edit and delete their
//! own; reports count once per person; moderators hide and show with a reason.

use crate::common::{self, ANONYMOUS};
use catalog::communities::{MemberRole, Visibility};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

/// What order.completed tells the catalog: `user` rented `tool` on a new order line.
async fn rented(svc: &common::Service, user: Uuid, tool: Uuid) -> Uuid {
    let line = Uuid::now_v7();
    let mut conn = platform::db::conn(&svc.pool).await.unwrap();
    catalog::reviews::rented_in(&mut conn, Uuid::now_v7(), user, &[(line, tool)])
        .await
        .unwrap();
    line
}

#[tokio::test]
async fn only_renters_review_once_per_rental_and_the_rating_follows() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let drill = svc.tool(&library, category, "Drill", json!({})).await;
    let ann = svc.member(&library, MemberRole::Resident).await;
    let bob = svc.member(&library, MemberRole::Resident).await;
    let path = format!("/api/tools/{drill}/reviews");

    // Not rented: refused; someone else's rental line: refused too.
    let bobs_line = rented(&svc, bob.id, drill).await;
    let r = svc
        .post(
            &path,
            json!({ "orderItemId": bobs_line, "rating": 5 }),
            &ann,
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["code"], "not_rented");

    let line = rented(&svc, ann.id, drill).await;
    svc.post(&path, json!({ "orderItemId": line, "rating": 6 }), &ann)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let r = svc
        .post(
            &path,
            json!({ "orderItemId": line, "rating": 4, "comment": " Solid " }),
            &ann,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.data()["rentedIt"], true);
    assert_eq!(r.data()["comment"], "Solid");
    let review = common::id_of(&r);
    let again = svc
        .post(&path, json!({ "orderItemId": line, "rating": 1 }), &ann)
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "already_reviewed");
    svc.post(
        &path,
        json!({ "orderItemId": bobs_line, "rating": 2 }),
        &bob,
    )
    .await
    .expect(StatusCode::CREATED);

    let tool = svc
        .get(&format!("/api/tools/{drill}"), &ann)
        .await
        .expect(StatusCode::OK);
    // (4 + 2) / 2 = 3.0 stars.
    assert_eq!(
        (
            tool.data()["ratingTenths"].clone(),
            tool.data()["ratingCount"].clone()
        ),
        (json!(30), json!(2))
    );

    // Edits change the rating; another's review is a 404 to edit or delete.
    svc.patch(&format!("{path}/{review}"), json!({ "rating": 5 }), &ann)
        .await
        .expect(StatusCode::OK);
    svc.patch(&format!("{path}/{review}"), json!({ "rating": 1 }), &bob)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.send(Method::DELETE, &format!("{path}/{review}"), None, &bob)
        .await
        .expect(StatusCode::NOT_FOUND);
    let tool = svc.get(&format!("/api/tools/{drill}"), &ann).await;
    assert_eq!(tool.data()["ratingTenths"], 35);

    let list = svc.get(&path, &bob).await.expect(StatusCode::OK);
    assert_eq!(list.data()["totalCount"], 2);
    // Another community's member sees no reviews (the tool is a 404 to them).
    let stranger = svc.person(&[]);
    svc.get(&path, &stranger)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.get(&path, ANONYMOUS)
        .await
        .expect(StatusCode::NOT_FOUND);

    // Deleting one's own review takes it out of the rating.
    svc.send(Method::DELETE, &format!("{path}/{review}"), None, &ann)
        .await
        .expect(StatusCode::OK);
    let tool = svc.get(&format!("/api/tools/{drill}"), &ann).await;
    assert_eq!(
        (
            tool.data()["ratingTenths"].clone(),
            tool.data()["ratingCount"].clone()
        ),
        (json!(20), json!(1))
    );
}

#[tokio::test]
async fn reports_count_once_and_moderators_hide_with_a_reason() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Saws", None).await;
    let saw = svc.tool(&library, category, "Saw", json!({})).await;
    let ann = svc.member(&library, MemberRole::Resident).await;
    let bob = svc.member(&library, MemberRole::Resident).await;
    let path = format!("/api/tools/{saw}/reviews");
    let line = rented(&svc, ann.id, saw).await;
    let r = svc
        .post(
            &path,
            json!({ "orderItemId": line, "rating": 1, "comment": "rude words" }),
            &ann,
        )
        .await
        .expect(StatusCode::CREATED);
    let review = common::id_of(&r);

    for _ in 0..2 {
        svc.post(
            &format!("{path}/{review}/report"),
            json!({ "reason": "insulting" }),
            &bob,
        )
        .await
        .expect(StatusCode::ACCEPTED);
    }
    assert_eq!(
        svc.count(&format!(
            "SELECT reports::bigint AS n FROM reviews WHERE id = '{review}'"
        ))
        .await,
        1
    );

    // Only admins moderate.
    let hide = json!({ "status": "hidden", "reason": "insults" });
    svc.send(
        Method::PUT,
        &format!("{path}/{review}/moderation"),
        Some(hide.clone()),
        &library.manager,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let admin = svc.admin();
    let r = svc
        .send(
            Method::PUT,
            &format!("{path}/{review}/moderation"),
            Some(hide),
            &admin,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["status"], "hidden");
    assert_eq!(r.data()["moderationReason"], "insults");

    // Hidden: gone from the members' list and from the rating; the admin still sees it.
    let list = svc.get(&path, &bob).await.expect(StatusCode::OK);
    assert_eq!(list.data()["totalCount"], 0);
    let tool = svc.get(&format!("/api/tools/{saw}"), &bob).await;
    assert_eq!(tool.data()["ratingCount"], 0);
    assert!(tool.data()["ratingTenths"].is_null());
    let list = svc.get(&path, &admin).await.expect(StatusCode::OK);
    assert_eq!(list.data()["totalCount"], 1);
    // Shown again: counted again.
    svc.send(
        Method::PUT,
        &format!("{path}/{review}/moderation"),
        Some(json!({ "status": "visible", "reason": "appeal upheld" })),
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    let tool = svc.get(&format!("/api/tools/{saw}"), &bob).await;
    assert_eq!(tool.data()["ratingTenths"], 10);
}
