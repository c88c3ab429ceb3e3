//! Phase one of synthesis: lowering each stack's model to template JSON.
//!
//! References resolve here: inside their own stack to `Ref` / `Fn::GetAtt` with the target's
//! logical id; across stacks to an export of the producer and an import in the consumer (or a
//! weak `Fn::GetStackOutput`), which also records the dependency between the stacks.

use std::borrow::Cow;
use std::cell::Ref;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};

use crate::error::{Problem, ProblemKind};
use crate::id;
use crate::schema::{ResourceSchema, SchemaLookup, TagFormat};
use crate::settings::{AppSettings, CrossStackReferences, PATH_METADATA_KEY, PathMetadata};
use crate::tree::{Override, ResourceData, StackData};
use crate::value::{ConditionExpr, ElementRef, Intrinsic, Node, RefTarget, ResourceRef};

/// The sections of one stack's template, before serialization.
#[derive(Default)]
pub(crate) struct TemplateParts {
    pub(crate) metadata: Map<String, Json>,
    pub(crate) parameters: Map<String, Json>,
    pub(crate) mappings: Map<String, Json>,
    pub(crate) conditions: Map<String, Json>,
    pub(crate) resources: Map<String, Json>,
    pub(crate) outputs: Map<String, Json>,
    /// Full construct path of each resource, by logical id, for messages.
    pub(crate) paths: BTreeMap<String, String>,
    /// The schema of each resource whose type is known, by logical id, to check attributes.
    pub(crate) schemas: BTreeMap<String, &'static ResourceSchema>,
    /// How each taggable resource takes tags, by logical id, to check its tags.
    pub(crate) tag_formats: BTreeMap<String, TagFormat>,
    /// Property paths not checked against the schema's value constraints, by logical id.
    pub(crate) unchecked: BTreeMap<String, Vec<String>>,
}

/// An output the producer must add so a consumer can read one of its values.
pub(crate) struct ExportEntry {
    pub(crate) value: Json,
    pub(crate) name: String,
}

/// Why one stack depends on another, for cycle messages.
pub(crate) type DependencyReasons = BTreeMap<usize, String>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Conditions,
    Resources,
    Outputs,
}

#[derive(Clone, Copy)]
pub(crate) enum Seg<'n> {
    Key(&'n str),
    Index(usize),
}

pub(crate) fn format_path(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

pub(crate) struct Renderer<'a> {
    pub(crate) stacks: &'a [Ref<'a, StackData>],
    pub(crate) index: &'a BTreeMap<u64, usize>,
    pub(crate) settings: &'a AppSettings,
    pub(crate) exports: &'a mut [IndexMap<String, ExportEntry>],
    pub(crate) dependencies: &'a mut [DependencyReasons],
    pub(crate) problems: &'a mut Vec<Problem>,
    /// The app's check rules, to write suppressions only where their rule looks.
    pub(crate) rules: &'a [crate::check::Rule],
    /// The app's schema lookup, for resources whose definition does not carry a schema.
    pub(crate) schemas: Option<SchemaLookup>,
}

struct Cursor {
    stack: usize,
    section: Section,
    /// Full path of the element being rendered.
    element: String,
}

