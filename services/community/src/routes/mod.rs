//! HTTP routes under `/api/communities`.

mod announcements;
mod communities;
mod invites;
mod members;

use crate::state::State;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::http::surface::{self, Routes};
use utoipa::OpenApi;

pub const PREFIX: &str = "/api/communities";

pub type Ctx = web::Data<State>;

pub fn configure(cfg: &mut web::ServiceConfig, state: State, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(verifier));
    surface::mount::<ApiDoc>(cfg, PREFIX, routes);
}

/// Every route of the service, in matching order: the document is collected from here.
pub fn routes(cfg: &mut Routes<'_>) {
    // Fixed paths before `/{id}`, which would otherwise claim them.
    cfg.service(members::join)
        .configure(communities::routes)
        .configure(invites::routes)
        .configure(members::routes)
        .configure(announcements::routes);
}

/// The document's front matter; its paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(info(
    title = "Community service",
    description = "Communities, invites by e-mail token, memberships and announcements."
))]
pub struct ApiDoc;

/// The published document, as [`configure`] serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    surface::document::<ApiDoc>(PREFIX, routes)
}

#[cfg(test)]
mod tests {

    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p community openapi_document` (or
    /// `cargo insta review`), and commit the snapshot with the change.
    #[test]
    fn openapi_document() {
        insta::with_settings!({ sort_maps => true, prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!("openapi", super::document());
        });
    }

    #[test]
    fn every_reference_of_the_document_resolves() {
        let missing = platform::http::surface::unresolved_refs(&super::document());
        assert!(missing.is_empty(), "unresolvable $refs: {missing:?}");
    }

    #[test]
    fn every_route_is_documented_and_pages_have_their_schema() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/api/communities", &["get", "post"][..]),
            ("/api/communities/{id}", &["get", "patch", "delete"]),
            ("/api/communities/join", &["post"]),
            ("/api/communities/{id}/invites", &["get", "post"]),
            ("/api/communities/{id}/invites/bulk", &["post"]),
            ("/api/communities/{id}/invites/{invite}/revoke", &["post"]),
            ("/api/communities/{id}/members", &["get"]),
            ("/api/communities/{id}/members/me", &["delete"]),
            ("/api/communities/{id}/members/{user}", &["delete"]),
            ("/api/communities/{id}/members/{user}/role", &["put"]),
            ("/api/communities/{id}/announcements", &["get", "post"]),
            (
                "/api/communities/{id}/announcements/{announcement}",
                &["delete"],
            ),
        ] {
            for m in methods {
                assert!(paths[path].get(*m).is_some(), "{m} {path} undocumented");
            }
        }
        for list in [
            "/api/communities",
            "/api/communities/{id}/invites",
            "/api/communities/{id}/members",
            "/api/communities/{id}/announcements",
        ] {
            let schema =
                &paths[list]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{list}: no page schema");
        }
    }
}
