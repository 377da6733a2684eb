//! The gateway's settings. It has no database and no broker, so it reads only the kit's
//! HTTP, telemetry and token-verification settings plus its own.

use crate::routing::{DEFAULT_TABLE, RouteTable};
use platform::auth::AuthConfig;
use platform::config::{Dur, Secret, VarDoc, Vars};
use platform::http::server::HttpConfig;
use platform::ratelimit::Rate;
use platform::telemetry::TelemetryConfig;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 18080;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "GATEWAY_ROUTES_FILE",
        default: Some("(the embedded services/gateway/routes.toml)"),
        doc: "Routing table: upstreams, path prefixes, public routes, rate-limit classes.",
    },
    VarDoc {
        name: "GATEWAY_UPSTREAM_<NAME>",
        default: Some("(from the routing table)"),
        doc: "Base URL of one upstream (`GATEWAY_UPSTREAM_AUTH=http://auth:8080`); `off` disables it (its routes answer 503).",
    },
    VarDoc {
        name: "GATEWAY_CONNECT_TIMEOUT",
        default: Some("1s"),
        doc: "How long opening a connection to an upstream may take before the request gets 502.",
    },
    VarDoc {
        name: "GATEWAY_UPSTREAM_TIMEOUT",
        default: Some("30s"),
        doc: "How long an upstream may take to start answering before the request gets 504.",
    },
    VarDoc {
        name: "GATEWAY_UPSTREAM_MAX_CONNECTIONS",
        default: Some("512"),
        doc: "Connections each gateway worker keeps at most (pooled, reused across requests).",
    },
    VarDoc {
        name: "GATEWAY_RATE_LIMIT_ANONYMOUS",
        default: Some("120/1m"),
        doc: "Requests per client IP (IPv6: per /64) on routes called without a token.",
    },
    VarDoc {
        name: "GATEWAY_RATE_LIMIT_USER",
        default: Some("600/1m"),
        doc: "Requests per signed-in user.",
    },
    VarDoc {
        name: "GATEWAY_RATE_LIMIT_AUTH",
        default: Some("30/1m"),
        doc: "Requests per client (IP, or user when signed in) on the `auth` class routes (sign-in, registration, codes).",
    },
    VarDoc {
        name: "GATEWAY_CORS_ORIGINS",
        default: Some("(none: same-origin only)"),
        doc: "Comma-separated origins browsers may call the API from; `*` allows any (tokens travel in headers, never cookies).",
    },
    VarDoc {
        name: "GATEWAY_CORS_MAX_AGE",
        default: Some("1h"),
        doc: "How long browsers may cache a CORS preflight answer.",
    },
    VarDoc {
        name: "GATEWAY_DOCS_CACHE",
        default: Some("30s"),
        doc: "How long the merged OpenAPI document is reused before the services are asked again.",
    },
];

#[derive(Debug, Clone, Copy)]
pub struct UpstreamSettings {
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub max_connections: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub anonymous: Rate,
    pub user: Rate,
    pub auth: Rate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    None,
    Any,
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub http: HttpConfig,
    pub telemetry: TelemetryConfig,
    pub auth: AuthConfig,
    pub redis_url: Secret<String>,
    pub table: RouteTable,
    pub upstream: UpstreamSettings,
    pub limits: RateLimits,
    pub cors: CorsOrigins,
    pub cors_max_age: Duration,
    pub docs_cache: Duration,
    /// Prefix of the rate-limit keys in Redis (tests give each gateway its own).
    pub limiter_prefix: String,
}

fn parse_origins(raw: Option<String>) -> Result<CorsOrigins, String> {
    let Some(raw) = raw else {
        return Ok(CorsOrigins::None);
    };
    if raw.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let scheme_ok = origin.starts_with("http://") || origin.starts_with("https://");
        // An origin is scheme://host[:port]: no path, not even a trailing slash.
        let has_path = origin.splitn(4, '/').nth(3).is_some();
        if !scheme_ok || has_path {
            return Err(format!(
                "GATEWAY_CORS_ORIGINS: {origin:?} is not an origin like https://app.example.com"
            ));
        }
        origins.push(origin.to_owned());
    }
    Ok(CorsOrigins::List(origins))
}

