//! The routing table: which upstream owns which path prefix, which routes need no token,
//! and which rate-limit class applies. Read from `routes.toml` (embedded, or the file
//! `GATEWAY_ROUTES_FILE` names), then checked as a whole so a typo fails the start-up.

use actix_web::http::Method;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The table shipped with the binary.
pub const DEFAULT_TABLE: &str = include_str!("../routes.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    upstreams: BTreeMap<String, UpstreamFile>,
    routes: Vec<RouteFile>,
    #[serde(default)]
    public: PublicFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamFile {
    url: String,
    openapi: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    prefix: String,
    upstream: String,
    #[serde(default)]
    limit: LimitClass,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    routes: Vec<String>,
}

/// Which rate-limit budget a route draws from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitClass {
    #[default]
    Default,
    /// Sign-in, registration, codes: what credential stuffing and SMS pumping aim at.
    Auth,
}

/// A service behind the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub name: String,
    /// Base URL without a trailing slash; `None` when disabled by configuration.
    pub url: Option<String>,
    /// Path of its OpenAPI document, for the merged docs.
    pub openapi: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: String,
    pub upstream: usize,
    pub class: LimitClass,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `*`: exactly one segment.
    One,
    /// `**` (last only): any number of segments, none included.
    Rest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PublicRule {
    method: Method,
    segments: Vec<Segment>,
}

