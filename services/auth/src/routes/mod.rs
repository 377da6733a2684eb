//! HTTP routes under `/api/auth`, plus the JWKS at the well-known path.

mod account;
mod admin;
mod public;

use crate::state::State;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use platform::auth::TokenVerifier;
use platform::http::surface::{self, Routes};
use platform::http::{ClientIp, RequestId};
use utoipa::OpenApi;

pub const PREFIX: &str = "/api/auth";

/// Who is calling, for sessions, rate limits and events.
pub struct Client {
    pub ip: std::net::IpAddr,
    pub user_agent: Option<String>,
    pub request_id: RequestId,
}

impl FromRequest for Client {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let ip = ClientIp::from_request(req, payload);
        let rid = RequestId::from_request(req, payload);
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Box::pin(async move {
            let (Ok(ClientIp(ip)), Ok(request_id)) = (ip.await, rid.await);
            Ok(Client {
                ip,
                user_agent,
                request_id,
            })
        })
    }
}

/// The handlers' shared state.
pub type Ctx = web::Data<State>;

pub fn configure(cfg: &mut web::ServiceConfig, state: State, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(verifier))
        // RFC 8615's location, where JWT libraries look; documented under the prefix.
        .service(public::jwks);
    surface::mount::<ApiDoc>(cfg, PREFIX, routes);
}

/// Every route of the service, in matching order: the document is collected from here.
pub fn routes(cfg: &mut Routes<'_>) {
    cfg.configure(public::routes)
        .configure(account::routes)
        .configure(admin::routes);
}

/// The document's front matter; its paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    info(title = "Auth service", description = "Identity, sessions, MFA, roles and signing keys."),
    tags((name = "auth", description = "Sign-up, sign-in and tokens"),
         (name = "account", description = "The caller's own account, sessions and devices"),
         (name = "admin", description = "Roles and permissions"))
)]
pub struct ApiDoc;

/// The published document, as [`configure`] serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    surface::document::<ApiDoc>(PREFIX, routes)
}

#[cfg(test)]
mod tests {

    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p auth openapi_document` (or
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
