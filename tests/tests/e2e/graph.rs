//! The `graph` command on the OMC apps: the staging graph locked as snapshots, every app's
//! graph embedded in docs/architecture.md (regenerated with `OMC_UPDATE_DOCS=1`), and the
//! command's exit codes run as a process.

use std::process::Command;

type Build = fn() -> omc_cdk::Result<omc_cdk::App>;

const APPS: [(&str, Build); 3] = [
    ("staging", apps::staging as Build),
    ("production", apps::production),
    ("ci", apps::ci),
];

/// Runs `graph ARGS` on an app in this process; the output, after checking it succeeded.
fn graph(build: Build, args: &[&str]) -> String {
    let app = build().unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let command_line = ["app", "graph"].iter().chain(args).copied();
    let code = app.run_with(command_line, &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    String::from_utf8(out).unwrap()
}

#[test]
fn the_staging_graph_is_locked() {
    let mermaid = graph(apps::staging, &["--format", "mermaid"]);
    insta::assert_snapshot!("graph_staging_mermaid", mermaid);
    let dot = graph(apps::staging, &["--format", "dot"]);
    insta::assert_snapshot!("graph_staging_dot", dot);
    let resources = graph(
        apps::staging,
        &[
            "--format",
            "mermaid",
            "--resources",
            "--changed",
            "*-Services",
        ],
    );
    insta::assert_snapshot!("graph_staging_resources_mermaid", resources);
    // Same bytes on every run.
    assert_eq!(graph(apps::staging, &["--format", "dot"]), dot);
}

#[test]
fn the_graphs_in_the_architecture_document_are_generated() {
    let path = omc_tests::workspace_root().join("docs/architecture.md");
    let mut document = std::fs::read_to_string(&path).unwrap();
    let mut stale = Vec::new();
    for (name, build) in APPS {
        let (start, end) = (
            format!("<!-- graph:{name} -->\n"),
            format!("<!-- /graph:{name} -->"),
        );
        let from = document
            .find(&start)
            .unwrap_or_else(|| panic!("docs/architecture.md has no {start:?} marker"))
            + start.len();
        let to = from
            + document[from..]
                .find(&end)
                .unwrap_or_else(|| panic!("docs/architecture.md has no {end:?} marker"));
        let generated = format!(
            "```mermaid\n{}```\n",
            graph(build, &["--format", "mermaid"])
        );
        if document[from..to] != generated {
            stale.push(name);
            document.replace_range(from..to, &generated);
        }
    }
    if std::env::var_os("OMC_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &document).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "the graphs of {stale:?} in docs/architecture.md are out of date: run `OMC_UPDATE_DOCS=1 cargo test -p omc-tests --test e2e graph`"
    );
}

#[test]
fn the_graph_command_exits_0_and_refuses_an_unknown_format() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fixture-app"))
            .arg("staging")
            .arg("graph")
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["--format", "dot", "--resources", "--resource-edges"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("digraph \"stacks\" {\n"), "{stdout}");
    assert!(stdout.ends_with("}\n"), "{stdout}");
    assert!(stdout.contains("\"OmcStaging-Services/Cluster\" -> \"OmcStaging-Services/Backend\" [label=\"1 reference\""), "{stdout}");
    assert_dot_is_balanced(&stdout);
    let output = run(&["--format", "svg"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid value 'svg' for '--format"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Braces balance outside quoted strings, every quoted string ends, and every statement
/// line ends as DOT's do.
fn assert_dot_is_balanced(dot: &str) {
    let mut depth = 0i32;
    for line in dot.lines().filter(|l| !l.starts_with("//")) {
        let mut quoted = false;
        let mut escaped = false;
        for c in line.chars() {
            if quoted {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => quoted = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => quoted = true,
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "{line}");
        }
        assert!(!quoted, "an unterminated string: {line}");
        assert!(
            line.ends_with(';') || line.ends_with('{') || line.ends_with('}'),
            "{line}"
        );
    }
    assert_eq!(depth, 0);
}
