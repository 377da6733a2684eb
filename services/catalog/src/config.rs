//! The catalog service's own settings (the common ones come from the platform kit).

use platform::auth::AuthConfig;
use platform::config::{Dur, VarDoc, Vars};
use std::time::Duration;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "CATALOG_HOLD_TTL",
        default: Some("30m"),
        doc: "How long the catalog holds an order's items before the order is paid; an unconfirmed hold lapses after it and the items are free again.",
    },
    VarDoc {
        name: "CATALOG_SWEEP_INTERVAL",
        default: Some("30s"),
        doc: "How often the catalog releases lapsed holds.",
    },
];

#[derive(Debug, Clone)]
pub struct CatalogConfig {
    pub auth: AuthConfig,
    pub hold_ttl: Duration,
    pub sweep_interval: Duration,
}

impl CatalogConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        Self {
            auth: AuthConfig::from_vars(v),
            hold_ttl: v.or("CATALOG_HOLD_TTL", Dur(Duration::from_secs(1800))).0,
            sweep_interval: v
                .or("CATALOG_SWEEP_INTERVAL", Dur(Duration::from_secs(30)))
                .0,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_documents_every_variable() {
        let missing =
            platform::config::undocumented(include_str!("../../../README.md"), super::VARS);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }
}
