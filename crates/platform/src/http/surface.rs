//! A service's HTTP surface: its handlers mounted under one prefix, and the OpenAPI
//! document collected from that very registration, so a route cannot exist without being
//! in the document (nor the document list a route that does not exist).
//!
//! Handlers carry their method and path once, in actix's attribute, with the documentation
//! above it:
//!
//! ```ignore
//! #[utoipa::path(tag = "invites", security(("bearer" = [])), responses(...))]
//! #[post("/{id}/invites")]
//! pub async fn invite(...) -> ApiResult { ... }
//!
//! pub fn routes(cfg: &mut Routes<'_>) {
//!     cfg.service(invite).service(list);
//! }
//! ```
//!
//! and `routes/mod.rs` mounts them: `surface::mount::<ApiDoc>(cfg, PREFIX, routes)`, where
//! `ApiDoc` is a `#[derive(OpenApi)]` holding only the document's `info`. The kit adds the
//! bearer scheme and the envelopes ([`super::openapi`]), serves the document at
//! `<prefix>/openapi.json` (merged by the gateway), and answers a known path asked with a
//! method it does not have with `405` and `Allow` (RFC 9110 §15.5.6), which actix's
//! per-handler resources cannot do on their own.

use super::envelope::{ErrorBody, FieldError};
use super::error::ApiError;
use super::openapi::{BearerAuth, Envelope};
use actix_web::dev::{ResourceDef, ServiceFactory, ServiceRequest};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::{Arc, OnceLock};
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::HttpMethod;
use utoipa::{Modify, PartialSchema, ToSchema};
use utoipa_actix_web::OpenApiFactory;
use utoipa_actix_web::scope::Scope;

/// Where handlers are registered: `cfg.service(handler)` records the route and its
/// documentation together. Plain `route(..)` registrations are not documented: do not use
/// them for API routes.
pub use utoipa_actix_web::service_config::ServiceConfig as Routes;

/// The routes of one service, as a function so the same registration serves the server and
/// the document's snapshot test.
pub type RouteFn = fn(&mut Routes<'_>);

/// Mounts `routes` under `prefix`, with the document at `<prefix>/openapi.json` and the 405s.
pub fn mount<D: utoipa::OpenApi>(cfg: &mut web::ServiceConfig, prefix: &str, routes: RouteFn) {
    mount_at::<D>(cfg, prefix, "/openapi.json", routes)
}

/// [`mount`] for a service whose area spans several path roots (`/api` with `/tools`,
/// `/categories`, ...): the document is served at `<prefix><doc_path>`.
pub fn mount_at<D: utoipa::OpenApi>(
    cfg: &mut web::ServiceConfig,
    prefix: &str,
    doc_path: &str,
    routes: RouteFn,
) {
    // The document route goes first, or a `/{id}` handler would claim `openapi.json`; its
    // body is known only once the routes are collected.
    let body = Arc::new(OnceLock::<web::Bytes>::new());
    let served = body.clone();
    let scope = utoipa_actix_web::scope(prefix).route(
        doc_path,
        web::get().to(move || {
            let body = served.get().cloned().unwrap_or_default();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }),
    );
    let (scope, doc) = collect::<D, _>(scope, routes);
    match serde_json::to_vec(&doc) {
        Ok(json) => {
            let _ = body.set(web::Bytes::from(json));
        }
        // A programming error the snapshot test catches; the service still serves.
        Err(e) => tracing::error!(error = %e, "the OpenAPI document does not serialise"),
    }
    let allowed = Arc::new(Allowed::from_doc(&doc));
    cfg.service(scope.default_service(web::to(move |req: HttpRequest| {
        let allowed = allowed.clone();
        async move { allowed.answer(&req) }
    })));
}

/// The document `mount` serves, for the snapshot test.
pub fn document<D: utoipa::OpenApi>(prefix: &str, routes: RouteFn) -> OpenApi {
    collect::<D, _>(utoipa_actix_web::scope(prefix), routes).1
}

/// The `$ref`s of a document that name no component: a client generator (and
/// schemathesis) refuses such a document. A path parameter typed with a schema that no body
/// uses is the usual cause: write it `inline(Type)`.
pub fn unresolved_refs(doc: &OpenApi) -> Vec<String> {
    fn walk(v: &serde_json::Value, root: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    let found = r
                        .strip_prefix('#')
                        .and_then(|pointer| root.pointer(pointer))
                        .is_some();
                    if !found {
                        out.push(r.clone());
                    }
                }
                map.values().for_each(|x| walk(x, root, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, root, out)),
            _ => {}
        }
    }
    let root = serde_json::to_value(doc).unwrap_or_default();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out.dedup();
    out
}

