//! The CloudFormation (and S3) calls the deploy engine makes, as a trait: the AWS SDK
//! implements it for real endpoints ([`crate::sdk::SdkApi`]), and tests script it
//! ([`crate::fake::FakeApi`]) for behaviour no local endpoint shows.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

/// A deployed stack, as `DescribeStacks` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteStack {
    /// The stack id (an ARN); stays valid after deletion.
    pub id: String,
    /// The stack name.
    pub name: String,
    /// Such as `CREATE_COMPLETE` or `UPDATE_ROLLBACK_FAILED`.
    pub status: String,
    /// Why it is in that status, when CloudFormation says.
    pub status_reason: Option<String>,
    /// Parameter values (`****` for `NoEcho` parameters).
    pub parameters: BTreeMap<String, String>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Outputs: key to value.
    pub outputs: BTreeMap<String, String>,
    /// Whether deletion is refused.
    pub termination_protection: bool,
}

impl RemoteStack {
    /// Whether an operation is running (`*_IN_PROGRESS`).
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

/// How a change set or a direct operation is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackRequest {
    /// The stack's name.
    pub stack_name: String,
    /// The template body, when it fits inline.
    pub template_body: Option<String>,
    /// Where the template was uploaded, when it does not.
    pub template_url: Option<String>,
    /// Parameter values: given, or the deployed value kept.
    pub parameters: BTreeMap<String, ParameterValue>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// `CAPABILITY_IAM`, `CAPABILITY_NAMED_IAM`, `CAPABILITY_AUTO_EXPAND`.
    pub capabilities: Vec<String>,
    /// Termination protection (applied at creation by direct deploys).
    pub termination_protection: bool,
    /// The CloudFormation service role the stack's resources are changed with (`RoleARN`).
    pub role_arn: Option<String>,
}

/// The value of a parameter in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterValue {
    /// This value.
    Value(String),
    /// The value deployed now (`UsePreviousValue`): what a redeploy sends for a parameter it
    /// was not given, so it never reverts one to the template default.
    UsePrevious,
}

/// Who the credentials belong to (`sts:GetCallerIdentity`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN (a user, or an assumed role's session).
    pub arn: String,
}

/// A stopped ECS task, as `DescribeTasks` reports it: why it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoppedTask {
    /// The task's ARN.
    pub arn: String,
    /// When it stopped, in milliseconds since the Unix epoch.
    pub stopped_at_millis: i64,
    /// Such as `TaskFailedToStart` or `EssentialContainerExited`.
    pub stop_code: Option<String>,
    /// Such as `Essential container in task exited` or
    /// `CannotPullContainerError: pull image manifest has been retried 5 time(s)`.
    pub stopped_reason: Option<String>,
    /// Its containers.
    pub containers: Vec<StoppedContainer>,
}

/// A container of a stopped task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoppedContainer {
    /// The container's name.
    pub name: String,
    /// Its exit code, when it ran.
    pub exit_code: Option<i32>,
    /// Why it stopped, when ECS says (image pull failures, secrets it could not read).
    pub reason: Option<String>,
    /// `ERROR`, `HEALTHY`, `UNHEALTHY`, `UNKNOWN`.
    pub health: Option<String>,
}

/// A change set to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSetRequest {
    /// The stack and its template.
    pub stack: StackRequest,
    /// The change set's name.
    pub name: String,
    /// `CREATE` for a new stack, `UPDATE` for an existing one.
    pub create: bool,
    /// A description.
    pub description: String,
}

/// One resource change of a change set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import` or `Dynamic`.
    pub action: String,
    /// The logical id.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// `True`, `False` or `Conditional` for modifications, when CloudFormation says.
    pub replacement: Option<String>,
}

