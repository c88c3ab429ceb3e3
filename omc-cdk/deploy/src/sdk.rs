//! [`CloudFormationApi`] on the AWS SDK: one region's CloudFormation, S3, STS and ECS clients,
//! configured from aws-config's standard chain (`AWS_PROFILE`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, ...).
//!
//! One retry layer: the SDK's own retries are turned off here and the engine retries what is
//! safe to retry (with jitter), so a throttled call is never retried by both. Timeouts are
//! set, so an endpoint that does not answer fails in seconds rather than hanging.
//!
//! Errors become one line for people (what failed, against which endpoint or profile, what to
//! do); the SDK's whole error chain is kept in [`ApiError::detail`] for `--verbose`.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, OnStackFailure, Parameter, Tag, TemplateStage,
};

use crate::api::{
    ApiError, ApiErrorKind, ApiResult, ChangeSet, ChangeSetRequest, CloudFormationApi, Identity,
    ParameterValue, RemoteStack, ResourceChange, StackEvent, StackRequest, StoppedContainer,
    StoppedTask,
};
use crate::engine::PlannedStack;

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one attempt of a call may take, answer included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_mins(1);

/// One region's clients.
#[derive(Clone, Debug)]
pub struct SdkApi {
    cloudformation: cfn::Client,
    s3: aws_sdk_s3::Client,
    sts: aws_sdk_sts::Client,
    ecs: aws_sdk_ecs::Client,
    region: String,
    /// The configured endpoint (`AWS_ENDPOINT_URL`), when not AWS's own.
    endpoint: Option<String>,
    /// The profile the credentials come from, when one is named (`AWS_PROFILE`).
    profile: Option<String>,
}

/// The AWS service a call went to, for messages.
#[derive(Clone, Copy, Debug)]
enum Service {
    CloudFormation,
    S3,
    Sts,
    Ecs,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::CloudFormation => "CloudFormation",
            Service::S3 => "S3",
            Service::Sts => "STS",
            Service::Ecs => "ECS",
        }
    }

    fn host(self) -> &'static str {
        match self {
            Service::CloudFormation => "cloudformation",
            Service::S3 => "s3",
            Service::Sts => "sts",
            Service::Ecs => "ecs",
        }
    }
}

