//! Synthesis: from stacks to deterministic CloudFormation templates and a manifest.
//!
//! 1. Render every stack, resolving references: inside a stack to `Ref` / `Fn::GetAtt`,
//!    across stacks to exports and imports (or weak `Fn::GetStackOutput`), which also makes the
//!    consumer depend on the producer.
//! 2. Add the exports to the producers.
//! 3. Order the stacks for deployment; a cycle between stacks is an error.
//! 4. Check every template: references, `Fn::GetAtt` attributes (against the type's schema,
//!    when known), `Fn::Sub` variables, conditions, mappings, cycles between resources,
//!    CloudFormation's limits, literal property values against the value constraints of the
//!    type's schema (when known), and tags (at most 50, no `aws:` keys).
//! 5. Serialize each template as pretty JSON (one-space indent, as AWS CDK writes them) and
//!    hash it.
//!
//! Every problem of every stack is collected before synthesis fails, so one run shows them all.

mod graph;
mod render;
mod validate;

use std::cell::Ref;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Problem, ProblemKind, Result};
use crate::settings::{AppSettings, CrossStackReferences};
use crate::synthesis::{MAX_TEMPLATE_BYTES, Synthesis, SynthesizedStack, to_pretty_json};
use std::sync::Arc;

use crate::check::Stage;
use crate::schema::SchemaLookup;
use crate::tree::{Stack, StackData};

