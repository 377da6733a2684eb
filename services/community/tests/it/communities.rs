//! Creating, reading, listing, changing and deleting communities, and who may.

use crate::common::{self, CREATE, MANAGE};
use events::proto::community::v1 as ev;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_manager_creates_a_community_and_gets_its_details() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let r = svc
        .post(
            "",
            json!({
                "name": "  Elm Row  ",
                "address": { "line1": "2 Elm Row", "city": "Leeds", "postalCode": "LS1 1AA", "country": "gb" },
            }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    let d = r.data();
    assert_eq!(d["name"], "Elm Row");
    assert_eq!(d["address"]["country"], "GB");
    assert_eq!(d["address"]["postalCode"], "LS1 1AA");
    assert!(d["coordinates"].is_null());
    assert_eq!(d["manager"]["id"], manager.id.to_string());
    assert_eq!(d["manager"]["name"], "Pat");
    assert_eq!(d["memberCount"], 1);
    assert_eq!(d["myRole"], "manager");
    assert!(d["createdAt"].is_string());

    let created: Vec<ev::CommunityCreated> = svc.events("community.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].manager_id, manager.id.to_string());
    let joined: Vec<ev::MemberJoined> = svc.events("community.member.joined").await;
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].role, ev::CommunityRole::Manager as i32);
}

