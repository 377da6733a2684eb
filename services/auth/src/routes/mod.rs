//! HTTP routes under `/api/auth`, plus the JWKS at the well-known path.

mod account;
mod admin;
mod public;

use crate::state::State;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use platform::auth::TokenVerifier;
use platform::http::openapi::{BearerAuth, Envelope};
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
        .route("/.well-known/jwks.json", web::get().to(public::jwks))
        .service(
            web::scope(PREFIX)
                .route("/.well-known/jwks.json", web::get().to(public::jwks))
                .route(
                    "/openapi.json",
                    web::get().to(platform::http::openapi::serve::<ApiDoc>),
                )
                .configure(public::routes)
                .configure(account::routes)
                .configure(admin::routes),
        );
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Auth service", description = "Identity, sessions, MFA, roles and signing keys."),
    paths(
        public::register, public::login, public::login_otp, public::login_mfa, public::refresh,
        public::otp_send, public::otp_verify, public::verify_email, public::forgot_password,
        public::reset_password, public::jwks,
        account::me, account::logout, account::logout_all, account::resend_verification,
        account::change_password, account::change_email, account::change_phone,
        account::sessions, account::revoke_session, account::revoke_other_sessions,
        account::devices, account::trust_device, account::block_device, account::unblock_device,
        account::mfa_setup, account::mfa_enable, account::mfa_disable, account::recovery_codes,
        admin::list_roles, admin::create_role, admin::get_role, admin::update_role,
        admin::delete_role, admin::list_permissions, admin::create_permission,
        admin::delete_permission, admin::user_roles, admin::grant_role, admin::revoke_role,
    ),
    components(schemas(platform::http::ErrorBody, platform::http::FieldError)),
    modifiers(&BearerAuth, &Envelope),
    tags((name = "auth", description = "Sign-up, sign-in and tokens"),
         (name = "account", description = "The caller's own account, sessions and devices"),
         (name = "admin", description = "Roles and permissions"))
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p auth openapi_document` (or
    /// `cargo insta review`), and commit the snapshot with the change.
    #[test]
    fn openapi_document() {
        insta::with_settings!({ sort_maps => true, prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!("openapi", super::ApiDoc::openapi());
        });
    }
}
