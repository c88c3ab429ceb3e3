//! The checks over the OMC apps' templates: what they add to every `synth`.
//!
//! Run: `cargo bench -p omc-tests --bench checks`. Budget: under 1 ms per 100 resources.
#![allow(clippy::expect_used)]

fn main() {
    divan::main();
}

#[divan::bench(args = ["staging", "production", "ci", "constructs"], sample_count = 50)]
fn check(bencher: divan::Bencher, fixture: &str) {
    let app = omc_tests::fixture(fixture)
        .expect("a fixture")
        .expect("it builds");
    let synthesis = app.synth().expect("it synthesizes");
    let resources: usize = synthesis
        .stacks()
        .iter()
        .map(omc_cdk::SynthesizedStack::resource_count)
        .sum();
    let rules = app.rules();
    // Throughput in resources per second: 100,000/s is the budget of 1 ms per 100.
    bencher
        .counter(divan::counter::ItemsCount::new(resources))
        .bench_local(|| synthesis.check(&rules).findings().len());
}
