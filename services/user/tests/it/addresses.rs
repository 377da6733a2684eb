//! Addresses: one default under concurrency, other users' ids are 404, validation.

use crate::common;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn address(name: &str) -> Value {
    json!({ "name": name, "city": "Almaty", "street": "Abay Ave", "building": "10", "apartment": "5", "latitude": 43.24, "longitude": 76.91 })
}

#[tokio::test]
async fn concurrent_default_switches_leave_exactly_one_default() {
    let svc = common::start().await;
    let (_, token) = common::with_profile(&svc).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = svc
            .call(
                Method::POST,
                "/me/addresses",
                Some(address(&format!("place {i}"))),
                &token,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(
            r.data()["isDefault"],
            i == 0,
            "the first address is the default"
        );
        ids.push(r.data()["id"].as_str().unwrap().to_owned());
    }
    let switches = (0..30).map(|i| {
        let id = ids[i % ids.len()].clone();
        let (svc, token) = (&svc, &token);
        async move {
            svc.call(
                Method::PUT,
                &format!("/me/addresses/{id}/default"),
                None,
                token,
            )
            .await
            .status
        }
    });
    for status in futures::future::join_all(switches).await {
        assert_eq!(status, StatusCode::OK);
    }
    let list = svc.get("/me/addresses", &token).await;
    let defaults = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isDefault"] == true)
        .count();
    assert_eq!(defaults, 1);
    assert_eq!(list.data()[0]["isDefault"], true, "the default comes first");

    // Deleting the default hands it to another address.
    let default_id = list.data()[0]["id"].as_str().unwrap().to_owned();
    let r = svc
        .call(
            Method::DELETE,
            &format!("/me/addresses/{default_id}"),
            None,
            &token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let list = svc.get("/me/addresses", &token).await;
    assert_eq!(list.data().as_array().unwrap().len(), 4);
    assert_eq!(
        list.data()
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["isDefault"] == true)
            .count(),
        1
    );
}

#[tokio::test]
async fn another_users_address_is_a_404() {
    let svc = common::start().await;
    let (_, owner) = common::with_profile(&svc).await;
    let (_, stranger) = common::with_profile(&svc).await;
    let r = svc
        .call(Method::POST, "/me/addresses", Some(address("home")), &owner)
        .await;
    let id = r.data()["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        (Method::GET, format!("/me/addresses/{id}"), None),
        (
            Method::PATCH,
            format!("/me/addresses/{id}"),
            Some(json!({ "name": "mine now" })),
        ),
        (Method::PUT, format!("/me/addresses/{id}/default"), None),
        (Method::DELETE, format!("/me/addresses/{id}"), None),
    ] {
        let r = svc.call(method.clone(), &path, body, &stranger).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let r = svc.get(&format!("/me/addresses/{id}"), &owner).await;
    assert_eq!(r.data()["name"], "home", "untouched");
    assert!(
        svc.get("/me/addresses", &stranger)
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn addresses_are_validated() {
    let svc = common::start().await;
    let (_, token) = common::with_profile(&svc).await;
    let mut bad = address("x");
    bad["latitude"] = json!(123.0);
    bad["city"] = json!("");
    let r = svc
        .call(Method::POST, "/me/addresses", Some(bad), &token)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"latitude") && fields.contains(&"city"),
        "{fields:?}"
    );
    let mut half = address("x");
    half.as_object_mut().unwrap().remove("longitude");
    let r = svc
        .call(Method::POST, "/me/addresses", Some(half), &token)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        svc.get("/me/addresses", &token)
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing half-written"
    );
    // No token at all.
    let r = svc
        .http
        .get(format!("{}/api/users/me/addresses", svc.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn patches_keep_absent_fields_and_clear_null_ones() {
    let svc = common::start().await;
    let (_, token) = common::with_profile(&svc).await;
    let r = svc
        .call(Method::POST, "/me/addresses", Some(address("home")), &token)
        .await;
    let id = r.data()["id"].as_str().unwrap().to_owned();
    let r = svc
        .call(Method::PATCH, &format!("/me/addresses/{id}"), Some(json!({ "apartment": null, "latitude": null, "longitude": null, "street": "  Dostyk  " })), &token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["apartment"], Value::Null);
    assert_eq!(r.data()["latitude"], Value::Null);
    assert_eq!(r.data()["street"], "Dostyk");
    assert_eq!(r.data()["city"], "Almaty", "absent fields stay");
    let r = svc
        .call(
            Method::PATCH,
            &format!("/me/addresses/{id}"),
            Some(json!({ "name": "   " })),
            &token,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = svc
        .call(
            Method::POST,
            "/me/addresses",
            Some(json!({ "name": " ", "city": "A", "street": "B", "building": "1" })),
            &token,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "name");
}
