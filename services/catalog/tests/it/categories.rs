//! The category tree: nesting and order, the ETag, cycles, deletion, who may change it.

use crate::common::{self, ANONYMOUS, Person, id_of};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

async fn create(svc: &common::Service, admin: &Person, body: Value) -> Uuid {
    id_of(
        &svc.post("/api/categories", body, admin)
            .await
            .expect(StatusCode::CREATED),
    )
}

/// `name` and children, recursively, as the tree nests them.
fn shape(nodes: &Value) -> Value {
    Value::Array(
        nodes
            .as_array()
            .unwrap()
            .iter()
            .map(|n| json!([n["name"], shape(&n["children"])]))
            .collect(),
    )
}

/// The tree with its ETag (a plain GET, anonymous: the tree is public).
async fn tree(svc: &common::Service, if_none_match: Option<&str>) -> (StatusCode, String, Value) {
    let mut req = svc.http.get(format!("{}/api/categories", svc.base));
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let tag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, tag, body)
}

#[tokio::test]
async fn the_tree_nests_in_sort_order_and_is_cached_by_etag() {
    let svc = common::start().await;
    let admin = svc.admin();
    let power = create(
        &svc,
        &admin,
        json!({ "name": "Power tools", "slug": "power-tools", "sortOrder": 1, "icon": "bolt", "colour": "#1f8a70" }),
    )
    .await;
    create(&svc, &admin, json!({ "name": "Garden", "slug": "garden" })).await;
    let drills = create(
        &svc,
        &admin,
        json!({ "name": "Drills", "slug": "drills", "parentId": power, "sortOrder": 2 }),
    )
    .await;
    create(
        &svc,
        &admin,
        json!({ "name": "Saws", "slug": "saws", "parentId": power, "sortOrder": 1 }),
    )
    .await;
    create(
        &svc,
        &admin,
        json!({ "name": "Cordless", "slug": "cordless", "parentId": drills }),
    )
    .await;
    // Equal sort orders go by name.
    create(
        &svc,
        &admin,
        json!({ "name": "Augers", "slug": "augers", "parentId": drills }),
    )
    .await;

    let (status, tag, body) = tree(&svc, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        shape(&body["data"]),
        json!([
            ["Garden", []],
            [
                "Power tools",
                [["Saws", []], ["Drills", [["Augers", []], ["Cordless", []]]]]
            ]
        ])
    );
    let power_node = &body["data"][1];
    assert_eq!(power_node["slug"], "power-tools");
    assert_eq!(power_node["icon"], "bolt");
    assert_eq!(power_node["colour"], "#1f8a70");
    assert_eq!(power_node["children"][1]["parentId"], power.to_string());

    let (status, again, body) = tree(&svc, Some(&tag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(again, tag);
    assert!(body.is_null());

    svc.patch(
        &format!("/api/categories/{drills}"),
        json!({ "name": "Drills and drivers" }),
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    let (status, changed, body) = tree(&svc, Some(&tag)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(changed, tag);
    assert_eq!(body["data"][1]["children"][1]["name"], "Drills and drivers");

    // An inactive category leaves the public tree with its subtree; admins still see it.
    svc.patch(
        &format!("/api/categories/{drills}"),
        json!({ "active": false }),
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    let (_, _, body) = tree(&svc, None).await;
    assert_eq!(
        shape(&body["data"]),
        json!([["Garden", []], ["Power tools", [["Saws", []]]]])
    );
    let r = svc
        .get("/api/categories?includeInactive=true", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.data()[1]["children"][1]["children"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    svc.get("/api/categories?includeInactive=true", &svc.person(&[]))
        .await
        .expect(StatusCode::FORBIDDEN);

    let r = svc
        .get(&format!("/api/categories/{power}"), ANONYMOUS)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], "Power tools");
    svc.get(&format!("/api/categories/{}", Uuid::now_v7()), ANONYMOUS)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn moves_that_make_a_cycle_and_deleting_a_parent_are_refused() {
    let svc = common::start().await;
    let admin = svc.admin();
    let root = create(&svc, &admin, json!({ "name": "Power", "slug": "power" })).await;
    let child = create(
        &svc,
        &admin,
        json!({ "name": "Drills", "slug": "drills", "parentId": root }),
    )
    .await;
    let grandchild = create(
        &svc,
        &admin,
        json!({ "name": "Cordless", "slug": "cordless", "parentId": child }),
    )
    .await;

    for parent in [grandchild, child, root] {
        let r = svc
            .patch(
                &format!("/api/categories/{root}"),
                json!({ "parentId": parent }),
                &admin,
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["code"], "category_cycle", "under {parent}");
    }
    // Moving down the other way is fine: the grandchild becomes a root, then the parent
    // of its old grandparent.
    svc.patch(
        &format!("/api/categories/{grandchild}"),
        json!({ "parentId": null }),
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    let r = svc
        .patch(
            &format!("/api/categories/{root}"),
            json!({ "parentId": grandchild }),
            &admin,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["parentId"], grandchild.to_string());
    svc.patch(
        &format!("/api/categories/{root}"),
        json!({ "parentId": Uuid::now_v7() }),
        &admin,
    )
    .await
    .expect(StatusCode::NOT_FOUND);

    // grandchild > root > child: deleting the top or the middle is refused.
    for busy in [grandchild, root] {
        let r = svc
            .send(
                Method::DELETE,
                &format!("/api/categories/{busy}"),
                None,
                &admin,
            )
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.body["code"], "category_in_use");
    }
    svc.send(
        Method::DELETE,
        &format!("/api/categories/{child}"),
        None,
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    svc.send(
        Method::DELETE,
        &format!("/api/categories/{root}"),
        None,
        &admin,
    )
    .await
    .expect(StatusCode::OK);
    svc.get(&format!("/api/categories/{root}"), ANONYMOUS)
        .await
        .expect(StatusCode::NOT_FOUND);

    // A category with tools is in use too.
    let library = svc
        .library("Elm Row", "EUR", catalog::communities::Visibility::Members)
        .await;
    svc.tool(&library, grandchild, "Cordless drill", json!({}))
        .await;
    let r = svc
        .send(
            Method::DELETE,
            &format!("/api/categories/{grandchild}"),
            None,
            &admin,
        )
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.body["code"], "category_in_use");
}

#[tokio::test]
async fn only_admins_change_the_tree_and_bad_fields_are_named() {
    let svc = common::start().await;
    let admin = svc.admin();
    let someone = svc.person(&[]);
    let body = json!({ "name": "Garden", "slug": "garden" });
    svc.post("/api/categories", body.clone(), &someone)
        .await
        .expect(StatusCode::FORBIDDEN);
    svc.post("/api/categories", body.clone(), ANONYMOUS)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let garden = create(&svc, &admin, body.clone()).await;
    svc.patch(
        &format!("/api/categories/{garden}"),
        json!({ "name": "Mine" }),
        &someone,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    svc.send(
        Method::DELETE,
        &format!("/api/categories/{garden}"),
        None,
        &someone,
    )
    .await
    .expect(StatusCode::FORBIDDEN);

    let field = |r: &common::Resp| r.body["errors"][0]["field"].as_str().unwrap().to_owned();
    for (bad, named) in [
        (json!({ "name": "Power", "slug": "Power Tools" }), "slug"),
        (json!({ "name": "Power", "slug": "power--tools" }), "slug"),
        (
            json!({ "name": "Power", "slug": "power", "colour": "#FFF" }),
            "colour",
        ),
        (
            json!({ "name": "Power", "slug": "power", "colour": "#1F8A70" }),
            "colour",
        ),
        (json!({ "name": "", "slug": "power" }), "name"),
        // Taken.
        (json!({ "name": "Garden two", "slug": "garden" }), "slug"),
    ] {
        let r = svc
            .post("/api/categories", bad.clone(), &admin)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(field(&r), named, "{bad}");
    }
    let r = svc
        .patch(
            &format!("/api/categories/{garden}"),
            json!({ "colour": "green" }),
            &admin,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(field(&r), "colour");
    let r = svc
        .patch(
            &format!("/api/categories/{garden}"),
            json!({ "slug": "Garden" }),
            &admin,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(field(&r), "slug");
    // Nothing of that reached the tree.
    let r = svc
        .get("/api/categories", ANONYMOUS)
        .await
        .expect(StatusCode::OK);
    assert_eq!(shape(r.data()), json!([["Garden", []]]));
    assert_eq!(r.data()[0]["slug"], "garden");
}
