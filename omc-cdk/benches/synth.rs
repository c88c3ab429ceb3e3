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

/// `App::synth` with the schemas of the app's types known (as typed resources carry them):
/// adds the schema checks, `Fn::GetAtt` attributes and the value constraints of every literal
/// property (allowed values, patterns, ranges, lengths). `constraints = false` attaches none,
/// to measure what the constraints cost.
#[divan::bench(args = [2000], consts = [false, true], sample_count = 30)]
fn synth_with_schemas<const CONSTRAINTS: bool>(bencher: divan::Bencher, resources: usize) {
    let lookup = if CONSTRAINTS {
        schemas::with_constraints
    } else {
        schemas::without_constraints
    };
    let app = synthetic_app(resources)
        .expect("the synthetic app is valid")
        .with_schemas(lookup);
    bencher.bench_local(|| app.synth().map(|s| s.stacks().len()));
}

/// The schemas of the synthetic app's types, with the real constraints `omc-cfn` carries.
mod schemas {
    use std::sync::OnceLock;

    use omc_cdk::schema::{ResourceSchema, attach_constraints, parse_registry};

    const REGISTRY: &str = "AWS::SNS::Subscription\t\tEndpoint:,Protocol:rA,TopicArn:rA\tArn\n\
        AWS::SNS::Topic\tTags:S\tDisplayName:,KmsMasterKeyId:,Tags:\tTopicArn,TopicName\n\
        AWS::SQS::Queue\tTags:S\tQueueName:A,Tags:,VisibilityTimeout:\tArn,QueueName,QueueUrl\n\
        AWS::SSM::Parameter\tTags:M\tName:A,Tags:,Type:r,Value:r\tType,Value\n";

    fn find(
        registry: &'static [ResourceSchema],
        type_name: &str,
    ) -> Option<&'static ResourceSchema> {
        registry.iter().find(|s| s.type_name == type_name)
    }

    pub(crate) fn with_constraints(type_name: &str) -> Option<&'static ResourceSchema> {
        static ALL: OnceLock<Vec<ResourceSchema>> = OnceLock::new();
        let all = ALL.get_or_init(|| {
            let mut all = parse_registry(REGISTRY).expect("the registry parses");
            attach_constraints(
                &mut all,
                include_str!("../../cfn/bindings/src/constraints.txt"),
            );
            all
        });
        find(all, type_name)
    }

    pub(crate) fn without_constraints(type_name: &str) -> Option<&'static ResourceSchema> {
        static ALL: OnceLock<Vec<ResourceSchema>> = OnceLock::new();
        find(
            ALL.get_or_init(|| parse_registry(REGISTRY).expect("the registry parses")),
            type_name,
        )
    }
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
