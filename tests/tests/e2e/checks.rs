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

#[test]
fn production_suppresses_nothing_but_the_execution_roles_service_wildcards() {
    // Production's application stacks suppress nothing. The delivery stack's CloudFormation
    // execution role has `<service>:*` for each service the templates use (CloudFormation's
    // handlers call many actions of each; CDK's bootstrap gives this role AdministratorAccess),
    // which the construct suppresses with its reason; only the deploy role may pass it.
    let report = apps::production().unwrap().check().unwrap();
    let suppressed: Vec<(&str, &str)> = report
        .suppressions()
        .iter()
        .map(|s| (s.rule.as_str(), s.scope.as_str()))
        .collect();
    assert_eq!(
        suppressed,
        [
            (
                "iam-wildcard-action",
                "OmcProduction-Delivery/Deploy/ExecutionRole/Resource"
            ),
            (
                "iam-wildcard-resource-write",
                "OmcProduction-Delivery/Deploy/ExecutionRole/Resource"
            ),
        ],
        "{}",
        report.render_table()
    );
    assert!(report.active().next().is_none());
}

#[test]
fn staging_suppressions_are_the_ones_the_review_accepted() {
    let report = apps::staging().unwrap().check().unwrap();
    let suppressed: Vec<(&str, &str)> = report
        .suppressions()
        .iter()
        .map(|s| (s.rule.as_str(), s.scope.as_str()))
        .collect();
    assert_eq!(
        suppressed,
        [
            (
                "iam-wildcard-action",
                "OmcStaging-Delivery/Deploy/ExecutionRole/Resource"
            ),
            (
                "iam-wildcard-resource-write",
                "OmcStaging-Delivery/Deploy/ExecutionRole/Resource"
            ),
            ("elasticache-multi-az", "OmcStaging-Data/Cache"),
            ("rds-multi-az", "OmcStaging-Data/Database"),
        ]
    );
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