#[tokio::test]
async fn residents_cannot_create_communities_and_bad_input_is_named() {
    let svc = common::start().await;
    let resident = svc.person(&[]).await;
    let body =
        json!({ "name": "Oak", "address": { "line1": "1 Oak", "city": "York", "country": "GB" } });
    svc.post("", body, &resident.token)
        .await
        .expect(StatusCode::FORBIDDEN);

    let manager = svc.person(&[CREATE]).await;
    let r = svc
        .post(
            "",
            json!({
                "name": "O",
                "address": { "line1": "", "city": "York", "country": "Britain" },
                "coordinates": { "latitude": 91.0, "longitude": 0.0 },
            }),
            &manager.token,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "address.country",
            "address.line1",
            "coordinates.latitude",
            "name"
        ]
    );
    for name in ["   ", " a "] {
        let body = json!({ "name": name, "address": { "line1": "1 Oak", "city": "York", "country": "GB" } });
        let r = svc
            .post("", body, &manager.token)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["errors"][0]["field"], "name", "{name:?}");
    }
    assert!(
        svc.events::<ev::CommunityCreated>("community.created")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_non_member_gets_404_on_a_community() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Ash Close").await;
    let stranger = svc.person(&[CREATE]).await;
    for path in [
        format!("/{id}"),
        format!("/{id}/members"),
        format!("/{id}/announcements"),
        format!("/{id}/invites"),
    ] {
        let r = svc
            .get(&path, &stranger.token)
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.body["success"], false, "{path}");
    }
    svc.call(
        Method::PATCH,
        &format!("/{id}"),
        Some(json!({ "name": "Mine" })),
        &stranger.token,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    svc.call(Method::DELETE, &format!("/{id}"), None, &stranger.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.post(
        &format!("/{id}/invites"),
        json!({ "email": "x@example.com" }),
        &stranger.token,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    let (invite, _) = svc.invite(id, &manager, "someone@example.com").await;
    let member = svc.member(id, &manager).await;
    let announced = svc
        .post(
            &format!("/{id}/announcements"),
            json!({ "title": "T", "body": "B" }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    let announcement = announced.data()["id"].as_str().unwrap().to_owned();
    let others: [(Method, String, Option<serde_json::Value>); 7] = [
        (
            Method::POST,
            format!("/{id}/invites/bulk"),
            Some(json!({ "emails": ["y@example.com"] })),
        ),
        (Method::POST, format!("/{id}/invites/{invite}/revoke"), None),
        (Method::DELETE, format!("/{id}/members/{}", member.id), None),
        (
            Method::PUT,
            format!("/{id}/members/{}/role", member.id),
            Some(json!({ "role": "moderator" })),
        ),
        (
            Method::POST,
            format!("/{id}/announcements"),
            Some(json!({ "title": "T", "body": "B" })),
        ),
        (
            Method::DELETE,
            format!("/{id}/announcements/{announcement}"),
            None,
        ),
        (Method::DELETE, format!("/{id}/members/me"), None),
    ];
    for (method, path, body) in others {
        svc.call(method.clone(), &path, body, &stranger.token)
            .await
            .expect(StatusCode::NOT_FOUND);
    }
    // Nothing happened: the invite is active, the member and the announcement are there.
    let r = svc
        .get(&format!("/{id}/invites?status=active"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);
    let r = svc
        .get(&format!("/{id}/members?role=resident"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);
    let r = svc
        .get(&format!("/{id}/announcements"), &member.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 1);
    // The same answer as for a community that does not exist.
    svc.get(&format!("/{}", uuid::Uuid::now_v7()), &stranger.token)
        .await
        .expect(StatusCode::NOT_FOUND);

    let admin = svc.person(&[MANAGE]).await;
    let r = svc
        .get(&format!("/{id}"), &admin.token)
        .await
        .expect(StatusCode::OK);
    assert!(r.data()["myRole"].is_null());
    let r = svc
        .get(&format!("/{id}"), &member.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["myRole"], "resident");
    assert_eq!(r.data()["memberCount"], 2);
}

#[tokio::test]
async fn listings_filter_sort_and_page() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let other = svc.person(&[CREATE]).await;
    let mut ids = Vec::new();
    for (name, city) in [
        ("Cedar Court", "Bath"),
        ("Alder Way", "bath"),
        ("Birch Lane", "Leeds"),
    ] {
        let r = svc
            .post(
                "",
                json!({ "name": name, "address": { "line1": "1 Road", "city": city, "country": "GB" } }),
                &manager.token,
            )
            .await
            .expect(StatusCode::CREATED);
        ids.push(r.data()["id"].as_str().unwrap().to_owned());
    }
    let elsewhere = svc.community(&other, "Elsewhere").await;
    let resident = svc.member(elsewhere, &other).await;

    let names = |r: &common::Resp| -> Vec<String> {
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = svc
        .get("?sort=name", &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r), ["Alder Way", "Birch Lane", "Cedar Court"]);
    let r = svc
        .get("?sort=-createdAt&pageSize=2", &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r), ["Birch Lane", "Alder Way"]);
    assert_eq!(r.data()["totalCount"], 3);
    assert_eq!(r.data()["hasNext"], true);
    let r = svc
        .get("?sort=-createdAt&pageSize=2&page=2", &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r), ["Cedar Court"]);
    let r = svc
        .get("?city=BATH&sort=-name", &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r), ["Cedar Court", "Alder Way"]);
    let r = svc
        .get("?q=lane", &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r), ["Birch Lane"]);
    let r = svc
        .get("?q=%25", &manager.token)
        .await
        .expect(StatusCode::OK);
    assert!(names(&r).is_empty(), "% is matched literally");
    let r = svc
        .get("?scope=managed", &other.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r), ["Elsewhere"]);
    let r = svc.get("", &resident.token).await.expect(StatusCode::OK);
    assert_eq!(names(&r), ["Elsewhere"]);
    let r = svc
        .get("?scope=managed", &resident.token)
        .await
        .expect(StatusCode::OK);
    assert!(names(&r).is_empty());

    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let r = svc
        .get(
            &format!("?createdFrom={}", urlencode(&future)),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert!(names(&r).is_empty());
    let r = svc
        .get(
            &format!("?createdTo={}", urlencode(&future)),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(names(&r).len(), 3);

    svc.get("?scope=all", &manager.token)
        .await
        .expect(StatusCode::FORBIDDEN);
    let admin = svc.person(&[MANAGE]).await;
    let r = svc
        .get("?scope=all&pageSize=100", &admin.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 4);
    for bad in [
        "?sort=size",
        "?scope=everything",
        "?pageSize=0",
        "?createdFrom=yesterday",
    ] {
        svc.get(bad, &manager.token)
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn updates_are_partial_and_only_for_the_manager_or_an_admin() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Hazel Gardens").await;
    let member = svc.member(id, &manager).await;
    let path = format!("/{id}");

    svc.call(
        Method::PATCH,
        &path,
        Some(json!({ "name": "Mine now" })),
        &member.token,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let r = svc
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "description": "New words", "coordinates": null })),
            &manager.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], "Hazel Gardens");
    assert_eq!(r.data()["description"], "New words");
    assert!(r.data()["coordinates"].is_null());
    assert_eq!(r.data()["address"]["city"], "Bristol");
    svc.call(
        Method::PATCH,
        &path,
        Some(json!({ "colour": "red" })),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    svc.call(
        Method::PATCH,
        &path,
        Some(json!({ "coordinates": { "latitude": 0.0, "longitude": 200.0 } })),
        &manager.token,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);

    let admin = svc.person(&[MANAGE]).await;
    let r = svc
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "address": { "line1": "9 Lane", "city": "Wells", "country": "GB" } })),
            &admin.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["address"]["city"], "Wells");
    let updates: Vec<ev::CommunityUpdated> = svc.events("community.updated").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1].updated_by, admin.id.to_string());
    assert_eq!(updates[1].address.as_ref().unwrap().city, "Wells");
}

