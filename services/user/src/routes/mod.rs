//! HTTP routes under `/api/users`.

mod addresses;
mod admin;
mod me;

use crate::state::State;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::http::openapi::{BearerAuth, Envelope};
use utoipa::OpenApi;

pub const PREFIX: &str = "/api/users";

pub type Ctx = web::Data<State>;

pub fn configure(cfg: &mut web::ServiceConfig, state: State, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(verifier))
        .service(
            web::scope(PREFIX)
                .route(
                    "/openapi.json",
                    web::get().to(platform::http::openapi::serve::<ApiDoc>),
                )
                // Fixed paths before `/{id}`, which would otherwise claim them.
                .configure(me::routes)
                .configure(addresses::routes)
                .configure(admin::routes)
                .route("/by-username/{username}", web::get().to(me::by_username))
                .route("/{id}", web::get().to(me::by_id)),
        );
}

#[derive(OpenApi)]
#[openapi(
    info(title = "User service", description = "Profiles, addresses, preferences, referrals and account lifecycle."),
    paths(
        me::me, me::update_me, me::change_username, me::referrals, me::get_preferences,
        me::put_preferences, me::delete_me, me::by_id, me::by_username,
        addresses::list, addresses::create, addresses::get, addresses::update,
        addresses::delete, addresses::set_default,
        admin::search, admin::suspend, admin::ban, admin::reinstate,
    ),
    components(schemas(platform::http::ErrorBody, platform::http::FieldError)),
    modifiers(&BearerAuth, &Envelope),
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p user openapi_document` (or
    /// `cargo insta review`), and commit the snapshot with the change.
    #[test]
    fn openapi_document() {
        insta::with_settings!({ sort_maps => true, prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!("openapi", super::ApiDoc::openapi());
        });
    }
}
