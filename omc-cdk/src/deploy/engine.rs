//! The deploy engine: deploys, destroys and diffs stacks through a [`CloudFormationApi`],
//! in dependency order, independent stacks in parallel.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

use super::api::{
    ApiError, ApiErrorKind, ApiResult, ChangeSet, ChangeSetRequest, CloudFormationApi, RemoteStack,
    StackEvent, StackRequest,
};
use super::diff::{self, SchemaLookup, TemplateDiff};
use super::report::Reporter;
use crate::synth::MAX_INLINE_TEMPLATE_BYTES;

/// When to ask before executing a change set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// Never ask.
    Never,
    /// Ask when a change may widen access (IAM, security groups, resource policies).
    Broadening,
    /// Ask for every change.
    Any,
}

/// How stacks are changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Change sets: reviewed, then executed.
    ChangeSet,
    /// `CreateStack` / `UpdateStack`.
    Direct,
}

/// A parameter value from the command line: `NAME=VALUE` for every stack that declares
/// `NAME`, or `STACK:NAME=VALUE` for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterOverride {
    /// The stack, or every stack.
    pub stack: Option<String>,
    /// The parameter's name.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl std::str::FromStr for ParameterOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("parameter {text:?} is not NAME=VALUE or STACK:NAME=VALUE"))?;
        let (stack, name) = match key.split_once(':') {
            Some((stack, name)) => (Some(stack.to_owned()), name),
            None => (None, key),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "parameter name {name:?} in {text:?} must be letters and digits"
            ));
        }
        Ok(ParameterOverride {
            stack,
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// How the engine works.
#[derive(Clone, Debug)]
pub struct Settings {
    /// When to ask.
    pub approval: Approval,
    /// Approve everything without asking.
    pub yes: bool,
    /// Stacks worked on at once.
    pub concurrency: usize,
    /// Parameter values.
    pub parameters: Vec<ParameterOverride>,
    /// Execute change sets (`false`: create them and stop).
    pub execute: bool,
    /// Change sets or direct calls.
    pub method: Method,
    /// The bucket for templates over 51,200 bytes; default: the toolkit stack's.
    pub bucket: Option<String>,
    /// The toolkit stack that `bootstrap` creates.
    pub toolkit_stack: String,
    /// The longest wait between polls (they start at 200 ms and grow to this).
    pub poll_interval: Duration,
    /// Resource schemas, for replacements in diffs.
    pub schemas: Option<SchemaLookup>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            approval: Approval::Broadening,
            yes: false,
            concurrency: 4,
            parameters: Vec::new(),
            execute: true,
            method: Method::ChangeSet,
            bucket: None,
            toolkit_stack: TOOLKIT_STACK.into(),
            poll_interval: Duration::from_secs(5),
            schemas: None,
        }
    }
}

/// The default name of the toolkit stack.
pub const TOOLKIT_STACK: &str = "OmcCdkToolkit";

/// Decides whether a change set may run.
pub trait Approver: Send + Sync {
    /// Shows `summary` and answers yes or no.
    fn approve(&self, stack: &str, summary: &str) -> bool;
}

/// One stack to work on.
#[derive(Clone, Debug)]
pub struct PlannedStack {
    /// The name.
    pub name: String,
    /// The template body.
    pub template: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Termination protection.
    pub termination_protection: bool,
    /// Stacks of the plan it depends on.
    pub dependencies: Vec<String>,
    /// The region (`None`: the configured one).
    pub region: Option<String>,
}

impl PlannedStack {
    fn template_json(&self) -> Json {
        serde_json::from_str(&self.template).unwrap_or(Json::Null)
    }
}

/// What happened to a stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Created or updated; its outputs.
    Deployed {
        /// Created (not updated).
        created: bool,
        /// The outputs.
        outputs: BTreeMap<String, String>,
    },
    /// Nothing to change; its outputs.
    Unchanged {
        /// The outputs.
        outputs: BTreeMap<String, String>,
    },
    /// A change set was created and not executed (`--no-execute`).
    ChangeSetCreated {
        /// Its id.
        id: String,
    },
    /// Deleted; resources CloudFormation kept.
    Destroyed {
        /// `logical id (type)` of retained resources.
        retained: Vec<String>,
    },
    /// Not deployed, nothing to destroy.
    NotDeployed,
    /// Failed.
    Failed {
        /// The root cause and the final status, one line each.
        reason: String,
    },
    /// Not started: a stack it depends on failed, or the run was interrupted.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Whether this counts as success.
    pub fn is_success(&self) -> bool {
        !matches!(self, Outcome::Failed { .. } | Outcome::Skipped { .. })
    }

    /// The outputs, for deployed and unchanged stacks.
    pub fn outputs(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Outcome::Deployed { outputs, .. } | Outcome::Unchanged { outputs } => Some(outputs),
            _ => None,
        }
    }
}

