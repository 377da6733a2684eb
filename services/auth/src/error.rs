//! The auth service's errors, and the one place they become HTTP answers.

use platform::db::DbError;
use platform::http::{ApiError, FieldError};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown identifier or wrong password: one answer for both (no enumeration).
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed attempts")]
    Locked { retry_after: Duration },
    #[error("rate limited")]
    RateLimited { retry_after: Duration },
    #[error("account is {0}")]
    AccountInactive(String),
    #[error("device blocked")]
    DeviceBlocked,
    /// A link token, reset token or MFA challenge that is unknown, used or expired.
    #[error("invalid or expired {0}")]
    InvalidToken(&'static str),
    #[error("invalid or expired code")]
    InvalidCode,
    #[error("refresh token is invalid or expired")]
    SessionExpired,
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Rule(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer the rate-limit check in time.
    #[error("rate limiter unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Error::Field {
            field,
            message: message.into(),
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(e.into())
    }
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use actix_web::http::StatusCode;
        match e {
            Error::InvalidCredentials => ApiError::unauthorized("invalid credentials"),
            Error::Locked { retry_after } => ApiError::too_many_requests(secs(retry_after))
                .with_message("too many failed attempts; try again later"),
            Error::RateLimited { retry_after } => ApiError::too_many_requests(secs(retry_after)),
            Error::AccountInactive(status) => {
                ApiError::new(StatusCode::FORBIDDEN, format!("account is {status}"))
            }
            Error::DeviceBlocked => {
                ApiError::new(StatusCode::FORBIDDEN, "this device has been blocked")
            }
            Error::InvalidToken(what) => {
                ApiError::bad_request(format!("invalid or expired {what}"))
            }
            Error::InvalidCode => ApiError::bad_request("invalid or expired code"),
            Error::SessionExpired => ApiError::unauthorized("refresh token is invalid or expired"),
            Error::Field { field, message } => ApiError::validation(vec![FieldError {
                field: field.to_owned(),
                message,
            }]),
            Error::Conflict(m) => ApiError::conflict(m),
            Error::Rule(m) => ApiError::unprocessable(m),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Forbidden => ApiError::forbidden(),
            Error::Db(e) => e.into(),
            Error::Redis(e) => ApiError::unavailable(e),
            Error::Unavailable => {
                ApiError::unavailable(anyhow::anyhow!("rate limiter unavailable"))
            }
            Error::Internal(e) => ApiError::internal(e),
        }
    }
}
