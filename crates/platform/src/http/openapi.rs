//! What every service's OpenAPI document shares: the bearer security scheme, the envelope
//! every answer travels in and the error answers every route can give; the document is
//! collected and served by [`super::surface`] (`<prefix>/openapi.json`, merged by the gateway).
//!
//! Handlers declare what they answer in `data` (`body = ProfileView`) and the errors that are
//! theirs (`(status = 409, description = "Name taken")`); [`Envelope`] makes the document say
//! what is on the wire: every 2xx JSON body becomes `{success, data, message}`, every error
//! answer the `ErrorBody` envelope, and the errors the kit and the gateway give on any route
//! (bad input, no token, rate limits, a dependency down) are added where they can happen.

use super::envelope::ErrorBody;
use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Components, Content, Header, OpenApi, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

/// Adds the `bearer` (JWT) security scheme the handlers' `security(("bearer" = []))` name.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
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

/// The operation extension that opts an operation's 2xx answers out of the envelope, for
/// the few that answer a document defined elsewhere (the JWKS of RFC 7517):
/// `#[utoipa::path(..., extensions(("x-raw-body" = json!(true))))]`.
pub const RAW_BODY: &str = "x-raw-body";

/// The name prefix of the envelope components [`Envelope`] defines: `ApiResponse_<Schema>`
/// for a named schema, `ApiResponse_Vec_<Schema>` for a list of one, `ApiResponse` when the
/// route does not describe its data, `ApiResponse_Accepted` for a 202 without data.
pub const ENVELOPE_PREFIX: &str = "ApiResponse";
const ACCEPTED: &str = "ApiResponse_Accepted";
const JSON: &str = "application/json";

/// The standard error answers, as `components/responses` (referenced from the operations
/// that can give them): status, component name, description.
const STANDARD_ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Invalid input: malformed JSON, a wrong content type, a field that fails validation \
         (each one listed in `errors`), a bad query or path parameter, or text that cannot be \
         stored (a NUL character, invalid UTF-8 after percent-decoding).",
    ),
    (
        "401",
        "Unauthorized",
        "No access token, or an invalid, expired or revoked one.",
    ),
    (
        "403",
        "Forbidden",
        "The caller may not do this (a permission the token lacks, or an account that is not \
         in good standing).",
    ),
    (
        "404",
        "NotFound",
        "No such resource, or not the caller's (a malformed id in the path is answered the same).",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is larger than the server accepts (`HTTP_BODY_LIMIT`).",
    ),
    (
        "429",
        "TooManyRequests",
        "Rate limited (the gateway's budget per client, or the route's own limit); retry after \
         `Retry-After` seconds.",
    ),
    (
        "503",
        "ServiceUnavailable",
        "A dependency (database, broker, Redis, the service behind the gateway) is down or \
         saturated; worth retrying after `Retry-After` seconds.",
    ),
];

/// Rewrites a service's document to describe the wire; apply it with
/// `modifiers(&BearerAuth, &Envelope)`. Applying it twice changes nothing more.
pub struct Envelope;

