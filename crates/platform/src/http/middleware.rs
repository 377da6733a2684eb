//! The request context every request gets: an `x-request-id` (accepted or generated,
//! echoed in the response), a tracing span that continues the caller's W3C trace, an
//! access log line, and the HTTP metrics. And the text guard: input PostgreSQL cannot
//! store as text is refused with a 400 before any handler sees it.

use super::envelope::FieldError;
use super::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Decompress, Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage, ResponseError};
use futures::StreamExt;
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

/// The largest request body the server accepts (`HTTP_BODY_LIMIT`), as app data for the
/// text guard, which reads JSON bodies before the extractors do.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Most refusals one answer lists: enough to fix a request, bounded for a hostile one.
const MAX_TEXT_ERRORS: usize = 20;
const NUL: &str = "must not contain a NUL character (U+0000)";
const NOT_UTF8: &str = "must be valid UTF-8 once percent-decoded";

/// Refuses, with a 400 envelope naming each field, text PostgreSQL cannot store: a NUL
/// character (U+0000) in a path segment, a query string name or value, or any string (key
/// or value, at any depth) of a JSON body, and invalid UTF-8 in a percent-decoded path
/// segment or query string. PostgreSQL refuses both (a 500 from deep in a handler
/// otherwise), and `serde_urlencoded` would silently turn invalid UTF-8 into U+FFFD.
///
/// JSON bodies are read (up to [`BodyLimit`]) only for requests a route of this app
/// answers, and handed on to the handler unchanged; other bodies, and everything a proxy's
/// catch-all default service forwards (the gateway's), stream on untouched.
pub async fn text_guard<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let mut errors = Vec::new();
    let pattern = req.match_pattern();
    path_errors(req.path(), pattern.as_deref(), &mut errors);
    query_errors(req.query_string(), &mut errors);
    if errors.is_empty() && pattern.is_some() && is_json(&req) {
        let limit = req.app_data::<BodyLimit>().map_or(256 * 1024, |l| l.0);
        match read_json_body(&mut req, limit).await {
            Ok(Some(body)) => {
                json_errors(&body, &mut errors);
                req.set_payload(Payload::from(body));
            }
            // Declared too large: the JSON extractor answers the 413 without reading it.
            Ok(None) => {}
            Err(refusal) => return Ok(refuse(req, &refusal)),
        }
    }
    if !errors.is_empty() {
        errors.truncate(MAX_TEXT_ERRORS);
        let refusal = ApiError::validation(errors)
            .with_message("the request contains text that cannot be stored");
        return Ok(refuse(req, &refusal));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn refuse<B>(req: ServiceRequest, error: &ApiError) -> ServiceResponse<EitherBody<B>> {
    req.into_response(error.error_response())
        .map_into_right_body()
}

fn is_json(req: &ServiceRequest) -> bool {
    // `application/json` and the `+json` types (`application/merge-patch+json`).
    req.mime_type().ok().flatten().is_some_and(|m| {
        m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
    })
}

/// The decoded body, or `None` when its declared length is over the limit (left to the
/// extractor, which answers 413 without reading it).
async fn read_json_body(req: &mut ServiceRequest, limit: usize) -> Result<Option<Bytes>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large");
    let (head, payload) = req.parts_mut();
    // Decoded here (gzip), so the guard sees the text the handler will; the extractor then
    // gets the decoded bytes and must not decode them again.
    let mut stream = Decompress::from_headers(payload.take(), head.headers());
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("could not read the request body"))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let headers = req.headers_mut();
    headers.remove(header::CONTENT_ENCODING);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    Ok(Some(body.freeze()))
}

/// `%XX` sequences decoded; anything else, a malformed `%` included, kept as it is (what
/// the router and `serde_urlencoded` do).
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// What is wrong with decoded text, if anything.
fn text_problem(bytes: &[u8]) -> Option<&'static str> {
    if bytes.contains(&0) {
        Some(NUL)
    } else if std::str::from_utf8(bytes).is_err() {
        Some(NOT_UTF8)
    } else {
        None
    }
}

