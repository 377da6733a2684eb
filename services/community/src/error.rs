//! The community service's errors, and the one place they become HTTP answers.

use actix_web::http::StatusCode;
use platform::db::DbError;
use platform::http::{ApiError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Also the answer for a community the caller may not see: existence is not revealed.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller sees the community but lacks the standing for this action.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// The current state does not allow the change (an invite already closed...).
    #[error("{0}")]
    Conflict(String),
    /// A business rule (the manager cannot leave their own community...).
    #[error("{0}")]
    Rule(String),
    #[error("join refused: {0:?}")]
    Join(JoinRefusal),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why a join token was refused. Each has its own answer, none names the invitee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    Unknown,
    /// Sent to another address than the caller's verified one.
    NotYours,
    /// The caller has no verified e-mail yet (or the news of it has not arrived).
    EmailNotVerified,
    Expired,
    Revoked,
    AlreadyUsed,
    AlreadyMember,
    CommunityGone,
}

impl JoinRefusal {
    /// The `code` of the error envelope: statuses are shared (two 410s, two 409s, two
    /// 403s), codes are not.
    pub fn code(self) -> &'static str {
        use JoinRefusal::*;
        match self {
            Unknown => "invite_not_found",
            NotYours => "invite_not_yours",
            EmailNotVerified => "email_not_verified",
            Expired => "invite_expired",
            Revoked => "invite_revoked",
            AlreadyUsed => "invite_used",
            AlreadyMember => "already_member",
            CommunityGone => "community_gone",
        }
    }
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

impl From<JoinRefusal> for ApiError {
    fn from(r: JoinRefusal) -> Self {
        use JoinRefusal::*;
        let error = match r {
            Unknown => ApiError::not_found("invite").with_message("no invite has this token"),
            NotYours => ApiError::new(
                StatusCode::FORBIDDEN,
                "this invite was sent to another e-mail address; sign in with the account of the invited address",
            ),
            EmailNotVerified => ApiError::new(
                StatusCode::FORBIDDEN,
                "verify your e-mail address before joining (if you just did, try again in a moment)",
            ),
            Expired => ApiError::new(
                StatusCode::GONE,
                "this invite has expired; ask the community's manager for a new one",
            ),
            Revoked => ApiError::new(
                StatusCode::GONE,
                "this invite was withdrawn by the community",
            ),
            AlreadyUsed => ApiError::conflict("this invite has already been used"),
            AlreadyMember => ApiError::conflict("you are already a member of this community"),
            CommunityGone => ApiError::new(StatusCode::GONE, "this community no longer exists"),
        };
        error.with_code(r.code())
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
            Error::Conflict(m) => ApiError::conflict(m),
            Error::Rule(m) => ApiError::unprocessable(m),
            Error::Join(r) => r.into(),
            Error::Db(e) => e.into(),
            Error::Internal(e) => ApiError::internal(e),
        }
    }
}
