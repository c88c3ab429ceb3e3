//! A drawing of an app's stacks for people: the stacks in deploy order, the dependencies
//! between them and the references that cross them, counted per pair of stacks and labelled by
//! kind, as a Mermaid flowchart or a Graphviz DOT digraph. With resources, each stack is a box
//! of its top constructs (the first segment of the construct path after the stack).
//!
//! Arrows go from a stack to the stacks that use it, which is also the deploy order:
//!
//! - solid, labelled `N exports`: the producer exports values (`Outputs.*.Export.Name`) that
//!   the consumer imports with `Fn::ImportValue`;
//! - dashed, labelled `N weak references`: the consumer reads the producer's outputs with
//!   `Fn::GetStackOutput` (`CrossStackReferences::Weak`), which CloudFormation does not lock;
//! - solid, labelled `deploy order`: a dependency without a reference (an explicit one).
//!
//! Imports of exports that no stack of the app defines come from one `(outside the app)` node,
//! labelled with the export names.
//!
//! Pure and deterministic: the same stacks give the same bytes, whatever the order of maps.
//!
//! ```
//! use omc_cdk_template::graph::{GraphFormat, GraphOptions, GraphStack, render};
//! let network = serde_json::json!({
//!     "Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}},
//!     "Outputs": {"ExportsOutputRefVpc": {
//!         "Value": {"Ref": "Vpc"}, "Export": {"Name": "Network:ExportsOutputRefVpc"}}}
//! });
//! let data = serde_json::json!({"Resources": {"Group": {
//!     "Type": "AWS::EC2::SecurityGroup",
//!     "Properties": {"VpcId": {"Fn::ImportValue": "Network:ExportsOutputRefVpc"}}}}});
//! let deps = vec!["Network".to_owned()];
//! let stacks = [
//!     GraphStack { name: "Network", dependencies: &[], template: &network, paths: None },
//!     GraphStack { name: "Data", dependencies: &deps, template: &data, paths: None },
//! ];
//! let mermaid = render(&stacks, GraphFormat::Mermaid, &GraphOptions::default())?;
//! assert!(mermaid.contains(r#"Network -->|"1 export<br/>Vpc"| Data"#));
//! # Ok::<(), omc_cdk_template::graph::GraphError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value as Json;

/// The metadata key of a resource's construct path (AWS CDK's).
const PATH_METADATA_KEY: &str = "aws:cdk:path";

/// The node that imports of exports no stack of the app defines come from (a CloudFormation
/// stack name cannot contain spaces or parentheses, so no stack has this name).
const OUTSIDE: &str = "(outside the app)";

/// The Mermaid style of a changed stack.
const MERMAID_CHANGED: &str = "fill:#fff4c2,stroke:#d4a72c,stroke-width:3px";

/// The DOT attributes of a changed stack's node.
const DOT_CHANGED: &str = "fillcolor=\"#fff4c2\", color=\"#d4a72c\", penwidth=3";

/// How many names an edge's label lists before `+N more`.
const NAMES_PER_EDGE: usize = 3;

/// One stack to draw.
#[derive(Clone, Copy, Debug)]
pub struct GraphStack<'a> {
    /// The stack's name.
    pub name: &'a str,
    /// The stacks it depends on directly.
    pub dependencies: &'a [String],
    /// Its synthesized template.
    pub template: &'a Json,
    /// The construct path of each resource by logical id; `None` reads the `aws:cdk:path`
    /// metadata of the template.
    pub paths: Option<&'a BTreeMap<String, String>>,
}

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// A Mermaid flowchart (GitHub renders it in Markdown).
    Mermaid,
    /// A Graphviz digraph (`dot -Tsvg`).
    Dot,
}

/// What to draw besides the stacks and the edges between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphOptions {
    /// Draw each stack's top constructs, with their resource counts, inside the stack.
    /// Default: `false`.
    pub resources: bool,
    /// With `resources`: the most constructs drawn in one stack; the smallest others are drawn
    /// together as one `N more constructs` node. `0` draws all. Default: 30.
    pub max_groups: usize,
    /// With `resources`: also draw the references (`Ref`, `Fn::GetAtt`) between a stack's
    /// constructs, counted per pair. Default: `false`.
    pub resource_edges: bool,
    /// The stacks to mark as changed (exact names). Default: none.
    pub changed: Vec<String>,
}

impl Default for GraphOptions {
    fn default() -> Self {
        Self {
            resources: false,
            max_groups: 30,
            resource_edges: false,
            changed: Vec::new(),
        }
    }
}

/// Why a graph cannot be drawn.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// A stack to mark as changed is not one of the stacks drawn.
    #[error("no stack is named {name:?}, so it cannot be marked as changed (the stacks: {known})")]
    UnknownChangedStack {
        /// The name given.
        name: String,
        /// The stacks drawn, comma-separated.
        known: String,
    },
}

