//! Conditional GETs: an answer with a strong `ETag` (a hash of the exact body) and
//! `Cache-Control`, and `304 Not Modified` when the client's `If-None-Match` names it
//! (RFC 9110 §13.1.2, RFC 9111). The hash is of the body itself, so every replica computes
//! the same tag without sharing a version counter, and any change to the data changes it.

use super::envelope::ApiResponse;
use super::error::ApiError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Who may keep the answer: `Public` for what anyone may read (the category tree, a
/// public library's tools), `Private` for what depends on the caller (their browser only).
#[derive(Debug, Clone, Copy)]
pub enum Audience {
    Public,
    Private,
}

/// 200 with `data` in the envelope, its ETag and `Cache-Control: max-age`, or 304.
pub fn cached<T: Serialize>(
    req: &HttpRequest,
    data: &T,
    audience: Audience,
    max_age_secs: u32,
) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(&ApiResponse {
        success: true,
        data,
        message: None,
    })
    .map_err(ApiError::internal)?;
    let tag = etag(&body);
    let control = match audience {
        // Revalidation is cheap (a 304 carries no body): keep the window short.
        Audience::Public => format!("public, max-age={max_age_secs}"),
        Audience::Private => format!("private, max-age={max_age_secs}"),
    };
    let mut res = if matches(req, &tag) {
        HttpResponse::build(StatusCode::NOT_MODIFIED).finish()
    } else {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(body)
    };
    let headers = res.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&control) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    // The answer differs with and without a token (a member sees more than the public).
    headers.insert(
        header::VARY,
        header::HeaderValue::from_static("Authorization"),
    );
    Ok(res)
}

/// `"<first 16 bytes of SHA-256, hex>"`: strong, quoted as RFC 9110 wants.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in &digest[..16] {
        let _ = write!(tag, "{b:02x}");
    }
    tag.push('"');
    tag
}

/// `If-None-Match` lists the tag (or is `*`); weak comparison, as §13.1.2 asks for GET.
fn matches(req: &HttpRequest, tag: &str) -> bool {
    let Some(value) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_same_body_has_the_same_tag_and_a_match_is_304() {
        let data = serde_json::json!({"a": 1});
        let req = TestRequest::default().to_http_request();
        let first = cached(&req, &data, Audience::Public, 60).unwrap();
        assert_eq!(first.status(), 200);
        let tag = first
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(tag.len(), 34);
        assert_eq!(
            first.headers().get("cache-control").unwrap(),
            "public, max-age=60"
        );

        let req = TestRequest::default()
            .insert_header(("if-none-match", format!("\"other\", W/{tag}")))
            .to_http_request();
        let again = cached(&req, &data, Audience::Public, 60).unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers().get("etag").unwrap(), tag.as_str());

        let changed = serde_json::json!({"a": 2});
        let req = TestRequest::default()
            .insert_header(("if-none-match", tag))
            .to_http_request();
        assert_eq!(
            cached(&req, &changed, Audience::Public, 60)
                .unwrap()
                .status(),
            200
        );
    }
}
