//! `diff`: the review of what a change does, against a synth output directory (offline: no
//! credentials, no endpoint, no `deploy` feature) or against the deployed stacks.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;

use omc_cdk_core::{App, Synthesis};
use omc_cdk_template::review::{
    self, CostChange, FailOn, FindingChange, Review, StackPair, StackSide, Style, SuppressionChange,
};

use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// Arguments of `diff`.
#[derive(clap::Args, Debug)]
pub(crate) struct DiffArgs {
    /// Stacks to compare (names or `*` patterns); default: all
    #[arg(value_name = "STACK")]
    stacks: Vec<String>,
    /// Compare with a directory `synth --out` wrote (the base branch's synthesis) instead of
    /// the deployed stacks: no credentials or endpoint needed
    #[arg(long, value_name = "DIR")]
    against: Option<PathBuf>,
    /// Output format: `text` (coloured on a terminal unless `NO_COLOR` is set), `markdown` (a
    /// pull-request comment) or `json`
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with 1 when the change has this (for CI gates): a replacement, widening access, a
    /// stateful resource replaced or removed, or any difference
    #[arg(long, value_enum, value_name = "WHAT")]
    fail_on: Vec<FailOnArg>,
    /// Exit with 1 when anything differs (the same as `--fail-on any`)
    #[arg(long)]
    fail: bool,
    /// With `--format markdown`: at most this many characters (the least important parts are
    /// folded first); default GitHub's comment limit, 65,536
    #[arg(long, value_name = "CHARS", default_value_t = review::GITHUB_COMMENT_LIMIT)]
    limit: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// For a terminal
    Text,
    /// A pull-request comment, under GitHub's 65,536 characters
    Markdown,
    /// For scripts
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FailOnArg {
    /// A resource replaced (certainly or possibly)
    Replacement,
    /// Access that widens (IAM, security groups, public exposure)
    Widening,
    /// A stateful resource (database, cache, bucket, file system, key, ...) replaced or removed
    Stateful,
    /// Any difference
    Any,
}

impl FailOnArg {
    fn to_review(self) -> FailOn {
        match self {
            FailOnArg::Replacement => FailOn::Replacement,
            FailOnArg::Widening => FailOn::Widening,
            FailOnArg::Stateful => FailOn::Stateful,
            FailOnArg::Any => FailOn::Any,
        }
    }
}

/// A stack of the base: its template and, from a synth directory's manifest, its region,
/// tags and termination protection.
struct Base {
    name: String,
    region: Option<String>,
    side: StackSide,
}

pub(crate) fn diff_command(
    app: &App,
    synthesis: &Synthesis,
    report: &omc_cdk_check::Report,
    args: &DiffArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    process: bool,
) -> u8 {
    let selected = match synthesis.select(&args.stacks) {
        Ok(selected) => selected,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return EXIT_USAGE;
        }
    };
    let matches = |name: &str| {
        args.stacks.is_empty()
            || args
                .stacks
                .iter()
                .any(|p| omc_cdk_core::glob_match(p, name))
    };
    let base: Vec<Base> = match &args.against {
        Some(dir) => match omc_cdk_template::read_synth_dir_stacks(dir) {
            Ok(stacks) => stacks
                .into_iter()
                .map(|s| Base {
                    name: s.name,
                    region: s.region,
                    side: StackSide {
                        template: s.template,
                        tags: Some(s.tags),
                        termination_protection: Some(s.termination_protection),
                    },
                })
                .collect(),
            Err(message) => {
                let _ = writeln!(stderr, "error: {message}");
                return EXIT_USAGE;
            }
        },
        None => match deployed(&selected, stderr) {
            Some(base) => base,
            None => return EXIT_FAILURE,
        },
    };

    // The base's stacks outside the selection are not compared, but what they import counts:
    // removing an export they import fails the deploy.
    let (base, others): (Vec<Base>, Vec<Base>) = base.into_iter().partition(|b| matches(&b.name));
    let others: Vec<(&str, &serde_json::Value)> = others
        .iter()
        .map(|b| (b.name.as_str(), &b.side.template))
        .collect();
    // Pairs in deploy order: the synthesis's stacks, then the base's stacks it no longer has.
    let mut pairs = Vec::new();
    for stack in &selected {
        let old = base.iter().find(|b| b.name == stack.name());
        pairs.push(StackPair {
            name: stack.name().to_owned(),
            old: old.map(|b| b.side.clone()),
            new: Some(StackSide {
                template: stack.template_json(),
                tags: old
                    .and_then(|b| b.side.tags.as_ref())
                    .map(|_| stack.tags().clone()),
                termination_protection: old
                    .and_then(|b| b.side.termination_protection)
                    .map(|_| stack.termination_protection()),
            }),
        });
    }
    for b in &base {
        if !selected.iter().any(|s| s.name() == b.name) {
            pairs.push(StackPair {
                name: b.name.clone(),
                old: Some(b.side.clone()),
                new: None,
            });
        }
    }
    let mut review = Review::with_others(&pairs, &others, app.schemas());
    match cost(&selected, &base) {
        Ok(cost) => review.cost = Some(cost),
        Err(message) => {
            let _ = writeln!(
                stderr,
                "warning: the cost difference is left out: {message}"
            );
        }
    }
    let names: BTreeSet<&str> = pairs.iter().map(|p| p.name.as_str()).collect();
    checks(app, synthesis, report, &base, &names, &mut review);