pub(crate) fn synthesize(
    stacks: &[Stack],
    settings: &AppSettings,
    app_stage: Option<Stage>,
    rules: &[crate::check::Rule],
    schemas: Option<SchemaLookup>,
) -> Result<Synthesis> {
    let data: Vec<Ref<'_, StackData>> = stacks.iter().map(|s| s.data().borrow()).collect();
    let index: BTreeMap<u64, usize> = data
        .iter()
        .enumerate()
        .map(|(i, d)| (d.sref.id, i))
        .collect();
    let n = data.len();
    let mut problems = Vec::new();
    let mut exports: Vec<IndexMap<String, render::ExportEntry>> =
        (0..n).map(|_| IndexMap::new()).collect();
    let mut dependencies: Vec<render::DependencyReasons> = vec![BTreeMap::new(); n];

    for (i, d) in data.iter().enumerate() {
        for (other, reason) in &d.dependencies {
            match index.get(&other.id) {
                Some(&j) => {
                    dependencies[i]
                        .entry(j)
                        .or_insert_with(|| format!("explicit dependency: {reason}"));
                }
                None => problems.push(Problem {
                    path: d.sref.name.to_string(),
                    property: String::new(),
                    message: format!(
                        "depends on stack {:?}, which is not part of this app; create it in this app or remove the dependency",
                        other.name()
                    ),
                    kind: ProblemKind::StackNotInApp,
                }),
            }
        }
    }

    // 1. Render.
    let mut parts = Vec::with_capacity(n);
    {
        let mut renderer = render::Renderer {
            stacks: &data,
            index: &index,
            settings,
            exports: &mut exports,
            dependencies: &mut dependencies,
            problems: &mut problems,
            rules,
            schemas,
        };
        for i in 0..n {
            parts.push(renderer.render_stack(i));
        }
    }

    // 2. Exports.
    let weak = settings.cross_stack_references == CrossStackReferences::Weak;
    for (i, entries) in exports.into_iter().enumerate() {
        let mut sorted: Vec<(String, render::ExportEntry)> = entries.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (output_id, entry) in sorted {
            if parts[i].outputs.contains_key(&output_id) {
                problems.push(Problem {
                    path: format!("{}/Outputs/{output_id}", data[i].sref.name),
                    property: String::new(),
                    message: "an output of this name is needed for a cross-stack reference; rename the output".into(),
                    kind: ProblemKind::Duplicate,
                });
                continue;
            }
            let mut output = Map::new();
            output.insert("Value".into(), entry.value);
            if !weak {
                output.insert("Export".into(), json!({ "Name": entry.name }));
            }
            parts[i].outputs.insert(output_id, Json::Object(output));
        }
    }

    // 3. Order.
    let adjacency: Vec<Vec<usize>> = dependencies
        .iter()
        .map(|deps| deps.keys().copied().collect())
        .collect();
    for cycle in graph::cycles(&adjacency) {
        let names: Vec<&str> = cycle.iter().map(|&i| &*data[i].sref.name).collect();
        let mut message = format!(
            "stacks depend on each other in a cycle: {}. ",
            names.join(" -> ")
        );
        for pair in cycle.windows(2) {
            if let Some(reason) = dependencies[pair[0]].get(&pair[1]) {
                let _ = write!(
                    message,
                    "{} depends on {} because {reason}; ",
                    data[pair[0]].sref.name, data[pair[1]].sref.name
                );
            }
        }
        message.push_str(
            "no deploy order exists: move the shared resources into one stack or pass the value in one direction only",
        );
        problems.push(Problem {
            path: data[cycle[0]].sref.name.to_string(),
            property: String::new(),
            message,
            kind: ProblemKind::StackCycle,
        });
    }
    let order = graph::stable_topological_order(&adjacency);

    // 4. Check.
    for (i, part) in parts.iter().enumerate() {
        validate::check_template(&data[i].sref.name, part, &mut problems);
    }
    check_export_names(&data, &parts, &mut problems);

    // 5. Serialize.
    let mut rendered: Vec<Option<SynthesizedStack>> = (0..n).map(|_| None).collect();
    for (i, mut part) in parts.into_iter().enumerate() {
        let d = &data[i];
        let resource_count = part.resources.len();
        let paths = std::mem::take(&mut part.paths);
        let json = assemble(d, part);
        let template = to_pretty_json(&json);
        if template.len() > MAX_TEMPLATE_BYTES {
            problems.push(Problem {
                path: d.sref.name.to_string(),
                property: String::new(),
                message: format!(
                    "the template has {} bytes; CloudFormation accepts at most {MAX_TEMPLATE_BYTES}: split the stack",
                    template.len()
                ),
                kind: ProblemKind::Limit,
            });
        }
        let sha256 = hex(&Sha256::digest(template.as_bytes()));
        let mut deps: Vec<usize> = dependencies[i].keys().copied().collect();
        deps.sort_by_key(|d| order.iter().position(|o| o == d));
        rendered[i] = Some(SynthesizedStack {
            name: d.sref.name.to_string(),
            template,
            sha256,
            dependencies: deps
                .iter()
                .map(|&j| data[j].sref.name.to_string())
                .collect(),
            env: d.env.clone(),
            termination_protection: d.termination_protection,
            execution_role: d.execution_role.clone(),
            tags: d.tags.clone(),
            resource_count,
            files: d.files.clone(),
            stage: d.stage.or(app_stage).unwrap_or_default(),
            paths,
            json: Arc::new(json),
        });
    }
    if !problems.is_empty() {
        return Err(Error::Synthesis(problems));
    }
    Ok(Synthesis {
        report: None,
        stacks: order.iter().filter_map(|&i| rendered[i].take()).collect(),
    })
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The template, sections in the conventional order.
fn assemble(data: &StackData, parts: render::TemplateParts) -> Json {
    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), "2010-09-09".into());
    if let Some(description) = &data.description {
        template.insert("Description".into(), description.clone().into());
    }
    let sections = [
        ("Metadata", parts.metadata),
        ("Parameters", parts.parameters),
        ("Mappings", parts.mappings),
        ("Conditions", parts.conditions),
        ("Resources", parts.resources),
        ("Outputs", parts.outputs),
    ];
    for (name, section) in sections {
        if !section.is_empty() || name == "Resources" {
            template.insert(name.into(), Json::Object(section));
        }
    }
    Json::Object(template)
}

/// Export names are unique per account and region: two outputs of the app deployed to the same
/// environment may not export the same literal name. (Environment-agnostic stacks count as one
/// environment: they deploy wherever the credentials point.)
fn check_export_names(
    data: &[Ref<'_, StackData>],
    parts: &[render::TemplateParts],
    problems: &mut Vec<Problem>,
) {
    type Key<'a> = (Option<String>, Option<String>, &'a str);
    let mut seen: BTreeMap<Key<'_>, String> = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        let env = data[i].env.clone().unwrap_or_default();
        for (output, value) in &part.outputs {
            let Some(name) = value.pointer("/Export/Name").and_then(Json::as_str) else {
                continue;
            };
            let here = format!("{}/Outputs/{output}", data[i].sref.name);
            let key = (env.account.clone(), env.region.clone(), name);
            if let Some(first) = seen.get(&key) {
                problems.push(Problem {
                    path: here,
                    property: "Export.Name".into(),
                    message: format!(
                        "export name {name:?} is also exported by {first}; export names must be unique in an account and region"
                    ),
                    kind: ProblemKind::Duplicate,
                });
            } else {
                seen.insert(key, here);
            }
        }
    }
}
