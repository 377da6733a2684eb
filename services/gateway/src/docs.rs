//! `GET /api/docs`: Swagger UI (bundled into the binary, nothing fetched from the internet)
//! over one OpenAPI document merged from every upstream's own.
//!
//! Merging keeps the first service's definition of a path, and when two services define a
//! component of the same name differently, the later one is renamed `<Name>_<service>` and
//! its references rewritten, so no document silently changes another's schema.

use crate::routing::RouteTable;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub const DOCS_PATH: &str = "/api/docs";
pub const DOC_PATH: &str = "/api/docs/openapi.json";

/// The merged document, fetched on demand and reused for a while.
pub struct Docs {
    http: reqwest::Client,
    /// (service name, document URL) of every enabled upstream that has a document.
    sources: Vec<(String, String)>,
    ttl: Duration,
    cache: Mutex<Option<(Instant, Arc<Vec<u8>>)>>,
}

impl Docs {
    pub fn new(table: &RouteTable, ttl: Duration) -> anyhow::Result<Self> {
        let sources = table
            .upstreams()
            .iter()
            .filter_map(|u| {
                Some((
                    u.name.clone(),
                    format!("{}{}", u.url.as_ref()?, u.openapi.as_ref()?),
                ))
            })
            .collect();
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()?,
            sources,
            ttl,
            cache: Mutex::new(None),
        })
    }

    async fn fetch(&self, url: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// The merged document; concurrent callers share one refresh (the lock is held across it).
    pub async fn merged(&self) -> Arc<Vec<u8>> {
        let mut cache = self.cache.lock().await;
        if let Some((at, doc)) = cache.as_ref()
            && at.elapsed() < self.ttl
        {
            return doc.clone();
        }
        let fetched = futures::future::join_all(
            self.sources
                .iter()
                .map(|(name, url)| async move { (name.clone(), self.fetch(url).await) }),
        )
        .await;
        let mut docs = Vec::new();
        let mut missing = Vec::new();
        for (name, result) in fetched {
            match result {
                Ok(doc) => docs.push((name, doc)),
                Err(e) => {
                    tracing::debug!(service = name, error = %e, "no OpenAPI document");
                    missing.push(name);
                }
            }
        }
        let body = serde_json::to_vec(&merge(docs, &missing)).unwrap_or_default();
        let body = Arc::new(body);
        *cache = Some((Instant::now(), body.clone()));
        body
    }
}

const COMPONENT_KINDS: &[&str] = &[
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
];

fn rewrite_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "$ref"
                    && let Value::String(target) = v
                    && let Some((_, to)) = renames.iter().find(|(from, _)| from == target)
                {
                    *target = to.clone();
                } else {
                    rewrite_refs(v, renames);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

fn object<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = v.as_object_mut()?;
    map.entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// One document from many; `missing` names the services that did not answer.
pub fn merge(docs: Vec<(String, Value)>, missing: &[String]) -> Value {
    let mut description =
        "Every service's API behind the gateway. Sign in with POST /api/auth/login, then use \
         the access token with Authorize."
            .to_owned();
    if !missing.is_empty() {
        description.push_str(&format!(
            "\n\nNot available right now (not deployed or not answering): {}.",
            missing.join(", ")
        ));
    }
    let mut merged = json!({
        "openapi": "3.1.0",
        "info": { "title": "Neighbourly API", "version": env!("CARGO_PKG_VERSION"), "description": description },
        "paths": {},
        "components": {},
        "tags": [],
    });
    for (service, original) in docs {
        // Components that clash with an earlier service's get this service's suffix. A
        // rename can make another component clash (an identical wrapper now pointing at
        // the renamed schema), so renaming repeats until nothing new clashes.
        let mut renames: Vec<(String, String)> = Vec::new();
        let mut doc = original.clone();
        loop {
            let mut found = Vec::new();
            for kind in COMPONENT_KINDS {
                let Some(theirs) = doc
                    .pointer(&format!("/components/{kind}"))
                    .and_then(Value::as_object)
                else {
                    continue;
                };
                for (name, def) in theirs {
                    let from = format!("#/components/{kind}/{name}");
                    if renames.iter().any(|(f, _)| *f == from) {
                        continue;
                    }
                    let ours = merged.pointer(&format!("/components/{kind}/{name}"));
                    if ours.is_some_and(|o| o != def) {
                        found.push((from, format!("#/components/{kind}/{name}_{service}")));
                    }
                }
            }
            if found.is_empty() {
                break;
            }
            renames.extend(found);
            doc = original.clone();
            rewrite_refs(&mut doc, &renames);
        }
        for kind in COMPONENT_KINDS {
            let Some(theirs) = doc
                .pointer(&format!("/components/{kind}"))
                .and_then(Value::as_object)
                .cloned()
            else {
                continue;
            };
            let Some(ours) = object(&mut merged, "components").and_then(|c| {
                c.entry((*kind).to_owned())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
            }) else {
                continue;
            };
            for (name, def) in theirs {
                let renamed = format!("#/components/{kind}/{name}");
                let key = if renames.iter().any(|(from, _)| *from == renamed) {
                    format!("{name}_{service}")
                } else {
                    name
                };
                ours.entry(key).or_insert(def);
            }
        }
        if let Some(paths) = doc.get("paths").and_then(Value::as_object).cloned()
            && let Some(ours) = object(&mut merged, "paths")
        {
            for (path, item) in paths {
                if ours.contains_key(&path) {
                    tracing::warn!(
                        service,
                        path,
                        "path defined by two services; keeping the first"
                    );
                    continue;
                }
                ours.insert(path, item);
            }
        }
        if let Some(tags) = doc.get("tags").and_then(Value::as_array).cloned()
            && let Some(ours) = merged.get_mut("tags").and_then(Value::as_array_mut)
        {
            for tag in tags {
                if !ours.iter().any(|t| t.get("name") == tag.get("name")) {
                    ours.push(tag);
                }
            }
        }
    }
    merged
}

async fn document(docs: web::Data<Docs>) -> HttpResponse {
    let body = docs.merged().await;
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body.as_ref().clone())
}

