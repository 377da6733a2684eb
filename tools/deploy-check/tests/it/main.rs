//! The deployment files against the workspace: what a new service or topic must bring.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod compose;
mod custom_resources;
mod dockerfile;
mod kubernetes;
mod layering;
mod topics;

use deploy_check::Manifests;
use std::sync::OnceLock;

/// Both overlays, rendered once per test binary (kubectl takes a moment each).
pub fn overlays() -> &'static [(&'static str, Manifests)] {
    static RENDERED: OnceLock<Vec<(&'static str, Manifests)>> = OnceLock::new();
    RENDERED.get_or_init(|| {
        ["overlays/dev", "overlays/prod"]
            .into_iter()
            .map(|o| {
                (
                    o,
                    deploy_check::render(o).unwrap_or_else(|e| panic!("{e:#}")),
                )
            })
            .collect()
    })
}

pub fn services() -> Vec<String> {
    deploy_check::services().expect("services/ is readable")
}
