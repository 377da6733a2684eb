//! Forwarding one request: route it, check the token (unless the route is public), count
//! it against the caller's rate limit, then stream the body to the upstream and its answer
//! back, both ways without buffering.

use crate::config::{RateLimits, UpstreamSettings};
use crate::error::Error;
use crate::routing::{self, LimitClass, RouteTable};
use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use awc::error::SendRequestError;
use futures::StreamExt;
use platform::auth::{AuthError, Claims, TokenVerifier};
use platform::http::client_ip::ClientIp;
use platform::http::middleware::RequestId;
use platform::ratelimit::{Admission, Decision, Rate, RateLimiter, WorkerConn};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

/// What every worker shares.
pub struct Gateway {
    pub table: RouteTable,
    pub verifier: TokenVerifier,
    pub limiter: RateLimiter,
    pub limits: RateLimits,
    pub body_limit: usize,
    /// The longest silence allowed between two chunks of an upstream's answer.
    pub body_idle_timeout: std::time::Duration,
}

/// One pooled HTTP client per worker (awc clients are single-threaded, like the worker).
pub fn client(settings: &UpstreamSettings) -> awc::Client {
    let connector = awc::Connector::new()
        .timeout(settings.connect_timeout)
        .limit(settings.max_connections);
    awc::Client::builder()
        .connector(connector)
        .timeout(settings.response_timeout)
        .disable_redirects()
        .no_default_headers()
        .finish()
}

/// Headers that describe one connection, not the message (RFC 9110 section 7.6.1), and so
/// never cross the proxy.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers only the gateway may set: a client sending them is trying to impersonate a user
/// or an address.
fn spoofable(name: &str) -> bool {
    name.starts_with("x-user-")
        || name.starts_with("x-session-")
        || name.starts_with("x-forwarded-")
        || matches!(name, "forwarded" | "x-real-ip" | "x-client-ip")
}

