//! Deploys against moto on 127.0.0.1: the API flow of deploy, diff and destroy with the real
//! AWS SDK. moto is light but partial (change-set stacks get no outputs or exports, no
//! per-resource events, failures surface as API errors), so these tests use resources it
//! emulates and assert only what it shows honestly; LocalStack covers the rest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use omc_cdk::deploy::api::Counting;
use omc_cdk::deploy::diff::{self, Style};
use omc_cdk::deploy::engine::{Approver, Engine, Outcome, RunSummary, Settings};
use omc_cdk::deploy::plan;
use omc_cdk::deploy::report::RecordingReporter;
use omc_cdk::deploy::sdk::SdkApi;
use omc_cdk::{App, AppSettings, PathMetadata, RawResource, Stack, StackProps};
use omc_tests::endpoints::Endpoint;

struct Yes;

impl Approver for Yes {
    fn approve(&self, _: &str, _: &str) -> bool {
        true
    }
}

/// Alpha, Beta (after Alpha) and Gamma (independent); `version` 2 adds, changes and removes.
pub(crate) fn app(version: u32) -> App {
    app_with(version, AppSettings::default())
}

/// [`app`] with other synthesis settings.
fn app_with(version: u32, settings: AppSettings) -> App {
    let app = App::with_settings(settings);
    let alpha = Stack::new(&app, "Alpha", StackProps::default()).unwrap();
    alpha
        .add(
            "Topic",
            RawResource::new("AWS::SNS::Topic")
                .property("DisplayName", "alpha")
                .property("KmsMasterKeyId", "alias/aws/sns"),
        )
        .unwrap();
    let beta = Stack::new(&app, "Beta", StackProps::default()).unwrap();
    beta.add_dependency(&alpha, "Beta runs after Alpha")
        .unwrap();
    beta.add(
        "Jobs",
        RawResource::new("AWS::SQS::Queue")
            .property("VisibilityTimeout", if version == 1 { 30 } else { 90 }),
    )
    .unwrap();
    if version == 1 {
        beta.add(
            "Setting",
            // Named: moto fails ExecuteChangeSet (HTTP 500) on an unnamed parameter; the SDK's
            // own retry used to hide that, and the engine does not retry a call that changes
            // something after a 5xx.
            RawResource::new("AWS::SSM::Parameter")
                .property("Name", "/omc-tests/beta/setting")
                .property("Type", "String")
                .property("Value", "v1"),
        )
        .unwrap();
    } else {
        beta.add(
            "Dead",
            RawResource::new("AWS::SQS::Queue").property("MessageRetentionPeriod", 1_209_600),
        )
        .unwrap();
    }
    let gamma = Stack::new(&app, "Gamma", StackProps::default()).unwrap();
    gamma
        .add(
            "Alerts",
            RawResource::new("AWS::SNS::Topic")
                .property("DisplayName", "gamma")
                .property("KmsMasterKeyId", "alias/aws/sns"),
        )
        .unwrap();
    app
}

fn settings() -> Settings {
    Settings {
        yes: true,
        poll_interval: Duration::from_millis(200),
        schemas: Some(omc_cfn::schema::find),
        ..Settings::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn outcome<'s>(summary: &'s RunSummary, stack: &str) -> &'s Outcome {
    &summary
        .results
        .iter()
        .find(|r| r.stack == stack)
        .unwrap()
        .outcome
}