impl Renderer<'_> {
    /// Renders stack `i`'s sections (exports of other stacks are added later).
    pub(crate) fn render_stack(&mut self, i: usize) -> TemplateParts {
        let data = &self.stacks[i];
        let stack_name = data.sref.name.to_string();
        let mut parts = TemplateParts::default();
        for (key, value) in &data.metadata {
            parts.metadata.insert(key.clone(), value.clone());
        }
        for (name, props) in &data.parameters {
            parts.parameters.insert(name.clone(), props.to_json());
        }
        for (name, entries) in &data.mappings {
            parts.mappings.insert(name.clone(), json!(entries));
        }
        for (name, expression) in &data.conditions {
            let mut cursor = Cursor {
                stack: i,
                section: Section::Conditions,
                element: format!("{stack_name}/Conditions/{name}"),
            };
            let mut path = Vec::new();
            let rendered = self.condition(&mut cursor, expression, &mut path);
            parts.conditions.insert(name.clone(), rendered);
        }
        let placement = self.suppression_placement(i);
        for (path, resource) in &data.resources {
            let full = format!("{stack_name}/{path}");
            let mut cursor = Cursor {
                stack: i,
                section: Section::Resources,
                element: full.clone(),
            };
            let tags = scope_tags(&data.tags, &data.scope_tags, path);
            let inherited = covering(&data.scope_metadata, path);
            let mut rendered = self.resource(&mut cursor, resource, &tags, &inherited);
            add_suppressions(
                &mut rendered,
                &data.suppressions,
                &placement,
                path,
                &resource.type_name,
            );
            parts.paths.insert(resource.logical_id.clone(), full);
            if let Some(schema) = self.schema_of(resource) {
                parts.schemas.insert(resource.logical_id.clone(), schema);
            }
            if !resource.unchecked.is_empty() {
                parts.unchecked.insert(
                    resource.logical_id.clone(),
                    resource.unchecked.iter().map(|(p, _)| p.clone()).collect(),
                );
            }
            if resource.tag_format != TagFormat::None {
                parts
                    .tag_formats
                    .insert(resource.logical_id.clone(), resource.tag_format.clone());
            }
            parts
                .resources
                .insert(resource.logical_id.clone(), rendered);
        }
        for (name, output) in &data.outputs {
            let mut cursor = Cursor {
                stack: i,
                section: Section::Outputs,
                element: format!("{stack_name}/Outputs/{name}"),
            };
            let mut rendered = Map::new();
            if let Some(description) = &output.description {
                rendered.insert("Description".into(), description.clone().into());
            }
            let mut path = vec![Seg::Key("Value")];
            rendered.insert(
                "Value".into(),
                self.node(&mut cursor, &output.value, &mut path),
            );
            if let Some(export) = &output.export_name {
                let mut path = vec![Seg::Key("Export"), Seg::Key("Name")];
                let name = self.node(&mut cursor, export, &mut path);
                rendered.insert("Export".into(), json!({ "Name": name }));
            }
            if let Some(condition) = &output.condition {
                rendered.insert("Condition".into(), condition.clone().into());
            }
            parts.outputs.insert(name.clone(), Json::Object(rendered));
        }
        parts
    }

    /// For each suppression of stack `i`, the resource types it is written into: those its
    /// rule looks at when the scope has such a resource, else every resource under the scope
    /// (so the check reports it as matching nothing). A suppression over no resource at all
    /// is a problem.
    fn suppression_placement(&mut self, i: usize) -> Vec<Placement> {
        let data = &self.stacks[i];
        let mut placement = Vec::with_capacity(data.suppressions.len());
        for s in &data.suppressions {
            let rule = self.rules.iter().find(|r| r.id == s.rule);
            let equivalents = rule.map_or(crate::check::Equivalents::NONE, |r| r.equivalents);
            let types = rule.map(|r| r.types).filter(|types| {
                data.resources
                    .iter()
                    .any(|(path, r)| s.covers(path) && types.contains(&r.type_name.as_str()))
            });
            if types.is_none() && !data.resources.keys().any(|path| s.covers(path)) {
                self.problems.push(Problem {
                    path: format!("{}/{}", data.sref.name, s.scope),
                    property: String::new(),
                    message: format!(
                        "the suppression of {:?} covers no resource; suppress on a construct that has resources, or remove it",
                        s.rule
                    ),
                    kind: ProblemKind::InvalidValue,
                });
            }
            placement.push(Placement { types, equivalents });
        }
        placement
    }

    /// The schema of a resource's type: the one its definition carries, else the app's.
    fn schema_of(&self, resource: &ResourceData) -> Option<&'static ResourceSchema> {
        resource
            .schema
            .filter(|s| s.type_name == resource.type_name)
            .or_else(|| self.schemas.and_then(|find| find(&resource.type_name)))
    }

    fn problem(&mut self, cursor: &Cursor, path: &[Seg<'_>], kind: ProblemKind, message: String) {
        self.problems.push(Problem {
            path: cursor.element.clone(),
            property: format_path(path),
            message,
            kind,
        });
    }

    fn resource(
        &mut self,
        cursor: &mut Cursor,
        resource: &ResourceData,
        stack_tags: &BTreeMap<String, String>,
        inherited: &[&(Arc<str>, String, Node)],
    ) -> Json {
        let mut out = Map::new();
        out.insert("Type".into(), resource.type_name.clone().into());
        let tag_property = resource.tag_format.property();
        let tagged = match merged_tags(resource, stack_tags) {
            Ok(tagged) => tagged,
            Err(message) => {
                let path = [
                    Seg::Key("Properties"),
                    Seg::Key(tag_property.unwrap_or("Tags")),
                ];
                self.problem(cursor, &path, ProblemKind::InvalidValue, message);
                None
            }
        };
        let mut properties = Map::new();
        let mut path = vec![Seg::Key("Properties")];
        for (key, value) in &resource.properties {
            let value = match (&tagged, tag_property) {
                (Some(tags), Some(p)) if p == key => tags,
                _ => value,
            };
            path.push(Seg::Key(key));
            let rendered = self.node(cursor, value, &mut path);
            path.pop();
            properties.insert(key.clone(), rendered);
        }
        if let (Some(tags), Some(p)) = (&tagged, tag_property)
            && !resource.properties.contains_key(p)
        {
            path.push(Seg::Key(p));
            let rendered = self.node(cursor, tags, &mut path);
            path.pop();
            properties.insert(p.to_owned(), rendered);
        }
        if !properties.is_empty() {
            out.insert("Properties".into(), Json::Object(properties));
        }
        let depends_on = self.depends_on(cursor, &resource.depends_on);
        if !depends_on.is_empty() {
            out.insert("DependsOn".into(), depends_on.into());
        }
        if let Some(condition) = &resource.condition {
            out.insert("Condition".into(), condition.clone().into());
        }
        if let Some(policy) = resource.deletion_policy {
            out.insert("DeletionPolicy".into(), policy.name().into());
        }
        if let Some(policy) = resource.update_replace_policy {
            out.insert("UpdateReplacePolicy".into(), policy.name().into());
        }
        if let Some(policy) = &resource.update_policy {
            let mut path = vec![Seg::Key("UpdatePolicy")];
            out.insert("UpdatePolicy".into(), self.node(cursor, policy, &mut path));
        }
        if let Some(policy) = &resource.creation_policy {
            let mut path = vec![Seg::Key("CreationPolicy")];
            out.insert(
                "CreationPolicy".into(),
                self.node(cursor, policy, &mut path),
            );
        }
        if !resource.metadata.is_empty()
            || !inherited.is_empty()
            || self.settings.path_metadata == PathMetadata::Included
        {
            let mut metadata = Map::new();
            if self.settings.path_metadata == PathMetadata::Included {
                metadata.insert(PATH_METADATA_KEY.into(), cursor.element.clone().into());
            }
            let mut path = vec![Seg::Key("Metadata")];
            // Outer scopes first, then inner ones, then the resource's own entries: the most
            // specific value of a key wins.
            let own = resource.metadata.iter();
            let scoped = inherited.iter().map(|(_, key, value)| (key, value));
            for (key, value) in scoped.chain(own) {
                path.push(Seg::Key(key));
                metadata.insert(key.clone(), self.node(cursor, value, &mut path));
                path.pop();
            }
            out.insert("Metadata".into(), Json::Object(metadata));
        }
        let mut out = Json::Object(out);
        for change in &resource.overrides {
            self.apply_override(cursor, &mut out, change);
        }
        out
    }

    fn depends_on(&mut self, cursor: &Cursor, targets: &[ResourceRef]) -> Vec<String> {
        let mut ids = Vec::new();
        for target in targets {
            let Some(&owner) = self.index.get(&target.stack.id) else {
                self.problem(
                    cursor,
                    &[Seg::Key("DependsOn")],
                    ProblemKind::StackNotInApp,
                    not_in_app(&target.stack.name, &target.path),
                );
                continue;
            };
            if owner == cursor.stack {
                if let Some(r) = self.stacks[owner].resources.get(&target.path) {
                    ids.push(r.logical_id.clone());
                }
            } else {
                let reason = format!(
                    "{} depends on {}/{} (DependsOn)",
                    cursor.element, target.stack.name, target.path
                );
                self.dependencies[cursor.stack]
                    .entry(owner)
                    .or_insert(reason);
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }

    fn apply_override(&mut self, cursor: &mut Cursor, resource: &mut Json, change: &Override) {
        let (path, value) = match change {
            Override::Set(path, value) => (path, Some(value)),
            Override::Delete(path) => (path, None),
        };
        let segments: Vec<Seg<'_>> = path.iter().map(|s| Seg::Key(s)).collect();
        let rendered = value.map(|v| {
            let mut p = segments.clone();
            self.node(cursor, v, &mut p)
        });
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut target = resource;
        for (depth, key) in parents.iter().enumerate() {
            let next = match target {
                Json::Object(map) => {
                    if rendered.is_none() && !map.contains_key(key) {
                        return; // deleting below a path that does not exist: nothing to do
                    }
                    if rendered.is_some()
                        && let Some(function) = function_beside(map, key)
                    {
                        self.beside_function(cursor, &segments[..=depth], key, &function);
                        return;
                    }
                    map.entry(key.clone())
                        .or_insert_with(|| Json::Object(Map::new()))
                }
                Json::Array(items) => {
                    if let Some(i) = key.parse::<usize>().ok().filter(|&i| i < items.len()) {
                        &mut items[i]
                    } else {
                        let message = format!(
                            "override path component {key:?} is not an index of the list here (it has {} items); fix the override path",
                            items.len()
                        );
                        self.problem(
                            cursor,
                            &segments[..=depth],
                            ProblemKind::InvalidValue,
                            message,
                        );
                        return;
                    }
                }
                _ => {
                    let message = format!(
                        "override path goes through {key:?}, but the value there is neither an object nor a list; fix the override path"
                    );
                    self.problem(
                        cursor,
                        &segments[..=depth],
                        ProblemKind::InvalidValue,
                        message,
                    );
                    return;
                }
            };
            target = next;
        }
        match (target, rendered) {
            (Json::Object(map), Some(value)) => {
                if let Some(function) = function_beside(map, last) {
                    self.beside_function(cursor, &segments, last, &function);
                } else {
                    map.insert(last.clone(), value);
                }
            }
            (Json::Object(map), None) => {
                map.shift_remove(last);
            }
            (Json::Array(items), value) => match last.parse::<usize>().ok() {
                Some(i) if i < items.len() => match value {
                    Some(v) => items[i] = v,
                    None => {
                        items.remove(i);
                    }
                },
                _ => {
                    let message = format!(
                        "override path component {last:?} is not an index of the list here (it has {} items); fix the override path",
                        items.len()
                    );
                    self.problem(cursor, &segments, ProblemKind::InvalidValue, message);
                }
            },
            (_, _) => {
                let message = "override path ends below a value that is neither an object nor a list; fix the override path".to_owned();
                self.problem(cursor, &segments, ProblemKind::InvalidValue, message);
            }
        }
    }

    /// An override that would write `key` beside an intrinsic function: the object would no
    /// longer be a function, and what the function references would be neither resolved nor
    /// checked.
    fn beside_function(&mut self, cursor: &Cursor, path: &[Seg<'_>], key: &str, function: &str) {
        let message = format!(
            "override path component {key:?} would be written beside {function}, which makes the value neither a function nor a valid object; override the whole value, or a path inside the function's arguments ({function}.…)"
        );
        self.problem(cursor, path, ProblemKind::InvalidValue, message);
    }

    fn node<'n>(&mut self, cursor: &mut Cursor, node: &'n Node, path: &mut Vec<Seg<'n>>) -> Json {
        match node {
            Node::Null => Json::Null,
            Node::Bool(b) => Json::Bool(*b),
            Node::Int(i) => Json::from(*i),
            Node::Float(f) => {
                if let Some(n) = serde_json::Number::from_f64(*f) {
                    Json::Number(n)
                } else {
                    self.problem(
                        cursor,
                        path,
                        ProblemKind::InvalidValue,
                        format!("number {f} cannot be written in a template; use a finite number"),
                    );
                    Json::Null
                }
            }
            Node::String(s) => Json::String(s.clone()),
            Node::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    out.push(self.node(cursor, item, path));
                    path.pop();
                }
                Json::Array(out)
            }
            Node::Map(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, value) in map {
                    path.push(Seg::Key(key));
                    out.insert(key.clone(), self.node(cursor, value, path));
                    path.pop();
                }
                Json::Object(out)
            }
            Node::Fn(intrinsic) => self.intrinsic(cursor, intrinsic, path),
        }
    }

    fn args<'n>(
        &mut self,
        cursor: &mut Cursor,
        name: &'n str,
        nodes: &[&'n Node],
        path: &mut Vec<Seg<'n>>,
    ) -> Vec<Json> {
        path.push(Seg::Key(name));
        let out = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                path.push(Seg::Index(i));
                let v = self.node(cursor, n, path);
                path.pop();
                v
            })
            .collect();
        path.pop();
        out
    }

    fn intrinsic<'n>(
        &mut self,
        cursor: &mut Cursor,
        intrinsic: &'n Intrinsic,
        path: &mut Vec<Seg<'n>>,
    ) -> Json {
        match intrinsic {
            Intrinsic::Ref(RefTarget::Resource(r)) => self.reference(cursor, r, None, false, path),
            Intrinsic::Ref(RefTarget::Parameter(p)) => self.parameter(cursor, p, path),
            Intrinsic::Ref(RefTarget::Pseudo(p)) => json!({ "Ref": p.name() }),
            Intrinsic::Ref(RefTarget::LogicalId(id)) => json!({ "Ref": id }),
            Intrinsic::GetAtt {
                resource,
                attribute,
                list,
            } => self.reference(cursor, resource, Some(attribute), *list, path),
            Intrinsic::Sub {
                template,
                variables,
            } => {
                if variables.is_empty() {
                    json!({ "Fn::Sub": template })
                } else {
                    path.push(Seg::Key("Fn::Sub"));
                    let mut vars = Map::new();
                    for (name, value) in variables {
                        path.push(Seg::Key(name));
                        vars.insert(name.clone(), self.node(cursor, value, path));
                        path.pop();
                    }
                    path.pop();
                    json!({ "Fn::Sub": [template, vars] })
                }
            }
            Intrinsic::Join { delimiter, values } => {
                let args = self.args(cursor, "Fn::Join", &[values], path);
                json!({ "Fn::Join": [delimiter, args[0]] })
            }
            Intrinsic::Select { index, list } => {
                json!({ "Fn::Select": self.args(cursor, "Fn::Select", &[index, list], path) })
            }
            Intrinsic::Split { delimiter, source } => {
                let args = self.args(cursor, "Fn::Split", &[source], path);
                json!({ "Fn::Split": [delimiter, args[0]] })
            }
            Intrinsic::GetAzs { region } => {
                let args = self.args(cursor, "Fn::GetAZs", &[region], path);
                json!({ "Fn::GetAZs": args[0] })
            }
            Intrinsic::ImportValue { name } => {
                let args = self.args(cursor, "Fn::ImportValue", &[name], path);
                json!({ "Fn::ImportValue": args[0] })
            }
            Intrinsic::If {
                condition,
                then,
                otherwise,
            } => {
                if !self.local_element(cursor, condition, "condition", path) {
                    return Json::Null;
                }
                let args = self.args(cursor, "Fn::If", &[then, otherwise], path);
                json!({ "Fn::If": [condition.name(), args[0], args[1]] })
            }
            Intrinsic::Base64 { value } => {
                let args = self.args(cursor, "Fn::Base64", &[value], path);
                json!({ "Fn::Base64": args[0] })
            }
            Intrinsic::Cidr {
                block,
                count,
                cidr_bits,
            } => {
                json!({ "Fn::Cidr": self.args(cursor, "Fn::Cidr", &[block, count, cidr_bits], path) })
            }
            Intrinsic::FindInMap {
                mapping,
                top_key,
                second_key,
            } => {
                if !self.local_element(cursor, mapping, "mapping", path) {
                    return Json::Null;
                }
                let args = self.args(cursor, "Fn::FindInMap", &[top_key, second_key], path);
                json!({ "Fn::FindInMap": [mapping.name(), args[0], args[1]] })
            }
        }
    }

    fn condition<'n>(
        &mut self,
        cursor: &mut Cursor,
        expression: &'n ConditionExpr,
        path: &mut Vec<Seg<'n>>,
    ) -> Json {
        match expression {
            ConditionExpr::Equals(a, b) => {
                json!({ "Fn::Equals": self.args(cursor, "Fn::Equals", &[a, b], path) })
            }
            ConditionExpr::And(items) => self.conditions(cursor, "Fn::And", items, path),
            ConditionExpr::Or(items) => self.conditions(cursor, "Fn::Or", items, path),
            ConditionExpr::Not(inner) => {
                path.push(Seg::Key("Fn::Not"));
                let v = self.condition(cursor, inner, path);
                path.pop();
                json!({ "Fn::Not": [v] })
            }
            ConditionExpr::Condition(element) => {
                if !self.local_element(cursor, element, "condition", path) {
                    return Json::Null;
                }
                json!({ "Condition": element.name() })
            }
        }
    }

    fn conditions<'n>(
        &mut self,
        cursor: &mut Cursor,
        name: &'static str,
        items: &'n [ConditionExpr],
        path: &mut Vec<Seg<'n>>,
    ) -> Json {
        if !(2..=10).contains(&items.len()) {
            let message = format!(
                "{name} takes 2 to 10 conditions, not {}; nest another {name} for more",
                items.len()
            );
            self.problem(cursor, path, ProblemKind::InvalidValue, message);
        }
        path.push(Seg::Key(name));
        let mut rendered = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            path.push(Seg::Index(i));
            rendered.push(self.condition(cursor, item, path));
            path.pop();
        }
        path.pop();
        json!({ name: rendered })
    }

    /// Whether the element belongs to the stack being rendered; reports it if not.
    fn local_element(
        &mut self,
        cursor: &Cursor,
        element: &ElementRef,
        kind: &str,
        path: &[Seg<'_>],
    ) -> bool {
        let local = element.stack.id == self.stacks[cursor.stack].sref.id;
        if !local {
            let message = format!(
                "{kind} {:?} belongs to stack {}; a {kind} can only be used in its own stack, so define it in this stack too",
                element.name(),
                element.stack.name()
            );
            self.problem(cursor, path, ProblemKind::CrossStackElement, message);
        }
        local
    }

    fn parameter(&mut self, cursor: &mut Cursor, parameter: &ElementRef, path: &[Seg<'_>]) -> Json {
        let local = json!({ "Ref": parameter.name() });
        if parameter.stack.id == self.stacks[cursor.stack].sref.id {
            return local;
        }
        let Some(&owner) = self.index.get(&parameter.stack.id) else {
            let message = not_in_app(&parameter.stack.name, parameter.name());
            self.problem(cursor, path, ProblemKind::StackNotInApp, message);
            return Json::Null;
        };
        let target = format!("{}/Parameters/{}", parameter.stack.name, parameter.name());
        let list = self.stacks[owner]
            .parameters
            .get(parameter.name())
            .is_some_and(|p| p.parameter_type.is_list());
        self.import(cursor, owner, local, list, &target, path)
    }

    fn reference(
        &mut self,
        cursor: &mut Cursor,
        target: &ResourceRef,
        attribute: Option<&str>,
        list: bool,
        path: &[Seg<'_>],
    ) -> Json {
        let Some(&owner) = self.index.get(&target.stack.id) else {
            let message = not_in_app(&target.stack.name, &target.path);
            self.problem(cursor, path, ProblemKind::StackNotInApp, message);
            return Json::Null;
        };
        let Some(resource) = self.stacks[owner].resources.get(&target.path) else {
            let message = format!(
                "references {}/{}, which the stack does not have",
                target.stack.name, target.path
            );
            self.problem(cursor, path, ProblemKind::MissingReference, message);
            return Json::Null;
        };
        let logical_id = resource.logical_id.clone();
        let local = match attribute {
            None => json!({ "Ref": logical_id }),
            Some(a) => json!({ "Fn::GetAtt": [logical_id, a] }),
        };
        if owner == cursor.stack {
            // The template's checks see this `Fn::GetAtt` and check its attribute.
            return local;
        }
        if let Some(a) = attribute
            && let Some(schema) = self.schema_of(resource)
            && let Some(message) = super::validate::unknown_attribute(
                schema,
                &format!("{}/{}", target.stack.name, target.path),
                a,
            )
        {
            // No export of an attribute CloudFormation would reject.
            self.problem(cursor, path, ProblemKind::UnknownAttribute, message);
            return Json::Null;
        }
        let described = match attribute {
            None => format!("{}/{}", target.stack.name, target.path),
            Some(a) => format!("{}/{}.{a}", target.stack.name, target.path),
        };
        if let Some(condition) = &resource.condition {
            let message = format!(
                "uses {described}, which exists only when condition {condition:?} of stack {} holds; another stack cannot import it (the export would be missing when the condition is false): remove the condition or pass the value through a parameter",
                target.stack.name
            );
            self.problem(cursor, path, ProblemKind::CrossStackElement, message);
            return Json::Null;
        }
        self.import(cursor, owner, local, list, &described, path)
    }

    /// The consumer's side of a cross-stack reference; records the producer's export and the
    /// dependency.
    fn import(
        &mut self,
        cursor: &mut Cursor,
        owner: usize,
        local: Json,
        list: bool,
        described: &str,
        path: &[Seg<'_>],
    ) -> Json {
        if cursor.section == Section::Conditions {
            let message = format!(
                "a condition cannot use {described} from another stack; conditions may only use parameters and mappings of their own stack"
            );
            self.problem(cursor, path, ProblemKind::CrossStackElement, message);
            return Json::Null;
        }
        let consumer = &self.stacks[cursor.stack];
        let producer = &self.stacks[owner];
        let producer_name = producer.sref.name.to_string();
        let (c_env, p_env) = (
            consumer.env.clone().unwrap_or_default(),
            producer.env.clone().unwrap_or_default(),
        );
        let weak = self.settings.cross_stack_references == CrossStackReferences::Weak;
        // An environment-agnostic stack can be deployed anywhere, so it only matches another
        // agnostic stack. Weak references read a concrete producer region from any region.
        let regions_ok = c_env.region == p_env.region || (weak && p_env.region.is_some());
        if c_env.account != p_env.account || !regions_ok {
            let message = format!(
                "uses {described} of stack {producer_name}, which is deployed to {}, while this stack is deployed to {}; exports only work within one account and region{}",
                env_text(&p_env),
                env_text(&c_env),
                if weak {
                    ""
                } else {
                    " (weak references through Fn::GetStackOutput also work across regions: AppSettings::cross_stack_references)"
                }
            );
            self.problem(cursor, path, ProblemKind::CrossEnvironment, message);
            return Json::Null;
        }
        // The output's id comes from the reference itself, also for lists (joined for export),
        // as in AWS CDK, so exports keep their names when a CDK stack moves to omc-cdk.
        let output_id = id::logical_id_for_path(&["Exports", &format!("Output{local}")]);
        let exported = if list {
            json!({ "Fn::Join": ["||", local] })
        } else {
            local
        };
        let export_name = export_name(&producer_name, &output_id);
        let region = (c_env.region != p_env.region)
            .then(|| p_env.region.clone())
            .flatten();
        self.exports[owner]
            .entry(output_id.clone())
            .or_insert_with(|| ExportEntry {
                value: exported,
                name: export_name.clone(),
            });
        let reason = format!(
            "{} ({}) uses {described}",
            cursor.element,
            format_path(path)
        );
        self.dependencies[cursor.stack]
            .entry(owner)
            .or_insert(reason);
        let imported = if weak {
            let mut args = Map::new();
            args.insert("StackName".into(), producer_name.into());
            args.insert("OutputName".into(), output_id.into());
            if let Some(region) = region {
                args.insert("Region".into(), region.into());
            }
            json!({ "Fn::GetStackOutput": args })
        } else {
            json!({ "Fn::ImportValue": export_name })
        };
        if list {
            json!({ "Fn::Split": ["||", imported] })
        } else {
            imported
        }
    }
}

/// The intrinsic function an object is (`Ref` or `Fn::*`, its only key), when `key` is not
/// that function.
fn function_beside(map: &Map<String, Json>, key: &str) -> Option<String> {
    let mut keys = map.keys();
    let (Some(function), None) = (keys.next(), keys.next()) else {
        return None;
    };
    let is_function = function == "Ref" || function.starts_with("Fn::");
    (is_function && function != key).then(|| function.clone())
}

fn env_text(env: &crate::environment::Environment) -> String {
    format!(
        "account {} in region {}",
        env.account.as_deref().unwrap_or("(any)"),
        env.region.as_deref().unwrap_or("(any)")
    )
}

fn not_in_app(stack: &str, element: &str) -> String {
    format!(
        "uses {stack}/{element}, but stack {stack:?} is not part of this app; create that stack in this app (Stack::new(&app, ..)) or pass a plain value instead"
    )
}

/// CDK's export names: `<stack>:<output logical id>`, cut from the left of the local part to
/// fit 255 characters.
fn export_name(stack: &str, output_id: &str) -> String {
    const MAX: usize = 255;
    let prefix = format!("{stack}:");
    let skip = (output_id.len() + prefix.len()).saturating_sub(MAX);
    format!("{prefix}{}", &output_id[skip.min(output_id.len())..])
}

/// The entries of `scopes` whose scope contains `path`, outer scopes first (stable: one
/// scope's entries keep their declaration order).
fn covering<'a, T>(
    scopes: &'a [(Arc<str>, String, T)],
    path: &str,
) -> Vec<&'a (Arc<str>, String, T)> {
    let mut found: Vec<&(Arc<str>, String, T)> = scopes
        .iter()
        .filter(|(scope, _, _)| {
            scope.is_empty()
                || path
                    .strip_prefix(&**scope)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .collect();
    found.sort_by_key(|(scope, _, _)| scope.split('/').count() - usize::from(scope.is_empty()));
    found
}

/// The stack's tags with the tags of every scope that contains `path` (outer scopes first, so
/// an inner scope's tag wins).
fn scope_tags<'a>(
    stack: &'a BTreeMap<String, String>,
    scopes: &[(Arc<str>, String, String)],
    path: &str,
) -> Cow<'a, BTreeMap<String, String>> {
    let covering = covering(scopes, path);
    if covering.is_empty() {
        // Most resources: no scope tags, and no copy of the stack's.
        return Cow::Borrowed(stack);
    }
    let mut tags = stack.clone();
    for (_, key, value) in covering {
        tags.insert(key.clone(), value.clone());
    }
    Cow::Owned(tags)
}

/// The resource's own tags merged with the stack's, or `None` when there is nothing to merge.
/// Keys sort alphabetically; the resource's own value wins. Tags chosen with `Fn::If` are merged
/// into each branch; any other intrinsic cannot be merged and is an error.
fn merged_tags(
    resource: &ResourceData,
    stack_tags: &BTreeMap<String, String>,
) -> Result<Option<Node>, String> {
    let Some(property) = resource.tag_format.property() else {
        return Ok(None);
    };
    if stack_tags.is_empty() {
        return Ok(None);
    }
    merge_tags(
        resource.properties.get(property),
        stack_tags,
        &resource.tag_format,
    )
    .map(Some)
}

fn merge_tags(
    own: Option<&Node>,
    stack_tags: &BTreeMap<String, String>,
    format: &TagFormat,
) -> Result<Node, String> {
    match own {
        Some(Node::Fn(intrinsic)) => match intrinsic.as_ref() {
            Intrinsic::If {
                condition,
                then,
                otherwise,
            } => Ok(Node::Fn(Box::new(Intrinsic::If {
                condition: condition.clone(),
                then: merge_tags(Some(then), stack_tags, format)?,
                otherwise: merge_tags(Some(otherwise), stack_tags, format)?,
            }))),
            Intrinsic::Ref(RefTarget::Pseudo(crate::value::Pseudo::NoValue)) => {
                merge_tags(None, stack_tags, format)
            }
            _ => Err(
                "the resource's tags are an intrinsic function, so the stack's tags cannot be merged into them; give the tags as a literal list (or an Fn::If of lists)".into(),
            ),
        },
        _ => Ok(merge_literal_tags(own, stack_tags, format)),
    }
}

fn merge_literal_tags(
    own: Option<&Node>,
    stack_tags: &BTreeMap<String, String>,
    format: &TagFormat,
) -> Node {
    match format {
        TagFormat::Map(_) => {
            let mut merged: BTreeMap<String, Node> = stack_tags
                .iter()
                .map(|(k, v)| (k.clone(), Node::String(v.clone())))
                .collect();
            if let Some(Node::Map(own)) = own {
                for (k, v) in own {
                    merged.insert(k.clone(), v.clone());
                }
            }
            Node::Map(merged.into_iter().collect())
        }
        TagFormat::None | TagFormat::KeyValueList(_) | TagFormat::AutoScalingGroup(_) => {
            let asg = matches!(format, TagFormat::AutoScalingGroup(_));
            let entry = |key: &str, value: Node| {
                let mut map = IndexMap::new();
                map.insert("Key".to_owned(), Node::String(key.to_owned()));
                map.insert("Value".to_owned(), value);
                if asg {
                    map.insert("PropagateAtLaunch".to_owned(), Node::Bool(true));
                }
                Node::Map(map)
            };
            let mut merged: BTreeMap<String, Node> = stack_tags
                .iter()
                .map(|(k, v)| (k.clone(), entry(k, Node::String(v.clone()))))
                .collect();
            let mut unkeyed = Vec::new();
            if let Some(Node::List(items)) = own {
                for item in items {
                    let key = match item {
                        Node::Map(m) => m.get("Key").and_then(Node::as_str),
                        _ => None,
                    };
                    match key {
                        Some(k) => {
                            merged.insert(k.to_owned(), item.clone());
                        }
                        None => unkeyed.push(item.clone()),
                    }
                }
            }
            let mut list: Vec<Node> = merged.into_values().collect();
            list.extend(unkeyed);
            Node::List(list)
        }
    }
}

/// Writes the suppressions covering the resource at `path` into its `Metadata`.
/// Where a suppression is written: the resource types its rule looks at (`None`: every
/// resource under its scope), and the other scanners' checks it is written for too.
pub(crate) struct Placement {
    types: Option<&'static [&'static str]>,
    equivalents: crate::check::Equivalents,
}

