//! Rate limits and lockout, in Redis so every replica sees the same counts.
//!
//! - Per client IP: the kit's GCRA limiter (`platform::ratelimit`), one budget per action
//!   and minute, the same limiter the gateway uses.
//! - Per account: failed logins counted over a window; every `threshold` failures lock the
//!   account, each lock four times longer than the one before (capped). Unknown
//!   identifiers are counted and locked the same way, keyed by a hash of the identifier,
//!   so lockout answers do not reveal which accounts exist.

use crate::config::LockoutPolicy;
use crate::error::{Error, Result};
use platform::ratelimit::{Admission, Rate, RateLimiter, WorkerConn};
use redis::aio::ConnectionManager;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// INCR with the expiry set by the first increment, atomically; returns (count, ttl ms).
/// Failures are counted, not rate-limited: every `threshold`-th one locks the account.
const COUNT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
";

#[derive(Clone)]
pub struct Limits {
    redis: ConnectionManager,
    policy: LockoutPolicy,
    ip_per_minute: u32,
    count: redis::Script,
    limiter: RateLimiter,
    limiter_conn: Arc<WorkerConn>,
}

/// A lock just imposed by a failure.
#[derive(Debug, Clone, Copy)]
pub struct NewLock {
    pub failures: u32,
    pub duration: Duration,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Limits {
    pub fn new(
        redis: ConnectionManager,
        redis_url: &str,
        policy: LockoutPolicy,
        ip_per_minute: u32,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            policy,
            ip_per_minute,
            count: redis::Script::new(COUNT),
            limiter: RateLimiter::new(redis_url, "auth:rate:")?,
            limiter_conn: Arc::new(WorkerConn::with(redis.clone())),
            redis,
        })
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<(u32, Duration)> {
        let mut conn = self.redis.clone();
        let (n, ttl): (u32, i64) = self
            .count
            .key(key)
            .arg(ms(window))
            .invoke_async(&mut conn)
            .await?;
        Ok((n, Duration::from_millis(u64::try_from(ttl).unwrap_or(0))))
    }

    /// Counts one attempt of `action` from `ip`; 429 once the minute's budget is spent.
    pub async fn check_ip(&self, action: &str, ip: IpAddr) -> Result<()> {
        let client = platform::http::client_ip::ClientIp(ip).subscriber();
        self.check_budget(
            &format!("ip:{action}:{client}"),
            self.ip_per_minute,
            Duration::from_secs(60),
        )
        .await
    }

    /// Counts one use of `key`; `RateLimited` beyond `max` per `window` (bursts up to
    /// `max`, refilled evenly). Fails closed: without Redis the action is refused, since
    /// these budgets guard sign-in and code sending.
    pub async fn check_budget(&self, key: &str, max: u32, window: Duration) -> Result<()> {
        let rate = Rate {
            limit: max.max(1),
            period: window,
        };
        match self
            .limiter
            .check(&self.limiter_conn, key, rate, None)
            .await
        {
            Admission::Decided(d) if d.allowed => Ok(()),
            Admission::Decided(d) => Err(Error::RateLimited {
                retry_after: d.retry_after,
            }),
            Admission::Revoked | Admission::Unavailable => {
                Err(Error::Internal(anyhow::anyhow!("rate limiter unavailable")))
            }
        }
    }

    /// `Err(Locked)` while `subject` is locked.
    pub async fn check_lock(&self, subject: &str) -> Result<()> {
        let mut conn = self.redis.clone();
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("auth:lock:{subject}"))
            .query_async(&mut conn)
            .await?;
        if ttl > 0 {
            return Err(Error::Locked {
                retry_after: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
            });
        }
        Ok(())
    }

    /// Records a failed attempt; returns the lock it caused, if it caused one.
    pub async fn record_failure(&self, subject: &str) -> Result<Option<NewLock>> {
        let p = &self.policy;
        let (failures, _) = self
            .incr(&format!("auth:fail:{subject}"), p.window.max(p.max))
            .await?;
        if failures % p.threshold != 0 {
            return Ok(None);
        }
        let level = failures / p.threshold - 1;
        let duration = p
            .base
            .checked_mul(4u32.saturating_pow(level))
            .unwrap_or(p.max)
            .min(p.max);
        let mut conn = self.redis.clone();
        let _: () = redis::cmd("SET")
            .arg(format!("auth:lock:{subject}"))
            .arg(1)
            .arg("PX")
            .arg(ms(duration))
            .query_async(&mut conn)
            .await?;
        Ok(Some(NewLock { failures, duration }))
    }

    pub async fn clear_failures(&self, subject: &str) -> Result<()> {
        let mut conn = self.redis.clone();
        let _: () = redis::cmd("DEL")
            .arg(format!("auth:fail:{subject}"))
            .arg(format!("auth:lock:{subject}"))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