/// The kind of an edge, in the order edges between the same stacks are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EdgeKind {
    Exports,
    Weak,
    Order,
}

/// An edge from `from` to `to` (indexes of the stacks), with what it carries.
#[derive(Debug, Default)]
struct Carried {
    /// The exports or outputs, by export name or `stack.output`.
    keys: BTreeSet<String>,
    /// What they hold, for people (two exports of one value share a name).
    names: BTreeSet<String>,
}

/// An edge from `from` to `to` (indexes of the stacks).
#[derive(Debug)]
struct Edge {
    from: usize,
    to: usize,
    kind: EdgeKind,
    carried: Carried,
}

impl Edge {
    /// The label's lines: what the edge is, then at most [`NAMES_PER_EDGE`] names.
    fn label(&self) -> Vec<String> {
        let count = self.carried.keys.len();
        let head = match self.kind {
            EdgeKind::Exports => plural(count, "export", "exports"),
            EdgeKind::Weak => plural(count, "weak reference", "weak references"),
            EdgeKind::Order => return vec!["deploy order".to_owned()],
        };
        let mut lines = vec![head];
        let names = &self.carried.names;
        lines.extend(names.iter().take(NAMES_PER_EDGE).cloned());
        if names.len() > NAMES_PER_EDGE {
            lines.push(format!("+{} more", names.len() - NAMES_PER_EDGE));
        }
        lines
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// A stack's top construct and how many resources are under it.
#[derive(Debug)]
struct Group {
    name: String,
    count: usize,
    /// The resource type, when the group has exactly one resource.
    single_type: Option<String>,
}

/// What is drawn, format aside.
struct Graph<'a> {
    stacks: &'a [GraphStack<'a>],
    edges: Vec<Edge>,
    changed: BTreeSet<usize>,
    /// Whether a stack imports an export no stack of the app defines: those edges come from
    /// one node, index `stacks.len()`.
    outside: bool,
}

