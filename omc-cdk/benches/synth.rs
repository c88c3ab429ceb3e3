//! Synthesis time as apps grow, from about 100 to about 10,000 resources.
//!
//! Run: `cargo bench -p omc-cdk --bench synth`. Budget: 2,000 resources synthesize in-process
//! in under 20 ms, and time grows linearly with the resource count.
#![allow(clippy::expect_used)]

use omc_cdk::testing::synthetic_app;

fn main() {
    divan::main();
}

/// `App::synth` alone: resolve references, validate, render and hash every template.
#[divan::bench(args = [100, 500, 1000, 2000, 5000, 10000], sample_count = 30)]
fn synth(bencher: divan::Bencher, resources: usize) {
    let app = synthetic_app(resources).expect("the synthetic app is valid");
    bencher.bench_local(|| app.synth().map(|s| s.stacks().len()));
}

/// Building the app (what a user's program does before synthesis) plus `App::synth`.
#[divan::bench(args = [100, 2000, 10000], sample_count = 30)]
fn build_and_synth(bencher: divan::Bencher, resources: usize) {
    bencher.bench_local(|| synthetic_app(resources).and_then(|app| app.synth()));
}

/// The checks over an app's synthesized templates (what `synth` adds to `App::synth`).
/// Budget: under 1 ms per 100 resources.
#[divan::bench(args = [100, 1000, 2000, 10000], sample_count = 30)]
fn check(bencher: divan::Bencher, resources: usize) {
    let app = synthetic_app(resources).expect("the synthetic app is valid");
    let synthesis = app.synth().expect("the synthetic app synthesizes");
    let rules = app.rules();
    bencher.bench_local(|| synthesis.check(&rules).findings().len());
}
