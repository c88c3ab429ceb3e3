//! Deploys against LocalStack on 127.0.0.1, which shows what moto cannot: outputs and exports
//! of change-set stacks (so cross-stack references resolve), per-resource events, failed
//! creates that roll back with the failed resource's reason, replacement in change sets,
//! accounts (its account is 000000000000), previous parameter values and termination
//! protection. Each test starts its own LocalStack (about 2 s) and stops it at the end.
//!
//! What this LocalStack does not do, the scripted fake shows (omc-cdk/tests/deploy.rs): several
//! resources failing in one operation (LocalStack stops at the first), a stack's own failure
//! reason (it never sets one, and deletes a stack whose export is imported).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use omc_cdk::deploy::api::{CloudFormationApi, Counting};
use omc_cdk::deploy::engine::{Approver, Engine, RunError, Settings};
use omc_cdk::deploy::plan;
use omc_cdk::deploy::report::RecordingReporter;
use omc_cdk::deploy::sdk::SdkApi;
use omc_tests::endpoints::Endpoint;

/// Runs the fixture app of `fixture` against `endpoint`.
fn run(endpoint: &Endpoint, cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    run_as(endpoint, cwd, args, &[])
}

/// Runs the fixture app with more environment variables.
fn run_as(
    endpoint: &Endpoint,
    cwd: &Path,
    args: &[&str],
    vars: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let mut command = endpoint.command(env!("CARGO_BIN_EXE_fixture-app"));
    command.env_remove("OMC_ACCOUNT").env_remove("NO_COLOR");
    for (key, value) in vars {
        command.env(key, value);
    }
    let output = command.args(args).current_dir(cwd).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The summary line of `stack`, with its spacing collapsed:
/// `✓ Local-Network created: 1 created, 0 updated, 0 deleted (0s)`.
fn summary(stdout: &str, stack: &str) -> String {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(stack))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The deployed stack, read in-process through the SDK.
fn remote(endpoint: &Endpoint, name: &str) -> Option<omc_cdk::deploy::api::RemoteStack> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(SdkApi::local(&endpoint.url(), "us-east-1"));
    runtime
        .block_on(api.describe_stack(name))
        .unwrap()
        .filter(|s| s.status != "DELETE_COMPLETE")
}

/// The lines of stdout from `first` on, indentation removed, up to the next stack's summary.
fn block<'a>(stdout: &'a str, first: &str) -> Vec<&'a str> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(first));
    let head = lines.next().into_iter();
    head.chain(
        lines
            .take_while(|l| l.starts_with("    "))
            .map(str::trim_start),
    )
    .collect()
}

