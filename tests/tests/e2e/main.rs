//! End-to-end tests: one test binary with a module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attributes;
mod cfn_lint;
mod checkov;
mod checks;
mod cli;
mod cost;
mod deploy_errors;
mod deploy_localstack;
mod deploy_moto;
mod determinism;
mod graph;
mod registry;
mod review;
mod snapshots;

use std::path::PathBuf;

use omc_cdk::Synthesis;
use omc_tests::FIXTURES;

/// Every fixture, synthesized: (fixture name, synthesis).
fn synthesize_fixtures() -> Vec<(&'static str, Synthesis)> {
    FIXTURES
        .iter()
        .map(|f| {
            let app =
                (f.build)().unwrap_or_else(|e| panic!("fixture {} does not build: {e}", f.name));
            let synthesis = app
                .synth()
                .unwrap_or_else(|e| panic!("fixture {} does not synthesize: {e}", f.name));
            (f.name, synthesis)
        })
        .collect()
}

/// A directory under `target/` for a test's output, emptied first.
fn output_dir(name: &str) -> PathBuf {
    let dir = omc_tests::workspace_root()
        .join("target/omc-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
