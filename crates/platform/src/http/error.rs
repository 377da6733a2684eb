//! The HTTP side of errors: [`ApiError`] is what a response says; each service maps its own
//! error enum onto it in one `From` impl, so status codes are decided in one place.
//!
//! A 5xx answer never says more than its status phrase; the cause goes to the log with
//! the request id, which the client gets back in `x-request-id`.

use super::envelope::{ErrorBody, FieldError};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use std::fmt;

/// An error as the client will see it, plus the internal cause for the log.
pub struct ApiError {
    status: StatusCode,
    message: String,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    code: Option<&'static str>,
    cause: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
            retry_after_secs: None,
            code: None,
            cause: None,
        }
    }

    /// 400 with a list of invalid fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            errors,
            ..Self::new(StatusCode::BAD_REQUEST, "validation failed")
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "you are not allowed to do this")
    }
    /// 404; also the answer for another user's resource, so existence is not revealed.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// 422: the request is well-formed but breaks a business rule.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests, slow down",
            )
        }
    }
    /// 503: a dependency (database, broker) is down or saturated; worth retrying.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            retry_after_secs: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "")
        }
    }
    /// 500 for anything unexpected; the cause is logged, never shown.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
    }

    /// The same error with a stable `code` clients can branch on.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn code(&self) -> Option<&'static str> {
        self.code
    }

    /// The same error with another client-facing message.
    /// Lists what stands in the way, in `errors` (a refusal naming the bookings it met).
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("message", &self.message)
            .field("errors", &self.errors)
            .field("cause", &self.cause)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{} {}: {c:#}", self.status.as_u16(), self.message),
            None => write!(f, "{} {}", self.status.as_u16(), self.message),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let message = if self.status.is_server_error() {
            // The cause is for operators: it may name hosts, tables or queries.
            tracing::error!(status = self.status.as_u16(), error = %self, "request failed");
            self.status
                .canonical_reason()
                .unwrap_or("server error")
                .to_owned()
        } else {
            self.message.clone()
        };
        let mut resp = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        resp.json(ErrorBody {
            success: false,
            data: None,
            message,
            code: self.code.map(str::to_owned),
            errors: self.errors.clone(),
        })
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match e {
            DbError::NotFound => Self::not_found("resource"),
            DbError::Unavailable(c) => Self::unavailable(anyhow::anyhow!(c)),
            // The constraint name would describe the schema; services that want a precise
            // message map their constraints before this generic fallback.
            DbError::UniqueViolation(_) => Self::conflict("already exists"),
            DbError::ExclusionViolation(_) => {
                Self::conflict("taken for these dates").with_code("unavailable")
            }
            DbError::Other(c) => Self::internal(c),
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(e: validator::ValidationErrors) -> Self {
        Self::validation(super::validation::field_errors(&e))
    }
}

/// Bodies actix would answer in plain text (malformed JSON, wrong content type, too large)
/// become envelopes. Registered through [`super::server::json_config`].
pub fn json_error_handler(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large")
        }
        // 400 rather than 415 so clients need one branch for every unreadable body.
        JsonPayloadError::ContentType => {
            ApiError::bad_request("content type must be application/json")
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::bad_request(format!("request body does not match the schema: {e}"))
        }
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!("malformed JSON: {e}")),
        _ => ApiError::bad_request("could not read the request body"),
    };
    api.into()
}

pub fn query_error_handler(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(format!("invalid query string: {err}")).into()
}

pub fn path_error_handler(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    // A malformed id can never name an existing resource.
    let PathError::Deserialize(e) = &err else {
        return ApiError::not_found("resource").into();
    };
    ApiError::new(StatusCode::NOT_FOUND, format!("resource not found: {e}")).into()
}