impl GatewayConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        let http = HttpConfig::from_vars(v, DEFAULT_PORT);
        let telemetry = TelemetryConfig::from_vars(v);
        let auth = AuthConfig::from_vars(v);
        let redis_url = auth.redis_url.clone();
        let text = match v.optional::<String>("GATEWAY_ROUTES_FILE") {
            Some(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| {
                v.problem(format!("GATEWAY_ROUTES_FILE {path}: {e}"));
                DEFAULT_TABLE.to_owned()
            }),
            None => DEFAULT_TABLE.to_owned(),
        };
        let mut table = RouteTable::parse(&text).unwrap_or_else(|e| {
            // Stands in only until `Vars::finish` reports the problem and start-up stops.
            v.problem(e);
            RouteTable::default()
        });
        let names: Vec<String> = table.upstreams().iter().map(|u| u.name.clone()).collect();
        for name in names {
            let var = format!("GATEWAY_UPSTREAM_{}", name.to_ascii_uppercase());
            if let Some(url) = v.optional::<String>(&var)
                && let Err(e) = table.set_upstream_url(&name, &url)
            {
                v.problem(format!("{var}: {e}"));
            }
        }
        let cors = parse_origins(v.optional("GATEWAY_CORS_ORIGINS")).unwrap_or_else(|e| {
            v.problem(e);
            CorsOrigins::None
        });
        Self {
            http,
            telemetry,
            auth,
            redis_url,
            table,
            upstream: UpstreamSettings {
                connect_timeout: v
                    .or("GATEWAY_CONNECT_TIMEOUT", Dur(Duration::from_secs(1)))
                    .0,
                response_timeout: v
                    .or("GATEWAY_UPSTREAM_TIMEOUT", Dur(Duration::from_secs(30)))
                    .0,
                max_connections: v.or("GATEWAY_UPSTREAM_MAX_CONNECTIONS", 512),
            },
            limits: RateLimits {
                anonymous: v.or("GATEWAY_RATE_LIMIT_ANONYMOUS", rate(120, 60)),
                user: v.or("GATEWAY_RATE_LIMIT_USER", rate(600, 60)),
                auth: v.or("GATEWAY_RATE_LIMIT_AUTH", rate(30, 60)),
            },
            cors,
            cors_max_age: v
                .or("GATEWAY_CORS_MAX_AGE", Dur(Duration::from_secs(3600)))
                .0,
            docs_cache: v.or("GATEWAY_DOCS_CACHE", Dur(Duration::from_secs(30))).0,
            limiter_prefix: "gateway:rl:".to_owned(),
        }
    }
}

fn rate(limit: u32, secs: u64) -> Rate {
    Rate {
        limit,
        period: Duration::from_secs(secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<GatewayConfig, String> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut v = Vars::new(&env);
        let c = GatewayConfig::from_vars(&mut v);
        v.finish().map(|()| c).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_load_and_upstreams_can_be_overridden() {
        let c = load(&[
            ("GATEWAY_UPSTREAM_USER", "http://user:8080"),
            ("GATEWAY_UPSTREAM_CATALOG", "off"),
            (
                "GATEWAY_CORS_ORIGINS",
                "https://app.example.com, http://localhost:3000",
            ),
        ])
        .unwrap();
        let find = |n: &str| {
            c.table
                .upstreams()
                .iter()
                .find(|u| u.name == n)
                .unwrap()
                .url
                .clone()
        };
        assert_eq!(find("user").as_deref(), Some("http://user:8080"));
        assert_eq!(find("catalog"), None);
        assert_eq!(find("auth").as_deref(), Some("http://127.0.0.1:18081"));
        assert_eq!(
            c.cors,
            CorsOrigins::List(vec![
                "https://app.example.com".into(),
                "http://localhost:3000".into()
            ])
        );
        assert_eq!(c.limits.auth.limit, 30);
    }

    #[test]
    fn every_problem_is_reported() {
        let e = load(&[
            ("GATEWAY_UPSTREAM_AUTH", "auth:8080"),
            ("GATEWAY_CORS_ORIGINS", "https://app.example.com/path"),
            ("GATEWAY_RATE_LIMIT_USER", "lots"),
        ])
        .unwrap_err();
        assert!(e.contains("GATEWAY_UPSTREAM_AUTH"), "{e}");
        assert!(e.contains("GATEWAY_CORS_ORIGINS"), "{e}");
        assert!(e.contains("GATEWAY_RATE_LIMIT_USER"), "{e}");
    }

    #[test]
    fn the_readme_documents_every_variable() {
        let missing = platform::config::undocumented(include_str!("../../../README.md"), VARS);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }
}
