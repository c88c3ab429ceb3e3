//! A scripted, in-memory CloudFormation for deploy tests of behaviour no local endpoint can
//! produce on demand: throttling, dropped connections, stacks stuck in
//! `UPDATE_ROLLBACK_FAILED`, a resource that fails. It keeps stacks, change sets and events,
//! moves operations forward one step per `DescribeStacks` call, and counts every call.
//!
//! It is not a CloudFormation emulator: templates are compared as JSON, resources "exist"
//! once their create event is written, and outputs are literal values or `fake-<id>`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value as Json;

use super::api::{
    ApiError, ApiErrorKind, ApiResult, ChangeSet, ChangeSetRequest, CloudFormationApi, RemoteStack,
    ResourceChange, StackEvent, StackRequest,
};

/// A stack the fake holds.
#[derive(Clone, Debug, Default)]
struct FakeStack {
    remote: RemoteStack,
    template: String,
    /// Events, oldest first.
    events: Vec<StackEvent>,
    /// What remains to do: (logical id, type, final status) per step.
    pending: Vec<(String, String, String)>,
    /// The status the stack reaches when `pending` is done.
    final_status: String,
}

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
    /// An empty account.
    pub fn new() -> FakeApi {
        FakeApi::default()
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
        lock(&self.state).failing.clear();
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

    fn enter(&self, call: &str, subject: &str) -> ApiResult<std::sync::MutexGuard<'_, State>> {
        let mut state = lock(&self.state);
        state.calls.push((call.to_owned(), subject.to_owned()));
        state.clock += 1000;
        if let Some(i) = state.errors.iter().position(|(c, _)| c == call) {
            let (_, error) = state.errors.remove(i);
            return Err(error);
        }
        Ok(state)
    }
}

impl State {
    fn id(&mut self, kind: &str, name: &str) -> String {
        self.next_id += 1;
        format!(
            "arn:aws:cloudformation:us-east-1:123456789012:{kind}/{name}/{:08}",
            self.next_id
        )
    }

    fn event(&mut self, stack: &str, logical_id: &str, resource_type: &str, status: &str) {
        let reason = if status.ends_with("_FAILED") {
            self.failing.get(logical_id).cloned()
        } else {
            None
        };
        let timestamp_millis = self.clock;
        self.next_id += 1;
        let id = format!("event-{}", self.next_id);
        if let Some(s) = self.stacks.get_mut(stack) {
            s.events.push(StackEvent {
                id,
                timestamp_millis,
                logical_id: logical_id.to_owned(),
                resource_type: resource_type.to_owned(),
                status: status.to_owned(),
                reason,
            });
        }
    }

    /// Starts an operation that creates or updates `new` over `old` resources.
    fn start(&mut self, name: &str, old: &str, request: &StackRequest, create: bool) {
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
        let verb = if create { "CREATE" } else { "UPDATE" };
        let mut pending = Vec::new();
        let mut failed = false;
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
            if self.failing.contains_key(id) {
                pending.push((id.clone(), kind.clone(), format!("{action}_IN_PROGRESS")));
                pending.push((id.clone(), kind, format!("{action}_FAILED")));
                failed = true;
                break;
            }
            pending.push((id.clone(), kind.clone(), format!("{action}_IN_PROGRESS")));
            pending.push((id.clone(), kind, format!("{action}_COMPLETE")));
        }
        if !failed {
            for (id, resource) in &old_resources {
                if !new_resources.contains_key(id) {
                    let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
                    pending.push((id.clone(), kind.clone(), "DELETE_IN_PROGRESS".into()));
                    pending.push((id.clone(), kind, "DELETE_COMPLETE".into()));
                }
            }
        }
        let final_status = match (create, failed) {
            (true, true) => "ROLLBACK_COMPLETE",
            (true, false) => "CREATE_COMPLETE",
            (false, true) => "UPDATE_ROLLBACK_COMPLETE",
            (false, false) => "UPDATE_COMPLETE",
        };
        let clock = self.clock;
        let Some(stack) = self.stacks.get_mut(name) else {
            return;
        };
        stack.remote.status = format!("{verb}_IN_PROGRESS");
        stack.remote.parameters.clone_from(&request.parameters);
        stack.remote.tags.clone_from(&request.tags);
        stack.pending = pending;
        final_status.clone_into(&mut stack.final_status);
        if !failed {
            stack.template = new_template;
        }
        let _ = clock;
        self.event(
            name,
            name,
            "AWS::CloudFormation::Stack",
            &format!("{verb}_IN_PROGRESS"),
        );
    }

    /// Moves a stack's operation one step.
    fn step(&mut self, name: &str) {
        let Some(stack) = self.stacks.get_mut(name) else {
            return;
        };
        if stack.pending.is_empty() {
            if stack.remote.in_progress() && stack.remote.status != "REVIEW_IN_PROGRESS" {
                let status = stack.final_status.clone();
                stack.remote.status.clone_from(&status);
                if status == "DELETE_COMPLETE" {
                    self.event(name, name, "AWS::CloudFormation::Stack", &status);
                    self.stacks.remove(name);
                    return;
                }
                if status.contains("ROLLBACK") {
                    stack.remote.status_reason = Some(
                        "The following resource(s) failed to create or update. Rollback requested by user."
                            .into(),
                    );
                } else {
                    stack.remote.outputs = outputs(&stack.template);
                }
                self.event(name, name, "AWS::CloudFormation::Stack", &status);
            }
            return;
        }
        let (id, kind, status) = stack.pending.remove(0);
        self.event(name, &id, &kind, &status);
    }
}

impl CloudFormationApi for FakeApi {
    async fn describe_stack(&self, name: &str) -> ApiResult<Option<RemoteStack>> {
        let mut state = self.enter("describe_stack", name)?;
        state.step(name);
        Ok(state.stacks.get(name).map(|s| s.remote.clone()))
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
        let stack_remote = state.stacks.get(&name).map(|s| s.remote.clone());
        let same_settings = stack_remote.is_some_and(|s| {
            s.parameters == request.stack.parameters && s.tags == request.stack.tags
        });
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
        if old == request.template_body.clone().unwrap_or_default()
            && stack.remote.parameters == request.parameters
            && stack.remote.tags == request.tags
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
        let pending: Vec<(String, String, String)> = resources(&stack.template)
            .into_iter()
            .rev()
            .flat_map(|(id, r)| {
                let kind = r["Type"].as_str().unwrap_or_default().to_owned();
                [
                    (id.clone(), kind.clone(), "DELETE_IN_PROGRESS".to_owned()),
                    (id, kind, "DELETE_COMPLETE".to_owned()),
                ]
            })
            .collect();
        stack.pending = pending;
        stack.remote.status = "DELETE_IN_PROGRESS".into();
        stack.final_status = "DELETE_COMPLETE".into();
        state.event(
            &name,
            &name,
            "AWS::CloudFormation::Stack",
            "DELETE_IN_PROGRESS",
        );
        Ok(())
    }

    async fn stack_events(&self, name_or_id: &str) -> ApiResult<Vec<StackEvent>> {
        let state = self.enter("stack_events", name_or_id)?;
        Ok(state
            .stacks
            .iter()
            .find(|(n, s)| *n == name_or_id || s.remote.id == name_or_id)
            .map(|(_, s)| s.events.iter().rev().cloned().collect())
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
}
