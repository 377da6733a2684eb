//! HTTP routes: `/api/categories`, `/api/tools` and `/api/favorites`, one surface under
//! `/api` (the gateway sends those three areas here).

mod admin;
mod categories;
mod favourites;
mod images;
mod items;
mod reviews;
mod tools;

use crate::state::State;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::http::surface::{self, Routes};
use utoipa::OpenApi;

pub const PREFIX: &str = "/api";
/// Where the document is served, under the catalog's main area (the gateway's table).
pub const DOC_PATH: &str = "/tools/openapi.json";

pub type Ctx = web::Data<State>;

pub fn configure(cfg: &mut web::ServiceConfig, state: State, verifier: TokenVerifier) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::Data::new(verifier));
    surface::mount_at::<ApiDoc>(cfg, PREFIX, DOC_PATH, routes);
}

/// Every route of the service, in matching order: the document is collected from here.
pub fn routes(cfg: &mut Routes<'_>) {
    cfg.configure(categories::routes)
        .configure(admin::routes)
        .configure(tools::routes)
        .configure(images::routes)
        .configure(items::routes)
        .configure(reviews::routes)
        .configure(favourites::routes);
}

/// The document's front matter; its paths come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Catalog service",
        description = "Each community's tool library: categories, tools, inventory, availability, search and favourites. Amounts are integer minor units of the community's currency."
    ),
    tags(
        (name = "categories", description = "The category tree"),
        (name = "tools", description = "Tools: browsing, search, availability, prices, and their management"),
        (name = "images", description = "A tool's pictures: uploaded, resized, served"),
        (name = "inventory", description = "The physical items of a tool (the library's managers)"),
        (name = "reviews", description = "Reviews by those who rented the tool, and their moderation"),
        (name = "favorites", description = "The caller's favourite tools"),
    )
)]
pub struct ApiDoc;

/// The published document, as [`configure`] serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    surface::document::<ApiDoc>(PREFIX, routes)
}

/// A page request and its bounds, for every list here.
fn page(
    page: Option<u32>,
    page_size: Option<u32>,
) -> Result<platform::http::Page, platform::http::ApiError> {
    platform::http::PageQuery { page, page_size }.resolve()
}

#[cfg(test)]
mod tests {
    /// The whole published document, so every change to the API shows in review. After an
    /// intended change: `INSTA_UPDATE=always cargo test -p catalog openapi_document`, and
    /// commit the snapshot with the change.
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
    fn lists_have_their_page_schema() {
        let doc = serde_json::to_value(super::document()).unwrap();
        for list in ["/api/tools", "/api/tools/search", "/api/favorites"] {
            let schema = &doc["paths"][list]["get"]["responses"]["200"]["content"]["application/json"]
                ["schema"];
            assert!(schema.is_object(), "{list}: no page schema");
        }
    }
}
