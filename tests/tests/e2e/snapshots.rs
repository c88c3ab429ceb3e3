//! The exact bytes of every fixture's templates and manifest, locked in `snapshots/`.
//!
//! A changed snapshot is an infrastructure change: review the `.snap.new` diff like a plan
//! (`cargo insta review`), and accept it only if the change was meant.

use std::collections::BTreeSet;

use omc_cdk::Synthesis;

use crate::synthesize_fixtures;

fn snapshot_name(fixture: &str, file: &str) -> String {
    format!("{fixture}__{file}")
}

#[test]
fn templates_match_the_snapshots() {
    for (fixture, synthesis) in synthesize_fixtures() {
        let stacks: Vec<_> = synthesis.stacks().iter().collect();
        insta::with_settings!({
            snapshot_path => "../../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            for stack in &stacks {
                insta::assert_snapshot!(snapshot_name(fixture, &stack.template_file()), stack.template());
                for (name, contents) in stack.files() {
                    let file = format!("{}.{name}", stack.name());
                    insta::assert_snapshot!(snapshot_name(fixture, &file), contents);
                }
            }
            insta::assert_snapshot!(snapshot_name(fixture, "manifest.json"), Synthesis::manifest(&stacks));
        });
    }
}

/// A snapshot no fixture produces any more is stale: delete it with the change that removed
/// the stack.
#[test]
fn every_snapshot_belongs_to_a_fixture() {
    let mut expected = BTreeSet::new();
    for (fixture, synthesis) in synthesize_fixtures() {
        for stack in synthesis.stacks() {
            expected.insert(format!(
                "{}.snap",
                snapshot_name(fixture, &stack.template_file())
            ));
            for name in stack.files().keys() {
                let file = format!("{}.{name}", stack.name());
                expected.insert(format!("{}.snap", snapshot_name(fixture, &file)));
            }
        }
        expected.insert(format!("{}.snap", snapshot_name(fixture, "manifest.json")));
    }
    let dir = omc_tests::workspace_root().join("snapshots");
    let found: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            std::path::Path::new(name)
                .extension()
                .is_some_and(|e| e == "snap")
        })
        .collect();
    let stale: Vec<&String> = found.difference(&expected).collect();
    assert!(stale.is_empty(), "snapshots no fixture produces: {stale:?}");
}
