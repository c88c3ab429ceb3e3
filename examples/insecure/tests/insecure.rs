//! The insecure example fails `synth` with findings that name the resource, the rule and the
//! fix, and writes nothing.
#![allow(clippy::expect_used)]

#[test]
fn synth_refuses_the_insecure_stack() {
    let app = example_insecure::app().expect("the app builds");
    let out = tempfile::tempdir().expect("a temporary directory");
    let dir = out.path().join("out");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = app.run_with(
        [
            "insecure",
            "synth",
            "--out",
            dir.to_str().expect("utf-8 path"),
        ],
        &mut stdout,
        &mut stderr,
    );
    let stderr = String::from_utf8(stderr).expect("utf-8");
    assert_eq!(code, omc_cdk::EXIT_FAILURE, "{stderr}");
    assert!(!dir.exists(), "a refused synth writes no templates");
    for (rule, resource) in [
        ("sg-open-ingress", "Insecure/AdminAccess/Resource"),
        ("rds-public-access", "Insecure/Database/Resource"),
        ("rds-storage-encrypted", "Insecure/Database/Resource"),
        ("s3-public-access-block", "Insecure/Uploads/Resource"),
        ("iam-wildcard-action", "Insecure/Worker/Role"),
        ("ecs-privileged", "Insecure/Worker/TaskDefinition"),
        ("ecs-plain-secrets", "Insecure/Worker/TaskDefinition"),
    ] {
        assert!(
            stderr.contains(&format!("error[{rule}]: {resource}")),
            "{rule} at {resource}:\n{stderr}"
        );
    }
    insta::assert_snapshot!("synth_stderr", stderr);
}

#[test]
fn check_reports_as_json() {
    let app = example_insecure::app().expect("the app builds");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = app.run_with(
        ["insecure", "check", "--format", "json"],
        &mut stdout,
        &mut stderr,
    );
    assert_eq!(code, omc_cdk::EXIT_FAILURE);
    let report: serde_json::Value = serde_json::from_slice(&stdout).expect("JSON");
    assert!(report["errors"].as_u64().expect("a count") >= 7);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["fix"].as_str().is_some_and(|fix| !fix.is_empty()))
    );
}