    if args.format == Format::Markdown {
        review.graph = graph(synthesis, &review);
    }
    let text = match args.format {
        Format::Text => review::render_text(
            &review,
            Style {
                color: process && color(),
            },
        ),
        Format::Markdown => review::render_markdown(&review, args.limit),
        Format::Json => omc_cdk_core::to_pretty_json(&review::to_json(&review)),
    };
    let _ = write!(stdout, "{text}");
    let mut fail_on: Vec<FailOn> = args.fail_on.iter().map(|f| f.to_review()).collect();
    if args.fail {
        fail_on.push(FailOn::Any);
    }
    if fail_on.iter().any(|f| review.fails(*f)) {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

fn color() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").ok().as_deref() != Some("dumb")
}

#[cfg(feature = "deploy")]
fn deployed(
    selected: &[&omc_cdk_core::SynthesizedStack],
    stderr: &mut dyn Write,
) -> Option<Vec<Base>> {
    let templates = match crate::deploy::deployed_templates(selected) {
        Ok(t) => t,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return None;
        }
    };
    let mut base = Vec::new();
    for ((name, template), stack) in templates.into_iter().zip(selected) {
        let Some(text) = template else { continue };
        match serde_json::from_str(&text) {
            Ok(json) => base.push(Base {
                name,
                region: stack.env().and_then(|e| e.region.clone()),
                side: StackSide::template(json),
            }),
            Err(e) => {
                let _ = writeln!(
                    stderr,
                    "error: the deployed template of {name} is not JSON: {e}"
                );
                return None;
            }
        }
    }
    Some(base)
}

#[cfg(not(feature = "deploy"))]
fn deployed(_: &[&omc_cdk_core::SynthesizedStack], stderr: &mut dyn Write) -> Option<Vec<Base>> {
    let _ = writeln!(
        stderr,
        "error: comparing with the deployed stacks needs omc-cdk's `deploy` feature; compare with a synth output directory: diff --against DIR"
    );
    None
}

/// Each stack's monthly cost before and after, priced in its own region.
fn cost(selected: &[&omc_cdk_core::SynthesizedStack], base: &[Base]) -> Result<CostChange, String> {
    let assumptions = omc_cdk_cost::Assumptions::default();
    let after = omc_cdk_cost::estimate_stacks(selected, None, None, &assumptions)
        .map_err(|e| e.to_string())?;
    let mut regions = Vec::new();
    for b in base {
        regions.push(
            b.region
                .clone()
                .ok_or_else(|| format!("the base stack {} has no region", b.name))?,
        );
    }
    let inputs: Vec<omc_cdk_check::StackInput<'_>> = base
        .iter()
        .map(|b| omc_cdk_check::StackInput {
            name: &b.name,
            template: &b.side.template,
            stage: omc_cdk_core::Stage::default(),
            paths: None,
        })
        .collect();
    let tables = omc_cdk_cost::tables_for(None, &regions);
    let before = omc_cdk_cost::estimate(&inputs, &regions, &tables, &assumptions)
        .map_err(|e| e.to_string())?;
    let per_stack = |estimate: &omc_cdk_cost::Estimate| -> BTreeMap<String, f64> {
        estimate
            .stacks
            .iter()
            .map(|s| (s.name.clone(), s.monthly()))
            .collect()
    };
    let (old, new) = (per_stack(&before), per_stack(&after));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    Ok(CostChange {
        stacks: names
            .into_iter()
            .map(|n| {
                (
                    n.clone(),
                    old.get(n).copied().unwrap_or(0.0),
                    new.get(n).copied().unwrap_or(0.0),
                )
            })
            .collect(),
    })
}

/// A finding's identity across versions: stack, logical id, rule, property.
type FindingKey = (String, String, String, String);

