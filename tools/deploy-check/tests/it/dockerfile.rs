//! The image recipe keeps its promises: dependencies cooked before the sources arrive, a
//! distroless runtime as a non-root user, one image per binary, a small build context.

use deploy_check::root;

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// Instruction lines (continuations joined, comments dropped), in order.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        current.push_str(line.trim_end_matches('\\'));
        current.push(' ');
        if !line.ends_with('\\') {
            out.push(current.trim().to_owned());
            current.clear();
        }
    }
    out
}

#[test]
fn dependencies_are_cooked_before_the_sources_are_copied() {
    let ins = instructions(&read("deploy/Dockerfile"));
    let position = |needle: &str| {
        ins.iter()
            .position(|i| i.contains(needle))
            .unwrap_or_else(|| panic!("Dockerfile: no instruction with {needle:?}"))
    };
    let cook = position("cargo chef cook");
    let builder_copy = ins
        .iter()
        .enumerate()
        .skip(cook)
        .find(|(_, i)| i.starts_with("COPY . ."))
        .map(|(n, _)| n)
        .expect("the builder copies the sources after cooking");
    assert!(cook < builder_copy);
    // SERVICE declared after the cook: the dependency layer is shared by every image.
    let service_arg = ins
        .iter()
        .enumerate()
        .skip(cook)
        .find(|(_, i)| *i == "ARG SERVICE")
        .map(|(n, _)| n)
        .expect("ARG SERVICE in the builder stage");
    assert!(
        service_arg > cook,
        "ARG SERVICE before the cook invalidates it per image"
    );
    assert!(
        position("LIBZ_SYS_STATIC=1") < cook,
        "zlib must be static for the runtime image"
    );
}

#[test]
fn the_runtime_is_distroless_and_not_root() {
    let ins = instructions(&read("deploy/Dockerfile"));
    let last_from = ins
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .expect("a FROM");
    let runtime = &ins[last_from..];
    assert!(
        runtime[0].contains("distroless"),
        "runtime stage: {}",
        runtime[0]
    );
    assert!(
        runtime.iter().any(|i| i == "USER 65532:65532"),
        "runtime stage does not switch to the non-root user"
    );
    assert!(
        !runtime.iter().any(|i| i.starts_with("RUN ")),
        "runtime stage runs commands (it has no shell)"
    );
    assert!(
        runtime.iter().any(|i| i.contains("healthcheck")),
        "no health check"
    );
}

#[test]
fn the_build_context_leaves_out_state_and_build_output() {
    let ignore = read(".dockerignore");
    for entry in ["target/", ".state/", ".git/"] {
        assert!(
            ignore.lines().any(|l| l.trim() == entry),
            ".dockerignore misses {entry}"
        );
    }
    // Read by include_str! in the crates, so it must stay in the context.
    assert!(!ignore.lines().any(|l| l.trim() == "README.md"));
}