#[tokio::test]
async fn deleting_tells_the_members_and_closes_the_invites() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Willow Walk").await;
    let member = svc.member(id, &manager).await;
    let invitee = svc.person(&[]).await;
    let (_, token) = svc.invite(id, &manager, &invitee.email).await;

    svc.call(Method::DELETE, &format!("/{id}"), None, &member.token)
        .await
        .expect(StatusCode::FORBIDDEN);
    svc.call(Method::DELETE, &format!("/{id}"), None, &manager.token)
        .await
        .expect(StatusCode::OK);
    svc.get(&format!("/{id}"), &manager.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    svc.get(&format!("/{id}"), &member.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    let r = svc.get("", &member.token).await.expect(StatusCode::OK);
    assert_eq!(r.data()["totalCount"], 0);

    let deleted: Vec<ev::CommunityDeleted> = svc.events("community.deleted").await;
    assert_eq!(deleted.len(), 1);
    let mut ids = deleted[0].member_ids.clone();
    ids.sort();
    let mut want = vec![manager.id.to_string(), member.id.to_string()];
    want.sort();
    assert_eq!(ids, want);
    let revoked: Vec<ev::InviteRevoked> = svc.events("community.invite.revoked").await;
    assert_eq!(revoked.len(), 1);
    svc.post("/join", json!({ "token": token }), &invitee.token)
        .await
        .expect(StatusCode::GONE);
}

// What the catalog is told about each community: who may browse its tool library and the
// currency its tools are priced in (community.* events are all it learns them from).

#[tokio::test]
async fn a_community_created_without_catalog_settings_is_members_only_in_euros() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Rowan Yard").await;
    let r = svc
        .get(&format!("/{id}"), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["catalogVisibility"], "members");
    assert_eq!(r.data()["currency"], "EUR");

    let created: Vec<ev::CommunityCreated> = svc.events("community.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].catalog_visibility,
        ev::CatalogVisibility::Members as i32
    );
    assert_eq!(created[0].currency, "EUR");
}

#[tokio::test]
async fn a_community_created_with_catalog_settings_keeps_them_and_tells_the_catalog() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let r = svc
        .post(
            "",
            json!({
                "name": "Larch Road",
                "address": { "line1": "3 Larch Road", "city": "Zurich", "country": "CH" },
                "catalogVisibility": "public",
                "currency": "CHF",
            }),
            &manager.token,
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.data()["catalogVisibility"], "public");
    assert_eq!(r.data()["currency"], "CHF");
    assert_eq!(r.data()["address"]["city"], "Zurich");

    let listed = svc.get("", &manager.token).await.expect(StatusCode::OK);
    assert_eq!(listed.data()["items"][0]["catalogVisibility"], "public");
    assert_eq!(listed.data()["items"][0]["currency"], "CHF");

    let created: Vec<ev::CommunityCreated> = svc.events("community.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].catalog_visibility,
        ev::CatalogVisibility::Public as i32
    );
    assert_eq!(created[0].currency, "CHF");
    assert_eq!(created[0].address.as_ref().unwrap().city, "Zurich");
}