/// Writes the suppressions covering a resource into its `Metadata`: ours under `omc:check`,
/// and for each equivalent check of another scanner the entry that scanner reads, with the
/// same reason (`checkov.skip`, `cfn_nag.rules_to_suppress`, `cfn-lint.config.ignore_checks`).
/// Entries a construct wrote there itself are kept.
fn add_suppressions(
    rendered: &mut Json,
    suppressions: &[crate::tree::SuppressionData],
    placement: &[Placement],
    path: &str,
    type_name: &str,
) {
    let covering: Vec<(&crate::tree::SuppressionData, &Placement)> = suppressions
        .iter()
        .zip(placement)
        .filter(|(s, p)| s.covers(path) && p.types.is_none_or(|types| types.contains(&type_name)))
        .collect();
    if covering.is_empty() {
        return;
    }
    let Some(resource) = rendered.as_object_mut() else {
        return;
    };
    let metadata = resource
        .entry("Metadata")
        .or_insert_with(|| Json::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let entries: Vec<Json> = covering
        .iter()
        .map(|(s, _)| json!({ "rule": s.rule, "reason": s.reason, "scope": &*s.scope }))
        .collect();
    metadata.insert(
        crate::check::METADATA_KEY.into(),
        json!({ "suppressions": entries }),
    );
    // Several of our rules may share an equivalent: one entry per id, their reasons joined.
    let mut checkov: IndexMap<&str, Vec<&str>> = IndexMap::new();
    let mut cfn_nag: IndexMap<&str, Vec<&str>> = IndexMap::new();
    let mut cfn_lint: Vec<&str> = Vec::new();
    for (s, p) in &covering {
        // A suppression over no resource its rule looks at matches nothing (the check says
        // so); the other scanners must not skip their checks on the resources it covers.
        if p.types.is_none() {
            continue;
        }
        for id in p.equivalents.checkov {
            checkov.entry(id).or_default().push(&s.reason);
        }
        for id in p.equivalents.cfn_nag {
            cfn_nag.entry(id).or_default().push(&s.reason);
        }
        for id in p.equivalents.cfn_lint {
            if !cfn_lint.contains(id) {
                cfn_lint.push(id);
            }
        }
    }
    let joined = |reasons: &[&str]| {
        let mut unique: Vec<&str> = Vec::new();
        for r in reasons {
            if !unique.contains(r) {
                unique.push(r);
            }
        }
        unique.join(" / ")
    };
    if !checkov.is_empty() {
        let skips = checkov
            .iter()
            .map(|(id, reasons)| json!({ "id": id, "comment": joined(reasons) }));
        append_unique(metadata, &["checkov", "skip"], skips.collect());
    }
    if !cfn_nag.is_empty() {
        let rules = cfn_nag
            .iter()
            .map(|(id, reasons)| json!({ "id": id, "reason": joined(reasons) }));
        append_unique(metadata, &["cfn_nag", "rules_to_suppress"], rules.collect());
    }
    if !cfn_lint.is_empty() {
        let ids = cfn_lint.iter().map(|id| json!(id));
        append_unique(
            metadata,
            &["cfn-lint", "config", "ignore_checks"],
            ids.collect(),
        );
    }
}

/// Appends `items` to the list at `path` inside `metadata` (creating the objects on the way),
/// leaving out an item whose id (or value) the list has already. A value of another shape a
/// construct put there is left alone.
fn append_unique(metadata: &mut Map<String, Json>, path: &[&str], items: Vec<Json>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut object = metadata;
    for key in parents {
        let next = object
            .entry(*key)
            .or_insert_with(|| Json::Object(Map::new()));
        let Some(next) = next.as_object_mut() else {
            return;
        };
        object = next;
    }
    let entries = object
        .entry(*last)
        .or_insert_with(|| Json::Array(Vec::new()));
    let Some(entries) = entries.as_array_mut() else {
        return;
    };
    let key = |v: &Json| v.get("id").cloned().unwrap_or_else(|| v.clone());
    for item in items {
        if !entries.iter().any(|existing| key(existing) == key(&item)) {
            entries.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the property tests (tests/properties.rs): an override that wrote a key beside
    /// an intrinsic function (`{"Fn::Sub": .., "0": ..}`) left a malformed object whose
    /// undefined `Fn::Sub` variable was neither resolved nor reported, and synthesis succeeded.
    #[test]
    fn overrides_beside_an_intrinsic_function_are_reported() {
        use crate::{App, RawResource, Stack, StackProps, fns};
        let app = App::new();
        let stack = Stack::new(&app, "Network", StackProps::default()).unwrap();
        let bucket = stack
            .add(
                "Bucket",
                RawResource::new("AWS::S3::Bucket").property("Name", fns::sub("${NoParam}")),
            )
            .unwrap();
        bucket.add_override("Properties.Name.0", "*");
        let problems = app.synth_unchecked().unwrap_err().problems().to_vec();
        let kinds: Vec<ProblemKind> = problems.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [ProblemKind::InvalidValue, ProblemKind::UndefinedSubVariable],
            "{problems:?}"
        );
        assert_eq!(problems[0].path, "Network/Bucket");
        assert_eq!(problems[0].property, "Properties.Name.0");
        assert!(
            problems[0]
                .message
                .contains("\"0\" would be written beside Fn::Sub"),
            "{}",
            problems[0].message
        );
        // The override is not applied, so the function keeps its variable, which is reported.
        assert!(
            problems[1].message.contains("${NoParam}"),
            "{}",
            problems[1].message
        );
        // Below the function's own key, an override changes the function's arguments.
        let app = App::new();
        let stack = Stack::new(&app, "Network", StackProps::default()).unwrap();
        let bucket = stack
            .add(
                "Bucket",
                RawResource::new("AWS::S3::Bucket").property("Name", fns::sub("${NoParam}")),
            )
            .unwrap();
        bucket.add_override("Properties.Name.Fn::Sub", "plain");
        let synthesis = app.synth_unchecked().unwrap();
        assert_eq!(
            synthesis.stacks()[0].json()["Resources"]["Bucket"]["Properties"]["Name"],
            json!({ "Fn::Sub": "plain" })
        );
    }

    #[test]
    fn export_names_follow_cdk() {
        assert_eq!(
            export_name("Network", "ExportsOutputRefVpc8378EB38272D6E3A"),
            "Network:ExportsOutputRefVpc8378EB38272D6E3A"
        );
        let long = "A".repeat(250);
        let name = export_name("Network", &long);
        assert_eq!(name.len(), 255);
        assert!(name.starts_with("Network:AAA"));
    }
}
