//! The OMC apps' monthly cost estimates, locked: a change in what the platform costs shows in
//! the pull request like a template change (docs/cost.md reconciles them with the review).

use omc_cdk::cost::{Assumptions, estimate_synthesis};

#[test]
fn the_omc_apps_cost_reports_are_locked() {
    for (name, build) in [
        (
            "staging",
            apps::staging as fn() -> omc_cdk::Result<omc_cdk::App>,
        ),
        ("production", apps::production),
        ("ci", apps::ci),
    ] {
        let synthesis = build().unwrap().synth().unwrap();
        let estimate = estimate_synthesis(&synthesis, None, None, &Assumptions::default()).unwrap();
        // Every resource of the apps is priced or known to be free.
        for stack in &estimate.stacks {
            for r in &stack.resources {
                assert!(r.not_priced.is_none(), "{name}: {r:?}");
            }
        }
        insta::assert_snapshot!(format!("cost_{name}"), estimate.render_table());
    }
}

#[test]
fn the_review_figures_are_within_reach() {
    let staging = apps::staging().unwrap().synth().unwrap();
    let estimate = estimate_synthesis(&staging, None, None, &Assumptions::default()).unwrap();
    // What the review's staging had (network, data, services): docs/cost.md compares it with
    // the review's ~$135 line by line.
    let core: f64 = [
        "OmcStaging-Network",
        "OmcStaging-Data",
        "OmcStaging-Services",
    ]
    .iter()
    .map(|s| estimate.stack(s).unwrap().monthly())
    .sum();
    assert!((100.0..200.0).contains(&core), "{core}");
    let ci = apps::ci().unwrap().synth().unwrap();
    let ci = estimate_synthesis(&ci, None, None, &Assumptions::default()).unwrap();
    let plane = ci.stacks[0]
        .resources
        .iter()
        .find(|r| r.resource_type == "AWS::EKS::Cluster")
        .unwrap();
    // The review's $73 a month is the control plane alone.
    assert!((plane.monthly() - 73.0).abs() < 0.01);
}