/// A created (or failed) change set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Its id (an ARN).
    pub id: String,
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`, ...
    pub status: String,
    /// Why it failed.
    pub status_reason: Option<String>,
    /// Its resource changes.
    pub changes: Vec<ResourceChange>,
}

impl ChangeSet {
    /// Whether CloudFormation found nothing to change.
    pub fn is_empty_failure(&self) -> bool {
        self.status == "FAILED"
            && self.status_reason.as_deref().is_some_and(|r| {
                r.contains("didn't contain changes")
                    || r.contains("No updates are to be performed")
                    || r.contains("does not contain changes")
            })
    }
}

/// One stack event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackEvent {
    /// The event id (unique within the stack).
    pub id: String,
    /// When, as milliseconds since the Unix epoch.
    pub timestamp_millis: i64,
    /// The resource's logical id (the stack's name for stack events).
    pub logical_id: String,
    /// The resource type (`AWS::CloudFormation::Stack` for the stack itself).
    pub resource_type: String,
    /// Such as `CREATE_IN_PROGRESS`, `CREATE_FAILED`.
    pub status: String,
    /// The status reason.
    pub reason: Option<String>,
    /// The physical id (an ARN or a name), once the resource exists.
    pub physical_id: Option<String>,
}

impl StackEvent {
    /// Whether the event is about the stack itself rather than one of its resources.
    pub fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }
}

/// What went wrong with a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// Throttled: safe to retry later.
    Throttling,
    /// The endpoint could not be reached or the connection dropped: retried only for calls
    /// that change nothing.
    Connection,
    /// No credentials, or the endpoint refused them.
    Credentials,
    /// The caller may not do this (`AccessDenied`).
    Denied,
    /// This machine's clock is too far off for requests to be signed.
    Clock,
    /// The stack (or change set) does not exist.
    NotFound,
    /// An update with nothing to update (direct deploys).
    NoUpdates,
    /// The service failed (HTTP 5xx): retried only for calls that change nothing.
    Unavailable,
    /// The endpoint refused the request as invalid.
    Validation,
    /// Anything else.
    Other,
}

/// An error from the endpoint, reduced to what the engine acts on and one line for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// What kind.
    pub kind: ApiErrorKind,
    /// The service's error code, such as `ValidationError`.
    pub code: Option<String>,
    /// The message, one line: what failed, against which endpoint or profile, what to do.
    pub message: String,
    /// Everything the client knows about the error (the SDK's error chain), for `--verbose`.
    pub detail: Option<String>,
}

impl ApiError {
    /// An error of `kind`.
    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            code: None,
            message: message.into(),
            detail: None,
        }
    }

    /// The same error with its service error code.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> ApiError {
        self.code = Some(code.into());
        self
    }

    /// Whether repeating a call that changes nothing may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ApiErrorKind::Throttling | ApiErrorKind::Connection | ApiErrorKind::Unavailable
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, self.kind) {
            // Those messages already say what happened in words.
            (
                Some(code),
                ApiErrorKind::Validation | ApiErrorKind::NotFound | ApiErrorKind::Other,
            ) => write!(f, "{code}: {}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for ApiError {}

/// The result of a call.
pub type ApiResult<T> = Result<T, ApiError>;

/// The calls the engine makes to one region's CloudFormation and S3.
pub trait CloudFormationApi: Send + Sync + 'static {
    /// The stack, or `None` when it does not exist (`DescribeStacks`).
    fn describe_stack(
        &self,
        name: &str,
    ) -> impl Future<Output = ApiResult<Option<RemoteStack>>> + Send;

    /// The deployed template, as it was given (`GetTemplate`, stage `Original`).
    fn get_template(&self, name: &str) -> impl Future<Output = ApiResult<String>> + Send;

    /// Creates a change set; returns its id (`CreateChangeSet`).
    fn create_change_set(
        &self,
        request: &ChangeSetRequest,
    ) -> impl Future<Output = ApiResult<String>> + Send;

    /// The change set with all its changes (`DescribeChangeSet`, every page).
    fn describe_change_set(&self, id: &str) -> impl Future<Output = ApiResult<ChangeSet>> + Send;

    /// Executes a change set (`ExecuteChangeSet`).
    fn execute_change_set(&self, id: &str) -> impl Future<Output = ApiResult<()>> + Send;

    /// Deletes a change set (`DeleteChangeSet`).
    fn delete_change_set(&self, id: &str) -> impl Future<Output = ApiResult<()>> + Send;

    /// Creates a stack directly; returns its id (`CreateStack`).
    fn create_stack(
        &self,
        request: &StackRequest,
    ) -> impl Future<Output = ApiResult<String>> + Send;

    /// Updates a stack directly (`UpdateStack`); [`ApiErrorKind::NoUpdates`] when nothing
    /// changes.
    fn update_stack(&self, request: &StackRequest) -> impl Future<Output = ApiResult<()>> + Send;

    /// Deletes a stack (`DeleteStack`).
    fn delete_stack(&self, name_or_id: &str) -> impl Future<Output = ApiResult<()>> + Send;

    /// The time of the stack's newest event, in milliseconds since the Unix epoch (`None`
    /// for a stack without events): where the events of the next operation start.
    fn last_event_millis(
        &self,
        name_or_id: &str,
    ) -> impl Future<Output = ApiResult<Option<i64>>> + Send;

    /// The stack's events newer than `since_millis`, newest first: every page of
    /// `DescribeStackEvents` until one reaches an event at or before that time.
    fn stack_events(
        &self,
        name_or_id: &str,
        since_millis: i64,
    ) -> impl Future<Output = ApiResult<Vec<StackEvent>>> + Send;

    /// Turns termination protection on or off (`UpdateTerminationProtection`).
    fn set_termination_protection(
        &self,
        name: &str,
        enabled: bool,
    ) -> impl Future<Output = ApiResult<()>> + Send;

    /// Uploads a template to S3 (`PutObject`) and returns the URL CloudFormation reads it
    /// from.
    fn upload_template(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> impl Future<Output = ApiResult<String>> + Send;

    /// The account and identity of the credentials (`sts:GetCallerIdentity`).
    fn caller_identity(&self) -> impl Future<Output = ApiResult<Identity>> + Send;

    /// The most recently stopped tasks of an ECS service, newest first, at most `limit`
    /// (`ecs:ListTasks` with `desiredStatus=STOPPED`, then `ecs:DescribeTasks`).
    fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> impl Future<Output = ApiResult<Vec<StoppedTask>>> + Send;
}

/// Counts the calls made through another API: for tests and for measuring how many calls a
/// deploy makes.
#[derive(Debug, Default)]
pub struct Counting<A> {
    inner: A,
    calls: std::sync::Mutex<Vec<(String, String)>>,
}

impl<A> Counting<A> {
    /// Counts the calls to `inner`.
    pub fn new(inner: A) -> Counting<A> {
        Counting {
            inner,
            calls: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn note(&self, call: &str, subject: &str) {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((call.to_owned(), subject.to_owned()));
    }

    /// Every call so far: (call, stack name or id, change set id, or S3 key).
    pub fn calls(&self) -> Vec<(String, String)> {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Forgets the calls so far.
    pub fn reset(&self) {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

impl<A: CloudFormationApi> CloudFormationApi for Counting<A> {
    async fn describe_stack(&self, name: &str) -> ApiResult<Option<RemoteStack>> {
        self.note("describe_stack", name);
        self.inner.describe_stack(name).await
    }

    async fn get_template(&self, name: &str) -> ApiResult<String> {
        self.note("get_template", name);
        self.inner.get_template(name).await
    }

    async fn create_change_set(&self, request: &ChangeSetRequest) -> ApiResult<String> {
        self.note("create_change_set", &request.stack.stack_name);
        self.inner.create_change_set(request).await
    }

    async fn describe_change_set(&self, id: &str) -> ApiResult<ChangeSet> {
        self.note("describe_change_set", id);
        self.inner.describe_change_set(id).await
    }

    async fn execute_change_set(&self, id: &str) -> ApiResult<()> {
        self.note("execute_change_set", id);
        self.inner.execute_change_set(id).await
    }

    async fn delete_change_set(&self, id: &str) -> ApiResult<()> {
        self.note("delete_change_set", id);
        self.inner.delete_change_set(id).await
    }

    async fn create_stack(&self, request: &StackRequest) -> ApiResult<String> {
        self.note("create_stack", &request.stack_name);
        self.inner.create_stack(request).await
    }

    async fn update_stack(&self, request: &StackRequest) -> ApiResult<()> {
        self.note("update_stack", &request.stack_name);
        self.inner.update_stack(request).await
    }

    async fn delete_stack(&self, name_or_id: &str) -> ApiResult<()> {
        self.note("delete_stack", name_or_id);
        self.inner.delete_stack(name_or_id).await
    }

    async fn last_event_millis(&self, name_or_id: &str) -> ApiResult<Option<i64>> {
        self.note("last_event_millis", name_or_id);
        self.inner.last_event_millis(name_or_id).await
    }

    async fn stack_events(
        &self,
        name_or_id: &str,
        since_millis: i64,
    ) -> ApiResult<Vec<StackEvent>> {
        self.note("stack_events", name_or_id);
        self.inner.stack_events(name_or_id, since_millis).await
    }

    async fn set_termination_protection(&self, name: &str, enabled: bool) -> ApiResult<()> {
        self.note("set_termination_protection", name);
        self.inner.set_termination_protection(name, enabled).await
    }

    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> ApiResult<String> {
        self.note("upload_template", key);
        self.inner.upload_template(bucket, key, body).await
    }

    async fn caller_identity(&self) -> ApiResult<Identity> {
        self.note("caller_identity", "");
        self.inner.caller_identity().await
    }

    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<StoppedTask>> {
        self.note("stopped_tasks", service);
        self.inner.stopped_tasks(cluster, service, limit).await
    }
}
