//! HTTP routes under `/api/users`.

mod addresses;
mod admin;
mod me;

use crate::state::State;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::http::surface::{self, Routes};
use utoipa::OpenApi;

pub const PREFIX: &str = "/api/users";

pub type Ctx = web::Data<State>;

pub fn configure(cfg: &mut web::ServiceConfig, state: State, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(verifier));
    surface::mount::<ApiDoc>(cfg, PREFIX, routes);
}

/// Every route of the service, in matching order: the document is collected from here.
pub fn routes(cfg: &mut Routes<'_>) {
    // Fixed paths before `/{id}`, which would otherwise claim them.
    cfg.configure(me::routes)
        .configure(addresses::routes)
        .configure(admin::routes)
        .service(me::by_username)
        .service(me::by_id);
}

/// The document's front matter; its paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(info(
    title = "User service",
    description = "Profiles, addresses, preferences, referrals and account lifecycle."
))]
pub struct ApiDoc;

/// The published document, as [`configure`] serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    surface::document::<ApiDoc>(PREFIX, routes)
}

#[cfg(test)]
mod tests {

    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p user openapi_document` (or
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
}
