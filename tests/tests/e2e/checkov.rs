//! The scanner teams already run agrees with our checks: checkov (the version pinned in
//! `tools/checkov-requirements.txt`, CloudFormation framework) reports no failed check over
//! the OMC apps and the example, and every check it skips is skipped by one of our
//! suppressions, with the reason our own `check` report shows.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use omc_cdk::{App, RawResource, Stack, StackProps};
use serde_json::{Value as Json, json};

use crate::output_dir;

const NEEDS: &str = "needs checkov: scripts/test installs it and runs this test";

/// checkov's JSON report of one directory: (passed, failed, skipped) and the checks.
struct Scan {
    passed: u64,
    failed: Vec<Json>,
    skipped: Vec<Json>,
}

fn scan(dir: &Path) -> Scan {
    let output = Command::new(omc_tests::checkov())
        .args(["--framework", "cloudformation", "--output", "json"])
        // Offline: nothing is fetched from or sent to the vendor's platform.
        .args(["--skip-download", "--skip-results-upload"])
        .env("BC_SKIP_MAPPING", "TRUE")
        .arg("--directory")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run checkov ({e}); run `scripts/test` to install the pinned tools")
        });
    let report: Json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report for {} ({e}): {}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    // A directory without findings at all is reported as a bare summary.
    let results = &report["results"];
    let list = |key: &str| results[key].as_array().cloned().unwrap_or_default();
    Scan {
        passed: report["summary"]["passed"].as_u64().unwrap_or_default(),
        failed: list("failed_checks"),
        skipped: list("skipped_checks"),
    }
}

fn describe(check: &Json) -> String {
    format!(
        "{} {} in {} ({})",
        check["check_id"].as_str().unwrap_or_default(),
        check["check_name"].as_str().unwrap_or_default(),
        check["resource"].as_str().unwrap_or_default(),
        check["file_path"].as_str().unwrap_or_default(),
    )
}

#[test]
#[ignore = "needs checkov: scripts/test installs it and runs this test"]
fn checkov_is_the_pinned_version() {
    let pinned = omc_tests::pinned_checkov_version()
        .expect("checkov is pinned in tools/checkov-requirements.txt");
    let output = Command::new(omc_tests::checkov())
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run checkov ({e}); {NEEDS}"));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), pinned);
}

/// The three OMC apps and the example: no failed check, and each skip is one of our
/// suppressions with its reason.
#[test]
#[ignore = "needs checkov: scripts/test installs it and runs this test"]
fn the_apps_and_the_example_pass_checkov() {
    type Build = fn() -> omc_cdk::Result<App>;
    let apps: [(&str, Build); 4] = [
        ("staging", apps::staging),
        ("production", apps::production),
        ("ci", apps::ci),
        ("example-orders", example_orders::app),
    ];
    let dir = output_dir("checkov");
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for (name, build) in apps {
        let synthesis = build()
            .and_then(|app| app.synth())
            .unwrap_or_else(|e| panic!("{name} does not synthesize: {e}"));
        let out = dir.join(name);
        synthesis.write(&out).unwrap();
        let reasons: BTreeSet<String> = synthesis
            .checks()
            .expect("synth runs the checks")
            .suppressions()
            .iter()
            .map(|s| s.reason.clone())
            .collect();
        let result = scan(&out);
        assert!(
            result.passed > 20,
            "{name}: checkov passed only {} checks; did it read the templates?",
            result.passed
        );
        failures.extend(
            result
                .failed
                .iter()
                .map(|c| format!("{name}: {}", describe(c))),
        );
        for skip in &result.skipped {
            let comment = skip["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default();
            // A resource covered by several of our suppressions sharing an equivalent joins
            // their reasons with " / ".
            assert!(
                !comment.is_empty() && comment.split(" / ").all(|r| reasons.contains(r)),
                "{name}: {} is skipped with {comment:?}, which is not the reason of any suppression our check report shows",
                describe(skip)
            );
        }
        counts.push(format!(
            "{name}: {} passed, {} failed, {} skipped",
            result.passed,
            result.failed.len(),
            result.skipped.len()
        ));
    }
    eprintln!("checkov: {}", counts.join("; "));
    assert!(
        failures.is_empty(),
        "checkov failed checks (fix them, or suppress the rule of ours that covers them with a reason):\n{}",
        failures.join("\n")
    );
}

/// The skips are ours: a single-AZ database fails checkov's multi-AZ check, and passes it as a
/// skip carrying our reason once `rds-multi-az` is suppressed (omc-cdk's tests/checks.rs
/// checks the metadata of every scanner).
#[test]
#[ignore = "needs checkov: scripts/test installs it and runs this test"]
fn a_suppression_of_ours_is_a_skip_of_checkov_with_the_same_reason() {
    const REASON: &str =
        "Staging runs one zone for cost; an outage of it takes staging down, which is acceptable";
    let template_of = |suppressed: bool| {
        let app = App::new().with_stage(omc_cdk::Stage::Staging);
        let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
        let db = stack
            .add(
                "Database",
                RawResource::new("AWS::RDS::DBInstance")
                    .property("Engine", "postgres")
                    .property("DBInstanceClass", "db.t4g.micro")
                    .property("AllocatedStorage", "20")
                    .property("StorageEncrypted", true)
                    .property("MultiAZ", false),
            )
            .unwrap();
        if suppressed {
            db.suppress("rds-multi-az", REASON).unwrap();
        }
        let synthesis = app.synth_unchecked().unwrap();
        let dir = output_dir(if suppressed {
            "checkov-suppressed"
        } else {
            "checkov-unsuppressed"
        });
        synthesis.write(&dir).unwrap();
        let template: Json =
            serde_json::from_str(&std::fs::read_to_string(dir.join("Data.template.json")).unwrap())
                .unwrap();
        (dir, template)
    };
    let ids = |checks: &[Json]| -> Vec<String> {
        checks
            .iter()
            .filter_map(|c| c["check_id"].as_str().map(str::to_owned))
            .collect()
    };

    let (dir, _) = template_of(false);
    let before = scan(&dir);
    assert!(
        ids(&before.failed).contains(&"CKV_AWS_157".to_owned()),
        "{:?}",
        ids(&before.failed)
    );

    let (dir, template) = template_of(true);
    let metadata = &template["Resources"]["Database"]["Metadata"];
    assert_eq!(
        metadata["checkov"],
        json!({ "skip": [{ "id": "CKV_AWS_157", "comment": REASON }] })
    );
    assert_eq!(
        metadata["omc:check"]["suppressions"][0]["reason"],
        json!(REASON)
    );
    let after = scan(&dir);
    assert!(
        !ids(&after.failed).contains(&"CKV_AWS_157".to_owned()),
        "{:?}",
        ids(&after.failed)
    );
    let skip = after
        .skipped
        .iter()
        .find(|c| c["check_id"] == "CKV_AWS_157")
        .unwrap_or_else(|| panic!("CKV_AWS_157 is not skipped: {:?}", ids(&after.skipped)));
    assert_eq!(skip["check_result"]["suppress_comment"], json!(REASON));
}