#[test]
#[ignore = "needs LocalStack: scripts/test installs it and runs this test"]
fn cross_stack_references_failures_and_recovery_on_localstack() {
    let localstack = Endpoint::localstack().unwrap();
    let cwd = crate::output_dir("deploy/localstack-cross");

    // First deploy: Network exports the VPC id, Service imports it.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-v1", "deploy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "Local-Network")
            .starts_with("✓ Local-Network created: 1 created, 0 updated, 0 deleted"),
        "{stdout}"
    );
    assert!(
        summary(&stdout, "Local-Service")
            .starts_with("✓ Local-Service created: 2 created, 0 updated, 0 deleted"),
        "{stdout}"
    );
    // Which account, before anything else.
    assert!(
        stderr
            .lines()
            .next()
            .unwrap_or_default()
            .ends_with("deploying to account 000000000000 as arn:aws:iam::000000000000:root"),
        "{stderr}"
    );
    // Outputs are printed and written.
    assert!(stdout.contains("    VpcId = vpc-"), "{stdout}");
    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("omc.out/outputs.json")).unwrap())
            .unwrap();
    assert!(
        outputs["Local-Network"]["VpcId"]
            .as_str()
            .unwrap()
            .starts_with("vpc-")
    );
    assert!(
        outputs["Local-Service"]["GroupId"]
            .as_str()
            .unwrap()
            .starts_with("sg-")
    );
    // Per-resource events as they happen (plain lines: stderr is not a terminal), and the
    // count of resource changes the change set touches.
    assert!(
        stderr.contains("CREATE_COMPLETE                AWS::EC2::SecurityGroup"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Local-Service  creating (2 resource changes)"),
        "{stderr}"
    );

    // A stack whose subnet lies outside its VPC's range: the create fails and rolls back. The
    // summary block names the stack, its final status, and the failed resource with its type,
    // logical id, construct path and reason. Dependents are skipped.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-broken", "deploy", "--yes"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let failure = block(&stdout, "✗ Local-Broken");
    assert_eq!(failure.len(), 7, "{stdout}");
    assert!(
        summary(&stdout, "Local-Broken")
            .starts_with("✗ Local-Broken failed: 0 created, 0 updated, 0 deleted, 1 failed ("),
        "{stdout}"
    );
    assert_eq!(
        failure[1..6],
        [
            "the create of Local-Broken failed",
            "stack:        Local-Broken",
            "final status: ROLLBACK_COMPLETE (the next deploy deletes it and creates it again)",
            "failed resources: 1",
            "1. CREATE_FAILED  AWS::EC2::Subnet  Subnet  (Local-Broken/Subnet)  <- root cause",
        ],
        "{stdout}"
    );
    assert!(
        failure[6].starts_with("Resource provider operation failed: ")
            && failure[6].contains("The CIDR '10.99.0.0/24' is invalid."),
        "{stdout}"
    );
    assert!(
        summary(&stdout, "Local-AfterBroken")
            .starts_with("- Local-AfterBroken skipped: Local-Broken did not succeed"),
        "{stdout}"
    );

    // The fixed stack: the next deploy deletes the rolled-back one and creates it again.
    // Local-Service changes a property that replaces its security group, and turns
    // termination protection on: applied after the update.
    assert_eq!(
        remote(&localstack, "Local-Service").map(|s| s.termination_protection),
        Some(false)
    );
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-v2", "deploy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr
            .contains("is ROLLBACK_COMPLETE after a failed create: deleting it to create it again"),
        "{stderr}"
    );
    assert!(
        summary(&stdout, "Local-Broken").starts_with("✓ Local-Broken created"),
        "{stdout}"
    );
    assert!(
        summary(&stdout, "Local-Service")
            .starts_with("✓ Local-Service updated: 0 created, 1 updated, 0 deleted"),
        "{stdout}"
    );
    assert!(
        stderr.contains("~ AWS::EC2::SecurityGroup Group  (REPLACED"),
        "LocalStack change sets carry Replacement: {stderr}"
    );
    assert!(
        stderr.contains("Local-Service      termination protection turned on"),
        "{stderr}"
    );
    assert_eq!(
        remote(&localstack, "Local-Service").map(|s| s.termination_protection),
        Some(true)
    );

    // diff after deploy: nothing differs; against v1: the replacement is called out.
    let (code, stdout, _) = run(&localstack, &cwd, &["localstack-v2", "diff", "--fail"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, _) = run(
        &localstack,
        &cwd,
        &["localstack-v1", "diff", "--fail", "Local-Service"],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("replaces the resource"), "{stdout}");

    // A protected stack is not destroyed, nor what it needs.
    let (code, stdout, _) = run(&localstack, &cwd, &["localstack-v2", "destroy", "--yes"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("    Local-Service has termination protection; turn it off first"),
        "{stdout}"
    );
    assert!(
        summary(&stdout, "Local-Network")
            .starts_with("- Local-Network skipped: Local-Service did not succeed"),
        "{stdout}"
    );
    // v3 is v2 without the protection: nothing else changes, so the no-op path turns it off.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-v3", "deploy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "Local-Service").starts_with("✓ Local-Service no changes"),
        "{stdout}"
    );
    assert!(
        stderr.contains("termination protection turned off"),
        "{stderr}"
    );

    // Destroy everything, dependents first.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-v3", "destroy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let order: Vec<&str> = stderr
        .lines()
        .filter(|l| l.ends_with("destroyed"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default())
        .collect();
    let at = |s: &str| order.iter().position(|o| *o == s).unwrap();
    assert!(at("Local-Service") < at("Local-Network"), "{order:?}");
    let (_, stdout, _) = run(&localstack, &cwd, &["localstack-v3", "destroy", "--yes"]);
    assert!(
        summary(&stdout, "Local-Network").starts_with("✓ Local-Network not deployed"),
        "{stdout}"
    );

    // CreateStack and UpdateStack instead of change sets.
    let (code, stdout, stderr) = run(
        &localstack,
        &cwd,
        &["localstack-v1", "deploy", "--yes", "--method", "direct"],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "Local-Service").starts_with("✓ Local-Service created: 2 created"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(
        &localstack,
        &cwd,
        &[
            "localstack-v3",
            "deploy",
            "--yes",
            "--method",
            "direct",
            "--exclusively",
            "Local-Service",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "Local-Service").starts_with("✓ Local-Service updated"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[~] AWS::EC2::SecurityGroup Group"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&localstack, &cwd, &["localstack-v1", "destroy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}");
}

struct Yes;

impl Approver for Yes {
    fn approve(&self, _: &str, _: &str) -> bool {
        true
    }
}

const STAGING: [&str; 6] = [
    "OmcStaging-Delivery",
    "OmcStaging-Network",
    "OmcStaging-Data",
    "OmcStaging-Services",
    "OmcStaging-Monitoring",
    "OmcStaging-Security",
];

#[test]
#[ignore = "needs LocalStack: scripts/test installs it and runs this test"]
fn the_omc_staging_app_deploys_redeploys_diffs_and_destroys_on_localstack() {
    // LocalStack's free edition emulates EC2, IAM (the OIDC provider and roles), S3, SNS, SQS,
    // Logs, Secrets Manager, Scheduler, EventBridge, ACM and CloudWatch alarms; RDS, ECS,
    // ElastiCache, EFS, ELBv2, WAF, Route 53 records, Budgets, CloudTrail, GuardDuty and
    // Config are recorded by tools/localstack-plugins with AWS-shaped attributes. What this
    // shows is the deploy flow of the real app: the account guard, the image tags required
    // before anything changes, six stacks in order (the delivery stack first, the others with
    // its execution role), exports and imports, the Services template (over 51,200 bytes)
    // through S3, image tags kept across deploys, a new tag as a new task definition, a no-op
    // redeploy, diff and destroy.
    let localstack = Endpoint::localstack().unwrap();
    let cwd = crate::output_dir("deploy/localstack-staging");

    // The stacks are pinned to the staging account; LocalStack's is 000000000000. Refused,
    // one line per stack, before anything changes.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["staging", "deploy", "--yes"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let mut expected: Vec<String> = STAGING
        .iter()
        .map(|s| format!("error: {s} is for account 210987654321, but the credentials are for account 000000000000 (arn:aws:iam::000000000000:root); use credentials of account 210987654321 (another AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"))
        .collect();
    expected.push("nothing was changed".into());
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected);
    assert_eq!(stdout, "");
    for stack in STAGING {
        assert!(remote(&localstack, stack).is_none(), "{stack} exists");
    }
    // In-process, the engine made one call, which changes nothing, and says why as a typed
    // error.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = Arc::new(Counting::new(
        runtime.block_on(SdkApi::local(&localstack.url(), "us-east-1")),
    ));
    let engine = Engine::new(
        BTreeMap::from([(String::new(), Arc::clone(&api))]),
        Settings {
            yes: true,
            ..Settings::default()
        },
        RecordingReporter::new(),
        Arc::new(Yes),
    );
    let planned = plan(
        &apps::staging().unwrap().synth().unwrap(),
        &[],
        false,
        false,
    )
    .unwrap();
    let refused = runtime.block_on(engine.deploy(&planned, std::future::pending()));
    let Err(RunError::Accounts(mismatches)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(mismatches.len(), 6);
    assert_eq!(api.calls(), [("caller_identity".to_owned(), String::new())]);

    // cost --diff against the deployed stacks reads them only in the right account too.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["staging", "cost", "--diff"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        expected[..6],
        "{stderr}"
    );

    // With OMC_ACCOUNT, every stack is LocalStack's account's.
    let omc = [("OMC_ACCOUNT", "000000000000")];
    let (code, stdout, stderr) =
        run_as(&localstack, &cwd, &["staging", "bootstrap", "--yes"], &omc);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("    BucketName = "), "{stdout}");
    // bootstrap writes its outputs beside the app's others.
    let outputs = std::fs::read_to_string(cwd.join("omc.out/outputs.json")).unwrap();
    assert!(outputs.contains("\"OmcCdkToolkit\""), "{outputs}");

    // The image tags have no default: a first deploy without them is refused before anything
    // changes, one line per tag.
    let (code, stdout, stderr) = run_as(&localstack, &cwd, &["staging", "deploy", "--yes"], &omc);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let mut refused: Vec<String> = ["Agents", "Backend", "Collectors", "Frontend"]
        .iter()
        .map(|image| format!("error: OmcStaging-Services: parameter {image}ImageTag has no default and no deployed value; pass --parameters OmcStaging-Services:{image}ImageTag=VALUE"))
        .collect();
    refused.push("nothing was changed".into());
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("error: ") || *l == "nothing was changed")
            .collect::<Vec<_>>(),
        refused,
        "{stderr}"
    );
    for stack in STAGING {
        assert!(remote(&localstack, stack).is_none(), "{stack} exists");
    }

    // First deploy, with the commit's tags.
    let (code, stdout, stderr) = run_as(
        &localstack,
        &cwd,
        &[
            "staging",
            "deploy",
            "--yes",
            "--parameters",
            "OmcStaging-Services:BackendImageTag=1.2.3",
            "--parameters",
            "FrontendImageTag=1a2b3c4",
            "--parameters",
            "CollectorsImageTag=1a2b3c4",
            "--parameters",
            "AgentsImageTag=1a2b3c4",
        ],
        &omc,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for stack in STAGING {
        assert!(
            summary(&stdout, stack).starts_with(&format!("✓ {stack} created")),
            "{stdout}"
        );
    }
    // The line (index) where `stack` reported `text` in the progress on stderr.
    let line = |stack: &str, text: &str| {
        stderr
            .lines()
            .position(|l| l.split_whitespace().nth(1) == Some(stack) && l.contains(text))
            .unwrap_or_else(|| panic!("no {stack}: {text} in\n{stderr}"))
    };
    let upload = stderr
        .lines()
        .nth(line("OmcStaging-Services", "template is "))
        .unwrap();
    assert!(
        upload.contains("(over 51200): uploaded to s3://"),
        "{upload}"
    );
    // Services waited for Network and Data.
    assert!(line("OmcStaging-Data", "created") < line("OmcStaging-Services", "creating"));
    assert!(line("OmcStaging-Network", "created") < line("OmcStaging-Data", "creating"));
    let tag = |name: &str| {
        remote(&localstack, "OmcStaging-Services")
            .unwrap()
            .parameters[name]
            .clone()
    };
    assert_eq!(tag("BackendImageTag"), "1.2.3");

    // Again, without parameters: nothing to do, and the image tag stays.
    let (code, stdout, _) = run_as(&localstack, &cwd, &["staging", "deploy", "--yes"], &omc);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.matches(" no changes ").count(), 6, "{stdout}");
    assert_eq!(tag("BackendImageTag"), "1.2.3");
    let (code, stdout, _) = run_as(&localstack, &cwd, &["staging", "diff", "--fail"], &omc);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout, "No differences.\n");

    // Another tag is a parameter change: only Services is updated, the change summary says
    // which parameters change and which deployed values are kept.
    let (code, stdout, stderr) = run_as(
        &localstack,
        &cwd,
        &[
            "staging",
            "deploy",
            "--yes",
            "--parameters",
            "FrontendImageTag=2.0.0",
        ],
        &omc,
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "OmcStaging-Services").starts_with("✓ OmcStaging-Services updated"),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" no changes ").count(), 5, "{stdout}");
    // A new tag is a new task definition (on AWS a new revision, since its containers are
    // create-only, and the service rolls to it): the change set changes that and nothing else.
    assert!(
        stderr.contains("OmcStaging-Services    change set: 0 to add, 1 to modify, 0 to remove"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("OmcStaging-Services      ~ AWS::ECS::TaskDefinition FrontendTaskDefinition"),
        "{stderr}"
    );
    assert!(
        stderr.contains("OmcStaging-Services    parameter FrontendImageTag: 1a2b3c4 -> 2.0.0"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "OmcStaging-Services    parameter BackendImageTag: 1.2.3 kept (the template has no default)"
        ),
        "{stderr}"
    );
    assert_eq!(
        (tag("BackendImageTag"), tag("FrontendImageTag")),
        ("1.2.3".to_owned(), "2.0.0".to_owned())
    );

    // --reset-parameters has no default to return to: refused before anything changes, and
    // the deployed tags stay.
    let (code, stdout, stderr) = run_as(
        &localstack,
        &cwd,
        &["staging", "deploy", "--yes", "--reset-parameters"],
        &omc,
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("error: OmcStaging-Services: parameter BackendImageTag has no default (--reset-parameters drops the deployed value); pass --parameters OmcStaging-Services:BackendImageTag=VALUE"),
        "{stderr}"
    );
    assert!(stderr.ends_with("nothing was changed\n"), "{stderr}");
    assert_eq!(
        (tag("BackendImageTag"), tag("FrontendImageTag")),
        ("1.2.3".to_owned(), "2.0.0".to_owned())
    );

    let (code, stdout, stderr) = run_as(&localstack, &cwd, &["staging", "destroy", "--yes"], &omc);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let security = summary(&stdout, "OmcStaging-Security");
    assert!(
        security.contains("retained: ") && security.contains("BaselineLogBucket"),
        "{stdout}"
    );
    let (_, stdout, _) = run_as(&localstack, &cwd, &["staging", "destroy", "--yes"], &omc);
    assert_eq!(stdout.matches(" not deployed ").count(), 6, "{stdout}");
}