/// Findings that appear or disappear, suppressions added or removed: the app's rules over
/// the base's templates against the new report, keyed by stack, resource, rule and property.
fn checks(
    app: &App,
    synthesis: &Synthesis,
    report: &omc_cdk_check::Report,
    base: &[Base],
    names: &BTreeSet<&str>,
    review: &mut Review,
) {
    let stage_of = |name: &str| {
        synthesis
            .stacks()
            .iter()
            .find(|s| s.name() == name)
            .map_or_else(
                omc_cdk_core::Stage::default,
                omc_cdk_core::SynthesizedStack::stage,
            )
    };
    // The base's construct paths, from the templates' metadata: findings read the same way.
    let paths: Vec<BTreeMap<String, String>> = base
        .iter()
        .map(|b| {
            b.side
                .template
                .get("Resources")
                .and_then(serde_json::Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(id, r)| {
                    let path = r.pointer("/Metadata/aws:cdk:path")?.as_str()?;
                    Some((id.clone(), path.to_owned()))
                })
                .collect()
        })
        .collect();
    let inputs: Vec<omc_cdk_check::StackInput<'_>> = base
        .iter()
        .zip(&paths)
        .map(|(b, paths)| omc_cdk_check::StackInput {
            name: &b.name,
            template: &b.side.template,
            stage: stage_of(&b.name),
            paths: (!paths.is_empty()).then_some(paths),
        })
        .collect();
    let before = omc_cdk_check::check(&inputs, &app.rules());
    let active = |r: &omc_cdk_check::Report| -> BTreeMap<FindingKey, omc_cdk_check::Finding> {
        r.active()
            .filter(|f| names.contains(f.stack.as_str()))
            .map(|f| {
                (
                    (
                        f.stack.clone(),
                        f.logical_id.clone(),
                        f.rule.clone(),
                        f.property.clone(),
                    ),
                    f.clone(),
                )
            })
            .collect()
    };
    let (old, new) = (active(&before), active(report));
    for (key, f) in &new {
        if !old.contains_key(key) {
            review.findings.push(finding(true, f));
        }
    }
    for (key, f) in &old {
        if !new.contains_key(key) {
            review.findings.push(finding(false, f));
        }
    }
    let suppressions = |r: &omc_cdk_check::Report| -> BTreeSet<(String, String, String)> {
        r.suppressions()
            .iter()
            .filter(|s| names.contains(s.stack.as_str()))
            .map(|s| (s.rule.clone(), s.reason.clone(), s.stack.clone()))
            .collect()
    };
    let scopes = |r: &omc_cdk_check::Report| -> BTreeMap<(String, String, String), String> {
        r.suppressions()
            .iter()
            .map(|s| {
                (
                    (s.rule.clone(), s.reason.clone(), s.stack.clone()),
                    s.scope.clone(),
                )
            })
            .collect()
    };
    let (old_s, new_s) = (suppressions(&before), suppressions(report));
    let (old_scopes, new_scopes) = (scopes(&before), scopes(report));
    for s in new_s.difference(&old_s) {
        review.suppressions.push(SuppressionChange {
            added: true,
            rule: s.0.clone(),
            scope: new_scopes.get(s).cloned().unwrap_or_default(),
            reason: s.1.clone(),
        });
    }
    for s in old_s.difference(&new_s) {
        review.suppressions.push(SuppressionChange {
            added: false,
            rule: s.0.clone(),
            scope: old_scopes.get(s).cloned().unwrap_or_default(),
            reason: s.1.clone(),
        });
    }
}

fn finding(appeared: bool, f: &omc_cdk_check::Finding) -> FindingChange {
    FindingChange {
        appeared,
        rule: f.rule.clone(),
        severity: f.severity.name().to_owned(),
        stack: f.stack.clone(),
        path: f.path.clone(),
        message: f.message.clone(),
    }
}

/// The app's stacks as Mermaid, the changed ones marked; `None` when nothing can be drawn.
fn graph(synthesis: &Synthesis, review: &Review) -> Option<String> {
    let changed: Vec<String> = review
        .stacks
        .iter()
        .filter(|s| !s.is_empty() && synthesis.stacks().iter().any(|x| x.name() == s.name))
        .map(|s| s.name.clone())
        .collect();
    if changed.is_empty() {
        return None;
    }
    let stacks: Vec<omc_cdk_template::graph::GraphStack<'_>> = synthesis
        .stacks()
        .iter()
        .map(|stack| omc_cdk_template::graph::GraphStack {
            name: stack.name(),
            dependencies: stack.dependencies(),
            template: stack.json(),
            paths: Some(stack.paths()),
        })
        .collect();
    let options = omc_cdk_template::graph::GraphOptions {
        changed,
        ..omc_cdk_template::graph::GraphOptions::default()
    };
    omc_cdk_template::graph::render(
        &stacks,
        omc_cdk_template::graph::GraphFormat::Mermaid,
        &options,
    )
    .ok()
}
