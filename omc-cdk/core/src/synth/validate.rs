//! Checks of a rendered template: every reference resolves, `Fn::Sub` variables exist,
//! resources do not depend on each other in a cycle, CloudFormation's limits hold, literal
//! property values keep to the value constraints of their type's schema, and tags to AWS's
//! limits.
//!
//! The checks run on the final template JSON, so they see everything that reaches
//! CloudFormation, escape-hatch overrides included.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use omc_cdk_template::constraints::ViolationKind;
use serde_json::{Map, Value as Json};

use super::graph;
use super::render::{Seg, TemplateParts, format_path};
use crate::error::{Problem, ProblemKind};
use crate::schema::{ResourceSchema, TagFormat};
use crate::stack::is_pseudo;

/// CloudFormation's limits per template.
pub(crate) const MAX_RESOURCES: usize = 500;
pub(crate) const MAX_PARAMETERS: usize = 200;
pub(crate) const MAX_OUTPUTS: usize = 200;
pub(crate) const MAX_MAPPINGS: usize = 200;
/// AWS's limit of user tags per resource.
pub(crate) const MAX_TAGS: usize = 50;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Conditions,
    Resources,
    Outputs,
}

struct Edge {
    via: &'static str,
    property: String,
}

struct Checker<'a, 'p> {
    stack: &'a str,
    parts: &'a TemplateParts,
    problems: &'p mut Vec<Problem>,
    resource_index: BTreeMap<&'a str, usize>,
    section: Section,
    element: String,
    current: usize,
    /// (from, to) -> how `from` uses `to`, first occurrence.
    edges: BTreeMap<(usize, usize), Edge>,
    /// The condition of each conditional resource.
    resource_conditions: BTreeMap<&'a str, &'a str>,
    /// The condition of the element being checked.
    element_condition: Option<&'a str>,
    /// Conditions known to hold where the checker is (true branches of enclosing `Fn::If`).
    holding: Vec<&'a str>,
    /// Inside an output's `Export.Name`.
    in_export_name: bool,
}

/// What the tag checks of a resource reported, so the schema's constraints on the same
/// values are not reported twice: the tag property when it has too many tags, and the tag keys
/// with the reserved prefix (paths under `Properties`).
#[derive(Default)]
struct TagsReported<'a> {
    over_limit: Option<&'a str>,
    reserved_keys: Vec<String>,
}

/// Functions a condition may use.
const CONDITION_FUNCTIONS: &[&str] = &[
    "Fn::And",
    "Fn::Cidr",
    "Fn::Equals",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::Join",
    "Fn::Not",
    "Fn::Or",
    "Fn::Select",
    "Fn::Split",
    "Fn::Sub",
];

pub(crate) fn check_template(stack: &str, parts: &TemplateParts, problems: &mut Vec<Problem>) {
    let mut checker = Checker {
        stack,
        parts,
        problems,
        resource_index: parts
            .resources
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect(),
        section: Section::Resources,
        element: String::new(),
        current: 0,
        edges: BTreeMap::new(),
        resource_conditions: parts
            .resources
            .iter()
            .filter_map(|(id, r)| Some((id.as_str(), r.get("Condition")?.as_str()?)))
            .collect(),
        element_condition: None,
        holding: Vec::new(),
        in_export_name: false,
    };
    checker.limits();
    checker.conditions();
    checker.resources();
    checker.outputs();
    checker.cycles();
}