fn collect<D, T>(scope: Scope<T>, routes: RouteFn) -> (Scope<T>, OpenApi)
where
    D: utoipa::OpenApi,
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let scope = scope.configure(routes);
    let mut doc = D::openapi();
    // `paths` takes what the scope collected, prefixed; the scope itself stays registrable.
    doc.paths.merge(scope.paths());
    let mut schemas = Vec::new();
    scope.schemas(&mut schemas);
    schemas.push((ErrorBody::name().into_owned(), ErrorBody::schema()));
    schemas.push((FieldError::name().into_owned(), FieldError::schema()));
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    BearerAuth.modify(&mut doc);
    Envelope.modify(&mut doc);
    (scope, doc)
}

/// Every documented path template with the methods it has, to tell "no such path" (404)
/// from "not with this method" (405).
struct Allowed(Vec<(ResourceDef, String)>);

impl Allowed {
    fn from_doc(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (HttpMethod::Get, &item.get),
                    (HttpMethod::Put, &item.put),
                    (HttpMethod::Post, &item.post),
                    (HttpMethod::Delete, &item.delete),
                    (HttpMethod::Patch, &item.patch),
                    (HttpMethod::Head, &item.head),
                    (HttpMethod::Options, &item.options),
                ]
                .into_iter()
                .filter(|(_, op)| op.is_some())
                .map(|(m, _)| method_name(&m))
                .collect::<Vec<_>>()
                .join(", ");
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self(routes)
    }

    fn answer(&self, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
        match self.0.iter().find(|(def, _)| def.is_match(req.path())) {
            Some((_, allow)) => {
                let mut res = HttpResponse::from_error(ApiError::new(
                    actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                    format!("{} is not allowed here; allowed: {allow}", req.method()),
                ));
                if let Ok(value) = header::HeaderValue::from_str(allow) {
                    res.headers_mut().insert(header::ALLOW, value);
                }
                Ok(res)
            }
            None => Err(ApiError::not_found("route")),
        }
    }
}

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Put => "PUT",
        HttpMethod::Post => "POST",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Head => "HEAD",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{TestRequest, call_service, init_service, read_body_json};
    use actix_web::{App, delete, get};

    #[derive(utoipa::OpenApi)]
    #[openapi(info(title = "Things"))]
    struct Doc;

    /// A thing.
    #[utoipa::path(tag = "things", params(("id" = u32, Path, description = "Thing id")),
        responses((status = 200, description = "The thing")))]
    #[get("/{id}")]
    async fn get_thing(id: web::Path<u32>) -> HttpResponse {
        HttpResponse::Ok().body(id.to_string())
    }

    /// Removes a thing.
    #[utoipa::path(tag = "things", params(("id" = u32, Path, description = "Thing id")),
        responses((status = 204, description = "Gone")))]
    #[delete("/{id}")]
    async fn delete_thing(_id: web::Path<u32>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    fn routes(cfg: &mut Routes<'_>) {
        cfg.service(get_thing).service(delete_thing);
    }

    #[test]
    fn the_document_is_what_was_registered() {
        let doc = serde_json::to_value(document::<Doc>("/api/things", routes)).unwrap();
        let item = &doc["paths"]["/api/things/{id}"];
        assert_eq!(item["get"]["operationId"], "get_thing");
        assert_eq!(item["delete"]["operationId"], "delete_thing");
        assert_eq!(doc["paths"].as_object().unwrap().len(), 1);
        // The kit's modifiers ran: the envelope and the error components are there.
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    #[actix_web::test]
    async fn a_known_path_with_another_method_is_405_with_allow() {
        let app =
            init_service(App::new().configure(|cfg| mount::<Doc>(cfg, "/api/things", routes)))
                .await;
        let ok = call_service(&app, TestRequest::get().uri("/api/things/7").to_request()).await;
        assert_eq!(ok.status(), 200);
        let res = call_service(&app, TestRequest::put().uri("/api/things/7").to_request()).await;
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers().get("allow").unwrap(), "GET, DELETE");
        let res = call_service(&app, TestRequest::get().uri("/api/things/7/x").to_request()).await;
        assert_eq!(res.status(), 404);
        let res = call_service(
            &app,
            TestRequest::get()
                .uri("/api/things/openapi.json")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = read_body_json(res).await;
        assert!(body["paths"]["/api/things/{id}"]["get"].is_object());
    }
}
