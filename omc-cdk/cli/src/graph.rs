//! `graph`: the app's stacks, their dependencies and the references between them as a Mermaid
//! or DOT diagram (the drawing is `omc_cdk_template::graph`).

use std::io::Write;

use omc_cdk_core::App;
use omc_cdk_template::graph::{GraphFormat, GraphOptions, GraphStack};

use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

#[derive(clap::Args, Debug)]
pub(crate) struct GraphArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
    /// Also draw each stack's resources, grouped by top construct
    #[arg(long)]
    resources: bool,
    /// With --resources: the most constructs drawn per stack, the rest as one node (0: all)
    #[arg(long, value_name = "N", default_value_t = 30)]
    max_groups: usize,
    /// With --resources: also the references (`Ref`, `Fn::GetAtt`) between a stack's constructs
    #[arg(long, requires = "resources")]
    resource_edges: bool,
    /// Mark these stacks as changed (a name or `*` pattern; repeatable)
    #[arg(long, value_name = "STACK")]
    changed: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A Mermaid flowchart (rendered by GitHub in Markdown)
    Mermaid,
    /// A Graphviz digraph (`dot -Tsvg`)
    Dot,
}

pub(crate) fn graph_command(
    app: &App,
    args: &GraphArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let synthesis = match app.synth() {
        Ok(synthesis) => synthesis,
        // The checks' errors do not change the drawing.
        Err(omc_cdk_core::Error::Checks(failed)) => failed.synthesis,
        Err(err) => {
            let _ = writeln!(stderr, "error: {err}");
            return EXIT_FAILURE;
        }
    };
    let mut changed = Vec::new();
    for pattern in &args.changed {
        let matching: Vec<&str> = synthesis
            .stacks()
            .iter()
            .map(omc_cdk_core::SynthesizedStack::name)
            .filter(|name| omc_cdk_core::glob_match(pattern, name))
            .collect();
        if matching.is_empty() {
            let names: Vec<&str> = synthesis
                .stacks()
                .iter()
                .map(omc_cdk_core::SynthesizedStack::name)
                .collect();
            let _ = writeln!(
                stderr,
                "error: --changed {pattern}: no stack matches (the stacks: {})",
                names.join(", ")
            );
            return EXIT_USAGE;
        }
        for name in matching {
            if !changed.iter().any(|known| known == name) {
                changed.push(name.to_owned());
            }
        }
    }
    let stacks: Vec<GraphStack<'_>> = synthesis
        .stacks()
        .iter()
        .map(|stack| GraphStack {
            name: stack.name(),
            dependencies: stack.dependencies(),
            template: stack.json(),
            paths: Some(stack.paths()),
        })
        .collect();
    let options = GraphOptions {
        resources: args.resources,
        max_groups: args.max_groups,
        resource_edges: args.resource_edges,
        changed,
    };
    let format = match args.format {
        Format::Mermaid => GraphFormat::Mermaid,
        Format::Dot => GraphFormat::Dot,
    };
    match omc_cdk_template::graph::render(&stacks, format, &options) {
        Ok(text) => {
            let _ = write!(stdout, "{text}");
            EXIT_OK
        }
        Err(err) => {
            let _ = writeln!(stderr, "error: {err}");
            EXIT_USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use omc_cdk_core::{App, AppSettings, CrossStackReferences, RawResource, Stack, StackProps};

    /// Two stacks: Data imports Network's VPC id; Ops only depends on Data.
    fn app() -> App {
        app_with(App::new())
    }

    fn app_with(app: App) -> App {
        let network = Stack::new(&app, "Net-work", StackProps::default()).unwrap();
        let vpc = network
            .child("Vpc")
            .unwrap()
            .add(
                "Resource",
                RawResource::new("AWS::EC2::VPC").property("CidrBlock", "10.0.0.0/16"),
            )
            .unwrap();
        let data = Stack::new(&app, "Data", StackProps::default()).unwrap();
        data.child("Db")
            .unwrap()
            .add(
                "SecurityGroup",
                RawResource::new("AWS::EC2::SecurityGroup")
                    .property("GroupDescription", "database")
                    .property("VpcId", vpc.reference()),
            )
            .unwrap();
        let ops = Stack::new(&app, "Ops", StackProps::default()).unwrap();
        ops.add("Topic", RawResource::new("AWS::SNS::Topic"))
            .unwrap();
        ops.add_dependency(&data, "alarms on the database").unwrap();
        app
    }

    fn run(args: &[&str]) -> (u8, String, String) {
        run_on(&app(), args)
    }

    fn run_on(app: &App, args: &[&str]) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let command_line = ["app", "graph"].iter().chain(args).copied();
        let code = crate::run_with(app, command_line, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn graph_draws_mermaid_with_changed_stacks() {
        let (code, out, err) = run(&["--changed", "Da*"]);
        assert_eq!(code, 0, "{err}");
        let expected = "\
flowchart TD
    %% Arrows go from a stack to the stacks that use it (deploy order). Solid: exports imported with Fn::ImportValue, or a dependency without references; dashed: weak references (Fn::GetStackOutput).
    Network[\"Net-work<br/>1 resource\"]
    Data[\"Data<br/>1 resource\"]
    Ops[\"Ops<br/>1 resource\"]
    Network -->|\"1 export<br/>Vpc\"| Data
    Data -->|\"deploy order\"| Ops
    classDef changed fill:#fff4c2,stroke:#d4a72c,stroke-width:3px
    class Data changed
";
        assert_eq!(out, expected);
    }

    #[test]
    fn graph_draws_dot_with_resources() {
        let (code, out, err) = run(&["--format", "dot", "--resources", "--changed", "Ops"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("// Arrows go"), "{out}");
        assert!(out.contains("digraph \"stacks\" {\n"), "{out}");
        assert!(
            out.contains("    subgraph \"cluster_2\" {\n        style=\"rounded,filled\";\n"),
            "{out}"
        );
        assert!(
            out.contains("        \"Data/Db\" [label=\"Db\\nAWS::EC2::SecurityGroup\""),
            "{out}"
        );
        assert!(
            out.contains(
                "    \"Net-work\" -> \"Data\" [label=\"1 export\\nVpc\", ltail=\"cluster_0\", lhead=\"cluster_1\"];\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("}\n"), "{out}");
        assert_eq!(out.matches('{').count(), out.matches('}').count(), "{out}");
    }

    #[test]
    fn graph_refuses_an_unknown_format_or_stack() {
        let (code, _, err) = run(&["--format", "svg"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("invalid value 'svg'"), "{err}");
        let (code, _, err) = run(&["--resource-edges"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--resources"), "{err}");
        let (code, out, err) = run(&["--changed", "Nope"]);
        assert_eq!((code, out.as_str()), (2, ""));
        assert_eq!(
            err,
            "error: --changed Nope: no stack matches (the stacks: Net-work, Data, Ops)\n"
        );
    }

    #[test]
    fn weak_references_are_dashed() {
        let app = app_with(App::with_settings(AppSettings {
            cross_stack_references: CrossStackReferences::Weak,
            ..AppSettings::default()
        }));
        let (code, mermaid, err) = run_on(&app, &[]);
        assert_eq!(code, 0, "{err}");
        assert!(
            mermaid.contains("    Network -.->|\"1 weak reference<br/>Vpc\"| Data\n"),
            "{mermaid}"
        );
        let (code, dot, err) = run_on(&app, &["--format", "dot"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            dot.contains(
                "    \"Net-work\" -> \"Data\" [label=\"1 weak reference\\nVpc\", style=dashed];\n"
            ),
            "{dot}"
        );
    }

    #[test]
    fn graph_is_deterministic() {
        assert_eq!(run(&["--resources"]), run(&["--resources"]));
    }
}