/// Draws the stacks (in the order given, which should be deploy order) in `format`.
pub fn render(
    stacks: &[GraphStack<'_>],
    format: GraphFormat,
    options: &GraphOptions,
) -> Result<String, GraphError> {
    let graph = Graph::new(stacks, options)?;
    Ok(match format {
        GraphFormat::Mermaid => graph.mermaid(options),
        GraphFormat::Dot => graph.dot(options),
    })
}

impl<'a> Graph<'a> {
    fn new(stacks: &'a [GraphStack<'a>], options: &GraphOptions) -> Result<Self, GraphError> {
        let index: BTreeMap<&str, usize> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name, i))
            .collect();
        let mut changed = BTreeSet::new();
        for name in &options.changed {
            let Some(&i) = index.get(name.as_str()) else {
                return Err(GraphError::UnknownChangedStack {
                    name: name.clone(),
                    known: stacks.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
                });
            };
            changed.insert(i);
        }
        // Export name -> (producer, what it exports).
        let mut exports: BTreeMap<&str, (usize, String)> = BTreeMap::new();
        for (i, stack) in stacks.iter().enumerate() {
            let Some(outputs) = stack.template.get("Outputs").and_then(Json::as_object) else {
                continue;
            };
            for (id, output) in outputs {
                if let Some(name) = output.pointer("/Export/Name").and_then(Json::as_str) {
                    exports.insert(name, (i, output_label(stack, id)));
                }
            }
        }
        // (consumer, producer, kind) -> names: consumers in deploy order, then producers.
        let mut found: BTreeMap<(usize, usize, EdgeKind), Carried> = BTreeMap::new();
        for (consumer, stack) in stacks.iter().enumerate() {
            let mut references = Vec::new();
            collect_references(stack.template, &mut references);
            for reference in references {
                let (producer, kind, key, name) = match reference {
                    Reference::Import(export) => match exports.get(export) {
                        Some((producer, label)) => (
                            *producer,
                            EdgeKind::Exports,
                            export.to_owned(),
                            label.clone(),
                        ),
                        // An export of a stack outside the app: drawn from one node.
                        None => (
                            stacks.len(),
                            EdgeKind::Exports,
                            export.to_owned(),
                            export.to_owned(),
                        ),
                    },
                    Reference::StackOutput { stack, output } => match index.get(stack) {
                        Some(&producer) => (
                            producer,
                            EdgeKind::Weak,
                            format!("{stack}.{output}"),
                            output_label(&stacks[producer], output),
                        ),
                        None => continue,
                    },
                };
                if producer != consumer {
                    let carried = found.entry((consumer, producer, kind)).or_default();
                    carried.keys.insert(key);
                    carried.names.insert(name);
                }
            }
            for dependency in stack.dependencies {
                let Some(&producer) = index.get(dependency.as_str()) else {
                    continue;
                };
                let has_reference = found
                    .range(
                        (consumer, producer, EdgeKind::Exports)
                            ..=(consumer, producer, EdgeKind::Weak),
                    )
                    .next()
                    .is_some();
                if !has_reference {
                    found.insert((consumer, producer, EdgeKind::Order), Carried::default());
                }
            }
        }
        let edges = found
            .into_iter()
            .map(|((to, from, kind), carried)| Edge {
                from,
                to,
                kind,
                carried,
            })
            .collect::<Vec<Edge>>();
        let outside = edges.iter().any(|edge| edge.from == stacks.len());
        Ok(Self {
            stacks,
            edges,
            changed,
            outside,
        })
    }

    fn stack_label(&self, i: usize) -> Vec<String> {
        let stack = &self.stacks[i];
        let count = stack
            .template
            .get("Resources")
            .and_then(Json::as_object)
            .map_or(0, serde_json::Map::len);
        vec![
            stack.name.to_owned(),
            plural(count, "resource", "resources"),
        ]
    }

    fn mermaid(&self, options: &GraphOptions) -> String {
        let mut ids = mermaid_ids(self.stacks);
        if self.outside {
            let mut id = "Outside".to_owned();
            let mut n = 2;
            while ids.contains(&id) {
                id = format!("Outside{n}");
                n += 1;
            }
            ids.push(id);
        }
        let mut out = String::from("flowchart TD\n");
        out.push_str(
            "    %% Arrows go from a stack to the stacks that use it (deploy order). Solid: exports imported with Fn::ImportValue, or a dependency without references; dashed: weak references (Fn::GetStackOutput).\n",
        );
        for (i, id) in ids.iter().enumerate().take(self.stacks.len()) {
            let label = mermaid_label(&self.stack_label(i));
            if options.resources {
                let _ = writeln!(out, "    subgraph {id}[\"{label}\"]");
                out.push_str("        direction TB\n");
                let groups = groups(&self.stacks[i], options.max_groups);
                for (g, group) in groups.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "        {id}G{g}[\"{}\"]",
                        mermaid_label(&group_label(group))
                    );
                }
                if options.resource_edges {
                    for ((referenced, referrer), count) in group_links(&self.stacks[i], &groups) {
                        let _ = writeln!(
                            out,
                            "        {id}G{referenced} -->|\"{}\"| {id}G{referrer}",
                            plural(count, "reference", "references")
                        );
                    }
                }
                out.push_str("    end\n");
            } else {
                let _ = writeln!(out, "    {id}[\"{label}\"]");
            }
        }
        if let Some(id) = ids.get(self.stacks.len()) {
            let _ = writeln!(out, "    {id}[\"{OUTSIDE}\"]");
        }
        for edge in &self.edges {
            let arrow = if edge.kind == EdgeKind::Weak {
                "-.->"
            } else {
                "-->"
            };
            let _ = writeln!(
                out,
                "    {} {arrow}|\"{}\"| {}",
                ids[edge.from],
                mermaid_label(&edge.label()),
                ids[edge.to]
            );
        }
        if !self.changed.is_empty() {
            let _ = writeln!(out, "    classDef changed {MERMAID_CHANGED}");
            let marked: Vec<&str> = self.changed.iter().map(|&i| ids[i].as_str()).collect();
            let _ = writeln!(out, "    class {} changed", marked.join(","));
            // Not every Mermaid version applies a class to a subgraph; all apply `style`.
            if options.resources {
                for id in marked {
                    let _ = writeln!(out, "    style {id} {MERMAID_CHANGED}");
                }
            }
        }
        out
    }

    fn dot(&self, options: &GraphOptions) -> String {
        let mut out = String::from(
            "// Arrows go from a stack to the stacks that use it (deploy order). Solid: exports imported with Fn::ImportValue, or a dependency without references; dashed: weak references (Fn::GetStackOutput).\n",
        );
        out.push_str("digraph \"stacks\" {\n");
        out.push_str("    rankdir=TB;\n");
        if options.resources {
            out.push_str("    compound=true;\n");
        }
        out.push_str("    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
        out.push_str("    edge [fontname=\"Helvetica\", fontsize=10];\n");
        for (i, stack) in self.stacks.iter().enumerate() {
            let label = dot_label(&self.stack_label(i));
            let id = dot_id(stack.name);
            let changed = self.changed.contains(&i);
            if options.resources {
                let _ = writeln!(out, "    subgraph \"cluster_{i}\" {{");
                if changed {
                    out.push_str("        style=\"rounded,filled\";\n");
                    out.push_str("        fillcolor=\"#fff4c2\";\n");
                    out.push_str("        color=\"#d4a72c\";\n");
                    out.push_str("        penwidth=3;\n");
                } else {
                    out.push_str("        style=rounded;\n");
                }
                out.push_str("        label=\"\";\n");
                let _ = writeln!(
                    out,
                    "        {id} [label=\"{label}\", style=\"rounded,bold\"];"
                );
                let groups = groups(stack, options.max_groups);
                let group_id = |group: &Group| dot_id(&format!("{}/{}", stack.name, group.name));
                for group in &groups {
                    let _ = writeln!(
                        out,
                        "        {} [label=\"{}\", style=\"rounded,filled\", fillcolor=\"#ffffff\"];",
                        group_id(group),
                        dot_label(&group_label(group))
                    );
                }
                if options.resource_edges {
                    for ((referenced, referrer), count) in group_links(stack, &groups) {
                        let _ = writeln!(
                            out,
                            "        {} -> {} [label=\"{}\", color=\"#888888\", fontcolor=\"#888888\"];",
                            group_id(&groups[referenced]),
                            group_id(&groups[referrer]),
                            plural(count, "reference", "references")
                        );
                    }
                }
                out.push_str("    }\n");
            } else if changed {
                let _ = writeln!(
                    out,
                    "    {id} [label=\"{label}\", style=\"rounded,filled\", {DOT_CHANGED}];"
                );
            } else {
                let _ = writeln!(out, "    {id} [label=\"{label}\"];");
            }
        }
        if self.outside {
            let _ = writeln!(
                out,
                "    {} [label=\"{OUTSIDE}\", style=dashed];",
                dot_id(OUTSIDE)
            );
        }
        for edge in &self.edges {
            let mut attributes = vec![format!("label=\"{}\"", dot_label(&edge.label()))];
            if edge.kind == EdgeKind::Weak {
                attributes.push("style=dashed".to_owned());
            }
            if options.resources {
                if edge.from < self.stacks.len() {
                    attributes.push(format!("ltail=\"cluster_{}\"", edge.from));
                }
                attributes.push(format!("lhead=\"cluster_{}\"", edge.to));
            }
            let from = self.stacks.get(edge.from).map_or(OUTSIDE, |s| s.name);
            let _ = writeln!(
                out,
                "    {} -> {} [{}];",
                dot_id(from),
                dot_id(self.stacks[edge.to].name),
                attributes.join(", ")
            );
        }
        out.push_str("}\n");
        out
    }
}

