//! The app's command line, run as a process: exit codes, output, files.

use std::process::{Command, Output};

use crate::output_dir;

fn run(fixture: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fixture-app"))
        .arg(fixture)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn synth_writes_templates_and_manifest() {
    let out = output_dir("cli/synth");
    let output = run("staging", &["synth", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("OmcStaging-Network"), "{stdout}");
    assert!(
        stdout.ends_with(&format!(
            "6 stacks synthesized; manifest: {}\n",
            out.join("manifest.json").display()
        )),
        "{stdout}"
    );
    for stack in [
        "OmcStaging-Delivery",
        "OmcStaging-Network",
        "OmcStaging-Data",
        "OmcStaging-Services",
        "OmcStaging-Monitoring",
        "OmcStaging-Security",
    ] {
        assert!(out.join(format!("{stack}.template.json")).exists());
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let order: Vec<&str> = manifest["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "OmcStaging-Delivery",
            "OmcStaging-Network",
            "OmcStaging-Data",
            "OmcStaging-Services",
            "OmcStaging-Monitoring",
            "OmcStaging-Security"
        ]
    );
}

#[test]
fn synth_selects_stacks_by_name_or_pattern() {
    let out = output_dir("cli/select");
    let output = run(
        "staging",
        &["synth", "--out", out.to_str().unwrap(), "*-Data"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(out.join("OmcStaging-Data.template.json").exists());
    assert!(!out.join("OmcStaging-Network.template.json").exists());

    let output = run(
        "staging",
        &["synth", "--out", out.to_str().unwrap(), "Nope"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: no stack matches \"Nope\"; the stacks of this app are: OmcStaging-Delivery, OmcStaging-Network, OmcStaging-Data, OmcStaging-Services, OmcStaging-Monitoring, OmcStaging-Security\n"
    );
}

#[test]
fn default_output_directory_is_omc_out() {
    let cwd = output_dir("cli/default-out");
    let output = Command::new(env!("CARGO_BIN_EXE_fixture-app"))
        .args(["weak-references", "synth"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(cwd.join("omc.out/manifest.json").exists());
    assert!(cwd.join("omc.out/Weak-Shared.template.json").exists());
}

#[test]
fn list_shows_deploy_order_and_dependencies() {
    let output = run("staging", &["list"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stdout),
        "OmcStaging-Delivery\n\
         OmcStaging-Network     <- OmcStaging-Delivery\n\
         OmcStaging-Data        <- OmcStaging-Delivery, OmcStaging-Network\n\
         OmcStaging-Services    <- OmcStaging-Delivery, OmcStaging-Network, OmcStaging-Data\n\
         OmcStaging-Monitoring  <- OmcStaging-Delivery, OmcStaging-Data, OmcStaging-Services\n\
         OmcStaging-Security    <- OmcStaging-Delivery, OmcStaging-Network\n"
    );
    let output = run("staging", &["list", "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().nth(1).unwrap()).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"name": "OmcStaging-Network", "dependencies": ["OmcStaging-Delivery"]})
    );
}

#[test]
fn help_and_version_exit_zero() {
    let output = run("staging", &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "synth",
            "check",
            "cost",
            "list",
            "graph",
            "deploy",
            "diff",
            "destroy",
            "bootstrap"
        ],
        "no placeholder commands: {help}"
    );
    let output = run("staging", &["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stdout),
        format!("staging {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_two() {
    for args in [&["frobnicate"][..], &[][..], &["synth", "--bogus"][..]] {
        let output = run("staging", args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stderr).contains("Usage:"),
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn synthesis_errors_exit_one_with_every_problem() {
    // 600 resources in one stack of the synthetic app would be too many: the fixture keeps
    // stacks at 400, so build the broken app in-process instead and run its command line.
    let app = omc_cdk::App::new();
    let stack = omc_cdk::Stack::new(&app, "Broken", omc_cdk::StackProps::default()).unwrap();
    let a = stack
        .add("A", omc_cdk::RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    let b = stack
        .add("B", omc_cdk::RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    a.add_depends_on(&b).unwrap();
    b.add_depends_on(&a).unwrap();
    a.add_property_override("DisplayName", omc_cdk::fns::sub("${Nope}"));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = app.run_with(
        [
            "broken",
            "synth",
            "--out",
            output_dir("cli/broken").to_str().unwrap(),
        ],
        &mut stdout,
        &mut stderr,
    );
    assert_eq!(code, 1);
    let stderr = text(&stderr);
    assert!(stderr.starts_with("error: synthesis found 2 problems:\n  - Broken/A (Properties.DisplayName.Fn::Sub): Fn::Sub variable ${Nope} is not defined"), "{stderr}");
    assert!(
        stderr.contains("\n  - Broken/A: resources depend on each other in a cycle: A -> B -> A."),
        "{stderr}"
    );
    assert!(stdout.is_empty());
}

#[test]
fn large_templates_are_marked_for_upload() {
    let out = output_dir("cli/large");
    let output = run("synthetic-900", &["synth", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("note: Tier000.template.json is"),
        "{}",
        text(&output.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["stacks"][0]["requiresUpload"], true);
}
