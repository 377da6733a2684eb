//! The user service's errors, and the one place they become HTTP answers.

use platform::db::DbError;
use platform::http::{ApiError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's own profile does not exist yet (the registration event is on its way).
    #[error("profile not created yet")]
    ProfileNotReady,
    /// The caller deleted their account.
    #[error("account deleted")]
    Deleted,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// A lifecycle transition that the current state does not allow.
    #[error("{0}")]
    Rule(String),
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
            Error::ProfileNotReady => ApiError::not_found("profile")
                .with_message("your profile is being created; try again in a moment"),
            Error::Deleted => {
                ApiError::not_found("profile").with_message("this account has been deleted")
            }
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Field { field, message } => ApiError::validation(vec![FieldError {
                field: field.to_owned(),
                message,
            }]),
            Error::Rule(m) => ApiError::unprocessable(m),
            Error::Db(e) => e.into(),
            Error::Internal(e) => ApiError::internal(e),
        }
    }
}