impl SdkApi {
    /// Clients for `region` (`None`: the configured region) from a loaded configuration. The
    /// SDK's retries are off (the engine retries) and connect and attempt timeouts are set.
    pub fn new(config: &aws_config::SdkConfig, region: Option<&str>) -> SdkApi {
        let region = region
            .map(str::to_owned)
            .or_else(|| config.region().map(ToString::to_string))
            .unwrap_or_default();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build();
        let cloudformation = cfn::Client::from_conf(
            cfn::config::Builder::from(config)
                .region(cfn::config::Region::new(region.clone()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts.clone())
                .build(),
        );
        let local = config.endpoint_url().is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(config)
                .region(aws_sdk_s3::config::Region::new(region.clone()))
                // Local endpoints (AWS_ENDPOINT_URL) serve buckets by path, not by host name.
                .force_path_style(local)
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .region(aws_sdk_sts::config::Region::new(region.clone()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts.clone())
                .build(),
        );
        let ecs = aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(config)
                .region(aws_sdk_ecs::config::Region::new(region.clone()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(timeouts)
                .build(),
        );
        SdkApi {
            cloudformation,
            s3,
            sts,
            ecs,
            region,
            endpoint: config.endpoint_url().map(str::to_owned),
            profile: std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()),
        }
    }

    /// Clients for a local endpoint (such as `http://127.0.0.1:4566`) with static test
    /// credentials: for tests and local development, never real AWS.
    pub async fn local(endpoint: &str, region: &str) -> SdkApi {
        Self::local_as(endpoint, region, "test").await
    }

    /// Clients for a local endpoint with the access key id `access_key` (LocalStack takes a
    /// 12-digit access key id as the account id, which shows a second account).
    pub async fn local_as(endpoint: &str, region: &str, access_key: &str) -> SdkApi {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(cfn::config::Credentials::new(
                access_key,
                "test",
                None,
                None,
                "omc-cdk-local",
            ))
            .load()
            .await;
        SdkApi::new(&config, Some(region))
    }

    /// The region these clients call.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Where `service` is called: the configured endpoint, or AWS's regional one.
    fn endpoint(&self, service: Service) -> String {
        self.endpoint.clone().unwrap_or_else(|| {
            format!(
                "https://{}.{}.amazonaws.com{}",
                service.host(),
                self.region,
                if self.region.starts_with("cn-") {
                    ".cn"
                } else {
                    ""
                }
            )
        })
    }

    /// `the credentials` or `the credentials of profile "x"`.
    fn credentials(&self) -> String {
        match &self.profile {
            Some(profile) => format!("the credentials of profile {profile:?} (AWS_PROFILE)"),
            None => "the credentials".to_owned(),
        }
    }

    /// Reduces an SDK error of `operation` on `service` to what the engine acts on and one
    /// line for people.
    fn error<E>(
        &self,
        service: Service,
        operation: &str,
        err: &SdkError<E, HttpResponse>,
    ) -> ApiError
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let detail = DisplayErrorContext(err).to_string();
        let code = err.code().map(str::to_owned);
        let service_message = err.message().map(first_line);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let endpoint = self.endpoint(service);
        let name = service.name();
        let root = root_cause(err);
        let lower = detail.to_ascii_lowercase();
        let credentials = credentials_error(err);
        let (kind, message) = match err {
            SdkError::TimeoutError(_) => (
                ApiErrorKind::Connection,
                format!(
                    "{name} at {endpoint} did not answer {operation} in time; check the network, AWS_ENDPOINT_URL and AWS_REGION"
                ),
            ),
            _ if credentials.is_some() || is_missing_credentials(&lower) => (
                ApiErrorKind::Credentials,
                credentials_message(self.profile.as_deref(), credentials, &root),
            ),
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => (
                ApiErrorKind::Connection,
                format!(
                    "cannot reach {name} at {endpoint} ({root}); check AWS_ENDPOINT_URL, AWS_REGION and the network"
                ),
            ),
            SdkError::ConstructionFailure(_) => (
                ApiErrorKind::Other,
                format!("cannot build the {operation} request to {name}: {root}"),
            ),
            _ => {
                let said = service_message.clone().unwrap_or_else(|| root.clone());
                let what = match &code {
                    Some(code) => format!("{code}: {said}"),
                    None => said.clone(),
                };
                let skewed = code.as_deref() == Some("RequestTimeTooSkewed")
                    || (code.as_deref() == Some("SignatureDoesNotMatch")
                        && said.contains("Signature expired"));
                match code.as_deref() {
                    _ if skewed => (
                        ApiErrorKind::Clock,
                        format!(
                            "{name} refused the request's signature because this machine's clock is off ({what}); set the clock right (NTP) and run again"
                        ),
                    ),
                    Some(
                        "Throttling"
                        | "ThrottlingException"
                        | "RequestLimitExceeded"
                        | "TooManyRequestsException"
                        | "SlowDown",
                    ) => (
                        ApiErrorKind::Throttling,
                        format!("{name} at {endpoint} throttled {operation} ({what})"),
                    ),
                    Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired") => (
                        ApiErrorKind::Credentials,
                        format!(
                            "{} have expired ({what}); refresh them (`aws sso login`, or new session credentials) and run again",
                            self.credentials()
                        ),
                    ),
                    Some(
                        "InvalidClientTokenId"
                        | "UnrecognizedClientException"
                        | "SignatureDoesNotMatch"
                        | "MissingAuthenticationToken"
                        | "InvalidAccessKeyId"
                        | "AuthFailure",
                    ) => (
                        ApiErrorKind::Credentials,
                        format!(
                            "{name} at {endpoint} refused {} ({what}); check AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                            self.credentials()
                        ),
                    ),
                    _ if status == Some(429) => (
                        ApiErrorKind::Throttling,
                        format!("{name} at {endpoint} throttled {operation} ({what})"),
                    ),
                    Some("AccessDenied" | "AccessDeniedException") => (
                        ApiErrorKind::Denied,
                        format!(
                            "{name} denied {operation} to {} ({what}); grant the permission or use another role",
                            self.credentials()
                        ),
                    ),
                    Some("ChangeSetNotFound" | "ChangeSetNotFoundException" | "NoSuchBucket") => {
                        (ApiErrorKind::NotFound, said)
                    }
                    _ if said.contains("does not exist") => (ApiErrorKind::NotFound, said),
                    _ if said.contains("No updates are to be performed") => {
                        (ApiErrorKind::NoUpdates, said)
                    }
                    Some(
                        "ValidationError"
                        | "InsufficientCapabilitiesException"
                        | "AlreadyExistsException"
                        | "InvalidChangeSetStatus"
                        | "TokenAlreadyExistsException",
                    ) => (ApiErrorKind::Validation, said),
                    _ if status.is_some_and(|s| s >= 500) => (
                        ApiErrorKind::Unavailable,
                        format!(
                            "{name} at {endpoint} failed {operation} (HTTP {}: {what})",
                            status.unwrap_or_default()
                        ),
                    ),
                    _ => (ApiErrorKind::Other, said),
                }
            }
        };
        ApiError {
            kind,
            code: match kind {
                ApiErrorKind::Validation | ApiErrorKind::NotFound | ApiErrorKind::Other => code,
                _ => None,
            },
            message,
            detail: Some(detail),
        }
    }
}