#[test]
#[ignore = "needs moto: scripts/test installs it and runs this test"]
fn deploy_redeploy_update_diff_and_destroy_on_moto() {
    let moto = Endpoint::moto().unwrap();
    let rt = runtime();
    let api = Arc::new(Counting::new(
        rt.block_on(SdkApi::local(&moto.url(), "us-east-1")),
    ));
    let apis = BTreeMap::from([(String::new(), Arc::clone(&api))]);
    let run = |version: u32| {
        let stacks = plan(&app(version).synth().unwrap(), &[], false, false).unwrap();
        let engine = Engine::new(
            apis.clone(),
            settings(),
            RecordingReporter::new(),
            Arc::new(Yes),
        );
        rt.block_on(engine.deploy(&stacks, std::future::pending()))
            .unwrap()
    };

    // First deploy: three stacks, Beta after Alpha.
    let summary = run(1);
    assert!(summary.is_success(), "{summary:?}");
    for stack in ["Alpha", "Beta", "Gamma"] {
        assert!(matches!(
            outcome(&summary, stack),
            Outcome::Deployed { created: true, .. }
        ));
    }
    let creates: Vec<String> = api
        .calls()
        .into_iter()
        .filter(|(c, _)| c == "create_change_set")
        .map(|(_, s)| s)
        .collect();
    let at = |s: &str| creates.iter().position(|c| c == s).unwrap();
    assert!(at("Alpha") < at("Beta"));

    // The same app again: two calls per stack and one for the account, nothing created or
    // executed.
    api.reset();
    let summary = run(1);
    assert!(summary.is_success());
    assert_eq!(summary.identity.account, "123456789012");
    for stack in ["Alpha", "Beta", "Gamma"] {
        assert!(matches!(
            outcome(&summary, stack),
            Outcome::Unchanged { .. }
        ));
        let calls: Vec<String> = api
            .calls()
            .into_iter()
            .filter(|(_, s)| s == stack)
            .map(|(c, _)| c)
            .collect();
        assert_eq!(calls, ["describe_stack", "get_template"], "{stack}");
    }
    assert_eq!(api.calls()[0].0, "caller_identity");
    assert_eq!(api.calls().len(), 7, "{:?}", api.calls());

    // Templates that differ only in resource metadata (here: without the construct paths, as
    // from a program that turned them off): CloudFormation would apply nothing, so no change
    // set is made, and the same two calls per stack say so.
    api.reset();
    let stacks = plan(
        &app_with(
            1,
            AppSettings {
                path_metadata: PathMetadata::Omitted,
                ..AppSettings::default()
            },
        )
        .synth()
        .unwrap(),
        &[],
        false,
        false,
    )
    .unwrap();
    let reporter = RecordingReporter::new();
    let engine = Engine::new(apis.clone(), settings(), reporter.clone(), Arc::new(Yes));
    let summary = rt
        .block_on(engine.deploy(&stacks, std::future::pending()))
        .unwrap();
    assert!(
        summary
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Unchanged { .. })),
        "{summary:?}"
    );
    assert_eq!(api.calls().len(), 7, "{:?}", api.calls());
    assert!(
        reporter.lines().contains(&"Alpha: the template differs from the deployed one only in resource metadata, which CloudFormation applies only together with another change: nothing to do".to_owned()),
        "{:#?}",
        reporter.lines()
    );

    // An update: Beta gains a queue, changes one and loses a parameter.
    let stacks = plan(&app(2).synth().unwrap(), &[], false, false).unwrap();
    let engine = Engine::new(
        apis.clone(),
        settings(),
        RecordingReporter::new(),
        Arc::new(Yes),
    );
    let diffs = rt.block_on(engine.diff(&stacks)).unwrap();
    let beta = diffs
        .iter()
        .find(|(s, _)| s == "Beta")
        .unwrap()
        .1
        .as_ref()
        .unwrap();
    let text = diff::render("Beta", beta, Style { color: false });
    insta::assert_snapshot!("moto_diff_beta", text);
    let reporter = RecordingReporter::new();
    let engine = Engine::new(apis.clone(), settings(), reporter.clone(), Arc::new(Yes));
    let summary = rt
        .block_on(engine.deploy(&stacks, std::future::pending()))
        .unwrap();
    assert!(summary.is_success(), "{summary:?}");
    assert!(matches!(
        outcome(&summary, "Beta"),
        Outcome::Deployed { created: false, .. }
    ));
    assert!(
        reporter
            .lines()
            .iter()
            .any(|l| l.starts_with("Beta: change set: 1 to add, 1 to modify, 1 to remove")),
        "{:#?}",
        reporter.lines()
    );
    // Nothing differs any more.
    let diffs = rt.block_on(engine.diff(&stacks)).unwrap();
    assert!(diffs.iter().all(|(_, d)| d.as_ref().unwrap().is_empty()));

    // Destroy: Beta before Alpha; then nothing is deployed.
    api.reset();
    let summary = rt
        .block_on(engine.destroy(&stacks, std::future::pending()))
        .unwrap();
    assert!(summary.is_success(), "{summary:?}");
    let deletes: Vec<String> = api
        .calls()
        .into_iter()
        .filter(|(c, _)| c == "delete_stack")
        .map(|(_, s)| s)
        .collect();
    let at = |s: &str| {
        deletes
            .iter()
            .position(|d| d.contains(&format!("/{s}/")))
            .unwrap()
    };
    assert!(at("Beta") < at("Alpha"), "{deletes:?}");
    let summary = rt
        .block_on(engine.destroy(&stacks, std::future::pending()))
        .unwrap();
    assert!(
        summary
            .results
            .iter()
            .all(|r| r.outcome == Outcome::NotDeployed)
    );
}