async fn to_ui() -> HttpResponse {
    // The UI's assets are relative to the directory, so it must be addressed with the slash.
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{DOCS_PATH}/")))
        .finish()
}

/// The docs routes; the document route comes before the UI's catch-all.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(DOC_PATH, web::get().to(document))
        .route(DOCS_PATH, web::get().to(to_ui))
        .service(SwaggerUi::new(format!("{DOCS_PATH}/{{_:.*}}")).config(Config::from(DOC_PATH)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &str, schema: Value) -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": { path: { "get": { "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } } } } } },
            "components": { "schemas": { "Thing": schema, "ErrorBody": { "type": "object" } },
                            "securitySchemes": { "bearerAuth": { "type": "http", "scheme": "bearer" } } },
            "tags": [{ "name": "things" }]
        })
    }

    #[test]
    fn a_rename_carries_over_to_components_that_refer_to_it() {
        let with_wrapper = |thing: Value| {
            let mut d = doc("/api/x", thing);
            d["components"]["schemas"]["Wrapper"] = json!({ "type": "object", "properties": { "t": { "$ref": "#/components/schemas/Thing" } } });
            d["paths"]["/api/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
                json!({ "$ref": "#/components/schemas/Wrapper" });
            d
        };
        let mut b = with_wrapper(json!({ "type": "integer" }));
        b["paths"] = json!({ "/api/y": b["paths"]["/api/x"].clone() });
        let m = merge(
            vec![
                ("a".into(), with_wrapper(json!({ "type": "string" }))),
                ("b".into(), b),
            ],
            &[],
        );
        let y = m
            .pointer("/paths/~1api~1y/get/responses/200/content/application~1json/schema/$ref")
            .unwrap();
        assert_eq!(y, "#/components/schemas/Wrapper_b");
        assert_eq!(
            m.pointer("/components/schemas/Wrapper_b/properties/t/$ref")
                .unwrap(),
            "#/components/schemas/Thing_b"
        );
        assert_eq!(
            m.pointer("/components/schemas/Thing_b/type"),
            Some(&json!("integer"))
        );
    }

    #[test]
    fn paths_and_components_are_united_and_clashes_renamed() {
        let a = doc("/api/a", json!({ "type": "string" }));
        let b = doc("/api/b", json!({ "type": "integer" }));
        let m = merge(
            vec![("auth".into(), a), ("user".into(), b)],
            &["catalog".into()],
        );
        assert!(m.pointer("/paths/~1api~1a").is_some());
        assert!(m.pointer("/paths/~1api~1b").is_some());
        assert_eq!(
            m.pointer("/components/schemas/Thing/type"),
            Some(&json!("string"))
        );
        assert_eq!(
            m.pointer("/components/schemas/Thing_user/type"),
            Some(&json!("integer"))
        );
        // Identical definitions are shared, not duplicated.
        assert!(m.pointer("/components/schemas/ErrorBody_user").is_none());
        assert!(
            m.pointer("/components/securitySchemes/bearerAuth")
                .is_some()
        );
        let b_ref = m
            .pointer("/paths/~1api~1b/get/responses/200/content/application~1json/schema/$ref")
            .unwrap();
        assert_eq!(b_ref, "#/components/schemas/Thing_user");
        assert_eq!(m["tags"].as_array().unwrap().len(), 1);
        assert!(
            m["info"]["description"]
                .as_str()
                .unwrap()
                .contains("catalog")
        );
    }
}
