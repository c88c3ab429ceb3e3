//! A scripted, in-memory CloudFormation for deploy tests of behaviour no local endpoint can
//! produce on demand: throttling, dropped connections, stacks stuck in
//! `UPDATE_ROLLBACK_FAILED`, a stack deleted by someone else mid-deploy, a panicking stack
//! task, stopped ECS tasks. It keeps stacks, change sets and events, moves operations forward
//! one step per `DescribeStacks` call, and counts every call.
//!
//! It is not a CloudFormation emulator: templates are compared as JSON, resources "exist"
//! once their create event is written, and outputs are literal values or `fake-<id>`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value as Json;

use crate::api::{
    ApiError, ApiErrorKind, ApiResult, ChangeSet, ChangeSetRequest, CloudFormationApi, Identity,
    ParameterValue, RemoteStack, ResourceChange, StackEvent, StackRequest, StoppedTask,
};

/// A stack the fake holds.
#[derive(Clone, Debug, Default)]
struct FakeStack {
    remote: RemoteStack,
    template: String,
    /// Events, oldest first.
    events: Vec<StackEvent>,
    /// What remains to do: one event per step.
    pending: Vec<Step>,
    /// The status the stack reaches when `pending` is done.
    final_status: String,
    /// The service role of the last operation (`RoleARN`).
    role_arn: Option<String>,
}

/// One event an operation will write.
#[derive(Clone, Debug)]
struct Step {
    logical_id: String,
    resource_type: String,
    status: String,
    reason: Option<String>,
}

impl Step {
    fn new(logical_id: &str, resource_type: &str, status: &str, reason: Option<String>) -> Step {
        Step {
            logical_id: logical_id.to_owned(),
            resource_type: resource_type.to_owned(),
            status: status.to_owned(),
            reason,
        }
    }
}

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

#[derive(Clone, Debug)]
struct FakeChangeSet {
    stack: String,
    request: ChangeSetRequest,
    set: ChangeSet,
}

#[derive(Debug, Default)]
struct State {
    stacks: BTreeMap<String, FakeStack>,
    change_sets: BTreeMap<String, FakeChangeSet>,
    calls: Vec<(String, String)>,
    errors: Vec<(String, ApiError)>,
    failing: BTreeMap<String, String>,
    uploads: BTreeMap<String, String>,
    clock: i64,
    next_id: u64,
    account: String,
    delete_failures: BTreeMap<String, String>,
    panics: Vec<String>,
    vanishing: Vec<String>,
    stopped: BTreeMap<String, Vec<StoppedTask>>,
    /// Describes of a stack left to answer without its outputs (LocalStack has been seen
    /// reporting a stack complete before its outputs).
    lagging_outputs: BTreeMap<String, usize>,
}