#[test]
#[ignore = "needs moto: scripts/test installs it and runs this test"]
fn the_command_line_deploys_large_templates_through_s3_and_stops_at_change_sets() {
    let moto = Endpoint::moto().unwrap();
    let out = crate::output_dir("deploy/moto-cli");
    let app = env!("CARGO_BIN_EXE_fixture-app");
    let run = |args: &[&str]| {
        let output = moto.command(app).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Without the toolkit bucket, a large template cannot be deployed, and says why.
    let (code, stdout, _) = run(&[
        "synthetic-300",
        "deploy",
        "--yes",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("run `bootstrap` once per account and region, or pass --bucket NAME"),
        "{stdout}"
    );
    // bootstrap names the bucket (moto gives change-set stacks no outputs, so deploy is told
    // the bucket with --bucket; LocalStack shows the outputs path).
    let (code, stdout, stderr) = run(&[
        "synthetic-300",
        "bootstrap",
        "--yes",
        "--bucket-name",
        "omc-templates",
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, stderr) = run(&[
        "synthetic-300",
        "deploy",
        "--yes",
        "--bucket",
        "omc-templates",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("uploaded to s3://omc-templates/omc-cdk/Tier000/"),
        "{stderr}"
    );
    assert!(stdout.contains("✓ Tier000  created"), "{stdout}");
    assert!(out.join("outputs.json").exists());

    // --no-execute: a change set for a new stack, and nothing executed.
    let (code, stdout, stderr) = run(&[
        "weak-references",
        "deploy",
        "--yes",
        "--no-execute",
        "--out",
        out.to_str().unwrap(),
        "Weak-Shared",
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("✓ Weak-Shared  change set created: arn:"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&["weak-references", "diff", "--fail", "Weak-Shared"]);
    assert_eq!(
        code,
        Some(1),
        "nothing is deployed yet, so it differs: {stdout}"
    );
    assert!(stdout.contains("[+] AWS::SNS::Topic"), "{stdout}");

    // Deploying without --yes from a non-terminal is refused before anything happens.
    let (code, _, stderr) = run(&["weak-references", "deploy"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "error: stdin or stderr is not a terminal, so deploy cannot ask for approval; pass --yes (or --require-approval never)\n"
    );
}

/// `cost --diff` without `--against` compares with what CloudFormation has deployed
/// (GetTemplate): one Elastic IP deployed, two in the program.
#[test]
#[ignore = "needs moto: scripts/test installs it and runs this test"]
fn cost_diff_compares_with_the_deployed_stacks() {
    let moto = Endpoint::moto().unwrap();
    let out = crate::output_dir("deploy/moto-cost");
    let app = env!("CARGO_BIN_EXE_fixture-app");
    let run = |args: &[&str]| {
        let output = moto.command(app).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Nothing deployed yet: everything is new.
    let (code, stdout, stderr) = run(&["priced-1", "cost", "--diff"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("Monthly cost: $0.00 -> $3.65 (+$3.65)"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&[
        "priced-1",
        "deploy",
        "--yes",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, stderr) = run(&["priced-2", "cost", "--diff"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("Monthly cost: $3.65 -> $7.30 (+$3.65)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+$3.65  Priced/Address2 (AWS::EC2::EIP) added [Priced]"),
        "{stdout}"
    );
    let (_, stdout, _) = run(&["priced-1", "cost", "--diff"]);
    assert!(stdout.contains("no resource changes cost"), "{stdout}");
}