/// The innermost error of a chain, one line, without the OS error number: `Connection refused`.
fn root_cause(err: &dyn StdError) -> String {
    let mut current: &dyn StdError = err;
    while let Some(source) = current.source() {
        current = source;
    }
    let text = first_line(&current.to_string());
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The credential provider's error in an error's chain: the SDK reports a credential source
/// that failed (an expired SSO session, a refused `AssumeRole`, a broken profile) as a
/// dispatch failure, which is not a network problem.
fn credentials_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a CredentialsError> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// One line for credentials that could not be had, by what the provider said.
fn credentials_message(
    profile: Option<&str>,
    error: Option<&CredentialsError>,
    root: &str,
) -> String {
    let of = profile.map_or_else(String::new, |p| format!(" of profile {p:?} (AWS_PROFILE)"));
    match error {
        None | Some(CredentialsError::CredentialsNotLoaded(_)) => missing_credentials(profile),
        Some(CredentialsError::ProviderTimedOut(_)) => format!(
            "no credential source{of} answered in time ({root}); check the profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ),
        Some(CredentialsError::InvalidConfiguration(_)) => format!(
            "the credentials{of} are not configured properly ({root}); fix the profile in the AWS config file"
        ),
        Some(_) => format!(
            "cannot load the credentials{of} ({root}); for an SSO profile run `aws sso login{}`, otherwise check the profile",
            profile.map_or_else(String::new, |p| format!(" --profile {p}"))
        ),
    }
}

fn is_missing_credentials(lower: &str) -> bool {
    lower.contains("no credentials found in chain")
        || lower.contains("no providers in chain provided credentials")
        || lower.contains("credential provider was not enabled")
        || lower.contains("failed to load credentials")
}

/// One line for credentials that could not be loaded. (The SDK skips a profile that is not
/// defined without saying so, so an unknown `AWS_PROFILE` ends here too.)
fn missing_credentials(profile: Option<&str>) -> String {
    match profile {
        Some(profile) => format!(
            "no AWS credentials from profile {profile:?} (AWS_PROFILE): it is not in the AWS config or credentials file, or holds none; check its name, or run `aws sso login --profile {profile}`"
        ),
        None => "no AWS credentials found (environment, ~/.aws, SSO, container or instance role); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned(),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

fn parameters(values: &BTreeMap<String, ParameterValue>) -> Vec<Parameter> {
    values
        .iter()
        .map(|(k, v)| {
            let builder = Parameter::builder().parameter_key(k);
            match v {
                ParameterValue::Value(value) => builder.parameter_value(value),
                ParameterValue::UsePrevious => builder.use_previous_value(true),
            }
            .build()
        })
        .collect()
}

fn tags(values: &BTreeMap<String, String>) -> Vec<Tag> {
    values
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn capabilities(names: &[String]) -> Vec<Capability> {
    names.iter().map(|c| Capability::from(c.as_str())).collect()
}

fn remote(stack: &cfn::types::Stack) -> RemoteStack {
    RemoteStack {
        id: stack.stack_id().unwrap_or_default().to_owned(),
        name: stack.stack_name().unwrap_or_default().to_owned(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: stack.stack_status_reason().map(str::to_owned),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        tags: stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_owned(),
                    o.output_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        termination_protection: stack.enable_termination_protection().unwrap_or(false),
    }
}

fn event(e: &cfn::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().to_owned(),
        timestamp_millis: e
            .timestamp()
            .and_then(|t| t.to_millis().ok())
            .unwrap_or_default(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: e.resource_type().unwrap_or_default().to_owned(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: e.resource_status_reason().map(str::to_owned),
        physical_id: e
            .physical_resource_id()
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    }
}

/// The most pages of events read for one operation (100 events a page on AWS): a guard
/// against an endpoint that never stops paging.
const MAX_EVENT_PAGES: usize = 200;

impl CloudFormationApi for SdkApi {
    async fn describe_stack(&self, name: &str) -> ApiResult<Option<RemoteStack>> {
        match self
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.stacks().first().map(remote)),
            Err(e) => {
                let e = self.error(Service::CloudFormation, "DescribeStacks", &e);
                if e.kind == ApiErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn get_template(&self, name: &str) -> ApiResult<String> {
        let out = self
            .cloudformation
            .get_template()
            .stack_name(name)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| self.error(Service::CloudFormation, "GetTemplate", &e))?;
        Ok(out.template_body().unwrap_or_default().to_owned())
    }

    async fn create_change_set(&self, request: &ChangeSetRequest) -> ApiResult<String> {
        let stack = &request.stack;
        let out = self
            .cloudformation
            .create_change_set()
            .stack_name(&stack.stack_name)
            .change_set_name(&request.name)
            .change_set_type(if request.create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .description(&request.description)
            .set_template_body(stack.template_body.clone())
            .set_template_url(stack.template_url.clone())
            .set_parameters(Some(parameters(&stack.parameters)))
            .set_tags(Some(tags(&stack.tags)))
            .set_capabilities(Some(capabilities(&stack.capabilities)))
            .set_role_arn(stack.role_arn.clone())
            .send()
            .await
            .map_err(|e| self.error(Service::CloudFormation, "CreateChangeSet", &e))?;
        Ok(out.id().unwrap_or_default().to_owned())
    }

    async fn describe_change_set(&self, id: &str) -> ApiResult<ChangeSet> {
        let mut set = ChangeSet {
            id: id.to_owned(),
            ..ChangeSet::default()
        };
        let mut token: Option<String> = None;
        loop {
            let out = self
                .cloudformation
                .describe_change_set()
                .change_set_name(id)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| self.error(Service::CloudFormation, "DescribeChangeSet", &e))?;
            set.status = out
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            set.status_reason = out.status_reason().map(str::to_owned);
            for change in out.changes() {
                if let Some(r) = change.resource_change() {
                    set.changes.push(ResourceChange {
                        action: r
                            .action()
                            .map(|a| a.as_str().to_owned())
                            .unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: r.resource_type().unwrap_or_default().to_owned(),
                        replacement: r.replacement().map(|x| x.as_str().to_owned()),
                    });
                }
            }
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(set);
            }
        }
    }

    async fn execute_change_set(&self, id: &str) -> ApiResult<()> {
        self.cloudformation
            .execute_change_set()
            .change_set_name(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(Service::CloudFormation, "ExecuteChangeSet", &e))
    }

    async fn delete_change_set(&self, id: &str) -> ApiResult<()> {
        self.cloudformation
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(Service::CloudFormation, "DeleteChangeSet", &e))
    }

    async fn create_stack(&self, request: &StackRequest) -> ApiResult<String> {
        let out = self
            .cloudformation
            .create_stack()
            .stack_name(&request.stack_name)
            .set_template_body(request.template_body.clone())
            .set_template_url(request.template_url.clone())
            .set_parameters(Some(parameters(&request.parameters)))
            .set_tags(Some(tags(&request.tags)))
            .set_capabilities(Some(capabilities(&request.capabilities)))
            .set_role_arn(request.role_arn.clone())
            .enable_termination_protection(request.termination_protection)
            .on_failure(OnStackFailure::Rollback.as_str().into())
            .send()
            .await
            .map_err(|e| self.error(Service::CloudFormation, "CreateStack", &e))?;
        Ok(out.stack_id().unwrap_or_default().to_owned())
    }

    async fn update_stack(&self, request: &StackRequest) -> ApiResult<()> {
        self.cloudformation
            .update_stack()
            .stack_name(&request.stack_name)
            .set_template_body(request.template_body.clone())
            .set_template_url(request.template_url.clone())
            .set_parameters(Some(parameters(&request.parameters)))
            .set_tags(Some(tags(&request.tags)))
            .set_capabilities(Some(capabilities(&request.capabilities)))
            .set_role_arn(request.role_arn.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(Service::CloudFormation, "UpdateStack", &e))
    }

    async fn delete_stack(&self, name_or_id: &str) -> ApiResult<()> {
        self.cloudformation
            .delete_stack()
            .stack_name(name_or_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(Service::CloudFormation, "DeleteStack", &e))
    }

    async fn last_event_millis(&self, name_or_id: &str) -> ApiResult<Option<i64>> {
        let out = self
            .cloudformation
            .describe_stack_events()
            .stack_name(name_or_id)
            .send()
            .await
            .map_err(|e| self.error(Service::CloudFormation, "DescribeStackEvents", &e))?;
        Ok(out
            .stack_events()
            .iter()
            .filter_map(|e| e.timestamp().and_then(|t| t.to_millis().ok()))
            .max())
    }

    async fn stack_events(
        &self,
        name_or_id: &str,
        since_millis: i64,
    ) -> ApiResult<Vec<StackEvent>> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_EVENT_PAGES {
            let out = self
                .cloudformation
                .describe_stack_events()
                .stack_name(name_or_id)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| self.error(Service::CloudFormation, "DescribeStackEvents", &e))?;
            let mut reached = false;
            for e in out.stack_events() {
                let e = event(e);
                if e.timestamp_millis <= since_millis {
                    reached = true;
                } else {
                    events.push(e);
                }
            }
            token = out.next_token().map(str::to_owned);
            if reached || token.is_none() {
                break;
            }
        }
        Ok(events)
    }

    async fn set_termination_protection(&self, name: &str, enabled: bool) -> ApiResult<()> {
        self.cloudformation
            .update_termination_protection()
            .stack_name(name)
            .enable_termination_protection(enabled)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(Service::CloudFormation, "UpdateTerminationProtection", &e))
    }

    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> ApiResult<String> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(
                body.as_bytes().to_vec(),
            ))
            .send()
            .await
            .map_err(|e| self.error(Service::S3, "PutObject", &e))?;
        // The regional path-style URL, as AWS CDK writes it; local endpoints read it from
        // their own S3.
        Ok(format!(
            "https://s3.{}.{}/{bucket}/{key}",
            self.region,
            if self.region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            }
        ))
    }

    async fn caller_identity(&self) -> ApiResult<Identity> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.error(Service::Sts, "GetCallerIdentity", &e))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
        })
    }

    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<StoppedTask>> {
        let listed = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
            .send()
            .await
            .map_err(|e| self.error(Service::Ecs, "ListTasks", &e))?;
        let arns = listed.task_arns();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        // DescribeTasks takes up to 100 tasks; ListTasks pages hold 100.
        let described = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns.iter().take(100).cloned().collect()))
            .send()
            .await
            .map_err(|e| self.error(Service::Ecs, "DescribeTasks", &e))?;
        let mut tasks: Vec<StoppedTask> = described
            .tasks()
            .iter()
            .map(|t| StoppedTask {
                arn: t.task_arn().unwrap_or_default().to_owned(),
                stopped_at_millis: t
                    .stopped_at()
                    .and_then(|s| s.to_millis().ok())
                    .unwrap_or_default(),
                stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
                stopped_reason: t.stopped_reason().map(str::to_owned),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| StoppedContainer {
                        name: c.name().unwrap_or_default().to_owned(),
                        exit_code: c.exit_code(),
                        reason: c.reason().map(str::to_owned),
                        health: c.health_status().map(|h| h.as_str().to_owned()),
                    })
                    .collect(),
            })
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at_millis));
        tasks.truncate(limit);
        Ok(tasks)
    }
}

