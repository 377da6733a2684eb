//! Everything the gateway itself can answer instead of an upstream, mapped to the standard
//! envelope in one place. Messages are written here, never taken from a cause, so 5xx
//! answers can say what happened without naming hosts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use platform::auth::AuthError;
use platform::http::ApiError;
use platform::http::envelope::ErrorBody;
use platform::ratelimit::Decision;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no route for this path")]
    NoRoute,
    #[error("ambiguous path")]
    UnsafePath,
    #[error("upstream {0} is disabled")]
    Disabled(String),
    /// Token problems, worded by the kit exactly as every service words them.
    #[error("{0}")]
    Auth(ApiError),
    #[error("rate limited")]
    RateLimited(Decision),
    #[error("request body too large")]
    BodyTooLarge,
    #[error("upstream {upstream} unreachable: {cause}")]
    Unreachable { upstream: String, cause: String },
    #[error("upstream {0} did not answer in time")]
    Timeout(String),
}

impl Error {
    fn message(&self) -> &'static str {
        match self {
            Self::NoRoute => "route not found",
            Self::UnsafePath => "the path contains empty, '.' or '..' segments or encoded slashes",
            Self::Disabled(_) => "this part of the platform is not available",
            Self::Auth(_) | Self::RateLimited(_) => "",
            Self::BodyTooLarge => "request body is too large",
            Self::Unreachable { .. } => {
                "the service behind this route is unavailable; try again shortly"
            }
            Self::Timeout(_) => "the service behind this route took too long to answer",
        }
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Self::Auth(e.into())
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NoRoute => StatusCode::NOT_FOUND,
            Self::UnsafePath => StatusCode::BAD_REQUEST,
            Self::Disabled(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Auth(api) => api.status(),
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unreachable { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Auth(api) => api.error_response(),
            Self::RateLimited(decision) => {
                let secs = decision.retry_after.as_secs().max(1);
                let mut resp = ApiError::too_many_requests(secs).error_response();
                for (name, value) in decision.headers() {
                    resp.headers_mut().insert(name, value);
                }
                resp
            }
            other => {
                if other.status_code().is_server_error() {
                    tracing::warn!(error = %other, "answered by the gateway");
                }
                HttpResponse::build(other.status_code()).json(ErrorBody {
                    success: false,
                    data: None,
                    message: other.message().to_owned(),
                    code: None,
                    errors: Vec::new(),
                })
            }
        }
    }
}