impl utoipa::Modify for Envelope {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        add_error_components(components);
        let mut wrappers = BTreeMap::new();
        for item in openapi.paths.paths.values_mut() {
            for op in operations(item) {
                document(op, &mut wrappers);
            }
        }
        for (name, schema) in wrappers {
            components.schemas.entry(name).or_insert(schema);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn add_error_components(components: &mut Components) {
    let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    <ErrorBody as ToSchema>::schemas(&mut schemas);
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    for (status, name, description) in STANDARD_ERRORS {
        let mut response = ResponseBuilder::new()
            .description(*description)
            .content(JSON, error_content());
        if matches!(*status, "429" | "503") {
            let mut retry_after = Header::new(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            );
            retry_after.description = Some("Seconds to wait before trying again.".to_owned());
            response = response.header("Retry-After", retry_after);
        }
        components
            .responses
            .entry((*name).to_owned())
            .or_insert_with(|| RefOr::T(response.build()));
    }
}

fn error_content() -> Content {
    Content::new(Some(Ref::from_schema_name(ErrorBody::name())))
}

/// Wraps the operation's 2xx bodies, gives its error answers the error body, and adds the
/// standard errors it can answer.
fn document(op: &mut Operation, wrappers: &mut BTreeMap<String, RefOr<Schema>>) {
    let raw = op
        .extensions
        .as_ref()
        .and_then(|e| e.get(RAW_BODY))
        .is_some_and(|v| v == &serde_json::Value::Bool(true));
    for (status, response) in &mut op.responses.responses {
        // A response given by reference is a shared component, already in its final form.
        let RefOr::T(response) = response else {
            continue;
        };
        if status.starts_with('2') {
            if !raw {
                wrap_success(status, response, wrappers);
            }
        } else if status.starts_with('4') || status.starts_with('5') {
            describe_error(response);
        }
    }

    let params = op.parameters.as_deref().unwrap_or_default();
    let has_body = op.request_body.is_some();
    let bearer = op
        .security
        .as_ref()
        .is_some_and(|reqs| reqs.iter().any(names_bearer));
    let wanted = [
        // Every input can be refused: the extractors, validation and the text guard.
        ("400", !params.is_empty() || has_body),
        ("401", bearer),
        ("403", bearer),
        // A path id that does not parse is a 404 (it can name nothing).
        (
            "404",
            params.iter().any(|p| p.parameter_in == ParameterIn::Path),
        ),
        ("413", has_body),
        // The gateway rate-limits every route.
        ("429", true),
        ("503", true),
    ];
    for (status, applies) in wanted {
        if !applies {
            continue;
        }
        let Some((_, name, _)) = STANDARD_ERRORS.iter().find(|(s, _, _)| *s == status) else {
            continue;
        };
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}

fn names_bearer(requirement: &utoipa::openapi::security::SecurityRequirement) -> bool {
    // The requirement's map is private; its serialised form is the map itself.
    serde_json::to_value(requirement)
        .ok()
        .and_then(|v| v.get("bearer").cloned())
        .is_some()
}

fn describe_error(response: &mut Response) {
    if response.content.is_empty() {
        response.content.insert(JSON.to_owned(), error_content());
    } else if let Some(content) = response.content.get_mut(JSON)
        && content.schema.is_none()
    {
        content.schema = Some(Ref::from_schema_name(ErrorBody::name()).into());
    }
}

fn wrap_success(
    status: &str,
    response: &mut Response,
    wrappers: &mut BTreeMap<String, RefOr<Schema>>,
) {
    // A 204 has no body on the wire, so none in the document either.
    if status == "204" {
        return;
    }
    if response.content.is_empty() {
        // The route did not describe its data, but the wire still carries the envelope: a
        // 202 from `envelope::accepted` has null data and a message.
        let schema = if status == "202" {
            wrappers.entry(ACCEPTED.to_owned()).or_insert_with(accepted);
            Ref::from_schema_name(ACCEPTED).into()
        } else {
            wrapped(None, wrappers)
        };
        response
            .content
            .insert(JSON.to_owned(), Content::new(Some(schema)));
        return;
    }
    let Some(content) = response.content.get_mut(JSON) else {
        return;
    };
    let data = content.schema.take();
    content.schema = Some(wrapped(data, wrappers));
}

/// The envelope around `data`: a named component for a named schema or a list of one (so
/// generated clients get one type per answer), inline otherwise.
fn wrapped(
    data: Option<RefOr<Schema>>,
    wrappers: &mut BTreeMap<String, RefOr<Schema>>,
) -> RefOr<Schema> {
    let Some(data) = data else {
        wrappers
            .entry(ENVELOPE_PREFIX.to_owned())
            .or_insert_with(untyped);
        return Ref::from_schema_name(ENVELOPE_PREFIX).into();
    };
    let name = match &data {
        RefOr::Ref(r) => match schema_name(r) {
            // Already an envelope: the modifier ran before.
            Some(n) if n == ENVELOPE_PREFIX || n.starts_with("ApiResponse_") => return data,
            Some(n) => Some(format!("{ENVELOPE_PREFIX}_{n}")),
            None => None,
        },
        RefOr::T(Schema::Array(array)) => match &array.items {
            ArrayItems::RefOrSchema(item) => match item.as_ref() {
                RefOr::Ref(r) => schema_name(r).map(|n| format!("{ENVELOPE_PREFIX}_Vec_{n}")),
                RefOr::T(_) => None,
            },
            ArrayItems::False => None,
        },
        RefOr::T(_) => None,
    };
    match name {
        Some(name) => {
            wrappers
                .entry(name.clone())
                .or_insert_with(|| envelope(data));
            Ref::from_schema_name(name).into()
        }
        None => envelope(data),
    }
}

fn schema_name(r: &Ref) -> Option<&str> {
    r.ref_location.strip_prefix("#/components/schemas/")
}

fn envelope(data: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("Always true for a success.")),
        )
        .required("success")
        .property("data", data)
        .required("data")
        .property(
            "message",
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])),
        )
        .into()
}

/// The envelope of a route that does not describe its data.
fn untyped() -> RefOr<Schema> {
    envelope(
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some("Not described for this operation."))
            .into(),
    )
}

