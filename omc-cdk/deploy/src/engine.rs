//! The deploy engine: deploys, destroys and diffs stacks through a [`CloudFormationApi`],
//! in dependency order, independent stacks in parallel.
//!
//! Before anything changes, the engine asks which account the credentials belong to and
//! refuses stacks pinned to another ([`RunError::Accounts`]). Every stack ends in a reported
//! [`Outcome`], even when its task panics, and a run always ends.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::api::{
    ApiError, ApiErrorKind, ApiResult, ChangeSet, ChangeSetRequest, CloudFormationApi, Identity,
    RemoteStack, StackRequest,
};
use crate::operation::{ChangeCounts, Failure, Tracker, construct_paths, ecs_service};
use crate::params::Parameters;
pub use crate::params::{ParameterOverride, check_parameters};
use crate::report::Reporter;
use crate::retry::RetryPolicy;
use crate::time::now_millis;
use omc_cdk_core::MAX_INLINE_TEMPLATE_BYTES;
use omc_cdk_template::diff::{self, SchemaLookup, TemplateDiff};

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
    /// Use the templates' defaults for parameters not given, instead of the deployed values.
    pub reset_parameters: bool,
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
    /// Retries of throttled and failed calls.
    pub retry: RetryPolicy,
    /// Rounds of failed polls (each already retried) after which a stack being followed is
    /// given up on as "unknown" rather than failed.
    pub follow_attempts: u32,
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
            reset_parameters: false,
            execute: true,
            method: Method::ChangeSet,
            bucket: None,
            toolkit_stack: TOOLKIT_STACK.into(),
            poll_interval: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            follow_attempts: 10,
            schemas: None,
        }
    }
}

/// The default name of the toolkit stack.
pub const TOOLKIT_STACK: &str = "OmcCdkToolkit";

/// Stopped tasks shown for a failed ECS service.
const STOPPED_TASKS_SHOWN: usize = 3;

/// Decides whether a change set may run.
pub trait Approver: Send + Sync {
    /// Answers yes or no for `stack`; `summary` (already shown to the user) says what
    /// changes.
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
    /// The CloudFormation service role to deploy with (`RoleARN`), when the stack sets one.
    pub execution_role: Option<String>,
    /// Stacks of the plan it depends on.
    pub dependencies: Vec<String>,
    /// The region (`None`: the configured one).
    pub region: Option<String>,
    /// The account it must be deployed to (`None`: wherever the credentials point).
    pub account: Option<String>,
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
        /// What the operation did to the resources.
        changes: ChangeCounts,
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
        /// What the operation deleted.
        changes: ChangeCounts,
    },
    /// Not deployed, nothing to destroy.
    NotDeployed,
    /// Failed: why, for people and for incident reports.
    Failed(Box<Failure>),
    /// The engine lost track of a stack CloudFormation was still working on: its end is not
    /// known.
    Unknown {
        /// The last status seen.
        status: String,
        /// Why the engine stopped following it.
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
        !matches!(
            self,
            Outcome::Failed(_) | Outcome::Skipped { .. } | Outcome::Unknown { .. }
        )
    }

    /// The outputs, for deployed and unchanged stacks.
    pub fn outputs(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Outcome::Deployed { outputs, .. } | Outcome::Unchanged { outputs } => Some(outputs),
            _ => None,
        }
    }

    /// The failure, when the stack failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Failed(f) => Some(f),
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
    /// Who the credentials belong to.
    pub identity: Identity,
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

/// A stack pinned to an account the credentials do not belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountMismatch {
    /// The stack.
    pub stack: String,
    /// The account its environment names.
    pub expected: String,
    /// The account of the credentials.
    pub actual: String,
    /// The caller's ARN.
    pub caller: String,
}

impl fmt::Display for AccountMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is for account {}, but the credentials are for account {} ({}); use credentials of account {} (another AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
            self.stack, self.expected, self.actual, self.caller, self.expected
        )
    }
}

/// Why a run did not start: nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Stacks pinned to another account than the credentials'.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Accounts(Vec<AccountMismatch>),
    /// The credentials could not be checked.
    #[error("{0}")]
    Api(ApiError),
    /// Parameters that neither `--parameters`, a template default nor a deployed value gives
    /// (checked for every stack before any changes): one line per parameter.
    #[error("{}", .0.join("\n"))]
    Parameters(Vec<String>),
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

/// How many times a completed stack is read again for outputs it declares but does not show.
const OUTPUT_RETRIES: usize = 5;

