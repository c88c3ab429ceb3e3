//! The whole `synth` process, as a user runs it: start the program, build the app, synthesize
//! and write the templates. Budget: under 10 ms for an app of about 100 resources.
//!
//! Run: `cargo bench -p omc-tests --bench process`.
#![allow(clippy::expect_used)]

use std::process::Command;

fn main() {
    divan::main();
}

#[divan::bench(args = [100, 500, 2000], sample_count = 50)]
fn synth_process(bencher: divan::Bencher, resources: usize) {
    let out = tempfile::tempdir().expect("a temporary directory");
    let fixture = format!("synthetic-{resources}");
    bencher.bench_local(|| {
        let status = Command::new(env!("CARGO_BIN_EXE_fixture-app"))
            .args([fixture.as_str(), "synth", "--out"])
            .arg(out.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the fixture app starts");
        assert!(status.success());
    });
}
