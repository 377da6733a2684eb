//! HTTP routes under `/api/communities`.

mod announcements;
mod communities;
mod invites;
mod members;

use crate::state::State;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::http::openapi::BearerAuth;
use utoipa::OpenApi;

pub const PREFIX: &str = "/api/communities";

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
                .route("/join", web::post().to(members::join))
                .configure(communities::routes)
                .configure(invites::routes)
                .configure(members::routes)
                .configure(announcements::routes),
        );
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Community service", description = "Communities, invites by e-mail token, memberships and announcements."),
    paths(
        communities::create, communities::list, communities::get, communities::update,
        communities::delete,
        invites::invite, invites::bulk, invites::list, invites::revoke,
        members::join, members::list, members::leave, members::remove, members::change_role,
        announcements::publish, announcements::list, announcements::delete,
    ),
    components(schemas(platform::http::ErrorBody, platform::http::FieldError)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Tells "absent" (outer `None`, via `default`) from "null" (`Some(None)`).
pub(crate) fn double<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