/// The scripted CloudFormation.
#[derive(Debug, Default)]
pub struct FakeApi {
    state: Mutex<State>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn resources(template: &str) -> BTreeMap<String, Json> {
    serde_json::from_str::<Json>(template)
        .ok()
        .and_then(|t| t.get("Resources").and_then(Json::as_object).cloned())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default()
}

fn outputs(template: &str) -> BTreeMap<String, String> {
    let Some(t) = serde_json::from_str::<Json>(template).ok() else {
        return BTreeMap::new();
    };
    t.get("Outputs")
        .and_then(Json::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let value = match &v["Value"] {
                        Json::String(s) => s.clone(),
                        _ => format!("fake-{k}"),
                    };
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl FakeApi {
    /// An empty account, `123456789012`.
    pub fn new() -> FakeApi {
        FakeApi::in_account("123456789012")
    }

    /// An empty account with that id.
    pub fn in_account(account: &str) -> FakeApi {
        let api = FakeApi::default();
        account.clone_into(&mut lock(&api.state).account);
        api
    }

    /// The next call of `call` panics, as a bug in the engine would (stands for any panic in a
    /// stack's task).
    pub fn panic_on(&self, call: &str) {
        lock(&self.state).panics.push(call.to_owned());
    }

    /// `stack` disappears during its next operation, as if someone deleted it meanwhile.
    pub fn vanish_during_operation(&self, stack: &str) {
        lock(&self.state).vanishing.push(stack.to_owned());
    }

    /// The stopped tasks ECS reports for `service` (newest first or not: the engine sorts).
    pub fn set_stopped_tasks(&self, service: &str, tasks: Vec<StoppedTask>) {
        lock(&self.state).stopped.insert(service.to_owned(), tasks);
    }

    /// How many calls of `call` were made, whatever their subject.
    pub fn count_calls(&self, call: &str) -> usize {
        lock(&self.state)
            .calls
            .iter()
            .filter(|(c, _)| c == call)
            .count()
    }

    /// The deployed parameters of a stack, unmasked.
    pub fn parameters(&self, stack: &str) -> BTreeMap<String, String> {
        lock(&self.state)
            .stacks
            .get(stack)
            .map(|s| s.remote.parameters.clone())
            .unwrap_or_default()
    }

    /// The next `describes` descriptions of `stack` once it is complete omit its outputs, as
    /// an endpoint that reports completion before it has recorded them.
    pub fn lag_outputs(&self, stack: &str, describes: usize) {
        lock(&self.state)
            .lagging_outputs
            .insert(stack.to_owned(), describes);
    }

    /// The service role (`RoleARN`) the stack's last operation ran with.
    pub fn role_arn(&self, stack: &str) -> Option<String> {
        lock(&self.state)
            .stacks
            .get(stack)
            .and_then(|s| s.role_arn.clone())
    }

    /// Whether a stack has termination protection.
    pub fn termination_protection(&self, stack: &str) -> Option<bool> {
        lock(&self.state)
            .stacks
            .get(stack)
            .map(|s| s.remote.termination_protection)
    }

    /// The next `count` calls of `call` (such as `"describe_stack"`) fail with `error`.
    pub fn fail_next(&self, call: &str, error: &ApiError, count: usize) {
        let mut state = lock(&self.state);
        for _ in 0..count {
            state.errors.push((call.to_owned(), error.clone()));
        }
    }

    /// Creating or updating `logical_id` fails with `reason`.
    pub fn fail_resource(&self, logical_id: &str, reason: &str) {
        lock(&self.state)
            .failing
            .insert(logical_id.to_owned(), reason.to_owned());
    }

    /// Resources stop failing.
    pub fn clear_failures(&self) {
        let mut state = lock(&self.state);
        state.failing.clear();
        state.delete_failures.clear();
    }

    /// Deleting `stack` fails with a reason of the stack's own, as when another stack imports
    /// one of its exports.
    pub fn fail_delete(&self, stack: &str, reason: &str) {
        lock(&self.state)
            .delete_failures
            .insert(stack.to_owned(), reason.to_owned());
    }

    /// Puts a stack into a status, as if an operation had ended there.
    pub fn set_status(&self, stack: &str, status: &str) {
        if let Some(s) = lock(&self.state).stacks.get_mut(stack) {
            status.clone_into(&mut s.remote.status);
            s.pending.clear();
        }
    }

    /// Every call so far: (call, stack or change set name).
    pub fn calls(&self) -> Vec<(String, String)> {
        lock(&self.state).calls.clone()
    }

    /// How many calls of `call` were made for `stack`.
    pub fn count(&self, call: &str, stack: &str) -> usize {
        lock(&self.state)
            .calls
            .iter()
            .filter(|(c, s)| c == call && s == stack)
            .count()
    }

    /// Forgets the calls made so far.
    pub fn reset_calls(&self) {
        lock(&self.state).calls.clear();
    }

    /// The deployed stacks' names and statuses.
    pub fn statuses(&self) -> BTreeMap<String, String> {
        lock(&self.state)
            .stacks
            .iter()
            .map(|(k, v)| (k.clone(), v.remote.status.clone()))
            .collect()
    }

    /// The deployed template of a stack.
    pub fn template(&self, stack: &str) -> Option<String> {
        lock(&self.state)
            .stacks
            .get(stack)
            .map(|s| s.template.clone())
    }

    /// The uploaded objects: `bucket/key` to body.
    pub fn uploads(&self) -> BTreeMap<String, String> {
        lock(&self.state).uploads.clone()
    }

    #[allow(clippy::panic)]
    fn enter(&self, call: &str, subject: &str) -> ApiResult<std::sync::MutexGuard<'_, State>> {
        let mut state = lock(&self.state);
        state.calls.push((call.to_owned(), subject.to_owned()));
        state.clock += 1000;
        if let Some(i) = state.panics.iter().position(|c| c == call) {
            state.panics.remove(i);
            drop(state);
            // Deliberate: the fake stands for a bug that panics inside a stack's task.
            panic!("scripted panic in {call}");
        }
        if let Some(i) = state.errors.iter().position(|(c, _)| c == call) {
            let (_, error) = state.errors.remove(i);
            return Err(error);
        }
        Ok(state)
    }
}

impl State {
    /// The name of the stack with this name or id.
    fn name_of(&self, name_or_id: &str) -> Option<String> {
        self.stacks
            .iter()
            .find(|(n, s)| *n == name_or_id || s.remote.id == name_or_id)
            .map(|(n, _)| n.clone())
    }

    fn id(&mut self, kind: &str, name: &str) -> String {
        self.next_id += 1;
        format!(
            "arn:aws:cloudformation:us-east-1:123456789012:{kind}/{name}/{:08}",
            self.next_id
        )
    }

    fn event(&mut self, stack: &str, step: Step) {
        let physical_id = if step.resource_type == STACK_TYPE {
            None
        } else if step.resource_type == "AWS::ECS::Service" {
            Some(format!(
                "arn:aws:ecs:us-east-1:{}:service/fake-cluster/{}",
                self.account, step.logical_id
            ))
        } else {
            Some(format!("fake-{}", step.logical_id))
        };
        let timestamp_millis = self.clock;
        self.next_id += 1;
        let id = format!("event-{}", self.next_id);
        if let Some(s) = self.stacks.get_mut(stack) {
            s.events.push(StackEvent {
                id,
                timestamp_millis,
                logical_id: step.logical_id,
                resource_type: step.resource_type,
                status: step.status,
                reason: step.reason,
                physical_id,
            });
        }
    }

    /// The values of a request's parameters, previous values filled in.
    fn resolve(&self, name: &str, request: &StackRequest) -> ApiResult<BTreeMap<String, String>> {
        let previous = self
            .stacks
            .get(name)
            .map(|s| s.remote.parameters.clone())
            .unwrap_or_default();
        request
            .parameters
            .iter()
            .map(|(k, v)| match v {
                ParameterValue::Value(v) => Ok((k.clone(), v.clone())),
                ParameterValue::UsePrevious => previous.get(k).map(|p| (k.clone(), p.clone())).ok_or_else(|| {
                    ApiError::new(
                        ApiErrorKind::Validation,
                        format!("Invalid input for parameter key {k}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"),
                    )
                    .with_code("ValidationError")
                }),
            })
            .collect()
    }

    /// Starts an operation that creates or updates `new` over `old` resources.
    fn start(&mut self, name: &str, old: &str, request: &StackRequest, create: bool) {
        let parameters = self.resolve(name, request).unwrap_or_default();
        let old_resources = resources(old);
        let new_template = request.template_body.clone().unwrap_or_else(|| {
            request
                .template_url
                .as_ref()
                .and_then(|url| {
                    self.uploads
                        .iter()
                        .find(|(k, _)| url.ends_with(k.as_str()))
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or_default()
        });
        let new_resources = resources(&new_template);
        if let Some(stack) = self.stacks.get_mut(name) {
            stack.role_arn.clone_from(&request.role_arn);
        }
        let verb = if create { "CREATE" } else { "UPDATE" };
        let mut pending = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        let mut done: Vec<(String, String, &'static str)> = Vec::new();
        for (id, resource) in &new_resources {
            let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
            let changed = old_resources.get(id) != Some(resource);
            if !changed {
                continue;
            }
            let action = if old_resources.contains_key(id) {
                "UPDATE"
            } else {
                "CREATE"
            };
            pending.push(Step::new(id, &kind, &format!("{action}_IN_PROGRESS"), None));
            if let Some(reason) = self.failing.get(id) {
                pending.push(Step::new(
                    id,
                    &kind,
                    &format!("{action}_FAILED"),
                    Some(reason.clone()),
                ));
                failed.push(id.clone());
            } else if !failed.is_empty() {
                // What was under way when the first failure came is cancelled.
                let word = if action == "CREATE" {
                    "creation"
                } else {
                    "update"
                };
                pending.push(Step::new(
                    id,
                    &kind,
                    &format!("{action}_FAILED"),
                    Some(format!("Resource {word} cancelled")),
                ));
            } else {
                pending.push(Step::new(id, &kind, &format!("{action}_COMPLETE"), None));
                done.push((
                    id.clone(),
                    kind,
                    if action == "CREATE" {
                        "DELETE"
                    } else {
                        "UPDATE"
                    },
                ));
            }
        }
        if failed.is_empty() {
            for (id, resource) in &old_resources {
                if !new_resources.contains_key(id) {
                    let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
                    pending.push(Step::new(id, &kind, "DELETE_IN_PROGRESS", None));
                    pending.push(Step::new(id, &kind, "DELETE_COMPLETE", None));
                }
            }
        } else {
            pending.push(Step::new(
                name,
                STACK_TYPE,
                &format!(
                    "{}ROLLBACK_IN_PROGRESS",
                    if create { "" } else { "UPDATE_" }
                ),
                Some(format!(
                    "The following resource(s) failed to {}: [{}]. Rollback requested by user.",
                    if create { "create" } else { "update" },
                    failed.join(", ")
                )),
            ));
            // Undo what was done.
            for (id, kind, undo) in done.into_iter().rev() {
                pending.push(Step::new(&id, &kind, &format!("{undo}_IN_PROGRESS"), None));
                pending.push(Step::new(&id, &kind, &format!("{undo}_COMPLETE"), None));
            }
        }
        let failed = !failed.is_empty();
        let final_status = match (create, failed) {
            (true, true) => "ROLLBACK_COMPLETE",
            (true, false) => "CREATE_COMPLETE",
            (false, true) => "UPDATE_ROLLBACK_COMPLETE",
            (false, false) => "UPDATE_COMPLETE",
        };
        let Some(stack) = self.stacks.get_mut(name) else {
            return;
        };
        stack.remote.status = format!("{verb}_IN_PROGRESS");
        stack.remote.status_reason = None;
        stack.remote.parameters = parameters;
        stack.remote.tags.clone_from(&request.tags);
        stack.pending = pending;
        final_status.clone_into(&mut stack.final_status);
        if !failed {
            stack.template = new_template;
        }
        self.event(
            name,
            Step::new(name, STACK_TYPE, &format!("{verb}_IN_PROGRESS"), None),
        );
    }

    /// Moves a stack's operation one step.
    fn step(&mut self, name: &str) {
        if let Some(i) = self.vanishing.iter().position(|s| s == name)
            && self
                .stacks
                .get(name)
                .is_some_and(|s| s.remote.in_progress() && s.remote.status != "REVIEW_IN_PROGRESS")
        {
            self.vanishing.remove(i);
            self.stacks.remove(name);
            return;
        }
        let Some(stack) = self.stacks.get_mut(name) else {
            return;
        };
        if stack.pending.is_empty() {
            if stack.remote.in_progress() && stack.remote.status != "REVIEW_IN_PROGRESS" {
                let status = stack.final_status.clone();
                stack.remote.status.clone_from(&status);
                if status == "DELETE_COMPLETE" {
                    self.event(name, Step::new(name, STACK_TYPE, &status, None));
                    self.stacks.remove(name);
                    return;
                }
                if status.contains("ROLLBACK") {
                    // As on CloudFormation: the stack keeps the reason of its rollback.
                    stack.remote.status_reason = stack
                        .events
                        .iter()
                        .rev()
                        .find(|e| e.status.ends_with("ROLLBACK_IN_PROGRESS"))
                        .and_then(|e| e.reason.clone());
                }
                let reason = stack
                    .remote
                    .status_reason
                    .clone()
                    .filter(|_| status.ends_with("_FAILED"));
                if !status.contains("ROLLBACK") && !status.ends_with("_FAILED") {
                    stack.remote.outputs = outputs(&stack.template);
                }
                self.event(name, Step::new(name, STACK_TYPE, &status, reason));
            }
            return;
        }
        let step = stack.pending.remove(0);
        self.event(name, step);
    }
}

impl CloudFormationApi for FakeApi {
    async fn describe_stack(&self, name: &str) -> ApiResult<Option<RemoteStack>> {
        let mut state = self.enter("describe_stack", name)?;
        let Some(name) = state.name_of(name) else {
            return Ok(None);
        };
        state.step(&name);
        let complete = state
            .stacks
            .get(&name)
            .is_some_and(|s| s.remote.status.ends_with("_COMPLETE"));
        let hide_outputs = complete
            && state
                .lagging_outputs
                .get(&name)
                .is_some_and(|left| *left > 0);
        if hide_outputs && let Some(left) = state.lagging_outputs.get_mut(&name) {
            *left -= 1;
        }
        Ok(state.stacks.get(&name).map(|s| {
            let mut remote = s.remote.clone();
            if hide_outputs {
                remote.outputs.clear();
            }
            // Hidden values show as `****`, as on CloudFormation.
            let declared =
                crate::params::declared(&serde_json::from_str(&s.template).unwrap_or(Json::Null));
            for (key, value) in &mut remote.parameters {
                if declared.get(key).is_some_and(|d| d.no_echo) {
                    "****".clone_into(value);
                }
            }
            remote
        }))
    }

    async fn get_template(&self, name: &str) -> ApiResult<String> {
        let state = self.enter("get_template", name)?;
        state
            .stacks
            .get(name)
            .map(|s| s.template.clone())
            .ok_or_else(|| {
                ApiError::new(
                    ApiErrorKind::NotFound,
                    format!("Stack {name} does not exist"),
                )
            })
    }

    async fn create_change_set(&self, request: &ChangeSetRequest) -> ApiResult<String> {
        let name = request.stack.stack_name.clone();
        let mut state = self.enter("create_change_set", &name)?;
        let exists = state.stacks.contains_key(&name);
        if request.create == exists
            && !(request.create
                && state
                    .stacks
                    .get(&name)
                    .is_some_and(|s| s.remote.status == "REVIEW_IN_PROGRESS"))
        {
            return Err(ApiError::new(
                ApiErrorKind::Validation,
                format!(
                    "Stack [{name}] {}",
                    if exists {
                        "already exists"
                    } else {
                        "does not exist"
                    }
                ),
            ));
        }
        if !exists {
            let id = state.id("stack", &name);
            state.stacks.insert(
                name.clone(),
                FakeStack {
                    remote: RemoteStack {
                        id,
                        name: name.clone(),
                        status: "REVIEW_IN_PROGRESS".into(),
                        ..RemoteStack::default()
                    },
                    ..FakeStack::default()
                },
            );
        }
        let old = state
            .stacks
            .get(&name)
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let new = request.stack.template_body.clone().unwrap_or_default();
        let (old_r, new_r) = (resources(&old), resources(&new));
        let mut changes = Vec::new();
        for (id, r) in &new_r {
            let kind = r["Type"].as_str().unwrap_or_default().to_owned();
            match old_r.get(id) {
                None => changes.push(ResourceChange {
                    action: "Add".into(),
                    logical_id: id.clone(),
                    resource_type: kind,
                    replacement: None,
                }),
                Some(o) if o != r => changes.push(ResourceChange {
                    action: "Modify".into(),
                    logical_id: id.clone(),
                    resource_type: kind,
                    replacement: Some("False".into()),
                }),
                Some(_) => {}
            }
        }
        for (id, r) in &old_r {
            if !new_r.contains_key(id) {
                changes.push(ResourceChange {
                    action: "Remove".into(),
                    logical_id: id.clone(),
                    resource_type: r["Type"].as_str().unwrap_or_default().to_owned(),
                    replacement: None,
                });
            }
        }
        let parameters = state.resolve(&name, &request.stack)?;
        let stack_remote = state.stacks.get(&name).map(|s| s.remote.clone());
        let same_settings = stack_remote
            .is_some_and(|s| s.parameters == parameters && s.tags == request.stack.tags);
        let id = state.id("changeSet", &request.name);
        let set = if changes.is_empty() && same_settings && !request.create {
            ChangeSet {
                id: id.clone(),
                status: "FAILED".into(),
                status_reason: Some(
                    "The submitted information didn't contain changes. Submit different information to create a change set."
                        .into(),
                ),
                changes,
            }
        } else {
            ChangeSet {
                id: id.clone(),
                status: "CREATE_COMPLETE".into(),
                status_reason: None,
                changes,
            }
        };
        state.change_sets.insert(
            id.clone(),
            FakeChangeSet {
                stack: name,
                request: request.clone(),
                set,
            },
        );
        Ok(id)
    }

    async fn describe_change_set(&self, id: &str) -> ApiResult<ChangeSet> {
        let state = self.enter("describe_change_set", id)?;
        state
            .change_sets
            .get(id)
            .map(|c| c.set.clone())
            .ok_or_else(|| ApiError::new(ApiErrorKind::NotFound, "ChangeSet does not exist"))
    }

    async fn execute_change_set(&self, id: &str) -> ApiResult<()> {
        let mut state = self.enter("execute_change_set", id)?;
        let Some(change_set) = state.change_sets.remove(id) else {
            return Err(ApiError::new(
                ApiErrorKind::NotFound,
                "ChangeSet does not exist",
            ));
        };
        state
            .calls
            .push(("executed".into(), change_set.stack.clone()));
        let old = state
            .stacks
            .get(&change_set.stack)
            .map(|s| s.template.clone())
            .unwrap_or_default();
        state.start(
            &change_set.stack,
            &old,
            &change_set.request.stack,
            change_set.request.create,
        );
        Ok(())
    }

    async fn delete_change_set(&self, id: &str) -> ApiResult<()> {
        let mut state = self.enter("delete_change_set", id)?;
        state.change_sets.remove(id);
        Ok(())
    }

    async fn create_stack(&self, request: &StackRequest) -> ApiResult<String> {
        let name = request.stack_name.clone();
        let mut state = self.enter("create_stack", &name)?;
        if state.stacks.contains_key(&name) {
            return Err(ApiError::new(
                ApiErrorKind::Validation,
                format!("Stack [{name}] already exists"),
            ));
        }
        let id = state.id("stack", &name);
        state.stacks.insert(
            name.clone(),
            FakeStack {
                remote: RemoteStack {
                    id: id.clone(),
                    name: name.clone(),
                    termination_protection: request.termination_protection,
                    ..RemoteStack::default()
                },
                ..FakeStack::default()
            },
        );
        state.calls.push(("executed".into(), name.clone()));
        state.start(&name, "", request, true);
        Ok(id)
    }

    async fn update_stack(&self, request: &StackRequest) -> ApiResult<()> {
        let name = request.stack_name.clone();
        let mut state = self.enter("update_stack", &name)?;
        let Some(stack) = state.stacks.get(&name) else {
            return Err(ApiError::new(
                ApiErrorKind::Validation,
                format!("Stack [{name}] does not exist"),
            ));
        };
        let old = stack.template.clone();
        let same_tags = stack.remote.tags == request.tags;
        let same_parameters = state.resolve(&name, request)? == stack.remote.parameters;
        if old == request.template_body.clone().unwrap_or_default() && same_parameters && same_tags
        {
            return Err(ApiError::new(
                ApiErrorKind::NoUpdates,
                "No updates are to be performed.",
            ));
        }
        state.calls.push(("executed".into(), name.clone()));
        state.start(&name, &old, request, false);
        Ok(())
    }

    async fn delete_stack(&self, name_or_id: &str) -> ApiResult<()> {
        let mut state = self.enter("delete_stack", name_or_id)?;
        let name = state
            .stacks
            .iter()
            .find(|(n, s)| *n == name_or_id || s.remote.id == name_or_id)
            .map(|(n, _)| n.clone());
        let Some(name) = name else {
            return Ok(());
        };
        let Some(stack) = state.stacks.get_mut(&name) else {
            return Ok(());
        };
        if stack.remote.termination_protection {
            return Err(ApiError::new(
                ApiErrorKind::Validation,
                format!("Stack [{name}] cannot be deleted while TerminationProtection is enabled"),
            ));
        }
        let delete_failure = state.delete_failures.get(&name).cloned();
        let Some(stack) = state.stacks.get_mut(&name) else {
            return Ok(());
        };
        let pending: Vec<Step> = match &delete_failure {
            // CloudFormation refuses before touching any resource.
            Some(_) => Vec::new(),
            None => resources(&stack.template)
                .into_iter()
                .rev()
                .flat_map(|(id, r)| {
                    let kind = r["Type"].as_str().unwrap_or_default().to_owned();
                    [
                        Step::new(&id, &kind, "DELETE_IN_PROGRESS", None),
                        Step::new(&id, &kind, "DELETE_COMPLETE", None),
                    ]
                })
                .collect(),
        };
        stack.pending = pending;
        stack.remote.status = "DELETE_IN_PROGRESS".into();
        stack.remote.status_reason.clone_from(&delete_failure);
        stack.final_status = if delete_failure.is_some() {
            "DELETE_FAILED".into()
        } else {
            "DELETE_COMPLETE".into()
        };
        state.event(
            &name,
            Step::new(&name, STACK_TYPE, "DELETE_IN_PROGRESS", None),
        );
        Ok(())
    }

    async fn last_event_millis(&self, name_or_id: &str) -> ApiResult<Option<i64>> {
        let state = self.enter("last_event_millis", name_or_id)?;
        Ok(state
            .stacks
            .iter()
            .find(|(n, s)| *n == name_or_id || s.remote.id == name_or_id)
            .and_then(|(_, s)| s.events.last().map(|e| e.timestamp_millis)))
    }

    async fn stack_events(
        &self,
        name_or_id: &str,
        since_millis: i64,
    ) -> ApiResult<Vec<StackEvent>> {
        let state = self.enter("stack_events", name_or_id)?;
        Ok(state
            .stacks
            .iter()
            .find(|(n, s)| *n == name_or_id || s.remote.id == name_or_id)
            .map(|(_, s)| {
                s.events
                    .iter()
                    .rev()
                    .filter(|e| e.timestamp_millis > since_millis)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn set_termination_protection(&self, name: &str, enabled: bool) -> ApiResult<()> {
        let mut state = self.enter("set_termination_protection", name)?;
        match state.stacks.get_mut(name) {
            Some(s) => {
                s.remote.termination_protection = enabled;
                Ok(())
            }
            None => Err(ApiError::new(
                ApiErrorKind::Validation,
                format!("Stack [{name}] does not exist"),
            )),
        }
    }

    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> ApiResult<String> {
        let mut state = self.enter("upload_template", key)?;
        let object = format!("{bucket}/{key}");
        state.uploads.insert(object.clone(), body.to_owned());
        Ok(format!("https://s3.fake/{object}"))
    }

    async fn caller_identity(&self) -> ApiResult<Identity> {
        let state = self.enter("caller_identity", "")?;
        Ok(Identity {
            account: state.account.clone(),
            arn: format!("arn:aws:iam::{}:user/fake", state.account),
        })
    }

    async fn stopped_tasks(
        &self,
        _cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<StoppedTask>> {
        let state = self.enter("stopped_tasks", service)?;
        let mut tasks = state.stopped.get(service).cloned().unwrap_or_default();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at_millis));
        tasks.truncate(limit);
        Ok(tasks)
    }
}
