//! Backward-compatibility rules for the event schemas.
//!
//! Consumers deployed before a schema change must keep decoding what newer producers
//! write, and the reverse. In protobuf that holds while field numbers keep their meaning:
//! so a field may be added, but never renumbered, retyped, re-labelled, or removed without
//! reserving its number; messages, enums and enum values are never removed.

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Compiles every `.proto` under `root` into one descriptor set.
pub fn compile_dir(root: &Path) -> anyhow::Result<FileDescriptorSet> {
    let mut files = Vec::new();
    collect(root, &mut files)?;
    files.sort();
    // Files under the root are named relative to it, so the baseline does not depend on
    // where the checkout lives.
    let rel: Vec<PathBuf> = files
        .iter()
        .map(|f| f.strip_prefix(root).map(Path::to_path_buf))
        .collect::<Result<_, _>>()?;
    let mut compiler = protox::Compiler::new([root])?;
    compiler.include_imports(false).include_source_info(false);
    compiler.open_files(rel)?;
    Ok(compiler.file_descriptor_set())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldShape {
    name: String,
    kind: i32,
    type_name: String,
    repeated: bool,
}

struct MessageShape {
    fields: BTreeMap<i32, FieldShape>,
    reserved_numbers: Vec<(i32, i32)>,
    reserved_names: Vec<String>,
}

fn messages(fds: &FileDescriptorSet) -> BTreeMap<String, MessageShape> {
    fn walk(prefix: &str, msg: &DescriptorProto, out: &mut BTreeMap<String, MessageShape>) {
        let full = format!("{prefix}.{}", msg.name());
        let fields = msg
            .field
            .iter()
            .map(|f| {
                (
                    f.number(),
                    FieldShape {
                        name: f.name().to_owned(),
                        kind: f.r#type.unwrap_or(Type::Message as i32),
                        type_name: f.type_name().to_owned(),
                        repeated: f.label() == Label::Repeated,
                    },
                )
            })
            .collect();
        // Descriptor reserved ranges are half-open: [start, end).
        let reserved_numbers = msg
            .reserved_range
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect();
        out.insert(
            full.clone(),
            MessageShape {
                fields,
                reserved_numbers,
                reserved_names: msg.reserved_name.clone(),
            },
        );
        for nested in &msg.nested_type {
            walk(&full, nested, out);
        }
    }
    let mut out = BTreeMap::new();
    for file in &fds.file {
        let prefix = format!(".{}", file.package());
        for msg in &file.message_type {
            walk(&prefix, msg, &mut out);
        }
    }
    out
}

fn enums(fds: &FileDescriptorSet) -> BTreeMap<String, BTreeMap<i32, String>> {
    fn values(e: &EnumDescriptorProto) -> BTreeMap<i32, String> {
        e.value
            .iter()
            .map(|v| (v.number(), v.name().to_owned()))
            .collect()
    }
    fn walk(
        prefix: &str,
        msg: &DescriptorProto,
        out: &mut BTreeMap<String, BTreeMap<i32, String>>,
    ) {
        let full = format!("{prefix}.{}", msg.name());
        for e in &msg.enum_type {
            out.insert(format!("{full}.{}", e.name()), values(e));
        }
        for nested in &msg.nested_type {
            walk(&full, nested, out);
        }
    }
    let mut out = BTreeMap::new();
    for file in &fds.file {
        let prefix = format!(".{}", file.package());
        for e in &file.enum_type {
            out.insert(format!("{prefix}.{}", e.name()), values(e));
        }
        for msg in &file.message_type {
            walk(&prefix, msg, &mut out);
        }
    }
    out
}

/// Every rule the `current` schemas break relative to `baseline`; empty means compatible.
pub fn violations(baseline: &FileDescriptorSet, current: &FileDescriptorSet) -> Vec<String> {
    let mut out = Vec::new();
    let now = messages(current);
    for (name, old) in messages(baseline) {
        let Some(new) = now.get(&name) else {
            out.push(format!("message {name} was removed or renamed"));
            continue;
        };
        for (number, old_field) in &old.fields {
            match new.fields.get(number) {
                Some(f) if f.kind != old_field.kind || f.type_name != old_field.type_name => {
                    out.push(format!("{name} field {number} ({}) changed its type", old_field.name))
                }
                Some(f) if f.repeated != old_field.repeated => out.push(format!(
                    "{name} field {number} ({}) changed between singular and repeated",
                    old_field.name
                )),
                Some(f) if f.name != old_field.name => out.push(format!(
                    "{name} field {number} was renamed from {} to {} (breaks JSON and generated code)",
                    old_field.name, f.name
                )),
                Some(_) => {}
                None => {
                    let reserved = new.reserved_numbers.iter().any(|(s, e)| number >= s && number < e)
                        && new.reserved_names.contains(&old_field.name);
                    if !reserved {
                        out.push(format!(
                            "{name} field {number} ({}) was removed without reserving its number and name",
                            old_field.name
                        ));
                    }
                }
            }
        }
        for (number, f) in &new.fields {
            if !old.fields.contains_key(number)
                && old
                    .reserved_numbers
                    .iter()
                    .any(|(s, e)| number >= s && number < e)
            {
                out.push(format!(
                    "{name} field {number} ({}) reuses a reserved number",
                    f.name
                ));
            }
        }
    }
    let now_enums = enums(current);
    for (name, old_values) in enums(baseline) {
        let Some(new_values) = now_enums.get(&name) else {
            out.push(format!("enum {name} was removed or renamed"));
            continue;
        };
        for (number, value) in old_values {
            if new_values.get(&number) != Some(&value) {
                out.push(format!(
                    "enum {name} value {number} ({value}) was removed or renamed"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(src: &str) -> FileDescriptorSet {
        let dir = std::env::temp_dir().join(format!("schema-compat-{}", std::process::id()));
        let sub = dir.join(format!("{}", src.len()));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("x.proto"), src).unwrap();
        let fds = compile_dir(&sub).unwrap();
        std::fs::remove_dir_all(&sub).unwrap();
        fds
    }

    const BASE: &str = r#"syntax = "proto3"; package t.v1;
        enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
        message M { string a = 1; int64 b = 2; }"#;

    #[test]
    fn adding_a_field_is_compatible() {
        let new = r#"syntax = "proto3"; package t.v1;
            enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; KIND_B = 2; }
            message M { string a = 1; int64 b = 2; repeated string c = 3;  }"#;
        assert!(violations(&compile(BASE), &compile(new)).is_empty());
    }

    #[test]
    fn retyping_renumbering_and_removing_are_caught() {
        let retyped = r#"syntax = "proto3"; package t.v1;
            enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
            message M { string a = 1; string b = 2; }"#;
        assert_eq!(violations(&compile(BASE), &compile(retyped)).len(), 1);

        let renumbered = r#"syntax = "proto3"; package t.v1;
            enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
            message M { string a = 1; int64 b = 3; }"#;
        let v = violations(&compile(BASE), &compile(renumbered));
        assert!(v.iter().any(|m| m.contains("field 2")), "{v:?}");

        let removed = r#"syntax = "proto3"; package t.v1;
            enum Kind { KIND_UNSPECIFIED = 0; }
            message M { string a = 1; reserved 2; reserved "b"; }"#;
        let v = violations(&compile(BASE), &compile(removed));
        assert_eq!(
            v.len(),
            1,
            "reserved removal is fine, the enum value is not: {v:?}"
        );
        assert!(v[0].contains("enum"));
    }

    #[test]
    fn singular_to_repeated_is_caught() {
        let new = r#"syntax = "proto3"; package t.v1;
            enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }
            message M { repeated string a = 1; int64 b = 2; }"#;
        assert_eq!(violations(&compile(BASE), &compile(new)).len(), 1);
    }
}
