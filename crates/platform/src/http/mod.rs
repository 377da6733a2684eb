//! The HTTP kit for actix-web services.

pub mod cache;
pub mod client_ip;
pub mod envelope;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod patch;
pub mod server;
pub mod surface;
pub mod validation;

pub use client_ip::{ClientIp, TrustedProxies};
pub use envelope::{ApiResponse, ErrorBody, FieldError};
pub use error::ApiError;
pub use idempotency::Idempotency;
pub use middleware::RequestId;
pub use pagination::{Page, PageQuery, Paginated};
pub use validation::ValidJson;

/// What handlers return.
pub type ApiResult<T = actix_web::HttpResponse> = Result<T, ApiError>;