fn connection_listed(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The headers to pass on, in either direction.
fn passable(
    headers: &HeaderMap,
    extra_drop: impl Fn(&str) -> bool,
) -> Vec<(HeaderName, HeaderValue)> {
    let listed = connection_listed(headers);
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            !HOP_BY_HOP.contains(&n)
                && n != "content-length"
                && n != "host"
                && !listed.iter().any(|l| l == n)
                && !extra_drop(n)
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl Gateway {
    fn rate(&self, class: LimitClass, signed_in: bool) -> (Rate, &'static str) {
        match (class, signed_in) {
            (LimitClass::Auth, _) => (self.limits.auth, "auth"),
            (LimitClass::Default, true) => (self.limits.user, "user"),
            (LimitClass::Default, false) => (self.limits.anonymous, "anonymous"),
        }
    }

    /// Runs the admission script; `Ok(None)` when Redis is unavailable and no session needed
    /// checking: rate limiting then fails open, since refusing all traffic because the
    /// limiter is down would be the bigger outage (`ratelimit_redis_unavailable_total`
    /// counts it). A session that needed checking fails closed (503), like in every service.
    async fn limit(
        &self,
        conn: &WorkerConn,
        class: &'static str,
        bucket: &str,
        rate: Rate,
        revoked_key: Option<&str>,
    ) -> Result<Option<Decision>, Error> {
        match self.limiter.check(conn, bucket, rate, revoked_key).await {
            Admission::Decided(d) if !d.allowed => {
                metrics::counter!("gateway_rate_limited_total", "class" => class).increment(1);
                Err(Error::RateLimited(d))
            }
            Admission::Decided(d) => Ok(Some(d)),
            Admission::Revoked => Err(AuthError::Revoked.into()),
            Admission::Unavailable if revoked_key.is_some() => {
                Err(AuthError::Unavailable("deny-list: Redis unavailable".into()).into())
            }
            Admission::Unavailable => Ok(None),
        }
    }

    /// Who is calling and whether they may: the verified identity on protected routes,
    /// and the rate-limit decision. On protected routes the deny-list lookup runs inside
    /// the rate-limit script: one Redis round trip per request.
    async fn admit(
        &self,
        req: &HttpRequest,
        conn: &WorkerConn,
        ip: &ClientIp,
        class: LimitClass,
        public: bool,
    ) -> Result<(Option<Claims>, Option<Decision>), Error> {
        if public {
            // A signed-in caller of a public route counts (and is forwarded) as themselves,
            // so users behind one NAT do not share the anonymous budget. A bad or revoked
            // token is ignored here: the route needs none, and the service decides.
            if let Some(token) = bearer(req)
                && let Ok(claims) = self.verifier.decode(token).await
            {
                let (rate, name) = self.rate(class, true);
                let bucket = format!("{name}:user:{}", claims.sub);
                let revoked_key = platform::auth::revoked_session_key(&claims.sid);
                match self
                    .limit(conn, name, &bucket, rate, Some(&revoked_key))
                    .await
                {
                    Ok(decision) => return Ok((Some(claims), decision)),
                    Err(Error::Auth(_)) => {}
                    Err(other) => return Err(other),
                }
            }
            let (rate, name) = self.rate(class, false);
            let decision = self
                .limit(conn, name, &ip_bucket(name, ip), rate, None)
                .await?;
            return Ok((None, decision));
        }
        let decoded = match bearer(req) {
            Some(token) => self.verifier.decode(token).await,
            None => Err(AuthError::Missing),
        };
        let claims = match decoded {
            Ok(claims) => claims,
            Err(e) => return Err(self.refuse(e.into(), conn, ip).await),
        };
        let (rate, name) = self.rate(class, true);
        let bucket = format!("{name}:user:{}", claims.sub);
        let revoked_key = platform::auth::revoked_session_key(&claims.sid);
        match self
            .limit(conn, name, &bucket, rate, Some(&revoked_key))
            .await
        {
            Ok(decision) => Ok((Some(claims), decision)),
            Err(e @ Error::Auth(_)) => Err(self.refuse(e, conn, ip).await),
            Err(e) => Err(e),
        }
    }

    /// A failed token check is charged to the client's anonymous budget, so a flood of bad
    /// tokens meets 429s. An unavailable verifier is the gateway's problem, not the client's.
    async fn refuse(&self, e: Error, conn: &WorkerConn, ip: &ClientIp) -> Error {
        if e.status_code().is_server_error() {
            return e;
        }
        let name = "anonymous";
        match self
            .limit(
                conn,
                name,
                &ip_bucket(name, ip),
                self.limits.anonymous,
                None,
            )
            .await
        {
            Err(limited) => limited,
            Ok(_) => e,
        }
    }
}

fn ip_bucket(class: &str, ip: &ClientIp) -> String {
    format!("{class}:ip:{}", ip.subscriber())
}

/// The catch-all handler: every request that is not the gateway's own.
pub async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    gateway: web::Data<Gateway>,
    client: web::Data<awc::Client>,
    conn: web::Data<WorkerConn>,
    ip: ClientIp,
    request_id: RequestId,
) -> Result<HttpResponse, Error> {
    let path = req.path();
    if !routing::is_safe_path(path) {
        return Err(Error::UnsafePath);
    }
    let route = gateway.table.resolve(path).ok_or(Error::NoRoute)?;
    let upstream = gateway.table.upstream(route);
    let base = upstream
        .url
        .as_deref()
        .ok_or_else(|| Error::Disabled(upstream.name.clone()))?;

    let public = gateway.table.is_public(req.method(), path);
    let (claims, decision) = gateway.admit(&req, &conn, &ip, route.class, public).await?;

    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = gateway.body_limit as u64;
    if declared_len.is_some_and(|n| n > limit) {
        return Err(Error::BodyTooLarge);
    }

    let span = tracing::Span::current();
    span.record("upstream", upstream.name.as_str());
    let target = match req.uri().query() {
        Some(q) => format!("{base}{path}?{q}"),
        None => format!("{base}{path}"),
    };
    let mut outgoing = client.request(req.method().clone(), target).no_decompress();
    for (name, value) in passable(req.headers(), spoofable) {
        outgoing = outgoing.append_header((name, value));
    }
    outgoing = with_forwarding(outgoing, &req, &ip, &request_id, claims.as_ref());

    // A chunked upload is counted as it streams; past the limit the upload is cut off and
    // the client gets 413 instead of the upstream's half-read request.
    let overflow = Rc::new(Cell::new(false));
    let flag = overflow.clone();
    let mut seen: u64 = 0;
    let counted = payload.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            flag.set(true);
            return Err(actix_web::error::PayloadError::Overflow);
        }
        Ok(chunk)
    });
    let chunked = req
        .headers()
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));

    let started = Instant::now();
    let sent = match declared_len {
        Some(0) => outgoing.send().await,
        Some(n) => outgoing.send_body(SizedStream::new(n, counted)).await,
        None if chunked => outgoing.send_stream(counted).await,
        None => outgoing.send().await,
    };
    let elapsed = started.elapsed();
    span.record("upstream_ms", elapsed.as_secs_f64() * 1000.0);
    let upstream_name = upstream.name.clone();
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            let status = match &e {
                _ if overflow.get() => "413",
                SendRequestError::Timeout => "504",
                _ => "502",
            };
            metrics::counter!("gateway_upstream_requests_total", "upstream" => upstream_name.clone(), "status" => status).increment(1);
            return Err(match e {
                _ if overflow.get() => Error::BodyTooLarge,
                SendRequestError::Timeout => Error::Timeout(upstream_name),
                other => Error::Unreachable {
                    upstream: upstream_name,
                    cause: other.to_string(),
                },
            });
        }
    };
    let status = response.status();
    metrics::counter!("gateway_upstream_requests_total", "upstream" => upstream_name.clone(), "status" => status.as_u16().to_string()).increment(1);
    metrics::histogram!("gateway_upstream_duration_seconds", "upstream" => upstream_name)
        .record(elapsed.as_secs_f64());

    let mut builder = HttpResponse::build(status);
    for (name, value) in passable(response.headers(), |_| false) {
        builder.append_header((name, value));
    }
    if let Some(d) = decision {
        for (name, value) in d.headers() {
            builder.insert_header((name, value));
        }
    }
    let length = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let bodiless = req.method() == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    // awc's timeout ends when the head arrives; a body that stalls after it would hold
    // the client's connection and a pooled upstream connection for ever.
    let idle = gateway.body_idle_timeout;
    let body = futures::stream::unfold(response, move |mut upstream| async move {
        match tokio::time::timeout(idle, upstream.next()).await {
            Ok(Some(chunk)) => Some((chunk.map_err(actix_web::Error::from), upstream)),
            Ok(None) => None,
            Err(_) => Some((
                Err(actix_web::error::ErrorGatewayTimeout(
                    "upstream body stalled",
                )),
                upstream,
            )),
        }
    });
    let body = Box::pin(body);
    Ok(match (bodiless, length) {
        (true, Some(n)) if req.method() == Method::HEAD => builder.no_chunking(n).finish(),
        (true, _) => builder.finish(),
        (false, Some(n)) => builder.body(SizedStream::new(n, body)),
        (false, None) => builder.body(BodyStream::new(body)),
    })
}

