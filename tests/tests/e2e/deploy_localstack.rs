//! Deploys against LocalStack on 127.0.0.1, which shows what moto cannot: outputs and exports
//! of change-set stacks (so cross-stack references resolve), per-resource events, failed
//! creates that roll back with the failed resource's reason, and replacement in change sets.
//! Each test starts its own LocalStack (about 2 s) and stops it at the end.

use std::path::Path;

use omc_tests::endpoints::Endpoint;

/// Runs the fixture app of `fixture` against `endpoint`.
fn run(endpoint: &Endpoint, cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = endpoint
        .command(env!("CARGO_BIN_EXE_fixture-app"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The summary line of `stack`, with its spacing collapsed: `✓ Local-Network created (0.1s)`.
fn summary(stdout: &str, stack: &str) -> String {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(stack))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[test]
fn cross_stack_references_failures_and_recovery_on_localstack() {
    let localstack = Endpoint::localstack().unwrap();
    let cwd = crate::output_dir("deploy/localstack-cross");

    // First deploy: Network exports the VPC id, Service imports it.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-v1", "deploy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "Local-Network").starts_with("✓ Local-Network created"),
        "{stdout}"
    );
    assert!(
        summary(&stdout, "Local-Service").starts_with("✓ Local-Service created"),
        "{stdout}"
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
    // Per-resource events as they happen (plain lines: stderr is not a terminal).
    assert!(
        stderr.contains("CREATE_COMPLETE                AWS::EC2::SecurityGroup"),
        "{stderr}"
    );

    // A stack whose subnet lies outside its VPC's range: the create fails, rolls back, and the
    // first failed resource's reason is the root cause. Dependents are skipped.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-broken", "deploy", "--yes"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let failure: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("✗ Local-Broken"))
        .take(3)
        .collect();
    assert!(
        failure[1].trim_start().starts_with("CREATE_FAILED "),
        "{stdout}"
    );
    assert!(failure[1].contains("(AWS::EC2::Subnet)"), "{stdout}");
    assert!(
        failure[2].contains(
            "stack status: ROLLBACK_COMPLETE (the next deploy deletes it and creates it again)"
        ),
        "{stdout}"
    );
    assert!(
        summary(&stdout, "Local-AfterBroken")
            .starts_with("- Local-AfterBroken skipped: Local-Broken did not succeed"),
        "{stdout}"
    );

    // The fixed stack: the next deploy deletes the rolled-back one and creates it again.
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
    // v2 also changes Service: a property that replaces the security group.
    assert!(
        summary(&stdout, "Local-Service").starts_with("✓ Local-Service updated"),
        "{stdout}"
    );
    assert!(
        stderr.contains("~ AWS::EC2::SecurityGroup Group  (REPLACED"),
        "LocalStack change sets carry Replacement: {stderr}"
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

    // Destroy everything, dependents first.
    let (code, stdout, stderr) = run(&localstack, &cwd, &["localstack-v2", "destroy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let order: Vec<&str> = stderr
        .lines()
        .filter(|l| l.ends_with("destroyed"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default())
        .collect();
    let at = |s: &str| order.iter().position(|o| *o == s).unwrap();
    assert!(at("Local-Service") < at("Local-Network"), "{order:?}");
    let (_, stdout, _) = run(&localstack, &cwd, &["localstack-v2", "destroy", "--yes"]);
    assert!(
        summary(&stdout, "Local-Network").starts_with("✓ Local-Network not deployed"),
        "{stdout}"
    );
}

#[test]
fn the_omc_staging_app_deploys_redeploys_diffs_and_destroys_on_localstack() {
    // LocalStack's free edition emulates EC2, IAM, S3, SNS, SQS, Logs, Secrets Manager,
    // Scheduler and CloudWatch alarms; RDS, ECS, ElastiCache, EFS, ELBv2, CloudTrail,
    // GuardDuty and Config are recorded by tools/localstack-plugins with AWS-shaped
    // attributes. What this shows is the deploy flow of the real app: five stacks in order,
    // exports and imports, the Services template (over 51,200 bytes) through S3, a no-op
    // redeploy, diff and destroy.
    let localstack = Endpoint::localstack().unwrap();
    let cwd = crate::output_dir("deploy/localstack-staging");
    let (code, stdout, stderr) = run(&localstack, &cwd, &["staging", "bootstrap", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("    BucketName = "), "{stdout}");

    let (code, stdout, stderr) = run(&localstack, &cwd, &["staging", "deploy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for stack in [
        "OmcStaging-Network",
        "OmcStaging-Data",
        "OmcStaging-Services",
        "OmcStaging-Monitoring",
        "OmcStaging-Security",
    ] {
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

    // Again: nothing to do.
    let (code, stdout, _) = run(&localstack, &cwd, &["staging", "deploy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.matches(" no changes ").count(), 5, "{stdout}");
    let (code, stdout, _) = run(&localstack, &cwd, &["staging", "diff", "--fail"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(
        stdout.matches("There were no differences").count(),
        5,
        "{stdout}"
    );

    // A new image tag is a parameter change: only Services is updated.
    let (code, stdout, stderr) = run(
        &localstack,
        &cwd,
        &[
            "staging",
            "deploy",
            "--yes",
            "--parameters",
            "BackendImageTag=1.5.0",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "OmcStaging-Services").starts_with("✓ OmcStaging-Services updated"),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" no changes ").count(), 4, "{stdout}");

    let (code, stdout, stderr) = run(&localstack, &cwd, &["staging", "destroy", "--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        summary(&stdout, "OmcStaging-Security").contains("retained: BaselineLogBucket"),
        "{stdout}"
    );
    let (_, stdout, _) = run(&localstack, &cwd, &["staging", "destroy", "--yes"]);
    assert_eq!(stdout.matches(" not deployed ").count(), 5, "{stdout}");
}
