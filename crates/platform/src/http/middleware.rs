//! The request context every request gets: an `x-request-id` (accepted or generated,
//! echoed in the response), a tracing span that continues the caller's W3C trace, an
//! access log line, and the HTTP metrics.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id, available to handlers through request extensions (and so carried
/// into the events the request causes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// A client-supplied id is kept only if it is short and printable: it ends up in logs and
/// event headers.
fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

struct HeaderCarrier<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(request_id.clone()));

    let method = req.method().to_string();
    // The route pattern, not the path, keeps metric labels bounded.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "http.request",
        http.method = %method,
        http.route = %route,
        request_id = %request_id,
        http.status = tracing::field::Empty,
        // Filled in by a proxy (the gateway): which service answered, and how fast.
        upstream = tracing::field::Empty,
        upstream_ms = tracing::field::Empty,
    );
    crate::telemetry::set_remote_parent(&span, &HeaderCarrier(req.headers()));

    let mut res = next.call(req).instrument(span.clone()).await?;

    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    span.record("http.status", status);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let labels = [
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    if route != "/health/live" && route != "/health/ready" && route != "/metrics" {
        tracing::info!(
            parent: &span,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "{method} {route}"
        );
    }
    Ok(res)
}

impl actix_web::FromRequest for RequestId {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    /// The id the middleware assigned; a fresh one where the middleware is not installed
    /// (a handler mounted in a bare test app), so extraction never fails.
    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().to_string()));
        std::future::ready(Ok(id))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_from_clients_are_bounded() {
        assert!(super::acceptable("abc-123"));
        assert!(!super::acceptable(""));
        assert!(!super::acceptable("has space"));
        assert!(!super::acceptable(&"x".repeat(129)));
    }
}
