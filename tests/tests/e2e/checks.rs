//! The OMC apps pass the checks: no unsuppressed finding, and every suppression with its
//! reason locked in a snapshot, so adding or removing one is reviewed in the pull request.

use omc_cdk::check::Severity;
use omc_tests::FIXTURES;

#[test]
fn the_omc_apps_have_no_findings_and_their_suppressions_are_locked() {
    for (name, build) in [
        (
            "staging",
            apps::staging as fn() -> omc_cdk::Result<omc_cdk::App>,
        ),
        ("production", apps::production),
        ("ci", apps::ci),
    ] {
        let app = build().unwrap();
        let report = app.check().unwrap();
        let active: Vec<_> = report.active().collect();
        assert!(active.is_empty(), "{name}:\n{}", report.render_table());
        for s in report.suppressions() {
            assert!(s.matched > 0, "{name}: {s:?} matches nothing");
        }
        insta::assert_snapshot!(format!("checks_{name}"), report.render_table());
    }
}

/// The suppressions every environment has: each is a reviewed decision (docs/checks.md,
/// "The OMC apps and the scanners"), and the same reason reaches checkov.
fn common_suppressions(prefix: &str) -> Vec<(String, String)> {
    [
        ("s3-access-logs", "Services/AccessLogs"),
        ("sqs-kms-key", "Services/FilingsCollector/DeadLetterQueue"),
        (
            "sg-open-ingress",
            "Services/LoadBalancer/SecurityGroup/FromAnyIpv4Tcp80",
        ),
        (
            "sqs-kms-key",
            "Services/MarketDataCollector/DeadLetterQueue",
        ),
        ("s3-access-logs", "Security/AccessLogs"),
    ]
    .iter()
    .map(|(rule, scope)| ((*rule).to_owned(), format!("{prefix}-{scope}")))
    .collect()
}

fn suppressions_of(report: &omc_cdk::check::Report) -> Vec<(String, String)> {
    report
        .suppressions()
        .iter()
        .map(|s| (s.rule.clone(), s.scope.clone()))
        .collect()
}

#[test]
fn production_suppresses_nothing_but_the_execution_roles_service_wildcards() {
    // Production's data suppresses nothing. The delivery stack's CloudFormation execution
    // role has `<service>:*` for each service the templates use (CloudFormation's handlers
    // call many actions of each; CDK's bootstrap gives this role AdministratorAccess), which
    // the construct suppresses with its reason; only the deploy role may pass it. The
    // registry keeps AES-256 (pulled across accounts); the rest is common to both stages.
    let report = apps::production().unwrap().check().unwrap();
    let mut expected: Vec<(String, String)> = [
        (
            "iam-wildcard-action",
            "Delivery/Deploy/ExecutionRole/Resource",
        ),
        (
            "iam-wildcard-resource-write",
            "Delivery/Deploy/ExecutionRole/Resource",
        ),
        ("ecr-kms-key", "Registry/OmcAgents"),
        ("ecr-kms-key", "Registry/OmcBackend"),
        ("ecr-kms-key", "Registry/OmcCollectors"),
        ("ecr-kms-key", "Registry/OmcFrontend"),
    ]
    .iter()
    .map(|(rule, scope)| ((*rule).to_owned(), format!("OmcProduction-{scope}")))
    .collect();
    expected.extend(common_suppressions("OmcProduction"));
    assert_eq!(
        suppressions_of(&report),
        expected,
        "{}",
        report.render_table()
    );
    assert!(report.active().next().is_none());
}

#[test]
fn staging_suppressions_are_the_ones_the_review_accepted() {
    let report = apps::staging().unwrap().check().unwrap();
    let mut expected: Vec<(String, String)> = [
        (
            "iam-wildcard-action",
            "Delivery/Deploy/ExecutionRole/Resource",
        ),
        (
            "iam-wildcard-resource-write",
            "Delivery/Deploy/ExecutionRole/Resource",
        ),
        ("elasticache-multi-az", "Data/Cache"),
        ("secret-cmk", "Data/Cache/AuthToken"),
        ("rds-multi-az", "Data/Database"),
    ]
    .iter()
    .map(|(rule, scope)| ((*rule).to_owned(), format!("OmcStaging-{scope}")))
    .collect();
    expected.extend(common_suppressions("OmcStaging"));
    // The report orders suppressions by stack, then scope.
    expected.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let mut actual = suppressions_of(&report);
    actual.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    assert_eq!(actual, expected, "{}", report.render_table());
    // Staging's single-AZ database is a warning there; the same database in production
    // would be an error.
    let db = report
        .findings()
        .iter()
        .find(|f| f.rule == "rds-multi-az")
        .unwrap();
    assert_eq!(db.severity, Severity::Warning);
}

/// Every fixture synthesizes through the CLI's `synth`, which refuses unsuppressed errors.
#[test]
fn every_fixture_passes_the_checks() {
    for fixture in FIXTURES {
        let report = (fixture.build)().unwrap().check().unwrap();
        assert_eq!(
            report.errors(),
            0,
            "fixture {}:\n{}",
            fixture.name,
            report.render_table()
        );
    }
}
