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
    pub success: bool,
    #[schema(value_type = Option<Object>)]
    pub data: Option<()>,
    pub message: String,
    /// A stable, machine-readable reason where clients must tell refusals apart (an
    /// expired invite from a revoked one); the message is for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
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