/// One stack's result.
#[derive(Clone, Debug)]
pub struct StackResult {
    /// The stack.
    pub stack: String,
    /// What happened.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
}

/// A whole run.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Per stack, in plan order.
    pub results: Vec<StackResult>,
    /// Stacks CloudFormation was still working on when the run was interrupted.
    pub interrupted: Option<Vec<String>>,
}

impl RunSummary {
    /// Whether every stack succeeded and nothing interrupted the run.
    pub fn is_success(&self) -> bool {
        self.interrupted.is_none() && self.results.iter().all(|r| r.outcome.is_success())
    }
}

/// The engine for one run.
pub struct Engine<A> {
    apis: BTreeMap<String, Arc<A>>,
    settings: Settings,
    reporter: Arc<dyn Reporter>,
    approver: Arc<dyn Approver>,
    /// Serializes prompts.
    asking: tokio::sync::Mutex<()>,
    /// Stacks with a CloudFormation operation under way.
    active: Mutex<BTreeSet<String>>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Statuses an operation ends in successfully.
fn is_success_status(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" | "DELETE_COMPLETE"
    )
}

/// Statuses from which an update can start.
fn is_updatable(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE"
            | "UPDATE_COMPLETE"
            | "UPDATE_ROLLBACK_COMPLETE"
            | "IMPORT_COMPLETE"
            | "IMPORT_ROLLBACK_COMPLETE"
    )
}

/// What to do about a stack stuck in `status`.
fn stuck_advice(stack: &str, status: &str) -> String {
    match status {
        "UPDATE_ROLLBACK_FAILED" => format!(
            "{stack} is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its last update. Fix or delete the resources its events name, then run `aws cloudformation continue-update-rollback --stack-name {stack}` (with --resources-to-skip for resources that cannot be fixed) and deploy again"
        ),
        "ROLLBACK_FAILED" => format!(
            "{stack} is ROLLBACK_FAILED: a failed create could not be rolled back. Destroy it (`destroy {stack}`; delete what its events name by hand if that fails too) and deploy again"
        ),
        "DELETE_FAILED" => format!(
            "{stack} is DELETE_FAILED: some resources could not be deleted (see its events). Empty or delete them, then `destroy {stack}` again, or delete the stack keeping them"
        ),
        "IMPORT_ROLLBACK_FAILED" => format!(
            "{stack} is IMPORT_ROLLBACK_FAILED: fix the resources its events name and retry the import, or destroy the stack"
        ),
        other => format!(
            "{stack} is {other}, from which CloudFormation cannot update it; see its events in the console"
        ),
    }
}

/// The capabilities a template needs.
pub fn capabilities(template: &Json) -> Vec<String> {
    let mut caps = BTreeSet::new();
    if let Some(resources) = template.get("Resources").and_then(Json::as_object) {
        for resource in resources.values() {
            let kind = resource["Type"].as_str().unwrap_or_default();
            if !kind.starts_with("AWS::IAM::") {
                if kind == "AWS::CloudFormation::Stack" || kind == "AWS::Serverless::Application" {
                    caps.insert("CAPABILITY_AUTO_EXPAND");
                }
                continue;
            }
            caps.insert("CAPABILITY_IAM");
            let named = [
                "RoleName",
                "UserName",
                "GroupName",
                "ManagedPolicyName",
                "InstanceProfileName",
            ]
            .iter()
            .any(|p| resource["Properties"].get(*p).is_some());
            if named {
                caps.insert("CAPABILITY_NAMED_IAM");
            }
        }
    }
    if template.get("Transform").is_some() {
        caps.insert("CAPABILITY_AUTO_EXPAND");
    }
    caps.into_iter().map(str::to_owned).collect()
}