/// A reference to another stack found in a template.
enum Reference<'t> {
    /// `{"Fn::ImportValue": "<export name>"}`.
    Import(&'t str),
    /// `{"Fn::GetStackOutput": {"StackName": .., "OutputName": ..}}`.
    StackOutput { stack: &'t str, output: &'t str },
}

fn collect_references<'t>(json: &'t Json, found: &mut Vec<Reference<'t>>) {
    match json {
        Json::Object(map) => {
            if map.len() == 1 {
                if let Some(Json::String(name)) = map.get("Fn::ImportValue") {
                    found.push(Reference::Import(name));
                    return;
                }
                if let Some(args) = map.get("Fn::GetStackOutput") {
                    let stack = args.get("StackName").and_then(Json::as_str);
                    let output = args.get("OutputName").and_then(Json::as_str);
                    if let (Some(stack), Some(output)) = (stack, output) {
                        found.push(Reference::StackOutput { stack, output });
                        return;
                    }
                }
            }
            for value in map.values() {
                collect_references(value, found);
            }
        }
        Json::Array(items) => {
            for item in items {
                collect_references(item, found);
            }
        }
        _ => {}
    }
}

/// What an output of `stack` holds, for people: `Vpc` for a `Ref` of the resource at
/// `Stack/Vpc/Resource`, `Db.Endpoint.Address` for an `Fn::GetAtt`; the output's id otherwise.
fn output_label(stack: &GraphStack<'_>, output_id: &str) -> String {
    let value = stack
        .template
        .get("Outputs")
        .and_then(|outputs| outputs.get(output_id))
        .and_then(|output| output.get("Value"));
    value
        .and_then(|value| value_label(stack, value))
        .unwrap_or_else(|| output_id.to_owned())
}

fn value_label(stack: &GraphStack<'_>, value: &Json) -> Option<String> {
    if let Some(items) = value.as_array() {
        let labels: Option<Vec<String>> =
            items.iter().map(|item| value_label(stack, item)).collect();
        return labels.map(|labels| labels.join(", "));
    }
    let map = value.as_object()?;
    if let Some(Json::String(id)) = map.get("Ref") {
        return Some(element_label(stack, id));
    }
    if let Some(args) = map.get("Fn::GetAtt").and_then(Json::as_array) {
        let id = args.first()?.as_str()?;
        let attribute = args.get(1)?.as_str()?;
        return Some(format!("{}.{attribute}", element_label(stack, id)));
    }
    // A list, exported joined: {"Fn::Join": ["||", <list>]}.
    let args = map.get("Fn::Join")?.as_array()?;
    value_label(stack, args.get(1)?)
}

