//! Every template the tests synthesize passes cfn-lint (the version pinned in
//! `tools/requirements.txt`) without errors or warnings.

use std::process::Command;

use crate::{output_dir, synthesize_fixtures};

/// Findings accepted on purpose: (rule id, template file, reason). Keep this empty unless a
/// finding is wrong for our templates, and say why.
const ACCEPTED: &[(&str, &str, &str)] = &[];

#[test]
#[ignore = "needs cfn-lint: scripts/test installs it and runs this test"]
fn cfn_lint_is_the_pinned_version() {
    let pinned = omc_tests::pinned_version("cfn-lint")
        .expect("cfn-lint is pinned in tools/requirements.txt");
    let output = Command::new(omc_tests::cfn_lint())
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run cfn-lint ({e}); run `scripts/test` to install the pinned tools")
        });
    let version = String::from_utf8_lossy(&output.stdout);
    assert_eq!(version.trim(), format!("cfn-lint {pinned}"));
}

#[test]
#[ignore = "needs cfn-lint: scripts/test installs it and runs this test"]
fn every_synthesized_template_passes_cfn_lint() {
    let dir = output_dir("cfn-lint");
    let mut templates = Vec::new();
    for (fixture, synthesis) in synthesize_fixtures() {
        let fixture_dir = dir.join(fixture);
        synthesis.write(&fixture_dir).unwrap();
        for stack in synthesis.stacks() {
            templates.push(fixture_dir.join(stack.template_file()));
        }
    }
    assert!(templates.len() >= 8, "{templates:?}");
    let output = Command::new(omc_tests::cfn_lint())
        .args(["--format", "json", "--"])
        .args(&templates)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run cfn-lint ({e}); run `scripts/test` to install the pinned tools")
        });
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "cfn-lint printed no JSON ({e}): {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let unexpected: Vec<String> = findings
        .iter()
        .filter(|f| {
            let rule = f["Rule"]["Id"].as_str().unwrap_or_default();
            let file = f["Filename"].as_str().unwrap_or_default();
            !ACCEPTED
                .iter()
                .any(|(id, template, _)| *id == rule && file.ends_with(template))
        })
        .map(|f| {
            format!(
                "{} {} at {}:{}: {}",
                f["Rule"]["Id"].as_str().unwrap_or_default(),
                f["Level"].as_str().unwrap_or_default(),
                f["Filename"].as_str().unwrap_or_default(),
                f["Location"]["Start"]["LineNumber"],
                f["Message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "cfn-lint findings:\n{}",
        unexpected.join("\n")
    );
    assert!(
        output.status.success() || findings.is_empty(),
        "cfn-lint failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The check above must be able to fail: a template with a known mistake yields a finding.
#[test]
#[ignore = "needs cfn-lint: scripts/test installs it and runs this test"]
fn cfn_lint_reports_a_broken_template() {
    let dir = output_dir("cfn-lint-broken");
    let path = dir.join("Broken.template.json");
    std::fs::write(
        &path,
        r#"{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "forever"}}}}"#,
    )
    .unwrap();
    let output = Command::new(omc_tests::cfn_lint())
        .args(["--format", "json", "--"])
        .arg(&path)
        .output()
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!findings.is_empty());
}