/// The outputs a template declares without a `Condition`: every deployed stack has them.
fn unconditional_outputs(template: &Json) -> Vec<String> {
    template["Outputs"]
        .as_object()
        .map(|outputs| {
            outputs
                .iter()
                .filter(|(_, o)| o.get("Condition").is_none())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
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

fn failed(stack: &str, summary: impl Into<String>) -> Outcome {
    Outcome::Failed(Box::new(Failure::line(stack, summary)))
}

/// A stack whose operation the engine stopped following.
fn lost(name: &str, status: &str, error: &ApiError) -> Outcome {
    Outcome::Unknown {
        status: status.to_owned(),
        reason: format!(
            "lost track of {name} while CloudFormation was at {status} ({error}); it carries on without us: check the stack (diff, or the console) before deploying again"
        ),
    }
}

/// A stack that failed on a call: the error's line, and its details for `--verbose`.
fn call_failed(stack: &str, error: &ApiError) -> Outcome {
    Outcome::Failed(Box::new(Failure {
        detail: error.detail.clone(),
        ..Failure::line(stack, error.to_string())
    }))
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

/// The text of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

/// How an operation on a stack ended, as [`Engine::follow`] saw it.
struct OperationEnd {
    tracker: Tracker,
    /// The final status; `DELETE_COMPLETE` when the stack is gone.
    status: String,
    /// The stack after it, unless it is gone.
    remote: Option<RemoteStack>,
    /// Set when the engine stopped following before the end.
    lost: Option<(String, ApiError)>,
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

    /// Who the credentials belong to, and every stack pinned to another account: asked before
    /// anything changes. An environment-agnostic stack goes wherever the credentials point.
    pub async fn check_accounts(&self, stacks: &[PlannedStack]) -> Result<Identity, RunError> {
        let api =
            match stacks.first() {
                Some(stack) => self.api(stack),
                None => self.apis.values().next().cloned().ok_or_else(|| {
                    ApiError::new(ApiErrorKind::Other, "no AWS client was configured")
                }),
            }
            .map_err(RunError::Api)?;
        let identity = self
            .settings
            .retry
            .read(|| api.caller_identity())
            .await
            .map_err(RunError::Api)?;
        let mismatches: Vec<AccountMismatch> = stacks
            .iter()
            .filter_map(|s| {
                let expected = s.account.as_ref()?;
                (*expected != identity.account).then(|| AccountMismatch {
                    stack: s.name.clone(),
                    expected: expected.clone(),
                    actual: identity.account.clone(),
                    caller: identity.arn.clone(),
                })
            })
            .collect();
        if mismatches.is_empty() {
            Ok(identity)
        } else {
            Err(RunError::Accounts(mismatches))
        }
    }

    /// Runs `work` for every stack once what it needs has succeeded, at most
    /// `concurrency` at a time; stops scheduling when `cancel` completes. Every stack ends in
    /// an outcome: a task that panics or is cancelled fails its stack.
    async fn schedule<W, Fut>(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        reverse: bool,
        work: W,
        cancel: impl Future<Output = ()>,
    ) -> (Vec<StackResult>, Option<Vec<String>>)
    where
        W: Fn(Arc<Self>, PlannedStack) -> Fut,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let order = ready_order(stacks, reverse);
        let mut results: BTreeMap<String, StackResult> = BTreeMap::new();
        let mut running = tokio::task::JoinSet::new();
        let mut tasks: BTreeMap<tokio::task::Id, (String, Instant)> = BTreeMap::new();
        let mut started: BTreeSet<String> = BTreeSet::new();
        let mut interrupted = None;
        tokio::pin!(cancel);
        loop {
            // Start what is ready; repeat while skips make more stacks ready.
            loop {
                let before = started.len();
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
                        let engine = Arc::clone(self);
                        let done = work(Arc::clone(self), stack);
                        let stack_name = name.clone();
                        let handle = running.spawn(async move {
                            let outcome = done.await;
                            engine.set_active(&stack_name, false);
                            engine.reporter.finish(&stack_name, &finish_text(&outcome));
                            outcome
                        });
                        tasks.insert(handle.id(), (name.clone(), Instant::now()));
                    }
                }
                if started.len() == before {
                    break;
                }
            }
            if running.is_empty() {
                // Nothing runs and nothing more can start: whatever is left waits for a stack
                // that will never finish (it cannot happen with a valid plan, but the run must
                // end all the same).
                for (name, _) in &order {
                    results.entry(name.clone()).or_insert_with(|| StackResult {
                        stack: name.clone(),
                        outcome: Outcome::Skipped {
                            reason: "its dependencies never finished".into(),
                        },
                        duration: Duration::ZERO,
                    });
                }
                break;
            }
            tokio::select! {
                joined = running.join_next_with_id() => {
                    let Some(joined) = joined else { continue };
                    let (id, outcome, crashed) = match joined {
                        Ok((id, outcome)) => (id, outcome, false),
                        Err(error) => {
                            let id = error.id();
                            let why = if error.is_panic() {
                                format!(
                                    "internal error: the stack's task panicked ({}); CloudFormation may still be working on it, check its status before deploying again",
                                    panic_text(error.into_panic().as_ref())
                                )
                            } else {
                                "internal error: the stack's task was cancelled; CloudFormation may still be working on it".to_owned()
                            };
                            (id, Outcome::Failed(Box::new(Failure::line("", why))), true)
                        }
                    };
                    let Some((name, start)) = tasks.remove(&id) else { continue };
                    let outcome = match outcome {
                        Outcome::Failed(mut f) if crashed => {
                            name.clone_into(&mut f.stack);
                            // The task did not get to say so itself.
                            self.set_active(&name, false);
                            self.reporter.finish(&name, &format!("failed: {}", f.summary));
                            Outcome::Failed(f)
                        }
                        other => other,
                    };
                    results.insert(name.clone(), StackResult {
                        stack: name,
                        outcome,
                        duration: start.elapsed(),
                    });
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
        (results, interrupted)
    }

    /// Checks the accounts, then deploys the stacks.
    pub async fn deploy(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        cancel: impl Future<Output = ()>,
    ) -> Result<RunSummary, RunError> {
        self.run(
            stacks,
            false,
            "deploying to",
            |engine, stack| async move { engine.deploy_stack(&stack).await },
            cancel,
        )
        .await
    }

    /// Every parameter of every stack must have a value before anything changes: a value
    /// given, the template's default, or (unless `reset_parameters`) the deployed value. Reads
    /// each stack that declares a parameter without a default that was not given.
    async fn check_parameters(&self, stacks: &[PlannedStack]) -> Result<(), RunError> {
        let mut missing = Vec::new();
        for stack in stacks {
            let template = stack.template_json();
            let needs_deployed = Parameters::resolve(
                &stack.name,
                &template,
                &self.settings.parameters,
                None,
                true,
            )
            .is_err();
            if !needs_deployed {
                continue;
            }
            let api = self.api(stack).map_err(RunError::Api)?;
            let deployed = self
                .describe(&api, &stack.name)
                .await
                .map_err(RunError::Api)?
                // A stack left ROLLBACK_COMPLETE is deleted and created again: its parameters
                // are not kept.
                .filter(|r| r.status != "REVIEW_IN_PROGRESS" && r.status != "ROLLBACK_COMPLETE");
            if let Err(message) = Parameters::resolve(
                &stack.name,
                &template,
                &self.settings.parameters,
                deployed.as_ref().map(|r| &r.parameters),
                self.settings.reset_parameters,
            ) {
                missing.extend(
                    message
                        .lines()
                        .map(|line| format!("{}: {line}", stack.name)),
                );
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(RunError::Parameters(missing))
        }
    }

    /// Checks the accounts, then destroys the stacks, dependents first.
    pub async fn destroy(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        cancel: impl Future<Output = ()>,
    ) -> Result<RunSummary, RunError> {
        self.run(
            stacks,
            true,
            "destroying in",
            |engine, stack| async move { engine.destroy_stack(&stack).await },
            cancel,
        )
        .await
    }

    /// Checks the accounts, says which, then schedules `work` for every stack.
    async fn run<W, Fut>(
        self: &Arc<Self>,
        stacks: &[PlannedStack],
        reverse: bool,
        verb: &str,
        work: W,
        cancel: impl Future<Output = ()>,
    ) -> Result<RunSummary, RunError>
    where
        W: Fn(Arc<Self>, PlannedStack) -> Fut,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let identity = self.check_accounts(stacks).await?;
        if !reverse {
            self.check_parameters(stacks).await?;
        }
        self.reporter.note(&format!(
            "{verb} account {} as {}",
            identity.account, identity.arn
        ));
        let (results, interrupted) = self.schedule(stacks, reverse, work, cancel).await;
        Ok(RunSummary {
            identity,
            results,
            interrupted,
        })
    }

    /// Checks the accounts, then diffs each stack against what is deployed.
    pub async fn diff(
        &self,
        stacks: &[PlannedStack],
    ) -> Result<Vec<(String, Result<TemplateDiff, ApiError>)>, RunError> {
        self.check_accounts(stacks).await?;
        let mut out = Vec::new();
        for stack in stacks {
            let result = async {
                let api = self.api(stack)?;
                let old = match self.describe(&api, &stack.name).await? {
                    Some(r) if r.status != "REVIEW_IN_PROGRESS" => {
                        let text = self
                            .settings
                            .retry
                            .read(|| api.get_template(&stack.name))
                            .await?;
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
        Ok(out)
    }

    /// The templates deployed for these stacks (`None` for a stack that is not deployed),
    /// after checking the accounts: what `cost --diff` compares with.
    pub async fn deployed_templates(
        &self,
        stacks: &[PlannedStack],
    ) -> Result<Vec<(String, Result<Option<String>, ApiError>)>, RunError> {
        self.check_accounts(stacks).await?;
        let mut out = Vec::new();
        for stack in stacks {
            let result = async {
                let api = self.api(stack)?;
                match self.describe(&api, &stack.name).await? {
                    Some(r) if r.status != "REVIEW_IN_PROGRESS" => Ok(Some(
                        self.settings
                            .retry
                            .read(|| api.get_template(&stack.name))
                            .await?,
                    )),
                    _ => Ok(None),
                }
            }
            .await;
            out.push((stack.name.clone(), result));
        }
        Ok(out)
    }

    async fn deploy_stack(&self, stack: &PlannedStack) -> Outcome {
        let api = match self.api(stack) {
            Ok(api) => api,
            Err(e) => return failed(&stack.name, e.to_string()),
        };
        match self.deploy_with(&api, stack).await {
            Ok(outcome) => outcome,
            Err(e) => call_failed(&stack.name, &e),
        }
    }

    /// The stack of that name, unless it does not exist (deleted stacks included).
    async fn describe(&self, api: &A, name: &str) -> ApiResult<Option<RemoteStack>> {
        Ok(self
            .settings
            .retry
            .read(|| api.describe_stack(name))
            .await?
            .filter(|s| s.status != "DELETE_COMPLETE"))
    }

    async fn deploy_with(&self, api: &A, stack: &PlannedStack) -> ApiResult<Outcome> {
        let name = stack.name.as_str();
        let retry = self.settings.retry;
        let mut remote = self.describe(api, name).await?;
        // Settle what is deployed into something we can deploy over.
        loop {
            match &remote {
                Some(r) if r.in_progress() && r.status != "REVIEW_IN_PROGRESS" => {
                    self.reporter.line(
                        name,
                        &format!("waiting for the running operation ({})", r.status),
                    );
                    tokio::time::sleep(self.settings.poll_interval).await;
                    remote = self.describe(api, name).await?;
                }
                Some(r) if r.status == "ROLLBACK_COMPLETE" => {
                    self.reporter.line(
                        name,
                        "is ROLLBACK_COMPLETE after a failed create: deleting it to create it again",
                    );
                    if !self.settings.execute {
                        return Ok(failed(
                            name,
                            format!(
                                "{name} is ROLLBACK_COMPLETE: deploy without --no-execute deletes it and creates it again"
                            ),
                        ));
                    }
                    let since = self.latest_event(api, &r.id).await?;
                    // A failed create left nothing to protect (CreateStack can set the flag).
                    if r.termination_protection {
                        retry
                            .write(|| api.set_termination_protection(&r.id, false))
                            .await?;
                    }
                    self.set_active(name, true);
                    retry.write(|| api.delete_stack(&r.id)).await?;
                    let id = r.id.clone();
                    let end = self.follow(api, name, &id, since, 0).await;
                    if let Some((status, error)) = &end.lost {
                        return Ok(lost(name, status, error));
                    }
                    if end.status != "DELETE_COMPLETE" {
                        let summary = format!(
                            "deleting the rolled-back stack {name} ended in {}",
                            end.status
                        );
                        return Ok(Outcome::Failed(Box::new(
                            self.failure_of(api, stack, &end, summary, &BTreeMap::new())
                                .await,
                        )));
                    }
                    remote = None;
                }
                Some(r) if r.status != "REVIEW_IN_PROGRESS" && !is_updatable(&r.status) => {
                    return Ok(Outcome::Failed(Box::new(Failure {
                        advice: Some(stuck_advice(name, &r.status)),
                        ..Failure::line(name, format!("{name} cannot be deployed now"))
                    })));
                }
                _ => break,
            }
        }
        let exists = remote
            .as_ref()
            .is_some_and(|r| r.status != "REVIEW_IN_PROGRESS");
        let deployed_template = if exists {
            Some(retry.read(|| api.get_template(name)).await?)
        } else {
            None
        };
        let template_json = stack.template_json();
        let parameters = match Parameters::resolve(
            name,
            &template_json,
            &self.settings.parameters,
            remote.as_ref().filter(|_| exists).map(|r| &r.parameters),
            self.settings.reset_parameters,
        ) {
            Ok(p) => p,
            Err(message) => return Ok(failed(name, message)),
        };
        if let (Some(r), Some(deployed)) = (&remote, &deployed_template)
            && parameters.unchanged(&r.parameters)
            && r.tags == stack.tags
        {
            let same = deployed == &stack.template;
            if same || only_resource_metadata_differs(deployed, &template_json) {
                if !same {
                    self.reporter.line(
                        name,
                        "the template differs from the deployed one only in resource metadata, which CloudFormation applies only together with another change: nothing to do",
                    );
                }
                self.apply_termination_protection(api, stack, r).await;
                return Ok(Outcome::Unchanged {
                    outputs: r.outputs.clone(),
                });
            }
        }

        let mut request = StackRequest {
            stack_name: name.to_owned(),
            parameters: parameters.request(),
            tags: stack.tags.clone(),
            capabilities: capabilities(&template_json),
            termination_protection: stack.termination_protection,
            role_arn: stack.execution_role.clone(),
            ..StackRequest::default()
        };
        if stack.template.len() > MAX_INLINE_TEMPLATE_BYTES {
            let bucket = self.template_bucket(api).await?;
            let key = format!("omc-cdk/{name}/{}.json", stack.sha256);
            let url = retry
                .write(|| api.upload_template(&bucket, &key, &stack.template))
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
        let mut paths = construct_paths(&old_json);
        paths.extend(construct_paths(&template_json));
        let parameter_summary = parameters.summary();

        match self.settings.method {
            Method::Direct => {
                let mut summary = diff::render(name, &template_diff, diff::Style { color: false });
                if !parameter_summary.is_empty() {
                    summary.push_str(&parameter_summary);
                }
                self.reporter.line(name, &summary);
                if !self
                    .approved(name, &template_diff, parameters.any_change(), &summary)
                    .await
                {
                    return Ok(failed(name, "not approved"));
                }
                let since = if exists {
                    self.latest_event(api, remote.as_ref().map_or(name, |r| r.id.as_str()))
                        .await?
                } else {
                    0
                };
                let total = template_diff.resources.len();
                self.reporter
                    .start(name, if exists { "updating" } else { "creating" }, total);
                self.set_active(name, true);
                let id = if exists {
                    match retry.write(|| api.update_stack(&request)).await {
                        Ok(()) => remote.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
                        Err(e) if e.kind == ApiErrorKind::NoUpdates => {
                            if let Some(r) = &remote {
                                self.apply_termination_protection(api, stack, r).await;
                            }
                            return Ok(Outcome::Unchanged {
                                outputs: remote.map(|r| r.outputs).unwrap_or_default(),
                            });
                        }
                        Err(e) => return Err(e),
                    }
                } else {
                    retry.write(|| api.create_stack(&request)).await?
                };
                self.finish_operation(api, stack, &id, since, total, !exists, &paths)
                    .await
            }
            Method::ChangeSet => {
                let change_set_name = format!("omc-cdk-{}", now_millis());
                let change_set = ChangeSetRequest {
                    stack: request,
                    name: change_set_name,
                    create: !exists,
                    description: format!("omc-cdk deploy of {name}"),
                };
                let id = retry.write(|| api.create_change_set(&change_set)).await?;
                let set = self.wait_change_set(api, &id).await?;
                if set.is_empty_failure() {
                    let _ = retry.write(|| api.delete_change_set(&id)).await;
                    self.reporter.line(
                        name,
                        "CloudFormation found no changes; deleted the empty change set",
                    );
                    if let Some(r) = &remote {
                        self.apply_termination_protection(api, stack, r).await;
                    }
                    return Ok(Outcome::Unchanged {
                        outputs: remote.map(|r| r.outputs).unwrap_or_default(),
                    });
                }
                if set.status != "CREATE_COMPLETE" {
                    let _ = retry.write(|| api.delete_change_set(&id)).await;
                    return Ok(failed(
                        name,
                        format!(
                            "change set {}: {}",
                            set.status,
                            set.status_reason.unwrap_or_default()
                        ),
                    ));
                }
                let mut summary = summarize(&set, &template_diff);
                if !parameter_summary.is_empty() {
                    summary.push('\n');
                    summary.push_str(&parameter_summary);
                }
                self.reporter.line(name, &summary);
                if !self
                    .approved(name, &template_diff, parameters.any_change(), &summary)
                    .await
                {
                    let _ = retry.write(|| api.delete_change_set(&id)).await;
                    return Ok(failed(name, "not approved; deleted the change set"));
                }
                if !self.settings.execute {
                    return Ok(Outcome::ChangeSetCreated { id });
                }
                let stack_id = match &remote {
                    Some(r) => r.id.clone(),
                    None => self
                        .describe(api, name)
                        .await?
                        .map_or_else(|| name.to_owned(), |r| r.id),
                };
                let since = if exists {
                    self.latest_event(api, &stack_id).await?
                } else {
                    0
                };
                let total = set.changes.len();
                self.reporter
                    .start(name, if exists { "updating" } else { "creating" }, total);
                self.set_active(name, true);
                retry.write(|| api.execute_change_set(&id)).await?;
                self.finish_operation(api, stack, &stack_id, since, total, !exists, &paths)
                    .await
            }
        }
    }

    /// Turns termination protection on or off when the deployed stack's differs (with
    /// `--no-execute`, says what it would do). A failure is reported, not fatal: the deploy
    /// itself is done and its outputs count.
    async fn apply_termination_protection(
        &self,
        api: &A,
        stack: &PlannedStack,
        remote: &RemoteStack,
    ) {
        if remote.termination_protection == stack.termination_protection {
            return;
        }
        let name = stack.name.as_str();
        let state = if stack.termination_protection {
            "on"
        } else {
            "off"
        };
        if !self.settings.execute {
            self.reporter.line(
                name,
                &format!("termination protection would be turned {state} (--no-execute)"),
            );
            return;
        }
        match self
            .settings
            .retry
            .write(|| api.set_termination_protection(name, stack.termination_protection))
            .await
        {
            Ok(()) => self
                .reporter
                .line(name, &format!("termination protection turned {state}")),
            Err(e) => self.reporter.line(
                name,
                &format!("warning: termination protection is still not {state}: {e}"),
            ),
        }
    }

    /// The time of the newest event before an operation, so only its events are shown. An
    /// error here fails the stack before anything changes: following an operation through the
    /// stack's whole history would report old failures as this one's.
    async fn latest_event(&self, api: &A, id: &str) -> ApiResult<i64> {
        Ok(self
            .settings
            .retry
            .read(|| api.last_event_millis(id))
            .await?
            .unwrap_or(0))
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_operation(
        &self,
        api: &A,
        stack: &PlannedStack,
        id: &str,
        since: i64,
        total: usize,
        created: bool,
        paths: &BTreeMap<String, String>,
    ) -> ApiResult<Outcome> {
        let name = stack.name.as_str();
        let end = self.follow(api, name, id, since, total).await;
        if let Some((status, error)) = &end.lost {
            return Ok(lost(name, status, error));
        }
        let status = end.status.clone();
        let gone = end.remote.is_none() || status == "DELETE_COMPLETE";
        let success = matches!(
            status.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
        );
        if gone || !success {
            let verb = if created { "create" } else { "update" };
            let summary = if gone {
                format!(
                    "{name} was deleted while it was being deployed (by another deploy or a person?); nothing of it remains"
                )
            } else {
                format!("the {verb} of {name} failed")
            };
            let mut failure = self.failure_of(api, stack, &end, summary, paths).await;
            if status == "ROLLBACK_COMPLETE" {
                failure.status = Some(format!(
                    "{status} (the next deploy deletes it and creates it again)"
                ));
            } else if !gone && !is_updatable(&status) {
                failure.advice = Some(stuck_advice(name, &status));
            }
            return Ok(Outcome::Failed(Box::new(failure)));
        }
        let Some(mut remote) = end.remote else {
            return Ok(failed(name, format!("{name} vanished")));
        };
        // Some endpoints (LocalStack) report completion before they have recorded the
        // outputs: read the stack again, a few times, while an output the template declares
        // unconditionally is missing.
        let declared = unconditional_outputs(&stack.template_json());
        for _ in 0..OUTPUT_RETRIES {
            if declared.iter().all(|k| remote.outputs.contains_key(k)) {
                break;
            }
            tokio::time::sleep(self.settings.poll_interval).await;
            match self.describe(api, name).await {
                Ok(Some(again)) => remote = again,
                _ => break,
            }
        }
        self.apply_termination_protection(api, stack, &remote).await;
        Ok(Outcome::Deployed {
            created,
            outputs: remote.outputs,
            changes: end.tracker.counts(),
        })
    }

    /// The failure report of an operation, with the stopped tasks of failed ECS services.
    async fn failure_of(
        &self,
        api: &A,
        stack: &PlannedStack,
        end: &OperationEnd,
        summary: String,
        paths: &BTreeMap<String, String>,
    ) -> Failure {
        let mut tracker_failure = end
            .tracker
            .failure(&stack.name, summary, &end.status, paths);
        for r in &mut tracker_failure.resources {
            if r.resource_type != "AWS::ECS::Service" {
                continue;
            }
            let Some((cluster, service)) = r.physical_id.as_deref().and_then(ecs_service) else {
                r.tasks_error = Some("the service was not created, so it has no tasks".into());
                continue;
            };
            match self
                .settings
                .retry
                .read(|| api.stopped_tasks(&cluster, &service, STOPPED_TASKS_SHOWN))
                .await
            {
                Ok(tasks) if tasks.is_empty() => {
                    r.tasks_error = Some(format!("service {service} has no stopped tasks"));
                }
                Ok(tasks) => r.stopped_tasks = tasks,
                Err(e) => r.tasks_error = Some(e.to_string()),
            }
        }
        tracker_failure
    }

    /// Follows a stack until its operation ends, reporting progress. Failed polls are
    /// retried (each call with the retry policy, then whole rounds); after
    /// `follow_attempts` failed rounds, or an error that retrying cannot fix, the operation's
    /// end is unknown (`lost`), never failed: CloudFormation carries on.
    async fn follow(
        &self,
        api: &A,
        name: &str,
        id: &str,
        since: i64,
        total: usize,
    ) -> OperationEnd {
        let retry = self.settings.retry;
        let mut backoff = Backoff::new(self.settings.poll_interval);
        let mut tracker = Tracker::new(name, total);
        let mut failed_rounds = 0u32;
        let mut last_status = "IN_PROGRESS".to_owned();
        loop {
            // Read back only to the newest event seen (events of its millisecond again; the
            // tracker drops what it has seen), not to the operation's start every time.
            let cursor = tracker
                .newest_millis()
                .map_or(since, |newest| since.max(newest - 1));
            let round = async {
                let remote = retry.read(|| api.describe_stack(id)).await?;
                let events = match retry.read(|| api.stack_events(id, cursor)).await {
                    // A stack deleted meanwhile, named rather than by id: no events to read.
                    Err(e) if e.kind == ApiErrorKind::NotFound => Vec::new(),
                    other => other?,
                };
                Ok::<_, ApiError>((remote, events))
            }
            .await;
            let (remote, events) = match round {
                Ok(r) => {
                    failed_rounds = 0;
                    r
                }
                Err(e) => {
                    failed_rounds += 1;
                    if !e.is_transient() || failed_rounds >= self.settings.follow_attempts {
                        return OperationEnd {
                            tracker,
                            status: last_status.clone(),
                            remote: None,
                            lost: Some((last_status, e)),
                        };
                    }
                    self.reporter.line(
                        name,
                        &format!("cannot read the stack's progress ({e}); trying again"),
                    );
                    backoff.wait().await;
                    continue;
                }
            };
            for event in tracker.absorb(events) {
                tracker.apply(&event);
                self.reporter.event(name, &event, &tracker.progress());
            }
            self.reporter.progress(name, &tracker.progress());
            match remote {
                None => {
                    return OperationEnd {
                        tracker,
                        status: "DELETE_COMPLETE".into(),
                        remote: None,
                        lost: None,
                    };
                }
                Some(r) if r.status == "DELETE_COMPLETE" => {
                    return OperationEnd {
                        tracker,
                        status: r.status,
                        remote: None,
                        lost: None,
                    };
                }
                Some(r) if !r.in_progress() => {
                    if let Some(reason) = &r.status_reason {
                        tracker.add_stack_reason(reason);
                    }
                    return OperationEnd {
                        tracker,
                        status: r.status.clone(),
                        remote: Some(r),
                        lost: None,
                    };
                }
                Some(r) => {
                    last_status = r.status;
                    backoff.wait().await;
                }
            }
        }
    }

    async fn wait_change_set(&self, api: &A, id: &str) -> ApiResult<ChangeSet> {
        let mut backoff = Backoff::new(self.settings.poll_interval);
        loop {
            let set = self
                .settings
                .retry
                .read(|| api.describe_change_set(id))
                .await?;
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

    async fn approved(
        &self,
        stack: &str,
        template_diff: &TemplateDiff,
        parameters_change: bool,
        summary: &str,
    ) -> bool {
        let needed = match self.settings.approval {
            Approval::Never => false,
            // A new image tag is a change too.
            Approval::Any => !template_diff.is_empty() || parameters_change,
            Approval::Broadening => template_diff.broadens_access(),
        };
        if !needed || self.settings.yes {
            return true;
        }
        let _guard = self.asking.lock().await;
        let mut answer = false;
        // The progress display steps aside while the question is asked.
        self.reporter
            .suspend(&mut || answer = self.approver.approve(stack, summary));
        answer
    }

    async fn destroy_stack(&self, stack: &PlannedStack) -> Outcome {
        let api = match self.api(stack) {
            Ok(api) => api,
            Err(e) => return failed(&stack.name, e.to_string()),
        };
        let name = stack.name.as_str();
        let retry = self.settings.retry;
        let result = async {
            let Some(remote) = self.describe(&api, name).await? else {
                return Ok(Outcome::NotDeployed);
            };
            if remote.termination_protection {
                return Ok(failed(
                    name,
                    format!(
                        "{name} has termination protection; turn it off first (StackProps::termination_protection: false and deploy, or `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {name}`)"
                    ),
                ));
            }
            // What CloudFormation keeps is decided by the deployed template, not the local one.
            let deployed: Json = if remote.status == "REVIEW_IN_PROGRESS" {
                Json::Null
            } else {
                let text = retry.read(|| api.get_template(name)).await?;
                serde_json::from_str(&text).unwrap_or(Json::Null)
            };
            let since = self.latest_event(&api, &remote.id).await?;
            let total = deployed
                .get("Resources")
                .and_then(Json::as_object)
                .map_or(0, serde_json::Map::len);
            self.reporter.start(name, "destroying", total);
            self.set_active(name, true);
            retry.write(|| api.delete_stack(&remote.id)).await?;
            let end = self.follow(&api, name, &remote.id, since, total).await;
            if let Some((status, error)) = &end.lost {
                return Ok(lost(name, status, error));
            }
            if end.status != "DELETE_COMPLETE" {
                let paths = construct_paths(&deployed);
                let mut failure = self
                    .failure_of(
                        &api,
                        stack,
                        &end,
                        format!("the delete of {name} failed"),
                        &paths,
                    )
                    .await;
                failure.advice = Some(stuck_advice(name, &end.status));
                return Ok(Outcome::Failed(Box::new(failure)));
            }
            Ok(Outcome::Destroyed {
                retained: retained_resources(&deployed),
                changes: end.tracker.counts(),
            })
        }
        .await;
        result.unwrap_or_else(|e: ApiError| call_failed(name, &e))
    }
}

/// Whether two templates differ only in their resources' `Metadata` (construct paths,
/// suppressions): CloudFormation does not update a stack for that alone ("you can't update the
/// Metadata attribute by itself"), so a change set would come back empty, every time.
fn only_resource_metadata_differs(deployed: &str, template: &Json) -> bool {
    let strip = |mut t: Json| {
        if let Some(resources) = t.get_mut("Resources").and_then(Json::as_object_mut) {
            for resource in resources.values_mut() {
                if let Some(resource) = resource.as_object_mut() {
                    resource.remove("Metadata");
                }
            }
        }
        t
    };
    match serde_json::from_str::<Json>(deployed) {
        Ok(old) => strip(old) == strip(template.clone()),
        Err(_) => false,
    }
}

/// The line a stack's progress ends with.
fn finish_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Deployed {
            created, changes, ..
        } => format!(
            "{} ({changes})",
            if *created { "created" } else { "updated" }
        ),
        Outcome::Unchanged { .. } => "no changes".to_owned(),
        Outcome::ChangeSetCreated { id } => format!("change set created, not executed: {id}"),
        Outcome::Destroyed { retained, .. } if retained.is_empty() => "destroyed".to_owned(),
        Outcome::Destroyed { retained, .. } => format!(
            "destroyed; CloudFormation kept {} (delete by hand when no longer needed)",
            retained.join(", ")
        ),
        Outcome::NotDeployed => "not deployed".to_owned(),
        Outcome::Failed(f) => format!(
            "failed: {}",
            f.root_cause().unwrap_or_else(|| f.summary.clone())
        ),
        Outcome::Unknown { status, .. } => format!("unknown: last seen {status}"),
        Outcome::Skipped { reason } => format!("skipped: {reason}"),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_alone_is_not_a_change_cloudformation_applies() {
        let deployed = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}}}});
        let with_path = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}, "Metadata": {"aws:cdk:path": "S/Q"}}}});
        let changed = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 2}, "Metadata": {"aws:cdk:path": "S/Q"}}}});
        let text = deployed.to_string();
        assert!(only_resource_metadata_differs(&text, &with_path));
        assert!(!only_resource_metadata_differs(&text, &changed));
        assert!(!only_resource_metadata_differs("not json", &with_path));
    }
}