/// The parameters a stack declares: name to (default, `NoEcho`).
fn declared_parameters(template: &Json) -> BTreeMap<String, (Option<String>, bool)> {
    template
        .get("Parameters")
        .and_then(Json::as_object)
        .map(|p| {
            p.iter()
                .map(|(name, spec)| {
                    let default = match &spec["Default"] {
                        Json::Null => None,
                        Json::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    };
                    let no_echo = spec["NoEcho"] == Json::Bool(true)
                        || spec["NoEcho"] == Json::String("true".into());
                    (name.clone(), (default, no_echo))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the parameter overrides against the plan: every override names a declared parameter
/// of a planned stack, and every parameter without a default gets a value.
pub fn check_parameters(
    stacks: &[PlannedStack],
    overrides: &[ParameterOverride],
) -> Result<(), String> {
    for o in overrides {
        let declared = stacks.iter().any(|s| {
            o.stack.as_ref().is_none_or(|n| *n == s.name)
                && declared_parameters(&s.template_json()).contains_key(&o.name)
        });
        if !declared {
            return Err(match &o.stack {
                Some(stack) => format!(
                    "--parameters {stack}:{}: stack {stack} (or not among the selected stacks) declares no parameter {:?}",
                    o.name, o.name
                ),
                None => format!(
                    "--parameters {}: no selected stack declares a parameter {:?}",
                    o.name, o.name
                ),
            });
        }
    }
    for s in stacks {
        for (name, (default, _)) in declared_parameters(&s.template_json()) {
            let given = overrides
                .iter()
                .any(|o| o.name == name && o.stack.as_ref().is_none_or(|n| *n == s.name));
            if default.is_none() && !given {
                return Err(format!(
                    "stack {} needs a value for parameter {name}, which has no default; pass --parameters {name}=VALUE",
                    s.name
                ));
            }
        }
    }
    Ok(())
}

fn parameter_values(
    stack: &PlannedStack,
    overrides: &[ParameterOverride],
) -> (BTreeMap<String, String>, bool) {
    let mut values = BTreeMap::new();
    let mut secret = false;
    for (name, (default, no_echo)) in declared_parameters(&stack.template_json()) {
        secret |= no_echo;
        // A stack-specific value wins over a value for every stack.
        let given = overrides
            .iter()
            .filter(|o| o.name == name && o.stack.as_ref().is_none_or(|n| *n == stack.name))
            .max_by_key(|o| o.stack.is_some())
            .map(|o| o.value.clone());
        if let Some(value) = given.or(default) {
            values.insert(name, value);
        }
    }
    (values, secret)
}

/// Waits between polls: 200 ms at first, then half as long again each time, up to
/// `max` (the settings' poll interval), so quick operations end quickly and long ones do not
/// flood the endpoint.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Backoff {
        Backoff {
            next: Duration::from_millis(200).min(max),
            max,
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 3 / 2).min(self.max);
    }
}

/// How often a failed call is tried again: throttling up to 5 times, a refused or dropped
/// connection twice (the SDK has already retried it), waiting 250 ms, then twice as long
/// each time.
fn retries(error: &ApiError, attempt: u32) -> Option<Duration> {
    let limit = match error.kind {
        ApiErrorKind::Throttling => 5,
        ApiErrorKind::Connection => 2,
        _ => return None,
    };
    (attempt < limit).then(|| Duration::from_millis(250) * (1 << attempt.min(4)))
}

/// Retries a call that changes nothing while the endpoint throttles or the connection fails.
async fn read<T, F, Fut>(_interval: Duration, mut call: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let mut attempt = 0u32;
    loop {
        match call().await {
            Err(e) => match retries(&e, attempt) {
                Some(wait) => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                None => return Err(e),
            },
            ok => return ok,
        }
    }
}

/// Retries a call that changes something only when the endpoint throttled it (it was not
/// processed); a dropped connection may have happened after the change, so it is reported.
async fn write<T, F, Fut>(_interval: Duration, mut call: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let mut attempt = 0u32;
    loop {
        match call().await {
            Err(e) if e.kind == ApiErrorKind::Throttling => match retries(&e, attempt) {
                Some(wait) => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

fn failed(reason: impl Into<String>) -> Outcome {
    Outcome::Failed {
        reason: reason.into(),
    }
}

/// The plan's stacks in an order where each comes after what it needs; `reverse` for destroy.
fn ready_order(stacks: &[PlannedStack], reverse: bool) -> Vec<(String, Vec<String>)> {
    let planned: BTreeSet<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
    stacks
        .iter()
        .map(|s| {
            let needs: Vec<String> = if reverse {
                stacks
                    .iter()
                    .filter(|o| o.dependencies.contains(&s.name))
                    .map(|o| o.name.clone())
                    .collect()
            } else {
                s.dependencies
                    .iter()
                    .filter(|d| planned.contains(d.as_str()))
                    .cloned()
                    .collect()
            };
            (s.name.clone(), needs)
        })
        .collect()
}

impl<A: CloudFormationApi> Engine<A> {
    /// An engine with one API per region (`""`: the configured region).
    pub fn new(
        apis: BTreeMap<String, Arc<A>>,
        settings: Settings,
        reporter: Arc<dyn Reporter>,
        approver: Arc<dyn Approver>,
    ) -> Arc<Engine<A>> {
        Arc::new(Engine {
            apis,
            settings,
            reporter,
            approver,
            asking: tokio::sync::Mutex::new(()),
            active: Mutex::new(BTreeSet::new()),
        })
    }

    fn api(&self, stack: &PlannedStack) -> ApiResult<Arc<A>> {
        let key = stack.region.clone().unwrap_or_default();
        self.apis
            .get(&key)
            .or_else(|| self.apis.get(""))
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    ApiErrorKind::Other,
                    format!("no CloudFormation client for region {key:?}"),
                )
            })
    }

    fn set_active(&self, stack: &str, on: bool) {
        let mut active = self
            .active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if on {
            active.insert(stack.to_owned());
        } else {
            active.remove(stack);
        }
    }

    /// Runs `work` for every stack once what it needs has succeeded, at most
    /// `concurrency` at a time; stops scheduling when `cancel` completes.
    async fn schedule<W, Fut>(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        reverse: bool,
        work: W,
        cancel: impl Future<Output = ()>,
    ) -> RunSummary
    where
        W: Fn(Arc<Self>, PlannedStack) -> Fut,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let order = ready_order(stacks, reverse);
        let mut results: BTreeMap<String, StackResult> = BTreeMap::new();
        let mut running = tokio::task::JoinSet::new();
        let mut started: BTreeSet<String> = BTreeSet::new();
        let mut interrupted = None;
        tokio::pin!(cancel);
        loop {
            // Start what is ready.
            for (name, needs) in &order {
                if started.contains(name) || running.len() >= self.settings.concurrency.max(1) {
                    continue;
                }
                if let Some(bad) = needs
                    .iter()
                    .find(|n| results.get(*n).is_some_and(|r| !r.outcome.is_success()))
                {
                    started.insert(name.clone());
                    let reason = format!("{bad} did not succeed");
                    self.reporter.finish(name, &format!("skipped: {reason}"));
                    results.insert(
                        name.clone(),
                        StackResult {
                            stack: name.clone(),
                            outcome: Outcome::Skipped { reason },
                            duration: Duration::ZERO,
                        },
                    );
                    continue;
                }
                if needs.iter().all(|n| results.contains_key(n)) {
                    started.insert(name.clone());
                    let Some(stack) = stacks.iter().find(|s| &s.name == name).cloned() else {
                        continue;
                    };
                    let future = work(Arc::clone(self), stack);
                    let name = name.clone();
                    running.spawn(async move {
                        let start = Instant::now();
                        let outcome = future.await;
                        StackResult {
                            stack: name,
                            outcome,
                            duration: start.elapsed(),
                        }
                    });
                }
            }
            if running.is_empty() {
                if started.len() == order.len() {
                    break;
                }
                // Skips may have made more stacks ready.
                continue;
            }
            tokio::select! {
                joined = running.join_next() => {
                    if let Some(Ok(result)) = joined {
                        results.insert(result.stack.clone(), result);
                    }
                }
                () = &mut cancel => {
                    let active: Vec<String> = self
                        .active
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .iter()
                        .cloned()
                        .collect();
                    interrupted = Some(active);
                    running.abort_all();
                    break;
                }
            }
        }
        let results = stacks
            .iter()
            .map(|s| {
                results.remove(&s.name).unwrap_or_else(|| StackResult {
                    stack: s.name.clone(),
                    outcome: Outcome::Skipped {
                        reason: "interrupted".into(),
                    },
                    duration: Duration::ZERO,
                })
            })
            .collect();
        RunSummary {
            results,
            interrupted,
        }
    }

    /// Deploys the stacks.
    pub async fn deploy(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        cancel: impl Future<Output = ()>,
    ) -> RunSummary {
        self.schedule(
            stacks,
            false,
            |engine, stack| async move {
                let outcome = engine.deploy_stack(&stack).await;
                engine.set_active(&stack.name, false);
                let text = match &outcome {
                    Outcome::Deployed { created, .. } => {
                        if *created {
                            "created".to_owned()
                        } else {
                            "updated".to_owned()
                        }
                    }
                    Outcome::Unchanged { .. } => "no changes".to_owned(),
                    Outcome::ChangeSetCreated { id } => {
                        format!("change set created, not executed: {id}")
                    }
                    Outcome::Failed { reason } => format!("failed: {reason}"),
                    other => format!("{other:?}"),
                };
                engine.reporter.finish(&stack.name, &text);
                outcome
            },
            cancel,
        )
        .await
    }

    /// Destroys the stacks, dependents first.
    pub async fn destroy(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        cancel: impl Future<Output = ()>,
    ) -> RunSummary {
        self.schedule(
            stacks,
            true,
            |engine, stack| async move {
                let outcome = engine.destroy_stack(&stack).await;
                engine.set_active(&stack.name, false);
                let text = match &outcome {
                    Outcome::Destroyed { retained } if retained.is_empty() => {
                        "destroyed".to_owned()
                    }
                    Outcome::Destroyed { retained } => format!(
                        "destroyed; CloudFormation kept {} (delete by hand when no longer needed)",
                        retained.join(", ")
                    ),
                    Outcome::NotDeployed => "not deployed".to_owned(),
                    Outcome::Failed { reason } => format!("failed: {reason}"),
                    other => format!("{other:?}"),
                };
                engine.reporter.finish(&stack.name, &text);
                outcome
            },
            cancel,
        )
        .await
    }

    /// The diff of each stack against what is deployed.
    pub async fn diff(
        &self,
        stacks: &[PlannedStack],
    ) -> Vec<(String, Result<TemplateDiff, String>)> {
        let mut out = Vec::new();
        for stack in stacks {
            let result = async {
                let api = self.api(stack).map_err(|e| e.to_string())?;
                let interval = self.settings.poll_interval;
                let remote = read(interval, || api.describe_stack(&stack.name))
                    .await
                    .map_err(|e| e.to_string())?;
                let old = match remote {
                    Some(r) if r.status != "REVIEW_IN_PROGRESS" => {
                        let text = read(interval, || api.get_template(&stack.name))
                            .await
                            .map_err(|e| e.to_string())?;
                        serde_json::from_str(&text).unwrap_or(Json::Null)
                    }
                    _ => Json::Null,
                };
                Ok(diff::diff_templates(
                    &old,
                    &stack.template_json(),
                    self.settings.schemas,
                ))
            }
            .await;
            out.push((stack.name.clone(), result));
        }
        out
    }

    async fn deploy_stack(&self, stack: &PlannedStack) -> Outcome {
        let api = match self.api(stack) {
            Ok(api) => api,
            Err(e) => return failed(e.to_string()),
        };
        match self.deploy_with(&api, stack).await {
            Ok(outcome) => outcome,
            Err(e) => failed(e.to_string()),
        }
    }

    async fn describe(&self, api: &A, name: &str) -> ApiResult<Option<RemoteStack>> {
        read(self.settings.poll_interval, || api.describe_stack(name)).await
    }

    async fn deploy_with(&self, api: &A, stack: &PlannedStack) -> ApiResult<Outcome> {
        let name = stack.name.as_str();
        let interval = self.settings.poll_interval;
        let (parameters, secret_parameters) = parameter_values(stack, &self.settings.parameters);
        let mut remote = self.describe(api, name).await?;
        // Settle what is deployed into something we can deploy over.
        loop {
            match &remote {
                Some(r) if r.in_progress() && r.status != "REVIEW_IN_PROGRESS" => {
                    self.reporter.line(
                        name,
                        &format!("waiting for the running operation ({})", r.status),
                    );
                    tokio::time::sleep(interval).await;
                    remote = self.describe(api, name).await?;
                }
                Some(r) if r.status == "ROLLBACK_COMPLETE" => {
                    self.reporter.line(
                        name,
                        "is ROLLBACK_COMPLETE after a failed create: deleting it to create it again",
                    );
                    let since = self.latest_event(api, name, true).await;
                    self.set_active(name, true);
                    write(interval, || api.delete_stack(&r.id)).await?;
                    let id = r.id.clone();
                    let end = self.follow(api, name, &id, since).await?;
                    if end.1 != "DELETE_COMPLETE" {
                        return Ok(failed(format!(
                            "deleting the rolled-back stack ended in {}",
                            end.1
                        )));
                    }
                    remote = None;
                }
                Some(r) if r.status != "REVIEW_IN_PROGRESS" && !is_updatable(&r.status) => {
                    return Ok(failed(stuck_advice(name, &r.status)));
                }
                _ => break,
            }
        }
        let exists = remote
            .as_ref()
            .is_some_and(|r| r.status != "REVIEW_IN_PROGRESS");
        let deployed_template = if exists {
            Some(read(interval, || api.get_template(name)).await?)
        } else {
            None
        };
        if let (Some(r), Some(deployed)) = (&remote, &deployed_template)
            && deployed == &stack.template
            && r.parameters == parameters
            && !secret_parameters
            && r.tags == stack.tags
        {
            if r.termination_protection != stack.termination_protection {
                write(interval, || {
                    api.set_termination_protection(name, stack.termination_protection)
                })
                .await?;
                self.reporter.line(
                    name,
                    &format!(
                        "termination protection turned {}",
                        if stack.termination_protection {
                            "on"
                        } else {
                            "off"
                        }
                    ),
                );
            }
            return Ok(Outcome::Unchanged {
                outputs: r.outputs.clone(),
            });
        }

        let template_json = stack.template_json();
        let mut request = StackRequest {
            stack_name: name.to_owned(),
            parameters,
            tags: stack.tags.clone(),
            capabilities: capabilities(&template_json),
            termination_protection: stack.termination_protection,
            ..StackRequest::default()
        };
        if stack.template.len() > MAX_INLINE_TEMPLATE_BYTES {
            let bucket = self.template_bucket(api).await?;
            let key = format!("omc-cdk/{name}/{}.json", stack.sha256);
            let url = write(interval, || {
                api.upload_template(&bucket, &key, &stack.template)
            })
            .await?;
            self.reporter.line(
                name,
                &format!(
                    "template is {} bytes (over {MAX_INLINE_TEMPLATE_BYTES}): uploaded to s3://{bucket}/{key}",
                    stack.template.len()
                ),
            );
            request.template_url = Some(url);
        } else {
            request.template_body = Some(stack.template.clone());
        }
        let old_json = deployed_template
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Json::Null);
        let template_diff = diff::diff_templates(&old_json, &template_json, self.settings.schemas);
        let total = template_json
            .get("Resources")
            .and_then(Json::as_object)
            .map_or(0, serde_json::Map::len)
            + 1;

        match self.settings.method {
            Method::Direct => {
                if !self
                    .approved(
                        name,
                        &template_diff,
                        &diff::render(name, &template_diff, diff::Style { color: false }),
                    )
                    .await
                {
                    return Ok(failed("not approved"));
                }
                let since = self.latest_event(api, name, exists).await;
                self.reporter
                    .start(name, if exists { "updating" } else { "creating" }, total);
                self.set_active(name, true);
                let id = if exists {
                    match write(interval, || api.update_stack(&request)).await {
                        Ok(()) => remote.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
                        Err(e) if e.kind == ApiErrorKind::NoUpdates => {
                            return Ok(Outcome::Unchanged {
                                outputs: remote.map(|r| r.outputs).unwrap_or_default(),
                            });
                        }
                        Err(e) => return Err(e),
                    }
                } else {
                    write(interval, || api.create_stack(&request)).await?
                };
                self.finish_operation(api, stack, &id, since, !exists).await
            }
            Method::ChangeSet => {
                let change_set_name = format!("omc-cdk-{}", now_millis());
                let change_set = ChangeSetRequest {
                    stack: request,
                    name: change_set_name,
                    create: !exists,
                    description: format!("omc-cdk deploy of {name}"),
                };
                let id = write(interval, || api.create_change_set(&change_set)).await?;
                let set = self.wait_change_set(api, &id).await?;
                if set.is_empty_failure() {
                    let _ = write(interval, || api.delete_change_set(&id)).await;
                    self.reporter.line(
                        name,
                        "CloudFormation found no changes; deleted the empty change set",
                    );
                    return Ok(Outcome::Unchanged {
                        outputs: remote.map(|r| r.outputs).unwrap_or_default(),
                    });
                }
                if set.status != "CREATE_COMPLETE" {
                    return Ok(failed(format!(
                        "change set {}: {}",
                        set.status,
                        set.status_reason.unwrap_or_default()
                    )));
                }
                let summary = summarize(&set, &template_diff);
                self.reporter.line(name, &summary);
                if !self.approved(name, &template_diff, &summary).await {
                    let _ = write(interval, || api.delete_change_set(&id)).await;
                    return Ok(failed("not approved; deleted the change set"));
                }
                if !self.settings.execute {
                    return Ok(Outcome::ChangeSetCreated { id });
                }
                let since = self.latest_event(api, name, exists).await;
                self.reporter
                    .start(name, if exists { "updating" } else { "creating" }, total);
                self.set_active(name, true);
                write(interval, || api.execute_change_set(&id)).await?;
                let stack_id = match &remote {
                    Some(r) => r.id.clone(),
                    None => self
                        .describe(api, name)
                        .await?
                        .map_or_else(|| name.to_owned(), |r| r.id),
                };
                self.finish_operation(api, stack, &stack_id, since, !exists)
                    .await
            }
        }
    }

    /// The id of the newest event before an operation, so only its events are shown.
    async fn latest_event(&self, api: &A, name: &str, exists: bool) -> i64 {
        if !exists {
            return 0;
        }
        read(self.settings.poll_interval, || api.stack_events(name))
            .await
            .ok()
            .and_then(|events| events.first().map(|e| e.timestamp_millis))
            .unwrap_or(0)
    }

    async fn finish_operation(
        &self,
        api: &A,
        stack: &PlannedStack,
        id: &str,
        since: i64,
        created: bool,
    ) -> ApiResult<Outcome> {
        let name = stack.name.as_str();
        let (root_cause, status, remote) = self.follow(api, name, id, since).await?;
        if !is_success_status(&status) {
            let cause = root_cause.map_or_else(
                || "no resource reported a failure".to_owned(),
                |e| {
                    format!(
                        "{} {} ({}): {}",
                        e.status,
                        e.logical_id,
                        e.resource_type,
                        e.reason.unwrap_or_default()
                    )
                },
            );
            let mut reason = format!("{cause}\nstack status: {status}");
            if status == "ROLLBACK_COMPLETE" {
                reason.push_str(" (the next deploy deletes it and creates it again)");
            } else if !is_updatable(&status) {
                reason.push('\n');
                reason.push_str(&stuck_advice(name, &status));
            }
            return Ok(failed(reason));
        }
        if created && stack.termination_protection {
            write(self.settings.poll_interval, || {
                api.set_termination_protection(name, true)
            })
            .await?;
        }
        Ok(Outcome::Deployed {
            created,
            outputs: remote.map(|r| r.outputs).unwrap_or_default(),
        })
    }

    /// Follows a stack until its operation ends; returns the first failure, the final status
    /// and the stack.
    async fn follow(
        &self,
        api: &A,
        name: &str,
        id: &str,
        since: i64,
    ) -> ApiResult<(Option<StackEvent>, String, Option<RemoteStack>)> {
        let interval = self.settings.poll_interval;
        let mut backoff = Backoff::new(interval);
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut first_failure: Option<StackEvent> = None;
        loop {
            let remote = self.describe(api, name).await?;
            let events = read(interval, || api.stack_events(id))
                .await
                .unwrap_or_default();
            let mut fresh: Vec<StackEvent> = events
                .into_iter()
                .filter(|e| e.timestamp_millis > since && !seen.contains(&e.id))
                .collect();
            fresh.reverse();
            for event in fresh {
                seen.insert(event.id.clone());
                if event.status.ends_with("_FAILED")
                    && event.resource_type != "AWS::CloudFormation::Stack"
                    && first_failure.is_none()
                    && !event
                        .reason
                        .as_deref()
                        .is_some_and(|r| r.contains("cancelled"))
                {
                    first_failure = Some(event.clone());
                }
                self.reporter.event(name, &event);
            }
            match remote {
                None => return Ok((first_failure, "DELETE_COMPLETE".into(), None)),
                Some(r) if !r.in_progress() => {
                    let status = r.status.clone();
                    return Ok((first_failure, status, Some(r)));
                }
                Some(_) => backoff.wait().await,
            }
        }
    }

    async fn wait_change_set(&self, api: &A, id: &str) -> ApiResult<ChangeSet> {
        let mut backoff = Backoff::new(self.settings.poll_interval);
        loop {
            let set = read(self.settings.poll_interval, || api.describe_change_set(id)).await?;
            if !matches!(set.status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
                return Ok(set);
            }
            backoff.wait().await;
        }
    }

    async fn template_bucket(&self, api: &A) -> ApiResult<String> {
        if let Some(bucket) = &self.settings.bucket {
            return Ok(bucket.clone());
        }
        let toolkit = &self.settings.toolkit_stack;
        let stack = self.describe(api, toolkit).await?;
        stack
            .and_then(|s| s.outputs.get("BucketName").cloned())
            .ok_or_else(|| {
                ApiError::new(
                    ApiErrorKind::Validation,
                    format!(
                        "the template is over {MAX_INLINE_TEMPLATE_BYTES} bytes and must go through S3, and there is no toolkit stack {toolkit}: run `bootstrap` once per account and region, or pass --bucket NAME"
                    ),
                )
            })
    }

    async fn approved(&self, stack: &str, template_diff: &TemplateDiff, summary: &str) -> bool {
        let needed = match self.settings.approval {
            Approval::Never => false,
            Approval::Any => !template_diff.is_empty(),
            Approval::Broadening => template_diff.broadens_access(),
        };
        if !needed || self.settings.yes {
            return true;
        }
        let _guard = self.asking.lock().await;
        self.approver.approve(stack, summary)
    }

    async fn destroy_stack(&self, stack: &PlannedStack) -> Outcome {
        let api = match self.api(stack) {
            Ok(api) => api,
            Err(e) => return failed(e.to_string()),
        };
        let name = stack.name.as_str();
        let interval = self.settings.poll_interval;
        let result = async {
            let Some(remote) = self.describe(&api, name).await? else {
                return Ok(Outcome::NotDeployed);
            };
            if remote.termination_protection {
                return Ok(failed(format!(
                    "{name} has termination protection; turn it off first (StackProps::termination_protection: false and deploy, or `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {name}`)"
                )));
            }
            let since = self.latest_event(&api, name, true).await;
            let total = stack
                .template_json()
                .get("Resources")
                .and_then(Json::as_object)
                .map_or(0, serde_json::Map::len)
                + 1;
            self.reporter.start(name, "destroying", total);
            self.set_active(name, true);
            write(interval, || api.delete_stack(&remote.id)).await?;
            let (cause, status, _) = self.follow(&api, name, &remote.id, since).await?;
            if status != "DELETE_COMPLETE" {
                let cause = cause.map_or_else(String::new, |e| {
                    format!(
                        "{} {}: {}\n",
                        e.status,
                        e.logical_id,
                        e.reason.unwrap_or_default()
                    )
                });
                return Ok(failed(format!("{cause}stack status: {status}\n{}", stuck_advice(name, &status))));
            }
            Ok(Outcome::Destroyed {
                retained: retained_resources(&stack.template_json()),
            })
        }
        .await;
        result.unwrap_or_else(|e: ApiError| failed(e.to_string()))
    }
}

/// Resources CloudFormation keeps when their stack is deleted.
pub fn retained_resources(template: &Json) -> Vec<String> {
    template
        .get("Resources")
        .and_then(Json::as_object)
        .map(|r| {
            r.iter()
                .filter_map(|(id, resource)| {
                    let policy = resource["DeletionPolicy"].as_str()?;
                    let kind = resource["Type"].as_str().unwrap_or_default();
                    match policy {
                        "Retain" | "RetainExceptOnCreate" => Some(format!("{id} ({kind})")),
                        "Snapshot" => Some(format!("a final snapshot of {id} ({kind})")),
                        _ => None,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A change set's summary for people: counts, each change, replacements, access changes.
pub fn summarize(set: &ChangeSet, template_diff: &TemplateDiff) -> String {
    let count = |action: &str| set.changes.iter().filter(|c| c.action == action).count();
    let mut out = format!(
        "change set: {} to add, {} to modify, {} to remove",
        count("Add"),
        count("Modify"),
        count("Remove")
    );
    for change in &set.changes {
        let mut notes = Vec::new();
        match change.replacement.as_deref() {
            Some("True") => notes.push("REPLACED".to_owned()),
            Some("Conditional") => notes.push("may be replaced".to_owned()),
            _ => {}
        }
        if let Some(d) = template_diff
            .resources
            .iter()
            .find(|d| d.logical_id == change.logical_id)
        {
            if d.stateful
                && (change.action == "Remove" || change.replacement.as_deref() == Some("True"))
            {
                notes.push("STATEFUL: data may be lost".into());
            }
            if d.broadens_access() {
                notes.push("access may widen".into());
            }
        }
        let mark = match change.action.as_str() {
            "Add" => "+",
            "Remove" => "-",
            _ => "~",
        };
        let _ = write!(
            out,
            "\n  {mark} {} {}{}",
            change.resource_type,
            change.logical_id,
            if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join(", "))
            }
        );
    }
    out
}