/// Each bad segment is named after the route's parameter in that place (`id` for
/// `/users/{id}`), or `path` where the pattern does not line up.
fn path_errors(path: &str, pattern: Option<&str>, out: &mut Vec<FieldError>) {
    let names: Vec<&str> = pattern.map_or_else(Vec::new, |p| p.split('/').collect());
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let Some(message) = text_problem(&percent_decode(segment)) else {
            continue;
        };
        let field = names
            .get(i)
            .filter(|_| names.len() == segments.len())
            .and_then(|n| n.strip_prefix('{'))
            .and_then(|n| n.split([':', '}']).next())
            .filter(|n| !n.is_empty())
            .unwrap_or("path");
        out.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }
}

fn query_errors(query: &str, out: &mut Vec<FieldError>) {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name);
        if let Some(message) = text_problem(&name) {
            out.push(FieldError {
                field: "query".to_owned(),
                message: format!("parameter names {message}"),
            });
            continue;
        }
        if let Some(message) = text_problem(&percent_decode(value)) {
            out.push(FieldError {
                field: String::from_utf8_lossy(&name).into_owned(),
                message: message.to_owned(),
            });
        }
    }
}

/// NUL characters anywhere in a JSON body. Well-formed JSON can only carry one as the
/// escape `\u0000` (or, malformed, as a raw byte), so bodies without either are passed
/// at the cost of one scan; the others are parsed to name the fields. A body that does
/// not parse is left to the extractor, which answers its own 400.
fn json_errors(body: &[u8], out: &mut Vec<FieldError>) {
    if body.contains(&0) {
        out.push(FieldError {
            field: "body".to_owned(),
            message: NUL.to_owned(),
        });
        return;
    }
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return;
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    walk(&value, &mut String::new(), out);
}

fn walk(value: &serde_json::Value, path: &mut String, out: &mut Vec<FieldError>) {
    use serde_json::Value;
    if out.len() >= MAX_TEXT_ERRORS {
        return;
    }
    let here = |path: &str| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => out.push(FieldError {
            field: here(path),
            message: NUL.to_owned(),
        }),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if key.contains('\0') {
                    // The name itself is the problem; shown escaped, so the answer has none.
                    path.push_str(&key.replace('\0', "\\u0000"));
                    out.push(FieldError {
                        field: path.clone(),
                        message: format!("field names {NUL}"),
                    });
                } else {
                    path.push_str(key);
                    walk(item, path, out);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
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
    use super::*;

    #[test]
    fn text_problems_are_found_and_named() {
        let mut e = Vec::new();
        query_errors(
            "status=pending&role=ad%00min&q=%FF&ok=caf%C3%A9+au+lait&%00=x",
            &mut e,
        );
        let got: Vec<(&str, &str)> = e
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("role", NUL),
                ("q", NOT_UTF8),
                (
                    "query",
                    "parameter names must not contain a NUL character (U+0000)"
                ),
            ]
        );

        let mut e = Vec::new();
        path_errors("/api/users/a%00b/x", Some("/api/users/{id}/x"), &mut e);
        path_errors("/api/docs/%FF/y", Some("/api/docs/{_:.*}"), &mut e);
        path_errors("/100%25/%zz", None, &mut e);
        let got: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(got, vec!["id", "path"]);

        let mut e = Vec::new();
        json_errors(
            br#"{"a":{"b":["ok","x\u0000y"]},"k\u0000":1,"fine":"\\u0000 is text"}"#,
            &mut e,
        );
        let got: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(got, vec!["a.b[1]", "k\\u0000"]);
        let mut e = Vec::new();
        json_errors(br#""\u0000""#, &mut e);
        json_errors(br#"{"fine":"\\u0000"}"#, &mut e);
        json_errors(b"{not json \\u0000", &mut e);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "body");
    }

    #[test]
    fn request_ids_from_clients_are_bounded() {
        assert!(acceptable("abc-123"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
