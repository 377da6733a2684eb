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
    VarDoc {
        name: "CATALOG_STORE_URL",
        default: Some("data/catalog-images"),
        doc: "Where tool images are kept: a directory (created if missing; `scripts/stack` uses `.state/catalog-images`) or `s3://bucket[/prefix]` for S3 or MinIO, with the usual `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and `AWS_ENDPOINT` (plus `AWS_ALLOW_HTTP=true` for a plain-HTTP MinIO).",
    },
    VarDoc {
        name: "CATALOG_IMAGE_MAX_BYTES",
        default: Some("8388608"),
        doc: "The largest image upload taken, in bytes (the gateway's and the service's `HTTP_BODY_LIMIT` must allow it).",
    },
];

#[derive(Debug, Clone)]
pub struct CatalogConfig {
    pub auth: AuthConfig,
    pub store_url: String,
    pub image_max_bytes: usize,
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
            store_url: v.or("CATALOG_STORE_URL", "data/catalog-images".to_owned()),
            image_max_bytes: v.or("CATALOG_IMAGE_MAX_BYTES", 8 * 1024 * 1024),
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