#[tokio::test]
async fn bad_catalog_settings_are_refused_with_the_field_named() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let address = json!({ "line1": "1 Oak", "city": "York", "country": "GB" });
    for bad in ["eur", "EURO", "EU", "E1R", "", "€UR"] {
        let r = svc
            .post(
                "",
                json!({ "name": "Oak", "address": address, "currency": bad }),
                &manager.token,
            )
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["success"], false, "{bad:?}");
        assert_eq!(r.body["errors"][0]["field"], "currency", "{bad:?}");
    }
    // Reported with the other invalid fields, not instead of them.
    let r = svc
        .post(
            "",
            json!({ "name": "O", "address": address, "currency": "pounds" }),
            &manager.token,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["currency", "name"]);
    for body in [
        json!({ "name": "Oak", "address": address, "catalogVisibility": "everyone" }),
        json!({ "name": "Oak", "address": address, "currency": 978 }),
    ] {
        let r = svc
            .post("", body.clone(), &manager.token)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["success"], false, "{body}");
    }
    assert!(
        svc.events::<ev::CommunityCreated>("community.created")
            .await
            .is_empty()
    );

    let id = svc.community(&manager, "Oak Mews").await;
    let path = format!("/{id}");
    for body in [
        json!({ "currency": "usd" }),
        json!({ "currency": "US$" }),
        json!({ "catalogVisibility": "PUBLIC" }),
    ] {
        svc.call(Method::PATCH, &path, Some(body.clone()), &manager.token)
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
    let r = svc
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "currency": "gbp" })),
            &manager.token,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["field"], "currency");
    let r = svc.get(&path, &manager.token).await.expect(StatusCode::OK);
    assert_eq!(r.data()["currency"], "EUR");
    assert_eq!(r.data()["catalogVisibility"], "members");
    assert!(
        svc.events::<ev::CommunityUpdated>("community.updated")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_manager_or_an_admin_changes_the_catalog_settings_and_the_catalog_is_told() {
    let svc = common::start().await;
    let manager = svc.person(&[CREATE]).await;
    let id = svc.community(&manager, "Poplar Place").await;
    let member = svc.member(id, &manager).await;
    let stranger = svc.person(&[CREATE]).await;
    let path = format!("/{id}");
    let change = json!({ "catalogVisibility": "public", "currency": "GBP" });

    svc.call(Method::PATCH, &path, Some(change.clone()), &member.token)
        .await
        .expect(StatusCode::FORBIDDEN);
    svc.call(Method::PATCH, &path, Some(change.clone()), &stranger.token)
        .await
        .expect(StatusCode::NOT_FOUND);
    assert!(
        svc.events::<ev::CommunityUpdated>("community.updated")
            .await
            .is_empty()
    );

    let r = svc
        .call(Method::PATCH, &path, Some(change), &manager.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["catalogVisibility"], "public");
    assert_eq!(r.data()["currency"], "GBP");
    assert_eq!(r.data()["name"], "Poplar Place");
    let r = svc.get(&path, &member.token).await.expect(StatusCode::OK);
    assert_eq!(r.data()["catalogVisibility"], "public");
    assert_eq!(r.data()["currency"], "GBP");

    // Absent (or null, as for the other fields that cannot be cleared) keeps them.
    for body in [
        json!({ "name": "Poplar Square" }),
        json!({ "currency": null, "catalogVisibility": null }),
    ] {
        let r = svc
            .call(Method::PATCH, &path, Some(body), &manager.token)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.data()["catalogVisibility"], "public");
        assert_eq!(r.data()["currency"], "GBP");
    }

    let admin = svc.person(&[MANAGE]).await;
    let r = svc
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "catalogVisibility": "members", "currency": "JPY" })),
            &admin.token,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["catalogVisibility"], "members");
    assert_eq!(r.data()["currency"], "JPY");

    // Every update carries the whole picture, the settings included.
    let updates: Vec<ev::CommunityUpdated> = svc.events("community.updated").await;
    let seen: Vec<(i32, &str, &str)> = updates
        .iter()
        .map(|u| (u.catalog_visibility, u.currency.as_str(), u.name.as_str()))
        .collect();
    let (public, members) = (
        ev::CatalogVisibility::Public as i32,
        ev::CatalogVisibility::Members as i32,
    );
    assert_eq!(
        seen,
        [
            (public, "GBP", "Poplar Place"),
            (public, "GBP", "Poplar Square"),
            (public, "GBP", "Poplar Square"),
            (members, "JPY", "Poplar Square"),
        ]
    );
    assert_eq!(updates[0].updated_by, manager.id.to_string());
    assert_eq!(updates[3].updated_by, admin.id.to_string());
}

#[tokio::test]
async fn communities_stored_before_the_settings_read_as_members_only_in_euros() {
    let svc = common::start().await;
    let admin = svc.person(&[MANAGE]).await;
    let id = uuid::Uuid::now_v7();
    // A row as the previous schema wrote it: the migration's defaults fill the new columns.
    svc.sql(&format!(
        "INSERT INTO communities (id, name, line1, city, country, manager_id) \
         VALUES ('{id}', 'Old Row', '1 Old Road', 'Hull', 'GB', '{}')",
        uuid::Uuid::now_v7()
    ))
    .await;
    let r = svc
        .get(&format!("/{id}"), &admin.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["catalogVisibility"], "members");
    assert_eq!(r.data()["currency"], "EUR");
}
