//! Who sees a library: its members, admins, and for a public library everyone, without a
//! token. Everything of a library the caller may not see is a 404, on every route.

use crate::common::{self, ANONYMOUS, Person, day};
use catalog::communities::{MemberRole, Visibility};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// Every route that names a tool, with a body that would be accepted.
fn routes(tool: Uuid, item: Uuid) -> Vec<(Method, String, Option<Value>)> {
    let period = format!("from={}&to={}", day(1), day(4));
    vec![
        (Method::GET, format!("/api/tools/{tool}"), None),
        (
            Method::GET,
            format!("/api/tools/{tool}/availability?{period}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/tools/{tool}/quote?{period}"),
            None,
        ),
        (Method::GET, format!("/api/tools/{tool}/similar"), None),
        (Method::PUT, format!("/api/favorites/{tool}"), None),
        (Method::GET, format!("/api/favorites/{tool}"), None),
        (Method::DELETE, format!("/api/favorites/{tool}"), None),
        (
            Method::PATCH,
            format!("/api/tools/{tool}"),
            Some(json!({ "name": "Mine now" })),
        ),
        (Method::GET, format!("/api/tools/{tool}/items"), None),
        (
            Method::POST,
            format!("/api/tools/{tool}/items"),
            Some(json!({ "serialNumber": "STOLEN-1" })),
        ),
        (
            Method::PATCH,
            format!("/api/tools/{tool}/items/{item}"),
            Some(json!({ "status": "retired" })),
        ),
        // Last: it would take the tool away for the other checks.
        (Method::DELETE, format!("/api/tools/{tool}"), None),
    ]
}

#[tokio::test]
async fn a_member_of_another_community_gets_404_on_every_route() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let other = svc.library("Birch Road", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc
        .tool(&library, category, "Cordless drill", json!({}))
        .await;
    let item = svc.items(&library, tool).await[0];
    let resident = svc.member(&library, MemberRole::Resident).await;
    // Each has standing in the other library, and none here.
    let elsewhere = svc.member(&other, MemberRole::Resident).await;
    let strangers: [(&str, &Person); 2] = [
        ("the other manager", &other.manager),
        ("a resident elsewhere", &elsewhere),
    ];
    for (who, stranger) in strangers {
        for (method, path, body) in routes(tool, item) {
            let r = svc.send(method.clone(), &path, body, stranger).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{who}: {method} {path}: {}",
                r.body
            );
            assert_eq!(r.body["success"], false);
        }
    }
    // Nothing happened: the tool, its name, its one item, no favourites.
    let r = svc
        .get(&format!("/api/tools/{tool}"), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], "Cordless drill");
    let r = svc
        .get(&format!("/api/tools/{tool}/items"), &library.manager)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    assert_eq!(r.data()[0]["status"], "available");
    let r = svc
        .get(&format!("/api/favorites/{tool}"), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["count"], 0);
    // Their lists and searches do not show it either.
    for path in [
        "/api/tools",
        "/api/tools/search?q=drill",
        "/api/tools/popular",
    ] {
        let r = svc.get(path, &other.manager).await.expect(StatusCode::OK);
        assert_eq!(r.data()["totalCount"], 0, "{path}");
    }
    let r = svc
        .get(
            &format!("/api/tools?communityId={}", library.id),
            &other.manager,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 0);
    // The admin sees everything.
    svc.get(&format!("/api/tools/{tool}"), &svc.admin())
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn anonymous_callers_see_public_libraries_only() {
    let svc = common::start().await;
    let members = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let public = svc.library("Open Yard", "EUR", Visibility::Public).await;
    let category = svc.category("Drills", None).await;
    let hidden = svc
        .tool(&members, category, "Cordless drill", json!({}))
        .await;
    let item = svc.items(&members, hidden).await[0];
    let shown = svc.tool(&public, category, "Hammer drill", json!({})).await;
    let inactive = svc.tool(&public, category, "Old drill", json!({})).await;
    svc.patch(
        &format!("/api/tools/{inactive}"),
        json!({ "active": false }),
        &public.manager,
    )
    .await
    .expect(StatusCode::OK);

    // The members-only tool: 404 where a token is optional, 401 where one is needed.
    for (method, path, body) in routes(hidden, item) {
        let r = svc.send(method.clone(), &path, body, ANONYMOUS).await;
        let needs_token =
            path.starts_with("/api/favorites") || path.contains("/items") || method != Method::GET;
        let want = if needs_token {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(r.status, want, "{method} {path}: {}", r.body);
    }

    // The public library's tool, without a token.
    let r = svc
        .get(&format!("/api/tools/{shown}"), ANONYMOUS)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], "Hammer drill");
    svc.get(
        &format!(
            "/api/tools/{shown}/availability?from={}&to={}",
            day(1),
            day(3)
        ),
        ANONYMOUS,
    )
    .await
    .expect(StatusCode::OK);
    svc.get(
        &format!("/api/tools/{shown}/quote?from={}&to={}", day(1), day(3)),
        ANONYMOUS,
    )
    .await
    .expect(StatusCode::OK);
    svc.get(&format!("/api/tools/{shown}/similar"), ANONYMOUS)
        .await
        .expect(StatusCode::OK);
    // An inactive tool only to those who run the library.
    svc.get(&format!("/api/tools/{inactive}"), ANONYMOUS)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.get(&format!("/api/tools/{inactive}"), &public.manager)
        .await
        .expect(StatusCode::OK);

    let names = |r: &common::Resp| -> Vec<String> {
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for path in ["/api/tools", "/api/tools/search?q=drill"] {
        let r = svc.get(path, ANONYMOUS).await.expect(StatusCode::OK);
        assert_eq!(names(&r), ["Hammer drill"], "{path}");
        assert_eq!(r.data()["totalCount"], 1);
    }
    // A member of the members-only library sees both libraries' tools.
    let resident = svc.member(&members, MemberRole::Resident).await;
    let r = svc
        .get("/api/tools?sort=price", &resident)
        .await
        .expect(StatusCode::OK);
    let mut seen = names(&r);
    seen.sort();
    assert_eq!(seen, ["Cordless drill", "Hammer drill"]);
    // A public library still takes no changes from strangers.
    svc.patch(
        &format!("/api/tools/{shown}"),
        json!({ "name": "Mine" }),
        &resident,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
}
