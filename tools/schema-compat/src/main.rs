//! `schema-compat [--write-baseline] [PROTO_DIR] [BASELINE]`: fails when the schemas under
//! PROTO_DIR break a rule relative to BASELINE (a serialized FileDescriptorSet).
use prost::Message;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> anyhow::Result<ExitCode> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let write = if let Some(i) = args.iter().position(|a| a == "--write-baseline") {
        args.remove(i);
        true
    } else {
        false
    };
    let dir = PathBuf::from(args.first().map_or("proto-events", String::as_str));
    let baseline_path = args
        .get(1)
        .map_or_else(|| dir.join("baseline.binpb"), PathBuf::from);
    let current = schema_compat::compile_dir(&dir)?;

    if write {
        std::fs::write(&baseline_path, current.encode_to_vec())?;
        println!("baseline written to {}", baseline_path.display());
        return Ok(ExitCode::SUCCESS);
    }

    let bytes = std::fs::read(&baseline_path)
        .map_err(|e| anyhow::anyhow!("cannot read baseline {}: {e}", baseline_path.display()))?;
    let baseline = prost_types::FileDescriptorSet::decode(bytes.as_slice())?;
    let problems = schema_compat::violations(&baseline, &current);
    if problems.is_empty() {
        println!(
            "event schemas are compatible with {}",
            baseline_path.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("incompatible: {p}");
        }
        eprintln!(
            "{} incompatible change(s); see proto-events/README.md",
            problems.len()
        );
        Ok(ExitCode::FAILURE)
    }
}
