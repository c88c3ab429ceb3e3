//! Generates the `omc-cfn` crate (typed CloudFormation resources) from the pinned resource
//! specification in `cfn/schema/`.
//!
//! ```text
//! omc-cfn-codegen generate      # (re)write cfn/bindings/
//! omc-cfn-codegen check         # fail if cfn/bindings/ differs from what generate would write
//! omc-cfn-codegen cross-check   # compare the specification with cfn-lint's registry schemas
//! omc-cfn-codegen extract-constraints  # rewrite cfn/schema/constraints.json.gz from cfn-lint's schemas
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod constraints;
mod cross_check;
mod emit;
mod model;
mod names;

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The pinned specification: npm package, version and the SHA-256 of its `db.json.gz`.
const SPEC_PACKAGE: &str = "@aws-cdk/aws-service-spec";
const SPEC_VERSION: &str = "0.1.216";
const SPEC_SHA256: &str = "3e4003a5a44324bea1841c8f0b7cf7190ee5e66a4cd5c93caad1ad7ad75c4dd2";

fn cfn_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("cfn"), Path::to_path_buf)
}

fn load_spec() -> Result<model::Spec> {
    let path = cfn_dir().join("schema/db.json.gz");
    let compressed = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let digest = Sha256::digest(&compressed);
    let hex = digest.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    if hex != SPEC_SHA256 {
        bail!(
            "{} has SHA-256 {hex}, not the pinned {SPEC_SHA256}; update SPEC_VERSION and SPEC_SHA256 when refreshing the data (cfn/schema/SOURCE.md)",
            path.display()
        );
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_string(&mut text)
        .context("decompressing db.json.gz")?;
    let db: serde_json::Value = serde_json::from_str(&text).context("parsing db.json")?;
    model::load(&db)
}

fn generate() -> Result<emit::Files> {
    let spec = load_spec()?;
    let constraints = constraints::load_pinned()?;
    Ok(emit::crate_files(
        &spec,
        &constraints,
        &emit::Source {
            package: SPEC_PACKAGE,
            version: SPEC_VERSION,
        },
    ))
}

/// Every file under `dir`, relative, with `/` separators.
fn existing_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn run() -> Result<bool> {
    let command = std::env::args().nth(1).unwrap_or_default();
    let out_dir = cfn_dir().join("bindings");
    match command.as_str() {
        "generate" => {
            let files = generate()?;
            for old in existing_files(&out_dir)? {
                if !files.contains_key(&old) {
                    std::fs::remove_file(out_dir.join(&old))?;
                }
            }
            let mut written = 0;
            for (rel, content) in &files {
                let path = out_dir.join(rel);
                if std::fs::read_to_string(&path).is_ok_and(|c| &c == content) {
                    continue;
                }
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, content)?;
                written += 1;
            }
            // Remove directories left empty.
            for entry in std::fs::read_dir(out_dir.join("src"))? {
                let path = entry?.path();
                if path.is_dir() && std::fs::read_dir(&path)?.next().is_none() {
                    std::fs::remove_dir(&path)?;
                }
            }
            println!(
                "{} files in {} ({written} written)",
                files.len(),
                out_dir.display()
            );
            Ok(true)
        }
        "check" => {
            let files = generate()?;
            let mut problems = Vec::new();
            for old in existing_files(&out_dir)? {
                if !files.contains_key(&old) {
                    problems.push(format!("{old}: not generated any more"));
                }
            }
            for (rel, content) in &files {
                match std::fs::read_to_string(out_dir.join(rel)) {
                    Ok(c) if &c == content => {}
                    Ok(_) => problems.push(format!("{rel}: differs from the generator's output")),
                    Err(_) => problems.push(format!("{rel}: missing")),
                }
            }
            if problems.is_empty() {
                println!("cfn/bindings is up to date ({} files)", files.len());
                Ok(true)
            } else {
                eprintln!(
                    "cfn/bindings is out of date; run scripts/regenerate-cfn:\n  {}",
                    problems
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n  ")
                );
                Ok(false)
            }
        }
        "cross-check" => {
            let spec = load_spec()?;
            let dir = std::env::args()
                .nth(2)
                .map(PathBuf::from)
                .map_or_else(cross_check::find_cfn_lint_schemas, Ok)?;
            cross_check::run(&spec, &dir)
        }
        "extract-constraints" => {
            let dir = std::env::args()
                .nth(2)
                .map(PathBuf::from)
                .map_or_else(cross_check::find_cfn_lint_schemas, Ok)?;
            let n = constraints::extract_to_pinned(&dir)?;
            println!(
                "{n} types with constraints written to {}",
                constraints::pinned_path().display()
            );
            Ok(true)
        }
        _ => bail!(
            "usage: omc-cfn-codegen generate | check | cross-check [SCHEMAS_DIR] | extract-constraints [SCHEMAS_DIR]"
        ),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
