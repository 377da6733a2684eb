//! Roles and permissions through the admin API, guarded by permission.

use crate::common::{self, PASSWORD, tokens};
use diesel_async::AsyncConnection;
use diesel_async::scoped_futures::ScopedFutureExt;
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn admin_routes_need_the_permission_and_grants_reach_tokens() {
    let svc = common::start().await;
    let (resident, _, _) = svc.signed_in(&common::email("resident")).await;
    let r = svc.get_auth("/admin/roles", &resident).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["success"], false);

    // The bootstrap path: the first super_admin is granted directly.
    let admin_email = common::email("admin");
    let admin_id = svc.register(&admin_email).await;
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    let state = svc.state.clone();
    conn.transaction::<_, auth::error::Error, _>(|conn| {
        async move {
            auth::rbac::grant(
                conn,
                &state,
                admin_id,
                "super_admin",
                None,
                &RequestId("t".into()),
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    let (admin, _, _) = tokens(&svc.login(&admin_email, PASSWORD, "d").await);
    let claims = svc.verifier.verify(&admin).await.unwrap();
    assert!(claims.perms.contains(&"roles.manage".to_owned()));

    let r = svc
        .post_auth(
            "/admin/permissions",
            json!({ "name": "tools.inspect", "description": "Inspect returned tools" }),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = svc
        .post_auth(
            "/admin/roles",
            json!({ "name": "inspector", "permissions": ["tools.inspect", "nope.nope"] }),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = svc
        .post_auth(
            "/admin/roles",
            json!({ "name": "inspector", "permissions": ["tools.inspect"] }),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let role_id = r.data()["id"].as_str().unwrap().to_owned();
    let r = svc
        .post_auth("/admin/roles", json!({ "name": "inspector" }), &admin)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Grant it to the resident; the next refresh carries it.
    let resident_email = common::email("promoted");
    let resident_id = svc.register(&resident_email).await;
    let (_, refresh, _) = tokens(&svc.login(&resident_email, PASSWORD, "d").await);
    let r = svc
        .post_auth(
            &format!("/admin/users/{resident_id}/roles"),
            json!({ "role": "inspector" }),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["roles"], json!(["inspector", "resident"]));
    let changed: ev::RolesChanged = svc
        .last_event(events::types::AUTH_USER_ROLES_CHANGED)
        .await
        .unwrap();
    assert_eq!(changed.user_id, resident_id.to_string());
    assert_eq!(changed.changed_by, admin_id.to_string());
    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh }))
        .await;
    let claims = svc
        .verifier
        .verify(r.data()["accessToken"].as_str().unwrap())
        .await
        .unwrap();
    assert!(claims.roles.contains(&"inspector".to_owned()));
    assert!(claims.perms.contains(&"tools.inspect".to_owned()));

    let r = svc
        .call(
            Method::DELETE,
            &format!("/admin/users/{resident_id}/roles/inspector"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.data()["roles"], json!(["resident"]));
    let system = svc.get_auth("/admin/roles", &admin).await;
    let resident_role = system
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "resident")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = svc
        .call(
            Method::DELETE,
            &format!("/admin/roles/{resident_role}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "system roles stay"
    );
    let r = svc
        .call(
            Method::DELETE,
            &format!("/admin/roles/{role_id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = svc
        .post_auth(
            &format!("/admin/users/{}/roles", uuid::Uuid::now_v7()),
            json!({ "role": "resident" }),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
