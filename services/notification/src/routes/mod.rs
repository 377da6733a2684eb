//! HTTP routes under `/api/notifications`.

mod admin;
mod mine;

use crate::state::State;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::http::surface::{self, Routes};
use utoipa::OpenApi;

pub const PREFIX: &str = "/api/notifications";

pub type Ctx = web::Data<State>;

pub fn configure(cfg: &mut web::ServiceConfig, state: State, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(verifier));
    surface::mount::<ApiDoc>(cfg, PREFIX, routes);
}

/// Every route of the service, in matching order: the document is collected from here.
pub fn routes(cfg: &mut Routes<'_>) {
    // Fixed paths before `/{id}`.
    cfg.configure(admin::routes).configure(mine::routes);
}

/// The document's front matter; its paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(info(
    title = "Notification service",
    description = "In-app inbox, push tokens, broadcasts and the delivery log; e-mail, SMS and push are sent from events."
))]
pub struct ApiDoc;

/// The published document, as [`configure`] serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    surface::document::<ApiDoc>(PREFIX, routes)
}

#[cfg(test)]
mod tests {

    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p notification openapi_document` (or
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
    fn every_route_is_documented() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, method) in [
            ("/api/notifications", "get"),
            ("/api/notifications/unread-count", "get"),
            ("/api/notifications/{id}/read", "post"),
            ("/api/notifications/read-all", "post"),
            ("/api/notifications/{id}", "delete"),
            ("/api/notifications/push-tokens", "post"),
            ("/api/notifications/push-tokens", "get"),
            ("/api/notifications/push-tokens/{id}", "delete"),
            ("/api/notifications/admin/broadcasts", "post"),
            ("/api/notifications/admin/broadcasts/{id}", "get"),
            ("/api/notifications/admin/deliveries", "get"),
        ] {
            assert!(paths[path].get(method).is_some(), "{method} {path}");
        }
    }
}
