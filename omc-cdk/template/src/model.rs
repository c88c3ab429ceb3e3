//! The resolved model the rules look at: every template of the app, with references followed
//! across stacks (an `Fn::ImportValue` leads to the producing stack's resource) and an index of
//! who refers to whom.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::Stage;

/// One synthesized (or read) template to check.
#[derive(Clone, Copy, Debug)]
pub struct StackInput<'a> {
    /// The stack's name.
    pub name: &'a str,
    /// The template.
    pub template: &'a Json,
    /// The stack's stage.
    pub stage: Stage,
    /// Construct paths by logical id (`Stack/Construct/Resource`), when known.
    pub paths: Option<&'a BTreeMap<String, String>>,
}

pub(crate) struct StackModel<'a> {
    pub(crate) name: &'a str,
    pub(crate) stage: Stage,
    resources: Option<&'a Map<String, Json>>,
    parameters: Option<&'a Map<String, Json>>,
    outputs: Option<&'a Map<String, Json>>,
    paths: Option<&'a BTreeMap<String, String>>,
}

type Key<'a> = (usize, &'a str);

/// All templates of an app, with references resolved across stacks.
pub struct Model<'a> {
    stacks: Vec<StackModel<'a>>,
    exports: BTreeMap<&'a str, (usize, &'a Json)>,
    referrers: BTreeMap<Key<'a>, Vec<(Key<'a>, &'a str)>>,
}

/// How deep references are followed (an import of an output that imports ...).
const MAX_DEPTH: usize = 8;

impl<'a> Model<'a> {
    /// Builds the model: indexes exports and every reference between resources.
    pub fn new(inputs: &[StackInput<'a>]) -> Model<'a> {
        let object = |t: &'a Json, key: &str| t.get(key).and_then(Json::as_object);
        let stacks: Vec<StackModel<'a>> = inputs
            .iter()
            .map(|i| StackModel {
                name: i.name,
                stage: i.stage,
                resources: object(i.template, "Resources"),
                parameters: object(i.template, "Parameters"),
                outputs: object(i.template, "Outputs"),
                paths: i.paths,
            })
            .collect();
        let mut exports = BTreeMap::new();
        for (i, stack) in stacks.iter().enumerate() {
            for output in stack.outputs.into_iter().flat_map(Map::values) {
                if let (Some(name), Some(value)) = (
                    output.pointer("/Export/Name").and_then(Json::as_str),
                    output.get("Value"),
                ) {
                    exports.insert(name, (i, value));
                }
            }
        }
        let mut model = Model {
            stacks,
            exports,
            referrers: BTreeMap::new(),
        };
        let mut referrers: BTreeMap<Key<'a>, Vec<(Key<'a>, &'a str)>> = BTreeMap::new();
        for (i, stack) in model.stacks.iter().enumerate() {
            for (id, resource) in stack.resources.into_iter().flatten() {
                let Some(properties) = resource.get("Properties").and_then(Json::as_object) else {
                    continue;
                };
                for (name, value) in properties {
                    let mut targets = Vec::new();
                    model.collect_targets(i, value, &mut targets);
                    targets.sort_unstable();
                    targets.dedup();
                    for target in targets {
                        referrers
                            .entry(target)
                            .or_default()
                            .push(((i, id.as_str()), name.as_str()));
                    }
                }
            }
        }
        model.referrers = referrers;
        model
    }

    fn collect_targets(&self, stack: usize, value: &'a Json, out: &mut Vec<Key<'a>>) {
        self.collect_targets_at(stack, value, out, 0);
    }

    fn collect_targets_at(
        &self,
        stack: usize,
        value: &'a Json,
        out: &mut Vec<Key<'a>>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Json::Object(map) => {
                // An import stands for the producer's output value, whatever its shape (a
                // list travels as an Fn::Join of references).
                if let Some((producer, output)) = self.output_of(stack, value) {
                    self.collect_targets_at(producer, output, out, depth + 1);
                    return;
                }
                if let Some(target) = self.target(stack, value, 0) {
                    out.push(target);
                }
                for v in map.values() {
                    self.collect_targets_at(stack, v, out, depth);
                }
            }
            Json::Array(items) => {
                for v in items {
                    self.collect_targets_at(stack, v, out, depth);
                }
            }
            _ => {}
        }
    }

