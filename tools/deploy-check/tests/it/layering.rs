//! The workspace's layers: `crates/` holds libraries every service may use, so none of
//! them may depend on a service (the operator image would link it, and a change to a
//! service would rebuild the kit's dependants). Benchmarks and suites that need services
//! live under `tools/`.

use deploy_check::root;

/// Every dependency table of a manifest: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and their `[target.*]` forms.
fn dependencies(manifest: &toml::Table) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    let mut tables = vec![manifest.clone()];
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        tables.extend(targets.values().filter_map(|t| t.as_table().cloned()));
    }
    for table in tables {
        for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = table.get(kind).and_then(|d| d.as_table()) {
                out.extend(deps.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    out
}

#[test]
fn no_library_under_crates_depends_on_a_service() {
    let services = crate::services();
    assert!(
        services.iter().any(|s| s == "auth"),
        "services: {services:?}"
    );
    let mut offending = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let manifest: toml::Table = text.parse().unwrap();
        for (name, spec) in dependencies(&manifest) {
            let package = spec
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(&name)
                .to_owned();
            let path = spec.get("path").and_then(|p| p.as_str()).unwrap_or("");
            if services.contains(&package) || path.contains("services/") {
                offending.push(format!("{} -> {name}", dir.display()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "crates/ must not depend on services: {offending:?}"
    );
}
