//! The notification service's errors, and the one place they become HTTP answers.

use platform::db::DbError;
use platform::http::{ApiError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Also the answer for another user's notification or token.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
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
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(e.into())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Field { field, message } => ApiError::validation(vec![FieldError {
                field: field.to_owned(),
                message,
            }]),
            Error::Db(e) => e.into(),
            Error::Internal(e) => ApiError::internal(e),
        }
    }
}