    /// The stage of the stack with this name.
    pub fn stage_of(&self, name: &str) -> Option<Stage> {
        self.stacks.iter().find(|s| s.name == name).map(|s| s.stage)
    }

    fn resource(&self, (stack, id): Key<'a>) -> Option<&'a Json> {
        self.stacks.get(stack)?.resources?.get(id)
    }

    /// The resource a value refers to: `Ref` and `Fn::GetAtt` in its stack, `Fn::ImportValue`
    /// and `Fn::GetStackOutput` through the producing stack's output.
    fn target(&self, stack: usize, value: &'a Json, depth: usize) -> Option<Key<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let map = value.as_object()?;
        if map.len() != 1 {
            return None;
        }
        let (name, arg) = map.iter().next()?;
        let resources = self.stacks.get(stack)?.resources?;
        match name.as_str() {
            "Ref" => {
                let (id, _) = resources.get_key_value(arg.as_str()?)?;
                Some((stack, id.as_str()))
            }
            "Fn::GetAtt" => {
                let id = match arg {
                    Json::Array(parts) => parts.first()?.as_str()?,
                    Json::String(dotted) => dotted.split_once('.')?.0,
                    _ => return None,
                };
                let (id, _) = resources.get_key_value(id)?;
                Some((stack, id.as_str()))
            }
            _ => {
                let (producer, output) = self.output_of(stack, value)?;
                self.target(producer, output, depth + 1)
            }
        }
    }

    /// The producing stack and output value behind an import.
    fn output_of(&self, stack: usize, value: &'a Json) -> Option<(usize, &'a Json)> {
        let map = value.as_object()?;
        if let Some(name) = map.get("Fn::ImportValue") {
            return self.exports.get(name.as_str()?).copied();
        }
        let args = map.get("Fn::GetStackOutput")?;
        let producer = args.get("StackName")?.as_str()?;
        let output = args.get("OutputName")?.as_str()?;
        let index = self.stacks.iter().position(|s| s.name == producer)?;
        let _ = stack;
        let value = self.stacks[index].outputs?.get(output)?.get("Value")?;
        Some((index, value))
    }

    /// The literal a value stands for: itself, the output an import reads, or a parameter's
    /// default. `None` when it is computed (an attribute, a condition, a function).
    fn literal(&self, stack: usize, value: &'a Json, depth: usize) -> Option<&'a Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        match value {
            Json::Object(map) if map.len() == 1 => {
                if let Some(name) = map.get("Ref").and_then(Json::as_str) {
                    let parameter = self.stacks.get(stack)?.parameters?.get(name)?;
                    let kind = parameter
                        .get("Type")
                        .and_then(Json::as_str)
                        .unwrap_or("String");
                    // An SSM parameter's default is its path, and a list's is one joined
                    // string: neither is the value.
                    if kind.starts_with("AWS::SSM::Parameter::Value")
                        || kind.starts_with("List<")
                        || kind == "CommaDelimitedList"
                    {
                        return None;
                    }
                    return parameter.get("Default");
                }
                let (producer, output) = self.output_of(stack, value)?;
                self.literal(producer, output, depth + 1)
            }
            _ => Some(value),
        }
    }

    /// Every resource of every stack, stack by stack in input order, resources in template
    /// order.
    pub fn resources(&self) -> impl Iterator<Item = ResourceView<'_>> {
        self.stacks.iter().enumerate().flat_map(move |(i, s)| {
            s.resources
                .into_iter()
                .flatten()
                .map(move |(id, resource)| ResourceView {
                    model: self,
                    stack: i,
                    logical_id: id,
                    resource,
                })
        })
    }

    /// Every resource of this type, in every stack.
    pub fn resources_of_type<'m>(
        &'m self,
        type_name: &'m str,
    ) -> impl Iterator<Item = ResourceView<'m>> + 'm {
        self.resources().filter(move |r| r.type_name() == type_name)
    }
}

/// One resource of the model, as a rule sees it.
#[derive(Clone, Copy)]
pub struct ResourceView<'m> {
    model: &'m Model<'m>,
    stack: usize,
    logical_id: &'m str,
    resource: &'m Json,
}

impl std::fmt::Debug for ResourceView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceView")
            .field("stack", &self.stack_name())
            .field("logical_id", &self.logical_id)
            .finish_non_exhaustive()
    }
}