/// The gateway's own headers on the way in: who the client is (as far as trusted proxies
/// vouch for it), which request this is, and the verified identity.
fn with_forwarding(
    mut outgoing: awc::ClientRequest,
    req: &HttpRequest,
    ip: &ClientIp,
    request_id: &RequestId,
    claims: Option<&Claims>,
) -> awc::ClientRequest {
    let peer = req.peer_addr().map(|a| a.ip().to_canonical());
    let behind_trusted_proxy = peer.is_some_and(|p| p != ip.0);
    // What the nearest (trusted) proxy wrote: the last entry of the last line, since a
    // proxy appends to what the client sent. Never taken from an untrusted client.
    let original = |name: &str| {
        if !behind_trusted_proxy {
            return None;
        }
        let last_line = req.headers().get_all(name).last()?.to_str().ok()?;
        let last = last_line.rsplit(',').next()?.trim();
        HeaderValue::from_str(last).ok()
    };
    // Not `connection_info()`: actix fills that from the client's own Forwarded headers.
    let own_scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let proto =
        original("x-forwarded-proto").unwrap_or_else(|| HeaderValue::from_static(own_scheme));
    outgoing = outgoing
        .insert_header(("x-forwarded-for", ip.0.to_string()))
        .insert_header(("x-forwarded-proto", proto))
        .insert_header(("x-request-id", request_id.0.as_str()));
    if let Some(host) =
        original("x-forwarded-host").or_else(|| req.headers().get(header::HOST).cloned())
    {
        outgoing = outgoing.insert_header(("x-forwarded-host", host));
    }
    let (traceparent, tracestate) = platform::telemetry::current_trace_context();
    if let Some(tp) = traceparent {
        outgoing = outgoing.insert_header(("traceparent", tp));
    }
    if let Some(ts) = tracestate {
        outgoing = outgoing.insert_header(("tracestate", ts));
    }
    if let Some(c) = claims {
        outgoing = outgoing
            .insert_header(("x-user-id", c.sub.to_string()))
            .insert_header(("x-session-id", c.sid.to_string()))
            .insert_header(("x-user-roles", c.roles.join(",")));
    }
    outgoing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_listed_headers_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        h.insert(
            HeaderName::from_static("x-secret-hop"),
            HeaderValue::from_static("1"),
        );
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            HeaderName::from_static("x-user-id"),
            HeaderValue::from_static("forged"),
        );
        let kept: Vec<String> = passable(&h, spoofable)
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(kept, vec!["content-type".to_owned()]);
    }

    #[test]
    fn identity_and_address_headers_count_as_spoofable() {
        for name in [
            "x-user-id",
            "x-user-roles",
            "x-session-id",
            "x-forwarded-for",
            "forwarded",
            "x-real-ip",
        ] {
            assert!(spoofable(name), "{name}");
        }
        assert!(!spoofable("x-request-id"));
        assert!(!spoofable("authorization"));
    }
}