impl PublicRule {
    fn parse(rule: &str) -> Result<Self, String> {
        let (method, path) = rule
            .split_once(' ')
            .ok_or_else(|| format!("public route {rule:?} is not \"METHOD /path\""))?;
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("public route {rule:?}: bad method"))?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(format!("public route {rule:?}: the path must start with /"));
        }
        let parts: Vec<&str> = path[1..].split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "**" if i + 1 == parts.len() => Segment::Rest,
                "**" => return Err(format!("public route {rule:?}: ** must come last")),
                "*" => Segment::One,
                lit => Segment::Literal(lit.to_owned()),
            });
        }
        Ok(Self { method, segments })
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        // HEAD is a GET without the body: public for the same paths.
        let method_ok =
            self.method == *method || (*method == Method::HEAD && self.method == Method::GET);
        if !method_ok {
            return false;
        }
        let mut parts = path.strip_prefix('/').unwrap_or(path).split('/');
        for seg in &self.segments {
            match seg {
                Segment::Rest => return true,
                Segment::One => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                Segment::Literal(lit) => {
                    if parts.next() != Some(lit.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

/// The parsed, checked routing table.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    upstreams: Vec<Upstream>,
    /// Longest prefix first, so the first match is the most specific.
    routes: Vec<Route>,
    public: Vec<PublicRule>,
}

fn check_url(name: &str, url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        return Err(format!("upstream {name}: {url:?} is not an http(s) URL"));
    }
    Ok(trimmed.to_owned())
}

impl RouteTable {
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: TableFile = toml::from_str(text).map_err(|e| format!("routing table: {e}"))?;
        let mut upstreams = Vec::with_capacity(file.upstreams.len());
        for (name, u) in file.upstreams {
            let url = Some(check_url(&name, &u.url)?);
            upstreams.push(Upstream {
                name,
                url,
                openapi: u.openapi,
            });
        }
        let mut routes = Vec::with_capacity(file.routes.len());
        for r in file.routes {
            if !r.prefix.starts_with('/') || (r.prefix.len() > 1 && r.prefix.ends_with('/')) {
                return Err(format!(
                    "route prefix {:?} must start with / and not end with one",
                    r.prefix
                ));
            }
            let upstream = upstreams
                .iter()
                .position(|u| u.name == r.upstream)
                .ok_or_else(|| {
                    format!("route {} names unknown upstream {:?}", r.prefix, r.upstream)
                })?;
            if routes.iter().any(|x: &Route| x.prefix == r.prefix) {
                return Err(format!("route prefix {} is listed twice", r.prefix));
            }
            routes.push(Route {
                prefix: r.prefix,
                upstream,
                class: r.limit,
            });
        }
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        let public = file
            .public
            .routes
            .iter()
            .map(|r| PublicRule::parse(r))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            upstreams,
            routes,
            public,
        })
    }

    /// Points `name` at another URL, or disables it with `off`.
    pub fn set_upstream_url(&mut self, name: &str, url: &str) -> Result<(), String> {
        let upstream = self
            .upstreams
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| format!("no upstream named {name}"))?;
        upstream.url = if url.trim().eq_ignore_ascii_case("off") {
            None
        } else {
            Some(check_url(name, url)?)
        };
        Ok(())
    }

    pub fn upstreams(&self) -> &[Upstream] {
        &self.upstreams
    }

    pub fn upstream(&self, route: &Route) -> &Upstream {
        &self.upstreams[route.upstream]
    }

    /// The route owning `path`, matching whole segments.
    pub fn resolve(&self, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| {
            path.strip_prefix(r.prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// Whether `method path` may be called without a token. Admin routes never are: a
    /// broad rule (`GET /api/tools/*`) must not open `/api/tools/admin` by accident.
    pub fn is_public(&self, method: &Method, path: &str) -> bool {
        !path.split('/').any(|seg| seg == "admin")
            && self.public.iter().any(|r| r.matches(method, path))
    }
}

/// Paths that could mean something else once an upstream normalises them (`..`, `.`,
/// empty or encoded-slash segments) are refused: routing and the public-route check must
/// see the same path the service will.
pub fn is_safe_path(path: &str) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains('\\') {
        return false;
    }
    let segments: Vec<&str> = lower[1..].split('/').collect();
    let last = segments.len() - 1;
    segments.iter().enumerate().all(|(i, seg)| {
        // A trailing slash (or the root) leaves one empty last segment: harmless.
        (!seg.is_empty() || i == last)
            && !matches!(*seg, "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::parse(DEFAULT_TABLE).unwrap()
    }

    #[test]
    fn the_shipped_table_parses_and_routes_every_area() {
        let t = table();
        for (path, upstream) in [
            ("/api/auth/login", "auth"),
            ("/.well-known/jwks.json", "auth"),
            ("/api/users/me", "user"),
            ("/api/users", "user"),
            ("/api/communities/1/members", "community"),
            ("/api/categories", "catalog"),
            ("/api/tools/9", "catalog"),
            ("/api/favorites", "catalog"),
            ("/api/cart/items", "order"),
            ("/api/orders/1/cancel", "order"),
            ("/api/payments/initiate", "payment"),
            ("/api/deposits", "payment"),
            ("/api/delivery/slots", "delivery"),
            ("/api/courier/orders/available", "courier"),
            ("/api/notifications", "notification"),
        ] {
            let route = t.resolve(path).unwrap_or_else(|| panic!("{path} unrouted"));
            assert_eq!(t.upstream(route).name, upstream, "{path}");
        }
    }

    #[test]
    fn prefixes_match_whole_segments_only() {
        let t = table();
        assert!(t.resolve("/api/usersX").is_none());
        assert!(t.resolve("/api").is_none());
        assert!(t.resolve("/").is_none());
        assert!(t.resolve("/api/unknown/thing").is_none());
    }

    #[test]
    fn public_rules_match_method_and_segments() {
        let t = table();
        assert!(t.is_public(&Method::POST, "/api/auth/login"));
        assert!(!t.is_public(&Method::GET, "/api/auth/login"));
        assert!(!t.is_public(&Method::POST, "/api/auth/logout"));
        assert!(!t.is_public(&Method::POST, "/api/auth/login/extra"));
        assert!(t.is_public(&Method::GET, "/api/tools"));
        assert!(t.is_public(&Method::GET, "/api/tools/5/reviews"));
        assert!(!t.is_public(&Method::GET, "/api/tools/admin"));
        assert!(!t.is_public(&Method::GET, "/api/categories/admin/tree"));
        assert!(!t.is_public(&Method::GET, "/api/tools/5/reservations"));
        assert!(t.is_public(&Method::HEAD, "/api/tools/5"));
        assert!(!t.is_public(&Method::POST, "/api/tools/5/reviews"));
        assert!(t.is_public(&Method::GET, "/api/users/openapi.json"));
        assert!(!t.is_public(&Method::GET, "/api/users/me"));
        assert!(!t.is_public(&Method::GET, "/api//openapi.json"));
    }

    #[test]
    fn bad_tables_are_refused_with_the_reason() {
        let bad_upstream = "[upstreams]\na = { url = \"http://x\" }\n[[routes]]\nprefix = \"/api/a\"\nupstream = \"b\"\n";
        assert!(
            RouteTable::parse(bad_upstream)
                .unwrap_err()
                .contains("unknown upstream")
        );
        let bad_url = "routes = []\n[upstreams]\na = { url = \"ftp://x\" }\n";
        assert!(RouteTable::parse(bad_url).unwrap_err().contains("http"));
        let empty = "routes = []\n[upstreams]\n";
        assert!(RouteTable::parse(empty).is_ok());
        let bad_rule = "routes = []\n[upstreams]\n[public]\nroutes = [\"/no-method\"]\n";
        assert!(RouteTable::parse(bad_rule).unwrap_err().contains("METHOD"));
        let unknown_key = "routes = []\nextra = 1\n[upstreams]\n";
        assert!(
            RouteTable::parse(unknown_key)
                .unwrap_err()
                .contains("extra")
        );
    }

    #[test]
    fn upstreams_can_be_repointed_or_disabled() {
        let mut t = table();
        t.set_upstream_url("auth", "http://auth:8080/").unwrap();
        t.set_upstream_url("catalog", "off").unwrap();
        let auth = t.resolve("/api/auth/login").unwrap();
        assert_eq!(t.upstream(auth).url.as_deref(), Some("http://auth:8080"));
        let tools = t.resolve("/api/tools").unwrap();
        assert_eq!(t.upstream(tools).url, None);
        assert!(t.set_upstream_url("nope", "http://x").is_err());
    }

    #[test]
    fn ambiguous_paths_are_unsafe() {
        for ok in ["/", "/api/users/me", "/api/users/me/", "/api/tools?q=a"] {
            assert!(is_safe_path(ok), "{ok}");
        }
        for bad in [
            "/api/tools/../users/me",
            "/api/tools/%2e%2e/users",
            "/api/tools/%2E%2E/users",
            "/api/tools/./x",
            "/api//users",
            "/api/tools%2fusers",
            "/api\\users",
            "relative",
        ] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }
}