fn truthy(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

impl<'m> ResourceView<'m> {
    /// The model the resource belongs to.
    pub fn model(&self) -> &'m Model<'m> {
        self.model
    }

    /// The index of the resource's stack among the model's stacks (in the order given).
    pub fn stack_index(&self) -> usize {
        self.stack
    }

    /// The stack's name.
    pub fn stack_name(&self) -> &'m str {
        self.model.stacks[self.stack].name
    }

    /// The stack's stage.
    pub fn stage(&self) -> Stage {
        self.model.stacks[self.stack].stage
    }

    /// The logical id.
    pub fn logical_id(&self) -> &'m str {
        self.logical_id
    }

    /// The construct path, or `Stack/LogicalId` when unknown.
    pub fn path(&self) -> String {
        self.model.stacks[self.stack]
            .paths
            .and_then(|p| p.get(self.logical_id))
            .cloned()
            .unwrap_or_else(|| format!("{}/{}", self.stack_name(), self.logical_id))
    }

    /// The resource's JSON (`Type`, `Properties`, `Metadata`, policies).
    pub fn resource(&self) -> &'m Json {
        self.resource
    }

    /// The resource type.
    pub fn type_name(&self) -> &'m str {
        self.resource
            .get("Type")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }

    /// The `Properties` object (empty when there is none).
    pub fn properties(&self) -> Option<&'m Map<String, Json>> {
        self.resource.get("Properties").and_then(Json::as_object)
    }

    /// A property by dotted path (`DeploymentConfiguration.DeploymentCircuitBreaker.Enable`),
    /// as written.
    pub fn prop(&self, path: &str) -> Option<&'m Json> {
        let mut value = self.resource.get("Properties")?;
        for key in path.split('.') {
            value = value.get(key)?;
        }
        Some(value)
    }

    /// A property's literal value: as written, or what an import or a parameter default
    /// resolves to. `None` when absent or computed.
    pub fn value(&self, path: &str) -> Option<&'m Json> {
        self.literal(self.prop(path)?)
    }

    /// The literal a value of this resource stands for (see [`ResourceView::value`]).
    pub fn literal(&self, value: &'m Json) -> Option<&'m Json> {
        self.model.literal(self.stack, value, 0)
    }

    /// A boolean property (`true` or `"true"`); `None` when absent or computed.
    pub fn flag(&self, path: &str) -> Option<bool> {
        self.value(path).and_then(truthy)
    }

    /// A string property; `None` when absent or computed.
    pub fn text(&self, path: &str) -> Option<&'m str> {
        self.value(path).and_then(Json::as_str)
    }

    /// Whether a value is the literal `true` (or `"true"`).
    pub fn is_true(value: &Json) -> bool {
        truthy(value) == Some(true)
    }

    /// The `DeletionPolicy`, when set.
    pub fn deletion_policy(&self) -> Option<&'m str> {
        self.resource.get("DeletionPolicy").and_then(Json::as_str)
    }

    /// The `UpdateReplacePolicy`, when set.
    pub fn update_replace_policy(&self) -> Option<&'m str> {
        self.resource
            .get("UpdateReplacePolicy")
            .and_then(Json::as_str)
    }

    /// The resource a value of this resource refers to, in this stack or, through an import,
    /// in another.
    pub fn resolve(&self, value: &'m Json) -> Option<ResourceView<'m>> {
        let key = self.model.target(self.stack, value, 0)?;
        self.view(key)
    }

    fn view(&self, key: Key<'m>) -> Option<ResourceView<'m>> {
        let resource = self.model.resource(key)?;
        Some(ResourceView {
            model: self.model,
            stack: key.0,
            logical_id: key.1,
            resource,
        })
    }

    /// The resources whose properties refer to this one, with the top-level property that
    /// does, in any stack.
    pub fn referrers(&self) -> Vec<(ResourceView<'m>, &'m str)> {
        self.model
            .referrers
            .get(&(self.stack, self.logical_id))
            .map(|list| {
                list.iter()
                    .filter_map(|&(key, property)| Some((self.view(key)?, property)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether this is the same resource as `other`.
    pub fn is(&self, other: &ResourceView<'_>) -> bool {
        self.stack == other.stack && self.logical_id == other.logical_id
    }
}
