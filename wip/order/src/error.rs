//! The order service's errors, and the one place they become HTTP answers.

use platform::db::DbError;
use platform::http::{ApiError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Also the answer for what the caller may not see: existence is not revealed.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller sees the thing but lacks the standing for this action.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// The current state does not allow the change; `code` tells refusals apart.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A business rule; `code` tells refusals apart.
    #[error("{message}")]
    Rule { code: &'static str, message: String },
    /// A dependency other than the database cannot be reached: a 503.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] DbError),
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

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Error::Rule {
            code,
            message: message.into(),
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(e.into())
    }
}

impl From<platform::money::MoneyError> for Error {
    fn from(e: platform::money::MoneyError) -> Self {
        // Overflow or a currency mismatch: the input's fault (an absurd price or period).
        Error::rule("amount", e.to_string())
    }
}

impl From<rental::QuoteError> for Error {
    fn from(e: rental::QuoteError) -> Self {
        Error::rule(e.code(), e.to_string())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Forbidden(m) => ApiError::forbidden().with_message(m),
            Error::Field { field, message } => ApiError::validation(vec![FieldError {
                field: field.to_owned(),
                message,
            }]),
            Error::Conflict { code, message } => ApiError::conflict(message).with_code(code),
            Error::Rule { code, message } => ApiError::unprocessable(message).with_code(code),
            Error::Unavailable(cause) => ApiError::unavailable(anyhow::anyhow!(cause)),
            Error::Db(e) => e.into(),
            Error::Internal(e) => ApiError::internal(e),
        }
    }
}