impl<'a> Checker<'a, '_> {
    fn problem(&mut self, path: &[Seg<'_>], kind: ProblemKind, message: String) {
        self.problems.push(Problem {
            path: self.element.clone(),
            property: format_path(path),
            message,
            kind,
        });
    }

    fn limits(&mut self) {
        self.element = self.stack.to_owned();
        let split = "; split the stack: move some constructs into another Stack of the app";
        let counts = [
            (
                "resources",
                self.parts.resources.len(),
                MAX_RESOURCES,
                split,
            ),
            (
                "parameters",
                self.parts.parameters.len(),
                MAX_PARAMETERS,
                split,
            ),
            ("outputs", self.parts.outputs.len(), MAX_OUTPUTS, split),
            ("mappings", self.parts.mappings.len(), MAX_MAPPINGS, split),
        ];
        for (what, count, max, fix) in counts {
            if count > max {
                self.problem(
                    &[],
                    ProblemKind::Limit,
                    format!(
                        "the stack has {count} {what}; CloudFormation allows at most {max}{fix}"
                    ),
                );
            }
        }
        if self.parts.resources.is_empty() {
            self.problem(
                &[],
                ProblemKind::Limit,
                "the stack has no resources; CloudFormation needs at least one, so add a resource or remove the stack".into(),
            );
        }
    }

    fn conditions(&mut self) {
        self.section = Section::Conditions;
        for (name, expression) in &self.parts.conditions {
            self.element = format!("{}/Conditions/{name}", self.stack);
            let mut path = Vec::new();
            self.visit(expression, &mut path);
        }
    }

    fn resources(&mut self) {
        self.section = Section::Resources;
        for (i, (logical_id, resource)) in self.parts.resources.iter().enumerate() {
            self.current = i;
            self.element = self
                .parts
                .paths
                .get(logical_id)
                .cloned()
                .unwrap_or_else(|| format!("{}/{logical_id}", self.stack));
            let Json::Object(resource) = resource else {
                continue;
            };
            self.element_condition = resource.get("Condition").and_then(Json::as_str);
            for (key, value) in resource {
                let mut path = vec![Seg::Key(key.as_str())];
                match key.as_str() {
                    "Type" | "DeletionPolicy" | "UpdateReplacePolicy" => {}
                    "Condition" => self.condition_name(value, &path),
                    "DependsOn" => self.depends_on(value, &mut path),
                    _ => self.visit(value, &mut path),
                }
            }
            let tags = self.tags(logical_id, resource);
            self.schema_constraints(logical_id, resource, &tags);
        }
    }

    /// The literal values of the resource's properties against the value constraints of its
    /// type's schema, when known. What `tags` reported already is not reported again.
    fn schema_constraints(
        &mut self,
        logical_id: &str,
        resource: &Map<String, Json>,
        tags: &TagsReported<'_>,
    ) {
        let Some(&schema) = self.parts.schemas.get(logical_id) else {
            return;
        };
        if schema.constraints.is_empty()
            || resource.get("Type").and_then(Json::as_str) != Some(schema.type_name)
        {
            return;
        }
        let Some(Json::Object(properties)) = resource.get("Properties") else {
            return;
        };
        let mut found = Vec::new();
        schema
            .constraints
            .check(schema.type_name, properties, &mut found);
        for violation in found {
            let kind = match violation.kind {
                ViolationKind::NotAllowed => ProblemKind::ValueNotAllowed,
                ViolationKind::Pattern => ProblemKind::PatternMismatch,
                ViolationKind::Range => ProblemKind::OutOfRange,
                ViolationKind::Length => ProblemKind::InvalidLength,
            };
            let reported = match kind {
                ProblemKind::InvalidLength => tags.over_limit == Some(&*violation.property),
                ProblemKind::PatternMismatch => tags.reserved_keys.contains(&violation.property),
                _ => false,
            };
            if reported {
                continue;
            }
            let unchecked = self.parts.unchecked.get(logical_id).is_some_and(|paths| {
                paths.iter().any(|p| {
                    violation
                        .property
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| {
                            rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
                        })
                })
            });
            if unchecked {
                continue;
            }
            self.problems.push(Problem {
                path: self.element.clone(),
                property: format!("Properties.{}", violation.property),
                message: violation.message,
                kind,
            });
        }
    }

    /// A taggable resource's tags (its own, its scopes' and its stack's, merged): at most
    /// [`MAX_TAGS`], and no key with the reserved prefix `aws:`.
    fn tags(&mut self, logical_id: &str, resource: &'a Map<String, Json>) -> TagsReported<'a> {
        let mut reported = TagsReported::default();
        let Some((property, value)) = self
            .parts
            .tag_formats
            .get(logical_id)
            .and_then(TagFormat::property)
            .and_then(|p| resource.get("Properties")?.as_object()?.get_key_value(p))
        else {
            return reported;
        };
        let mut count = 0;
        let mut path = vec![Seg::Key("Properties"), Seg::Key(property.as_str())];
        match value {
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if is_intrinsic(item) {
                        continue;
                    }
                    count += 1;
                    if let Some(key) = item.get("Key").and_then(Json::as_str) {
                        path.extend([Seg::Index(i), Seg::Key("Key")]);
                        if self.reserved_tag_key(key, &path) {
                            reported.reserved_keys.push(format!("{property}[{i}].Key"));
                        }
                        path.truncate(2);
                    }
                }
            }
            Json::Object(map) if !is_intrinsic(value) => {
                count = map.len();
                for key in map.keys() {
                    path.push(Seg::Key(key.as_str()));
                    if self.reserved_tag_key(key, &path) {
                        reported.reserved_keys.push(format!("{property}.{key}"));
                    }
                    path.pop();
                }
            }
            _ => {}
        }
        path.truncate(2);
        if count > MAX_TAGS {
            let message = format!(
                "the resource has {count} tags (its own and those of its scopes and stack); AWS allows at most {MAX_TAGS} on a resource: remove some"
            );
            self.problem(&path, ProblemKind::Limit, message);
            reported.over_limit = Some(property.as_str());
        }
        reported
    }

    /// Reports a tag key with the reserved prefix `aws:`; whether it did.
    fn reserved_tag_key(&mut self, key: &str, path: &[Seg<'_>]) -> bool {
        let reserved = key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"));
        if reserved {
            let message =
                format!("tag key {key:?} uses the reserved prefix \"aws:\"; choose another key");
            self.problem(path, ProblemKind::InvalidValue, message);
        }
        reserved
    }

    fn outputs(&mut self) {
        self.section = Section::Outputs;
        for (name, output) in &self.parts.outputs {
            self.element = format!("{}/Outputs/{name}", self.stack);
            let Json::Object(output) = output else {
                continue;
            };
            self.element_condition = output.get("Condition").and_then(Json::as_str);
            for (key, value) in output {
                let mut path = vec![Seg::Key(key.as_str())];
                if key == "Condition" {
                    self.condition_name(value, &path);
                } else {
                    self.in_export_name = key == "Export";
                    self.visit(value, &mut path);
                    self.in_export_name = false;
                }
            }
        }
    }

    fn condition_name(&mut self, value: &Json, path: &[Seg<'_>]) {
        match value.as_str() {
            Some(name) if self.parts.conditions.contains_key(name) => {}
            Some(name) => {
                let message = format!(
                    "condition {name:?} is not defined in stack {}; add it with Stack::add_condition",
                    self.stack
                );
                self.problem(path, ProblemKind::MissingCondition, message);
            }
            None => self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("a condition is named by a string, not {value}"),
            ),
        }
    }

    fn depends_on(&mut self, value: &'a Json, path: &mut Vec<Seg<'a>>) {
        let names: Vec<(Option<usize>, &Json)> = match value {
            Json::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Some(i), v))
                .collect(),
            other => vec![(None, other)],
        };
        for (index, name) in names {
            if let Some(i) = index {
                path.push(Seg::Index(i));
            }
            match name.as_str() {
                Some(target) => {
                    if let Some(to) = self.resource_index.get(target).copied() {
                        self.edge(to, "DependsOn", path);
                    } else {
                        let message = format!(
                            "DependsOn names {target:?}, which is not a resource of stack {}; depend on a resource of this stack",
                            self.stack
                        );
                        self.problem(path, ProblemKind::MissingReference, message);
                    }
                }
                None => self.problem(
                    path,
                    ProblemKind::InvalidValue,
                    format!("DependsOn takes logical ids, not {name}"),
                ),
            }
            if index.is_some() {
                path.pop();
            }
        }
    }

    /// Whether condition `held` implies `wanted`: the same condition, or an `Fn::And` that
    /// includes it.
    fn implies(&self, held: &str, wanted: &str) -> bool {
        fn and_includes(expr: &Json, wanted: &str, parts: &TemplateParts, depth: usize) -> bool {
            if depth > 10 {
                return false;
            }
            if expr.get("Condition").and_then(Json::as_str) == Some(wanted) {
                return true;
            }
            if let Some(name) = expr.get("Condition").and_then(Json::as_str) {
                return parts
                    .conditions
                    .get(name)
                    .is_some_and(|e| and_includes(e, wanted, parts, depth + 1));
            }
            expr.get("Fn::And")
                .and_then(Json::as_array)
                .is_some_and(|items| {
                    items
                        .iter()
                        .any(|i| and_includes(i, wanted, parts, depth + 1))
                })
        }
        held == wanted
            || self
                .parts
                .conditions
                .get(held)
                .is_some_and(|e| and_includes(e, wanted, self.parts, 0))
    }

    /// A reference to a resource that exists only under a condition must itself be under that
    /// condition: on the element, or in the true branch of an `Fn::If`.
    fn conditional_target(&mut self, target: &str, path: &[Seg<'_>]) {
        let Some(&condition) = self.resource_conditions.get(target) else {
            return;
        };
        let covered = self
            .element_condition
            .into_iter()
            .chain(self.holding.iter().copied())
            .any(|held| self.implies(held, condition));
        if !covered {
            let message = format!(
                "uses {target:?}, which exists only when condition {condition:?} holds, but this use does not depend on that condition; give this element the condition too, or use the value in fns::if_(&condition, ..)"
            );
            self.problem(path, ProblemKind::ConditionMismatch, message);
        }
    }

    fn edge(&mut self, to: usize, via: &'static str, path: &[Seg<'_>]) {
        if self.section != Section::Resources {
            return;
        }
        let property = format_path(path);
        self.edges
            .entry((self.current, to))
            .or_insert(Edge { via, property });
    }

    fn visit(&mut self, value: &'a Json, path: &mut Vec<Seg<'a>>) {
        match value {
            Json::Object(map) if map.len() == 1 => {
                let Some((key, arg)) = map.iter().next() else {
                    return;
                };
                path.push(Seg::Key(key.as_str()));
                if self.section == Section::Conditions
                    && key.starts_with("Fn::")
                    && !CONDITION_FUNCTIONS.contains(&key.as_str())
                {
                    let message = format!(
                        "{key} cannot be used in a condition; conditions may use Ref to parameters and pseudo parameters, Condition, and {}",
                        CONDITION_FUNCTIONS.join(", ")
                    );
                    self.problem(path, ProblemKind::InvalidValue, message);
                }
                if self.in_export_name
                    && matches!(
                        key.as_str(),
                        "Fn::GetAtt" | "Fn::ImportValue" | "Fn::GetAZs" | "Fn::GetStackOutput"
                    )
                {
                    let message = format!(
                        "an export name cannot use {key}; CloudFormation needs it before any resource exists: use literals, parameters, pseudo parameters and Fn::Sub / Fn::Join of those"
                    );
                    self.problem(path, ProblemKind::InvalidValue, message);
                }
                match key.as_str() {
                    "Ref" => self.reference(arg, path),
                    "Fn::GetAtt" => self.get_att(arg, path),
                    "Fn::Sub" => self.sub(arg, path),
                    "Fn::If" => self.if_(arg, path),
                    "Fn::FindInMap" => self.find_in_map(arg, path),
                    "Condition" if self.section == Section::Conditions => {
                        self.condition_name(arg, path);
                    }
                    _ => self.visit(arg, path),
                }
                path.pop();
            }
            Json::Object(map) => {
                for (key, value) in map {
                    path.push(Seg::Key(key.as_str()));
                    self.visit(value, path);
                    path.pop();
                }
            }
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    self.visit(item, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    fn reference(&mut self, arg: &'a Json, path: &mut Vec<Seg<'a>>) {
        let Some(name) = arg.as_str() else {
            self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("Ref takes the name of a resource or parameter, not {arg}"),
            );
            return;
        };
        self.name(name, "Ref", path);
    }

    /// A name used by `Ref` or an `Fn::Sub` variable.
    fn name(&mut self, name: &str, via: &'static str, path: &[Seg<'_>]) {
        if name.starts_with("AWS::") {
            if !is_pseudo(name) {
                let message = format!(
                    "{name:?} is not a pseudo parameter; use one of AWS::AccountId, AWS::NotificationARNs, AWS::NoValue, AWS::Partition, AWS::Region, AWS::StackId, AWS::StackName, AWS::URLSuffix"
                );
                self.problem(path, ProblemKind::MissingReference, message);
            }
            return;
        }
        if self.parts.parameters.contains_key(name) {
            return;
        }
        if let Some(&to) = self.resource_index.get(name) {
            if self.section == Section::Conditions {
                let message = format!(
                    "conditions cannot reference resources ({name:?}); compare parameters, pseudo parameters or mapping values instead"
                );
                self.problem(path, ProblemKind::InvalidValue, message);
            } else if self.in_export_name {
                let message = format!(
                    "an export name cannot depend on resource {name:?}; use literals, parameters and pseudo parameters"
                );
                self.problem(path, ProblemKind::InvalidValue, message);
            } else {
                self.edge(to, via, path);
                self.conditional_target(name, path);
            }
            return;
        }
        let message = format!(
            "{via} to {name:?}, which is neither a resource nor a parameter of stack {}; reference an element that exists (handles from other stacks are exported automatically)",
            self.stack
        );
        self.problem(path, ProblemKind::MissingReference, message);
    }

    fn get_att(&mut self, arg: &'a Json, path: &mut Vec<Seg<'a>>) {
        let (target, attribute, name) = match arg {
            Json::Array(items) if items.len() == 2 => {
                (items[0].as_str(), Some(&items[1]), items[1].as_str())
            }
            Json::String(s) => match s.split_once('.') {
                Some((t, a)) => (Some(t), None, Some(a)),
                None => (None, None, None),
            },
            _ => (None, None, None),
        };
        let Some(target) = target else {
            self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("Fn::GetAtt takes [logical id, attribute], not {arg}"),
            );
            return;
        };
        match self.resource_index.get(target).copied() {
            Some(_) if self.section == Section::Conditions => {
                let message = format!(
                    "conditions cannot reference resources ({target:?}); compare parameters, pseudo parameters or mapping values instead"
                );
                self.problem(path, ProblemKind::InvalidValue, message);
            }
            Some(to) => {
                self.edge(to, "Fn::GetAtt", path);
                self.conditional_target(target, path);
                if let Some(name) = name {
                    self.attribute(target, name, path);
                }
            }
            None => {
                let message = format!(
                    "Fn::GetAtt of {target:?}, which is not a resource of stack {}; reference a resource that exists",
                    self.stack
                );
                self.problem(path, ProblemKind::MissingReference, message);
            }
        }
        if let Some(attribute) = attribute
            && !attribute.is_string()
        {
            path.push(Seg::Index(1));
            self.visit(attribute, path);
            path.pop();
        }
    }

    fn sub(&mut self, arg: &'a Json, path: &mut Vec<Seg<'a>>) {
        let (template, variables) = match arg {
            Json::String(s) => (s.as_str(), None),
            Json::Array(items) if items.len() == 2 => {
                if let (Json::String(s), Json::Object(vars)) = (&items[0], &items[1]) {
                    (s.as_str(), Some(vars))
                } else {
                    self.problem(
                        path,
                        ProblemKind::InvalidValue,
                        format!("Fn::Sub takes a string or [string, variable map], not {arg}"),
                    );
                    return;
                }
            }
            _ => {
                self.problem(
                    path,
                    ProblemKind::InvalidValue,
                    format!("Fn::Sub takes a string or [string, variable map], not {arg}"),
                );
                return;
            }
        };
        for variable in sub_variables(template) {
            if variables.is_some_and(|v| v.contains_key(variable)) {
                continue;
            }
            if let Some((target, attribute)) = variable.split_once('.')
                && !variable.starts_with("AWS::")
            {
                match self.resource_index.get(target).copied() {
                    Some(_) if self.section == Section::Conditions || self.in_export_name => {
                        let message = format!(
                            "${{{variable}}} reads an attribute of a resource, which {} cannot do",
                            if self.in_export_name {
                                "an export name"
                            } else {
                                "a condition"
                            }
                        );
                        self.problem(path, ProblemKind::InvalidValue, message);
                    }
                    Some(to) => {
                        self.edge(to, "Fn::Sub", path);
                        self.conditional_target(target, path);
                        self.attribute(target, attribute, path);
                    }
                    None => self.undefined_variable(variable, variables.is_some(), path),
                }
                continue;
            }
            let known = variable.starts_with("AWS::")
                || self.parts.parameters.contains_key(variable)
                || self.resource_index.contains_key(variable);
            if known {
                self.name(variable, "Fn::Sub", path);
            } else {
                self.undefined_variable(variable, variables.is_some(), path);
            }
        }
        if let Some(variables) = variables {
            path.push(Seg::Index(1));
            for (name, value) in variables {
                path.push(Seg::Key(name.as_str()));
                self.visit(value, path);
                path.pop();
            }
            path.pop();
        }
    }

    /// Whether the type of resource `target` (a logical id) has `attribute`, when its schema
    /// is known.
    fn attribute(&mut self, target: &str, attribute: &str, path: &[Seg<'_>]) {
        let Some(&schema) = self.parts.schemas.get(target) else {
            return;
        };
        // An escape-hatch override may have changed the type: then the schema is not its own.
        let current = self
            .parts
            .resources
            .get(target)
            .and_then(|r| r.get("Type"))
            .and_then(Json::as_str);
        if current != Some(schema.type_name) {
            return;
        }
        let described = self
            .parts
            .paths
            .get(target)
            .map_or_else(|| format!("{}/{target}", self.stack), Clone::clone);
        if let Some(message) = unknown_attribute(schema, &described, attribute) {
            self.problem(path, ProblemKind::UnknownAttribute, message);
        }
    }

    fn undefined_variable(&mut self, variable: &str, has_map: bool, path: &[Seg<'_>]) {
        let message = format!(
            "Fn::Sub variable ${{{variable}}} is not defined: it is not in the variable map{}, and it is not a pseudo parameter, parameter or resource of stack {}; add it to the map (fns::sub_with) or write ${{!{variable}}} for a literal",
            if has_map { "" } else { " (there is none)" },
            self.stack
        );
        self.problem(path, ProblemKind::UndefinedSubVariable, message);
    }

    fn if_(&mut self, arg: &'a Json, path: &mut Vec<Seg<'a>>) {
        let Json::Array(items) = arg else {
            self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("Fn::If takes [condition, value if true, value if false], not {arg}"),
            );
            return;
        };
        if items.len() != 3 {
            self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("Fn::If takes 3 arguments, not {}", items.len()),
            );
            return;
        }
        path.push(Seg::Index(0));
        self.condition_name(&items[0], path);
        path.pop();
        let condition = items[0].as_str();
        for (i, item) in items.iter().enumerate().skip(1) {
            let holds = if i == 1 { condition } else { None };
            if let Some(c) = holds {
                self.holding.push(c);
            }
            path.push(Seg::Index(i));
            self.visit(item, path);
            path.pop();
            if holds.is_some() {
                self.holding.pop();
            }
        }
    }

    fn find_in_map(&mut self, arg: &'a Json, path: &mut Vec<Seg<'a>>) {
        let Json::Array(items) = arg else {
            self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("Fn::FindInMap takes [mapping, top key, second key], not {arg}"),
            );
            return;
        };
        if items.len() != 3 {
            self.problem(
                path,
                ProblemKind::InvalidValue,
                format!("Fn::FindInMap takes 3 arguments, not {}", items.len()),
            );
            return;
        }
        let Some(name) = items[0].as_str() else {
            path.push(Seg::Index(0));
            self.visit(&items[0], path);
            path.pop();
            return;
        };
        let Some(mapping) = self.parts.mappings.get(name) else {
            let message = format!(
                "mapping {name:?} is not defined in stack {}; add it with Stack::add_mapping",
                self.stack
            );
            self.problem(path, ProblemKind::MissingMappingKey, message);
            return;
        };
        if let Some(top) = items[1].as_str() {
            match mapping.get(top) {
                None => {
                    let message = format!(
                        "mapping {name:?} has no key {top:?}; its keys are {}",
                        keys_of(mapping)
                    );
                    self.problem(path, ProblemKind::MissingMappingKey, message);
                }
                Some(second_level) => {
                    if let Some(second) = items[2].as_str()
                        && second_level.get(second).is_none()
                    {
                        let message = format!(
                            "mapping {name:?} has no key {top:?}.{second:?}; the keys under {top:?} are {}",
                            keys_of(second_level)
                        );
                        self.problem(path, ProblemKind::MissingMappingKey, message);
                    }
                }
            }
        } else {
            path.push(Seg::Index(1));
            self.visit(&items[1], path);
            path.pop();
        }
        if !items[2].is_string() {
            path.push(Seg::Index(2));
            self.visit(&items[2], path);
            path.pop();
        }
    }

    fn cycles(&mut self) {
        let n = self.parts.resources.len();
        let mut adjacency = vec![Vec::new(); n];
        for &(from, to) in self.edges.keys() {
            adjacency[from].push(to);
        }
        let ids: Vec<&String> = self.parts.resources.keys().collect();
        for cycle in graph::cycles(&adjacency) {
            let names: Vec<&str> = cycle.iter().map(|&i| ids[i].as_str()).collect();
            let mut message = format!(
                "resources depend on each other in a cycle: {}. ",
                names.join(" -> ")
            );
            for pair in cycle.windows(2) {
                let (from, to) = (pair[0], pair[1]);
                if let Some(edge) = self.edges.get(&(from, to)) {
                    let _ = write!(
                        message,
                        "{} ({}) uses {} through {}{}; ",
                        ids[from],
                        self.parts.paths.get(ids[from]).map_or("?", String::as_str),
                        ids[to],
                        edge.via,
                        if edge.property.is_empty() {
                            String::new()
                        } else {
                            format!(" at {}", edge.property)
                        }
                    );
                }
            }
            message.push_str(
                "CloudFormation cannot order them: remove one of these references or DependsOn",
            );
            self.element = self
                .parts
                .paths
                .get(ids[cycle[0]])
                .cloned()
                .unwrap_or_else(|| self.stack.to_owned());
            self.problem(&[], ProblemKind::DependencyCycle, message);
        }
    }
}

