//! The deployment files as data: rendered kustomize overlays, the compose file, the
//! workspace's services. The tests under `tests/it` hold the files to the workspace, so a
//! new service or topic cannot ship without its Deployment, Service, probes,
//! NetworkPolicy, database, compose entry and KafkaTopic.
//!
//! Rendering uses `kubectl kustomize`; `scripts/check-deploy --install` puts a kubectl in
//! the tools cache, where [`kubectl`] finds it (or set `KUBECTL`).

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every service crate of the workspace (a folder under `services/` with a Cargo.toml).
pub fn services() -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("services"))? {
        let path = entry?.path();
        if path.join("Cargo.toml").is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// A service owns a database when it has migrations (the gateway has none).
pub fn has_database(service: &str) -> bool {
    root()
        .join("services")
        .join(service)
        .join("migrations")
        .is_dir()
}

/// The kubectl to render with: `KUBECTL`, else the tools cache's, else the PATH's.
pub fn kubectl() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBECTL") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(cached) = cache.map(|c| c.join("deploy-tools-venv/bin/kubectl"))
        && cached.is_file()
    {
        return cached;
    }
    PathBuf::from("kubectl")
}

/// The resources `kubectl kustomize k8s/<path>` renders.
pub fn render(path: &str) -> anyhow::Result<Manifests> {
    let kubectl = kubectl();
    let out = Command::new(&kubectl)
        .arg("kustomize")
        .arg(root().join("k8s").join(path))
        .output()
        .with_context(|| {
            format!(
                "running {} (install it with scripts/check-deploy --install)",
                kubectl.display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "kubectl kustomize k8s/{path} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Manifests(parse_documents(&String::from_utf8(out.stdout)?)?))
}

/// Every document of a multi-document YAML text, as JSON values.
pub fn parse_documents(text: &str) -> anyhow::Result<Vec<Value>> {
    let mut docs = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Value::deserialize(doc)?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

const MAX_MERGE_DEPTH: usize = 8;

/// A YAML file with its merge keys (`<<: *anchor`) applied, as a JSON value.
pub fn load_yaml(relative: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(root().join(relative))
        .with_context(|| format!("reading {relative}"))?;
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)?;
    // One pass merges one level: an anchor that itself merges another (`x-service`
    // merging `x-hardened`) leaves a `<<` key behind for the next pass.
    for _ in 0..MAX_MERGE_DEPTH {
        value.apply_merge()?;
        if !serde_yaml_ng::to_string(&value)?.contains("<<") {
            return Ok(serde_json::to_value(value)?);
        }
    }
    bail!("{relative}: merge keys nested deeper than {MAX_MERGE_DEPTH} levels")
}

/// Rendered resources, looked up by kind and name.
pub struct Manifests(pub Vec<Value>);

impl Manifests {
    pub fn of_kind<'s>(&'s self, kind: &str) -> impl Iterator<Item = &'s Value> {
        self.0.iter().filter(move |d| d["kind"] == kind)
    }

    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.of_kind(kind).find(|d| d["metadata"]["name"] == name)
    }

    /// The ConfigMap generated under `name` (kustomize appends a content hash).
    pub fn config_map(&self, name: &str) -> Option<&Value> {
        let prefix = format!("{name}-");
        self.of_kind("ConfigMap").find(|d| {
            d["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n == name || n.strip_prefix(&prefix).is_some_and(is_hash))
        })
    }
}

/// kustomize's name suffix: ten lowercase letters and digits.
fn is_hash(s: &str) -> bool {
    s.len() == 10
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_skip_empty_ones() {
        let docs = parse_documents("---\na: 1\n---\n---\nb: [2]\n").unwrap();
        assert_eq!(
            docs,
            vec![serde_json::json!({"a": 1}), serde_json::json!({"b": [2]})]
        );
    }

    #[test]
    fn generated_config_maps_are_found_by_their_base_name() {
        let m = Manifests(vec![
            serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "auth-config-dg8h4cd8th"}}),
            serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "auth-config-extra-dg8h4cd8th"}}),
        ]);
        assert_eq!(
            m.config_map("auth-config").unwrap()["metadata"]["name"],
            "auth-config-dg8h4cd8th"
        );
        assert!(m.config_map("auth").is_none());
    }
}
