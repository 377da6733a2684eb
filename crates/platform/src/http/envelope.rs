//! The response envelope every endpoint answers with:
//! `{"success": true, "data": ..., "message": null}`, and for errors
//! `{"success": false, "data": null, "message": "...", "errors": [{"field", "message"}]}`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// A successful answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiResponse<T> {
    pub success: bool,
    pub data: T,
    pub message: Option<String>,
}

/// One invalid input field.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// The field's JSON name (camelCase), dotted for nested fields.
    pub field: String,
    pub message: String,
}

/// An error answer. `data` is always null; `errors` lists invalid fields, if any.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Always false for an error.
    pub success: bool,
    /// Always null for an error.
    #[schema(schema_with = null_schema, required = true)]
    pub data: Option<()>,
    pub message: String,
    /// A stable, machine-readable reason where clients must tell refusals apart (an
    /// expired invite from a revoked one); the message is for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub code: Option<String>,
    /// The invalid fields, when the input was refused field by field; absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldError>,
}

/// `{"type": "null"}`: `data` of an error is always null (utoipa has no type for that).
fn null_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Null)
        .build()
}

/// 200 with `data`.
pub fn ok<T: Serialize>(data: T) -> HttpResponse {
    with_status(StatusCode::OK, data, None)
}

/// 201 with `data`.
pub fn created<T: Serialize>(data: T) -> HttpResponse {
    with_status(StatusCode::CREATED, data, None)
}

/// 202 with a message and no data, for work that continues in the background.
pub fn accepted(message: &str) -> HttpResponse {
    with_status(StatusCode::ACCEPTED, (), Some(message.to_owned()))
}

/// Any status with `data` and an optional message.
pub fn with_status<T: Serialize>(
    status: StatusCode,
    data: T,
    message: Option<String>,
) -> HttpResponse {
    HttpResponse::build(status).json(ApiResponse {
        success: true,
        data,
        message,
    })
}