/// 202 from `envelope::accepted`: the work goes on in the background, `data` is null and
/// `message` says what happens next.
fn accepted() -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("Always true for a success.")),
        )
        .required("success")
        .property("data", ObjectBuilder::new().schema_type(Type::Null))
        .required("data")
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("message")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use utoipa::OpenApi;

    #[derive(serde::Serialize, serde::Deserialize, ToSchema)]
    struct Thing {
        name: String,
    }

    #[utoipa::path(get, path = "/things/{id}", security(("bearer" = [])),
        params(("id" = uuid::Uuid, Path, description = "Thing id")),
        responses((status = 200, description = "The thing", body = Thing),
                  (status = 409, description = "Taken")))]
    #[allow(dead_code)]
    async fn get_thing() {}

    #[utoipa::path(get, path = "/things", security(("bearer" = [])),
        responses((status = 200, description = "Things", body = [Thing])))]
    #[allow(dead_code)]
    async fn list_things() {}

    #[utoipa::path(post, path = "/things", request_body = Thing,
        responses((status = 202, description = "Accepted"), (status = 200, description = "Done")))]
    #[allow(dead_code)]
    async fn add_thing() {}

    #[utoipa::path(get, path = "/keys", extensions(("x-raw-body" = json!(true))),
        responses((status = 200, description = "Keys")))]
    #[allow(dead_code)]
    async fn keys() {}

    #[derive(OpenApi)]
    #[openapi(paths(get_thing, list_things, add_thing, keys), modifiers(&BearerAuth, &Envelope))]
    struct Doc;

    fn doc() -> Value {
        serde_json::to_value(Doc::openapi()).unwrap()
    }

    fn schema<'a>(doc: &'a Value, op: &str, status: &str) -> &'a Value {
        doc.pointer(&format!(
            "/paths/{op}/responses/{status}/content/application~1json/schema"
        ))
        .unwrap_or_else(|| panic!("{op} {status}: no JSON schema"))
    }

    fn statuses(doc: &Value, op: &str) -> Vec<String> {
        let mut s: Vec<String> = doc
            .pointer(&format!("/paths/{op}/responses"))
            .and_then(Value::as_object)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        s.sort();
        s
    }

    #[test]
    fn success_bodies_are_wrapped_in_the_envelope() {
        let doc = doc();
        assert_eq!(
            schema(&doc, "~1things~1{id}/get", "200"),
            &json!({ "$ref": "#/components/schemas/ApiResponse_Thing" })
        );
        let wrapper = &doc["components"]["schemas"]["ApiResponse_Thing"];
        assert_eq!(wrapper["required"], json!(["success", "data"]));
        assert_eq!(
            wrapper["properties"]["data"],
            json!({ "$ref": "#/components/schemas/Thing" })
        );
        assert_eq!(
            wrapper["properties"]["message"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            schema(&doc, "~1things/get", "200"),
            &json!({ "$ref": "#/components/schemas/ApiResponse_Vec_Thing" })
        );
        assert_eq!(
            doc["components"]["schemas"]["ApiResponse_Vec_Thing"]["properties"]["data"]["items"],
            json!({ "$ref": "#/components/schemas/Thing" })
        );
        // Without a described body: null data and a message for 202, any data otherwise.
        assert_eq!(
            schema(&doc, "~1things/post", "202"),
            &json!({ "$ref": "#/components/schemas/ApiResponse_Accepted" })
        );
        let accepted = &doc["components"]["schemas"]["ApiResponse_Accepted"];
        assert_eq!(accepted["properties"]["data"], json!({ "type": "null" }));
        assert_eq!(accepted["required"], json!(["success", "data", "message"]));
        assert_eq!(
            schema(&doc, "~1things/post", "200"),
            &json!({ "$ref": "#/components/schemas/ApiResponse" })
        );
        // Opted out: sent as it is.
        assert!(
            doc.pointer("/paths/~1keys/get/responses/200/content")
                .is_none()
        );
    }

    #[test]
    fn every_operation_lists_the_errors_it_can_answer() {
        let doc = doc();
        assert_eq!(
            statuses(&doc, "~1things~1{id}/get"),
            ["200", "400", "401", "403", "404", "409", "429", "503"]
        );
        assert_eq!(
            statuses(&doc, "~1things/get"),
            ["200", "401", "403", "429", "503"]
        );
        assert_eq!(
            statuses(&doc, "~1things/post"),
            ["200", "202", "400", "413", "429", "503"]
        );
        assert_eq!(statuses(&doc, "~1keys/get"), ["200", "429", "503"]);
        // The route's own description stays, with the error body added.
        let taken = doc
            .pointer("/paths/~1things~1{id}/get/responses/409")
            .unwrap();
        assert_eq!(taken["description"], "Taken");
        assert_eq!(
            schema(&doc, "~1things~1{id}/get", "409"),
            &json!({ "$ref": "#/components/schemas/ErrorBody" })
        );
        assert_eq!(
            doc.pointer("/paths/~1things/get/responses/401"),
            Some(&json!({ "$ref": "#/components/responses/Unauthorized" }))
        );
        let limited = &doc["components"]["responses"]["TooManyRequests"];
        assert!(limited["headers"]["Retry-After"].is_object());
        assert_eq!(
            limited["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/ErrorBody" })
        );
        let error = &doc["components"]["schemas"]["ErrorBody"];
        assert_eq!(error["required"], json!(["success", "data", "message"]));
        assert_eq!(error["properties"]["data"], json!({ "type": "null" }));
        assert!(doc["components"]["schemas"]["FieldError"].is_object());
    }

    #[test]
    fn applying_it_twice_changes_nothing() {
        let mut twice = Doc::openapi();
        utoipa::Modify::modify(&Envelope, &mut twice);
        assert_eq!(serde_json::to_value(twice).unwrap(), doc());
    }
}
