//! The auth service's own settings (the common ones come from the platform kit).

use crate::crypto::Kek;
use platform::auth::AuthConfig;
use platform::config::{Dur, VarDoc, Vars};
use std::time::Duration;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "AUTH_KEY_ENCRYPTION_KEY",
        default: None,
        doc: "32 random bytes, base64: encrypts signing keys and TOTP secrets at rest and keys the hashes of tokens and codes. Required by the auth service.",
    },
    VarDoc {
        name: "AUTH_ACCESS_TTL",
        default: Some("15m"),
        doc: "Lifetime of access tokens.",
    },
    VarDoc {
        name: "AUTH_REFRESH_IDLE_TTL",
        default: Some("7d"),
        doc: "Sliding lifetime of a session: each refresh pushes it forward by this much.",
    },
    VarDoc {
        name: "AUTH_REFRESH_ABSOLUTE_TTL",
        default: Some("30d"),
        doc: "Absolute lifetime of a session, whatever the refreshes.",
    },
    VarDoc {
        name: "AUTH_LOCKOUT_THRESHOLD",
        default: Some("5"),
        doc: "Failed logins within `AUTH_LOCKOUT_WINDOW` that lock an account; each further multiple locks longer.",
    },
    VarDoc {
        name: "AUTH_LOCKOUT_WINDOW",
        default: Some("15m"),
        doc: "How long failed logins are remembered.",
    },
    VarDoc {
        name: "AUTH_LOCKOUT_BASE",
        default: Some("1m"),
        doc: "First lock duration; each further lock lasts four times longer.",
    },
    VarDoc {
        name: "AUTH_LOCKOUT_MAX",
        default: Some("1h"),
        doc: "Longest lock duration.",
    },
    VarDoc {
        name: "AUTH_IP_LIMIT_PER_MINUTE",
        default: Some("60"),
        doc: "Credential attempts (login, OTP, registration, password reset) per client IP per minute.",
    },
    VarDoc {
        name: "AUTH_ARGON2_MEMORY_KIB",
        default: Some("19456"),
        doc: "argon2id memory cost (OWASP: 19 MiB with 2 iterations).",
    },
    VarDoc {
        name: "AUTH_ARGON2_ITERATIONS",
        default: Some("2"),
        doc: "argon2id time cost.",
    },
    VarDoc {
        name: "AUTH_HASHING_THREADS",
        default: Some("(CPU count)"),
        doc: "Password hashes computed at once; more queue instead of thrashing memory and cores.",
    },
];

#[derive(Debug, Clone)]
pub struct AuthServiceConfig {
    pub kek: Kek,
    pub tokens: TokenPolicy,
    pub lockout: LockoutPolicy,
    pub ip_limit_per_minute: u32,
    pub argon2: Argon2Params,
    pub hashing_threads: usize,
    /// Issuer, audience and Redis, shared with every verifier.
    pub verify: AuthConfig,
}

#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_idle_ttl: Duration,
    pub refresh_absolute_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub window: Duration,
    pub base: Duration,
    pub max: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl AuthServiceConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        let verify = AuthConfig::from_vars(v);
        let kek = v.required_with(
            "AUTH_KEY_ENCRYPTION_KEY",
            "32 random bytes, base64",
            Kek::from_bytes(&[0; 32]),
        );
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let lockout = LockoutPolicy {
            threshold: v.or("AUTH_LOCKOUT_THRESHOLD", 5u32).max(1),
            window: v.or("AUTH_LOCKOUT_WINDOW", Dur(Duration::from_secs(900))).0,
            base: v.or("AUTH_LOCKOUT_BASE", Dur(Duration::from_secs(60))).0,
            max: v.or("AUTH_LOCKOUT_MAX", Dur(Duration::from_secs(3600))).0,
        };
        let tokens = TokenPolicy {
            issuer: verify.issuer.clone(),
            audience: verify.audience.clone(),
            access_ttl: v.or("AUTH_ACCESS_TTL", Dur(Duration::from_secs(900))).0,
            refresh_idle_ttl: v
                .or(
                    "AUTH_REFRESH_IDLE_TTL",
                    Dur(Duration::from_secs(7 * 86_400)),
                )
                .0,
            refresh_absolute_ttl: v
                .or(
                    "AUTH_REFRESH_ABSOLUTE_TTL",
                    Dur(Duration::from_secs(30 * 86_400)),
                )
                .0,
        };
        let day = Duration::from_secs(86_400);
        // Bounded so no time arithmetic can overflow and no setting can make tokens
        // effectively eternal.
        if !(Duration::from_secs(60)..=day).contains(&tokens.access_ttl) {
            v.problem("AUTH_ACCESS_TTL must be between 1m and 24h");
        }
        if tokens.refresh_absolute_ttl > 365 * day {
            v.problem("AUTH_REFRESH_ABSOLUTE_TTL must be at most 365d");
        }
        if lockout.window > day || lockout.max > day || lockout.base > lockout.max {
            v.problem("AUTH_LOCKOUT_* durations must be at most 24h, with BASE <= MAX");
        }
        if tokens.refresh_idle_ttl > tokens.refresh_absolute_ttl {
            v.problem("AUTH_REFRESH_IDLE_TTL must not exceed AUTH_REFRESH_ABSOLUTE_TTL");
        }
        Self {
            kek,
            tokens,
            lockout,
            ip_limit_per_minute: v.or("AUTH_IP_LIMIT_PER_MINUTE", 60u32),
            argon2: Argon2Params {
                memory_kib: v.or("AUTH_ARGON2_MEMORY_KIB", 19_456u32),
                iterations: v.or("AUTH_ARGON2_ITERATIONS", 2u32),
            },
            hashing_threads: v.or("AUTH_HASHING_THREADS", threads).max(1),
            verify,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::Source;
    use std::collections::HashMap;

    #[test]
    fn the_readme_documents_every_variable() {
        let missing = platform::config::undocumented(include_str!("../../../README.md"), VARS);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }

    struct Map(HashMap<&'static str, &'static str>);
    impl Source for Map {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }
    }

    #[test]
    fn the_key_is_required_and_ttls_are_bounded() {
        let env = Map(HashMap::from([("AUTH_ACCESS_TTL", "48h")]));
        let mut v = Vars::new(&env);
        let _ = AuthServiceConfig::from_vars(&mut v);
        let err = v.finish().unwrap_err().to_string();
        assert!(err.contains("AUTH_KEY_ENCRYPTION_KEY"), "{err}");
        assert!(err.contains("AUTH_ACCESS_TTL"), "{err}");
    }
}