// ---- clients from the environment ----

/// Why the AWS clients cannot be made.
fn no_region() -> String {
    "no AWS region: set AWS_REGION (or a profile with a region), or give the stacks an Environment with a region".into()
}

/// SDK clients for every region the stacks name (`""`: the configured region), from the
/// standard configuration chain (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
pub async fn apis_from_environment(
    stacks: &[PlannedStack],
) -> Result<BTreeMap<String, Arc<SdkApi>>, String> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let mut apis = BTreeMap::new();
    let regions: BTreeSet<Option<String>> = stacks.iter().map(|s| s.region.clone()).collect();
    for region in regions {
        if region.is_none() && config.region().is_none() {
            return Err(no_region());
        }
        let api = SdkApi::new(&config, region.as_deref());
        apis.insert(region.unwrap_or_default(), Arc::new(api));
    }
    if apis.is_empty() {
        if config.region().is_none() {
            return Err(no_region());
        }
        apis.insert(String::new(), Arc::new(SdkApi::new(&config, None)));
    }
    Ok(apis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_cause_drops_the_os_error_number() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        assert_eq!(root_cause(&io), "Connection refused");
    }

    #[test]
    fn missing_credentials_are_recognised_in_the_chain_text() {
        assert!(is_missing_credentials(
            "dispatch failure: other: the credential provider was not enabled: no credentials found in chain. attempted:"
        ));
        assert!(!is_missing_credentials(
            "dispatch failure: io error: connection refused"
        ));
    }
}