/// Types whose attributes under a listed one are named by the user: `Outputs.<name>` of a
/// nested stack or a provisioned product is that stack's output.
const OPEN_ATTRIBUTES: &[(&str, &str)] = &[
    ("AWS::CloudFormation::Stack", "Outputs"),
    (
        "AWS::ServiceCatalog::CloudFormationProvisionedProduct",
        "Outputs",
    ),
];

/// Types that return whatever attributes their handler sends.
const CUSTOM_TYPES: &[&str] = &["AWS::CloudFormation::CustomResource"];

/// Why `Fn::GetAtt` of `attribute` of the resource at `resource` (its construct path), whose
/// type is described by `schema`, fails; `None` when the type has the attribute. Nested
/// attributes (`Endpoint.Address`) are accepted when the schema lists them.
pub(crate) fn unknown_attribute(
    schema: &ResourceSchema,
    resource: &str,
    attribute: &str,
) -> Option<String> {
    let open = OPEN_ATTRIBUTES.iter().any(|&(type_name, prefix)| {
        type_name == schema.type_name
            && attribute
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|name| !name.is_empty())
    });
    if open || CUSTOM_TYPES.contains(&schema.type_name) || schema.has_attribute(attribute) {
        return None;
    }
    let has = if schema.attributes.is_empty() {
        "it has no attributes: use its Ref (`reference()`) instead".to_owned()
    } else {
        format!(
            "its attributes are {}; use one of them (a typed handle has an `attr_*` accessor for each)",
            schema.attributes.join(", ")
        )
    };
    Some(format!(
        "Fn::GetAtt {attribute:?} of {resource}: type {} has no attribute {attribute:?}; {has}",
        schema.type_name
    ))
}

/// `Ref`, `Condition` or `Fn::*`: not a literal.
fn is_intrinsic(value: &Json) -> bool {
    match value {
        Json::Object(map) if map.len() == 1 => map
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        _ => false,
    }
}

fn keys_of(map: &Json) -> String {
    match map {
        Json::Object(m) => {
            let keys: Vec<String> = m.keys().map(|k| format!("{k:?}")).collect();
            keys.join(", ")
        }
        _ => String::new(),
    }
}

/// The variables of an `Fn::Sub` template: `${Name}` and `${Resource.Attribute}`; `${!Text}`
/// is a literal and not a variable.
pub(crate) fn sub_variables(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        if !name.starts_with('!') {
            found.push(name.trim());
        }
        rest = &after[end + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_variables_skip_literals() {
        assert_eq!(
            sub_variables(
                "arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Db.Endpoint.Address}"
            ),
            vec!["AWS::Partition", "Bucket", "Db.Endpoint.Address"]
        );
        assert!(sub_variables("no variables, ${ unterminated").is_empty());
    }
}
