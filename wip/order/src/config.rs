//! The order service's own settings (the common ones come from the platform kit).

use platform::auth::AuthConfig;
use platform::config::{Dur, VarDoc, Vars};
use std::time::Duration;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "ORDER_PAYMENT_DEADLINE",
        default: Some("15m"),
        doc: "How long a placed order waits for its payment once every hold is in place; after it the saga compensates (items and slot released, the order `cancelled` with reason `payment_expired`). Keep it well below the catalog's `CATALOG_HOLD_TTL`.",
    },
    VarDoc {
        name: "ORDER_STEP_TIMEOUT",
        default: Some("30s"),
        doc: "How long the saga waits for a participant's answer before it resends the command (the first wait; each resend waits twice as long, up to `ORDER_SAGA_MAX_BACKOFF`).",
    },
    VarDoc {
        name: "ORDER_SAGA_MAX_ATTEMPTS",
        default: Some("5"),
        doc: "Sends of one command before the saga gives up on it: a step before payment is then compensated; a step after payment, or a compensation, goes to `needs_operator` (metric `order_saga_needs_operator_total`, alert `OrderSagaNeedsOperator`).",
    },
    VarDoc {
        name: "ORDER_SAGA_MAX_BACKOFF",
        default: Some("10m"),
        doc: "The longest wait between two sends of one command.",
    },
    VarDoc {
        name: "ORDER_SWEEP_INTERVAL",
        default: Some("5s"),
        doc: "How often each replica looks for sagas whose deadline passed (replicas share them with `FOR UPDATE SKIP LOCKED`).",
    },
    VarDoc {
        name: "ORDER_CATALOG_URL",
        default: Some("http://127.0.0.1:18084"),
        doc: "The catalog's base URL, for the cart's advisory availability check (a line is `unverified` when the catalog cannot be asked; the saga's hold decides).",
    },
    VarDoc {
        name: "ORDER_CATALOG_TIMEOUT",
        default: Some("2s"),
        doc: "How long the cart waits for the catalog's availability answer.",
    },
];

/// How the saga waits and retries.
#[derive(Debug, Clone, Copy)]
pub struct SagaConfig {
    pub payment_deadline: Duration,
    pub step_timeout: Duration,
    pub max_attempts: i32,
    pub max_backoff: Duration,
}

impl SagaConfig {
    /// The wait after send number `attempt` (1-based): the step timeout, doubled per
    /// resend, capped.
    pub fn wait(&self, attempt: i32) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(20);
        self.step_timeout
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

#[derive(Debug, Clone)]
pub struct OrderConfig {
    pub auth: AuthConfig,
    pub saga: SagaConfig,
    pub sweep_interval: Duration,
    pub catalog_url: String,
    pub catalog_timeout: Duration,
}

impl OrderConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        Self {
            auth: AuthConfig::from_vars(v),
            saga: SagaConfig {
                payment_deadline: v
                    .or("ORDER_PAYMENT_DEADLINE", Dur(Duration::from_secs(900)))
                    .0,
                step_timeout: v.or("ORDER_STEP_TIMEOUT", Dur(Duration::from_secs(30))).0,
                max_attempts: v.or("ORDER_SAGA_MAX_ATTEMPTS", 5_i32).max(1),
                max_backoff: v
                    .or("ORDER_SAGA_MAX_BACKOFF", Dur(Duration::from_secs(600)))
                    .0,
            },
            sweep_interval: v.or("ORDER_SWEEP_INTERVAL", Dur(Duration::from_secs(5))).0,
            catalog_url: v.or("ORDER_CATALOG_URL", "http://127.0.0.1:18084".to_owned()),
            catalog_timeout: v.or("ORDER_CATALOG_TIMEOUT", Dur(Duration::from_secs(2))).0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_documents_every_variable() {
        let missing =
            platform::config::undocumented(include_str!("../../../README.md"), super::VARS);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let c = SagaConfig {
            payment_deadline: Duration::from_secs(900),
            step_timeout: Duration::from_secs(30),
            max_attempts: 5,
            max_backoff: Duration::from_secs(100),
        };
        assert_eq!(c.wait(1), Duration::from_secs(30));
        assert_eq!(c.wait(2), Duration::from_secs(60));
        assert_eq!(c.wait(3), Duration::from_secs(100));
        assert_eq!(c.wait(i32::MAX), Duration::from_secs(100));
        assert_eq!(c.wait(0), Duration::from_secs(30));
    }
}
