//! Rate limits shared by every replica of a service: the counters live in Redis. The
//! gateway limits every request with it; services limit their own sensitive actions
//! (sign-ups and sign-ins per address, codes per account) with the same limiter.
//!
//! The algorithm is GCRA (a leaky bucket kept as one timestamp per client): `limit`
//! requests per `period`, bursts of up to `limit`, evenly refilled. One Lua script does
//! the read-decide-write atomically and takes the time from Redis, so replicas with
//! skewed clocks still agree. (Redis has no GCRA command without a module, and the
//! in-process limiter crates cannot share counts between replicas, hence the script.)

use crate::config::Dur;
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use redis::aio::ConnectionManager;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// `limit` requests per `period`, written `120/1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub period: Duration,
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (limit, period) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a rate like 120/1m"))?;
        let limit: u32 = limit
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: the count must be a whole number"))?;
        let period = period
            .trim()
            .parse::<Dur>()
            .map_err(|e| format!("{s:?}: {e}"))?
            .0;
        if limit == 0 || period.is_zero() {
            return Err(format!("{s:?}: count and period must be positive"));
        }
        Ok(Self { limit, period })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.limit, self.period.as_secs())
    }
}

impl Rate {
    /// Milliseconds between two requests at the sustained rate (at least 1).
    pub fn interval_ms(&self) -> u64 {
        (u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX) / u64::from(self.limit)).max(1)
    }
}

/// The outcome of one check, with what the client is told in the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the next request would be allowed (zero when allowed now).
    pub retry_after: Duration,
    /// When the bucket is full again.
    pub reset: Duration,
    pub period: Duration,
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Decision {
    /// `RateLimit-*` headers (IETF draft field names), and `Retry-After` when refused.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (
                HeaderName::from_static("ratelimit-limit"),
                HeaderValue::from(self.limit),
            ),
            (
                HeaderName::from_static("ratelimit-remaining"),
                HeaderValue::from(self.remaining),
            ),
            (
                HeaderName::from_static("ratelimit-reset"),
                HeaderValue::from(ceil_secs(self.reset)),
            ),
        ];
        if let Ok(policy) = HeaderValue::from_str(&format!(
            "{};w={}",
            self.limit,
            self.period.as_secs().max(1)
        )) {
            headers.push((HeaderName::from_static("ratelimit-policy"), policy));
        }
        if !self.allowed {
            headers.push((
                RETRY_AFTER,
                HeaderValue::from(ceil_secs(self.retry_after).max(1)),
            ));
        }
        headers
    }
}

/// KEYS[1]: the bucket; KEYS[2] (on protected routes): the session's deny-list key, read
/// in the same round trip. ARGV[1]: emission interval (ms), ARGV[2]: burst (= limit).
/// Returns {allowed (1, 0, or -1 for a revoked session), remaining, retry_after_ms, reset_ms}.
const GCRA: &str = r"
if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 1 then
  return {-1, 0, 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
";

/// How long a check may take before Redis counts as unavailable.
const CHECK_TIMEOUT: Duration = Duration::from_millis(250);

/// The outcome of one admission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Decided(Decision),
    /// The deny-list names the session (signed out, revoked).
    Revoked,
    /// Redis did not answer in time.
    Unavailable,
}

/// Each worker's own Redis connection, opened on first use inside the worker's runtime. A
/// connection driven by another runtime's threads costs cross-thread wake-ups on every
/// command; on two cores that was most of the latency the gateway added (0.8 ms at p50).
#[derive(Default)]
pub struct WorkerConn(OnceCell<ConnectionManager>);

impl WorkerConn {
    /// A connection made already: for callers outside actix's workers (a service's shared
    /// state), whose connection is driven by the main runtime rather than by whichever
    /// worker happened to check first.
    pub fn with(manager: ConnectionManager) -> Self {
        Self(OnceCell::new_with(Some(manager)))
    }
}

/// Shared by every worker: what to run, against which Redis, under which key prefix.
#[derive(Clone)]
pub struct RateLimiter {
    client: redis::Client,
    script: Arc<redis::Script>,
    prefix: String,
}

impl RateLimiter {
    /// A limiter whose buckets are the Redis keys `<prefix><bucket>`.
    pub fn new(redis_url: &str, prefix: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(redis_url)?,
            script: Arc::new(redis::Script::new(GCRA)),
            prefix: prefix.to_owned(),
        })
    }

    /// Counts one request against `bucket` and, when `revoked_key` is given, looks the
    /// session up in the deny-list in the same script.
    pub async fn check(
        &self,
        conn: &WorkerConn,
        bucket: &str,
        rate: Rate,
        revoked_key: Option<&str>,
    ) -> Admission {
        let attempt = async {
            let manager = conn
                .0
                .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
                .await?;
            let mut manager = manager.clone();
            let key = format!("{}{bucket}", self.prefix);
            let mut invocation = self.script.key(&key);
            if let Some(revoked) = revoked_key {
                invocation.key(revoked);
            }
            invocation.arg(rate.interval_ms()).arg(rate.limit);
            invocation
                .invoke_async::<(i64, u64, u64, u64)>(&mut manager)
                .await
        };
        match tokio::time::timeout(CHECK_TIMEOUT, attempt).await {
            Ok(Ok((-1, ..))) => Admission::Revoked,
            Ok(Ok((allowed, remaining, retry_ms, reset_ms))) => Admission::Decided(Decision {
                allowed: allowed == 1,
                limit: rate.limit,
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                retry_after: Duration::from_millis(retry_ms),
                reset: Duration::from_millis(reset_ms),
                period: rate.period,
            }),
            Ok(Err(e)) => {
                metrics::counter!("ratelimit_redis_unavailable_total").increment(1);
                tracing::warn!(error = %e, "Redis unavailable for the rate-limit check");
                Admission::Unavailable
            }
            Err(_) => {
                metrics::counter!("ratelimit_redis_unavailable_total").increment(1);
                tracing::warn!("Redis timed out during the rate-limit check");
                Admission::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_refuse_nonsense() {
        assert_eq!(
            "120/1m".parse::<Rate>().unwrap(),
            Rate {
                limit: 120,
                period: Duration::from_secs(60)
            }
        );
        assert_eq!("5/10s".parse::<Rate>().unwrap().interval_ms(), 2000);
        for bad in ["", "120", "0/1m", "x/1m", "10/0s", "10/soon"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_carry_retry_after_in_whole_seconds() {
        let d = Decision {
            allowed: false,
            limit: 10,
            remaining: 0,
            retry_after: Duration::from_millis(1200),
            reset: Duration::from_millis(59_500),
            period: Duration::from_secs(60),
        };
        let h: Vec<(String, String)> = d
            .headers()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        assert!(h.contains(&("retry-after".into(), "2".into())));
        assert!(h.contains(&("ratelimit-reset".into(), "60".into())));
        assert!(h.contains(&("ratelimit-policy".into(), "10;w=60".into())));
    }
}