/// A resource's construct path without the stack and a trailing `Resource`; the logical id of
/// anything else.
fn element_label(stack: &GraphStack<'_>, logical_id: &str) -> String {
    let Some(path) = resource_path(stack, logical_id) else {
        return logical_id.to_owned();
    };
    let local = path
        .strip_prefix(stack.name)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(path);
    let local = local.strip_suffix("/Resource").unwrap_or(local);
    if local.is_empty() {
        logical_id.to_owned()
    } else {
        local.to_owned()
    }
}

fn resource_path<'t>(stack: &GraphStack<'t>, logical_id: &str) -> Option<&'t str> {
    if let Some(paths) = stack.paths {
        return paths.get(logical_id).map(String::as_str);
    }
    stack
        .template
        .get("Resources")?
        .get(logical_id)?
        .get("Metadata")?
        .get(PATH_METADATA_KEY)?
        .as_str()
}

/// A stack's top constructs (the first segment of each resource's path after the stack; the
/// logical id when the path is unknown), by name, at most `max` (`0`: all) with the smallest
/// of the others together.
fn groups(stack: &GraphStack<'_>, max: usize) -> Vec<Group> {
    let mut by_name: BTreeMap<String, (usize, BTreeSet<&str>)> = BTreeMap::new();
    let resources = stack.template.get("Resources").and_then(Json::as_object);
    for (id, resource) in resources.into_iter().flatten() {
        let name = group_name(stack, id);
        let entry = by_name.entry(name.to_owned()).or_default();
        entry.0 += 1;
        if let Some(kind) = resource.get("Type").and_then(Json::as_str) {
            entry.1.insert(kind);
        }
    }
    let mut groups: Vec<Group> = by_name
        .into_iter()
        .map(|(name, (count, types))| Group {
            name,
            count,
            single_type: (count == 1)
                .then(|| types.into_iter().next().map(str::to_owned))
                .flatten(),
        })
        .collect();
    if max == 0 || groups.len() <= max {
        return groups;
    }
    // Keep the largest `max - 1` (ties by name), drawn by name; the rest become one node.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        groups[b]
            .count
            .cmp(&groups[a].count)
            .then_with(|| groups[a].name.cmp(&groups[b].name))
    });
    let kept: BTreeSet<usize> = order.into_iter().take(max.saturating_sub(1)).collect();
    let mut rest = (0, 0);
    let mut i = 0;
    groups.retain(|group| {
        let keep = kept.contains(&i);
        i += 1;
        if !keep {
            rest.0 += 1;
            rest.1 += group.count;
        }
        keep
    });
    groups.push(Group {
        name: format!("{} more constructs", rest.0),
        count: rest.1,
        single_type: None,
    });
    groups
}

/// The top construct of a resource: the first segment of its path after the stack; its
/// logical id when the path is unknown.
fn group_name<'t>(stack: &GraphStack<'t>, logical_id: &'t str) -> &'t str {
    resource_path(stack, logical_id)
        .and_then(|path| {
            path.strip_prefix(stack.name)
                .and_then(|p| p.strip_prefix('/'))
                .and_then(|p| p.split('/').next())
                .filter(|segment| !segment.is_empty())
        })
        .unwrap_or(logical_id)
}

/// The references (`Ref`, `Fn::GetAtt`) between a stack's drawn groups: (referenced, referrer) -> how
/// many pairs of resources. A construct not drawn on its own is in the last group.
fn group_links(stack: &GraphStack<'_>, groups: &[Group]) -> BTreeMap<(usize, usize), usize> {
    let index: BTreeMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, group)| (group.name.as_str(), i))
        .collect();
    let rest = groups.len().saturating_sub(1);
    let group_of = |id| index.get(group_name(stack, id)).copied().unwrap_or(rest);
    let mut links = BTreeMap::new();
    let Some(resources) = stack.template.get("Resources").and_then(Json::as_object) else {
        return links;
    };
    for (id, resource) in resources {
        let referrer = group_of(id.as_str());
        let mut targets = BTreeSet::new();
        collect_local_references(resource, &mut targets);
        for target in targets {
            if !resources.contains_key(target) {
                continue;
            }
            let referenced = group_of(target);
            if referenced != referrer {
                *links.entry((referenced, referrer)).or_insert(0) += 1;
            }
        }
    }
    links
}

