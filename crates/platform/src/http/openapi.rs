//! What every service's OpenAPI document shares: the bearer security scheme and the route
//! that serves the document (`<prefix>/openapi.json`, merged by the gateway).

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Adds the `bearer` (JWT) security scheme the handlers' `security(("bearer" = []))` name.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The handler serving a service's document: `.route("/openapi.json", web::get().to(serve::<ApiDoc>))`.
pub async fn serve<D: utoipa::OpenApi>() -> HttpResponse {
    HttpResponse::Ok().json(D::openapi())
}