/// The logical ids a value names with `Ref` or `Fn::GetAtt`.
fn collect_local_references<'t>(json: &'t Json, found: &mut BTreeSet<&'t str>) {
    match json {
        Json::Object(map) => {
            if map.len() == 1 {
                if let Some(Json::String(id)) = map.get("Ref") {
                    found.insert(id);
                    return;
                }
                match map.get("Fn::GetAtt") {
                    Some(Json::Array(args)) => {
                        if let Some(id) = args.first().and_then(Json::as_str) {
                            found.insert(id);
                        }
                        return;
                    }
                    Some(Json::String(dotted)) => {
                        if let Some((id, _)) = dotted.split_once('.') {
                            found.insert(id);
                        }
                        return;
                    }
                    _ => {}
                }
            }
            for value in map.values() {
                collect_local_references(value, found);
            }
        }
        Json::Array(items) => {
            for item in items {
                collect_local_references(item, found);
            }
        }
        _ => {}
    }
}

fn group_label(group: &Group) -> Vec<String> {
    let detail = match &group.single_type {
        Some(kind) => kind.clone(),
        None => plural(group.count, "resource", "resources"),
    };
    vec![group.name.clone(), detail]
}

/// Mermaid node ids: the stack's name without anything but ASCII letters and digits, unique
/// (a number appended to a repeat), never a keyword (`end`) nor starting with a digit.
fn mermaid_ids(stacks: &[GraphStack<'_>]) -> Vec<String> {
    let mut used = BTreeSet::new();
    let mut ids = Vec::with_capacity(stacks.len());
    for stack in stacks {
        let mut base: String = stack
            .name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        if base.is_empty()
            || base.starts_with(|c: char| c.is_ascii_digit())
            || base.eq_ignore_ascii_case("end")
            || base.eq_ignore_ascii_case("subgraph")
            || base.eq_ignore_ascii_case("class")
        {
            base.insert(0, 'S');
        }
        let mut id = base.clone();
        let mut n = 2;
        while used.contains(&id) {
            id = format!("{base}{n}");
            n += 1;
        }
        used.insert(id.clone());
        ids.push(id);
    }
    ids
}

/// A Mermaid label's text, for inside `"..."`: its lines joined with `<br/>`, the characters
/// Mermaid reads as syntax as entity codes.
fn mermaid_label(lines: &[String]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .map(|line| {
            let mut text = String::with_capacity(line.len());
            for c in line.chars() {
                match c {
                    '#' => text.push_str("#35;"),
                    '"' => text.push_str("#quot;"),
                    '<' => text.push_str("#lt;"),
                    '>' => text.push_str("#gt;"),
                    '|' => text.push_str("#124;"),
                    '`' => text.push_str("#96;"),
                    '\n' | '\r' => text.push(' '),
                    c => text.push(c),
                }
            }
            text
        })
        .collect();
    escaped.join("<br/>")
}

/// A DOT id: always quoted, with `"` and `\` escaped.
fn dot_id(name: &str) -> String {
    format!("\"{}\"", dot_escape(name))
}

/// A DOT label's text, for inside `"..."`: its lines joined with `\n`.
fn dot_label(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| dot_escape(line))
        .collect::<Vec<_>>()
        .join("\\n")
}

fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn network() -> Json {
        json!({
            "Resources": {
                "Vpc8378EB38": {"Type": "AWS::EC2::VPC",
                    "Metadata": {"aws:cdk:path": "Net-1/Vpc/Resource"}},
                "VpcSubnetA": {"Type": "AWS::EC2::Subnet",
                    "Metadata": {"aws:cdk:path": "Net-1/Vpc/SubnetA/Subnet"}},
                "Key": {"Type": "AWS::KMS::Key",
                    "Metadata": {"aws:cdk:path": "Net-1/Key/Resource"}}
            },
            "Outputs": {
                "ExportsOutputRefVpc": {"Value": {"Ref": "Vpc8378EB38"},
                    "Export": {"Name": "Net-1:ExportsOutputRefVpc"}},
                "ExportsOutputRefSubnet": {"Value": {"Ref": "VpcSubnetA"},
                    "Export": {"Name": "Net-1:ExportsOutputRefSubnet"}},
                "ExportsOutputKeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]},
                    "Export": {"Name": "Net-1:ExportsOutputKeyArn"}},
                "ExportsOutputSubnets": {
                    "Value": {"Fn::Join": ["||", [{"Ref": "VpcSubnetA"}]]},
                    "Export": {"Name": "Net-1:ExportsOutputSubnets"}},
                "WeakOut": {"Value": {"Fn::GetAtt": ["Key", "KeyId"]}}
            }
        })
    }

    fn data() -> Json {
        json!({
            "Resources": {
                "Group": {"Type": "AWS::EC2::SecurityGroup",
                    "Metadata": {"aws:cdk:path": "Data \"x\"/Db/SecurityGroup"},
                    "Properties": {
                        "VpcId": {"Fn::ImportValue": "Net-1:ExportsOutputRefVpc"},
                        "A": {"Fn::ImportValue": "Net-1:ExportsOutputRefVpc"},
                        "B": {"Fn::ImportValue": "Net-1:ExportsOutputRefSubnet"},
                        "C": {"Fn::ImportValue": "Net-1:ExportsOutputKeyArn"},
                        "D": {"Fn::Split": ["||", {"Fn::ImportValue": "Net-1:ExportsOutputSubnets"}]},
                        "E": {"Fn::GetStackOutput": {"StackName": "Net-1", "OutputName": "WeakOut"}},
                        "F": {"Fn::ImportValue": "Elsewhere:Thing"}
                    }},
                "Db": {"Type": "AWS::RDS::DBInstance",
                    "Metadata": {"aws:cdk:path": "Data \"x\"/Db/Resource"}}
            }
        })
    }

    fn render_both(options: &GraphOptions) -> (String, String) {
        let (network, data, ops) = (network(), data(), json!({"Resources": {}}));
        let net_deps: Vec<String> = Vec::new();
        let data_deps = vec!["Net-1".to_owned()];
        let ops_deps = vec!["Net-1".to_owned(), "Data \"x\"".to_owned()];
        let stacks = [
            GraphStack {
                name: "Net-1",
                dependencies: &net_deps,
                template: &network,
                paths: None,
            },
            GraphStack {
                name: "Data \"x\"",
                dependencies: &data_deps,
                template: &data,
                paths: None,
            },
            GraphStack {
                name: "end",
                dependencies: &ops_deps,
                template: &ops,
                paths: None,
            },
        ];
        (
            render(&stacks, GraphFormat::Mermaid, options).unwrap(),
            render(&stacks, GraphFormat::Dot, options).unwrap(),
        )
    }

    #[test]
    fn mermaid_counts_references_per_pair_of_stacks() {
        let (mermaid, _) = render_both(&GraphOptions::default());
        let expected = "\
flowchart TD
    %% Arrows go from a stack to the stacks that use it (deploy order). Solid: exports imported with Fn::ImportValue, or a dependency without references; dashed: weak references (Fn::GetStackOutput).
    Net1[\"Net-1<br/>3 resources\"]
    Datax[\"Data #quot;x#quot;<br/>2 resources\"]
    Send[\"end<br/>0 resources\"]
    Outside[\"(outside the app)\"]
    Net1 -->|\"4 exports<br/>Key.Arn<br/>Vpc<br/>Vpc/SubnetA/Subnet\"| Datax
    Net1 -.->|\"1 weak reference<br/>Key.KeyId\"| Datax
    Outside -->|\"1 export<br/>Elsewhere:Thing\"| Datax
    Net1 -->|\"deploy order\"| Send
    Datax -->|\"deploy order\"| Send
";
        assert_eq!(mermaid, expected);
    }

    #[test]
    fn dot_quotes_ids_and_dashes_weak_references() {
        let (_, dot) = render_both(&GraphOptions {
            changed: vec!["Data \"x\"".to_owned()],
            ..GraphOptions::default()
        });
        assert!(
            dot.contains("    \"Net-1\" [label=\"Net-1\\n3 resources\"];\n"),
            "{dot}"
        );
        assert!(
            dot.contains("    \"Data \\\"x\\\"\" [label=\"Data \\\"x\\\"\\n2 resources\", style=\"rounded,filled\", fillcolor=\"#fff4c2\""),
            "{dot}"
        );
        assert!(
            dot.contains("    \"Net-1\" -> \"Data \\\"x\\\"\" [label=\"1 weak reference\\nKey.KeyId\", style=dashed];\n"),
            "{dot}"
        );
        assert!(
            dot.contains(
                "    \"(outside the app)\" [label=\"(outside the app)\", style=dashed];\n"
            ),
            "{dot}"
        );
        assert!(
            dot.contains("    \"(outside the app)\" -> \"Data \\\"x\\\"\" [label=\"1 export\\nElsewhere:Thing\"];\n"),
            "{dot}"
        );
        assert_balanced(&dot);
    }

    #[test]
    fn resources_are_grouped_by_top_construct() {
        let options = GraphOptions {
            resources: true,
            changed: vec!["Net-1".to_owned()],
            ..GraphOptions::default()
        };
        let (mermaid, dot) = render_both(&options);
        assert!(
            mermaid.contains(
                "    subgraph Net1[\"Net-1<br/>3 resources\"]\n        direction TB\n        Net1G0[\"Key<br/>AWS::KMS::Key\"]\n        Net1G1[\"Vpc<br/>2 resources\"]\n    end\n"
            ),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("        DataxG0[\"Db<br/>2 resources\"]\n"),
            "{mermaid}"
        );
        assert!(
            mermaid.ends_with(
                "    class Net1 changed\n    style Net1 fill:#fff4c2,stroke:#d4a72c,stroke-width:3px\n"
            ),
            "{mermaid}"
        );
        assert!(dot.contains("    compound=true;\n"), "{dot}");
        assert!(
            dot.contains("    subgraph \"cluster_0\" {\n        style=\"rounded,filled\";\n"),
            "{dot}"
        );
        assert!(
            dot.contains("        \"Net-1/Vpc\" [label=\"Vpc\\n2 resources\""),
            "{dot}"
        );
        assert!(
            dot.contains("ltail=\"cluster_0\", lhead=\"cluster_1\"];"),
            "{dot}"
        );
        assert_balanced(&dot);
    }

    #[test]
    fn resource_edges_count_references_between_constructs() {
        let template = json!({"Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Metadata": {"aws:cdk:path": "S/Key/Resource"}},
            "Log": {"Type": "AWS::Logs::LogGroup",
                "Metadata": {"aws:cdk:path": "S/App/Logs"},
                "Properties": {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
            "Task": {"Type": "AWS::ECS::TaskDefinition",
                "Metadata": {"aws:cdk:path": "S/App/Task"},
                "Properties": {"A": {"Ref": "Log"}, "B": {"Fn::GetAtt": "Key.Arn"},
                    "C": {"Ref": "AWS::Region"}, "D": {"Ref": "Key"}}}
        }});
        let stacks = [GraphStack {
            name: "S",
            dependencies: &[],
            template: &template,
            paths: None,
        }];
        let options = GraphOptions {
            resources: true,
            resource_edges: true,
            ..GraphOptions::default()
        };
        let mermaid = render(&stacks, GraphFormat::Mermaid, &options).unwrap();
        assert!(
            mermaid.contains("        SG1 -->|\"2 references\"| SG0\n    end\n"),
            "{mermaid}"
        );
        let dot = render(&stacks, GraphFormat::Dot, &options).unwrap();
        assert!(
            dot.contains(
                "        \"S/Key\" -> \"S/App\" [label=\"2 references\", color=\"#888888\""
            ),
            "{dot}"
        );
        assert_balanced(&dot);
        let without = render(
            &stacks,
            GraphFormat::Mermaid,
            &GraphOptions {
                resource_edges: false,
                ..options
            },
        )
        .unwrap();
        assert!(!without.contains("2 references"), "{without}");
    }

    #[test]
    fn large_stacks_draw_the_largest_constructs_and_the_rest_together() {
        let mut resources = serde_json::Map::new();
        for (group, count) in [("A", 1), ("B", 5), ("C", 2), ("D", 3)] {
            for n in 0..count {
                resources.insert(
                    format!("{group}{n}"),
                    json!({"Type": "AWS::SNS::Topic",
                        "Metadata": {"aws:cdk:path": format!("S/{group}/R{n}")}}),
                );
            }
        }
        let template = json!({ "Resources": resources });
        let stack = GraphStack {
            name: "S",
            dependencies: &[],
            template: &template,
            paths: None,
        };
        let names: Vec<(String, usize)> = groups(&stack, 3)
            .into_iter()
            .map(|g| (g.name, g.count))
            .collect();
        assert_eq!(
            names,
            [
                ("B".to_owned(), 5),
                ("D".to_owned(), 3),
                ("2 more constructs".to_owned(), 3)
            ]
        );
        assert_eq!(groups(&stack, 0).len(), 4);
    }

    #[test]
    fn an_unknown_changed_stack_is_an_error() {
        let template = json!({});
        let stacks = [GraphStack {
            name: "A",
            dependencies: &[],
            template: &template,
            paths: None,
        }];
        let options = GraphOptions {
            changed: vec!["B".to_owned()],
            ..GraphOptions::default()
        };
        let err = render(&stacks, GraphFormat::Dot, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no stack is named \"B\", so it cannot be marked as changed (the stacks: A)"
        );
    }

    #[test]
    fn mermaid_ids_are_alphanumeric_and_unique() {
        let template = json!({});
        let stacks: Vec<GraphStack<'_>> = ["A-B", "AB", "1x", "--"]
            .into_iter()
            .map(|name| GraphStack {
                name,
                dependencies: &[],
                template: &template,
                paths: None,
            })
            .collect();
        assert_eq!(mermaid_ids(&stacks), ["AB", "AB2", "S1x", "S"]);
        assert_eq!(
            mermaid_label(&["a#b \"c\" <d>|`".to_owned(), "x".to_owned()]),
            "a#35;b #quot;c#quot; #lt;d#gt;#124;#96;<br/>x"
        );
    }

    /// Braces and quotes balance outside quoted strings.
    fn assert_balanced(dot: &str) {
        let mut depth = 0i32;
        let mut quoted = false;
        let mut escaped = false;
        for c in dot
            .lines()
            .filter(|l| !l.starts_with("//"))
            .flat_map(str::chars)
        {
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
                '}' => {
                    depth -= 1;
                    assert!(depth >= 0, "{dot}");
                }
                _ => {}
            }
        }
        assert!(!quoted && depth == 0, "{dot}");
    }
}
