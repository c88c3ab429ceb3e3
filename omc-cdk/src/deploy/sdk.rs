//! [`CloudFormationApi`] on the AWS SDK: one region's CloudFormation and S3 clients, configured
//! from aws-config's standard chain (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, ...).

use std::collections::BTreeMap;

use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, OnStackFailure, Parameter, Tag, TemplateStage,
};

use super::api::{
    ApiError, ApiErrorKind, ApiResult, ChangeSet, ChangeSetRequest, CloudFormationApi, RemoteStack,
    ResourceChange, StackEvent, StackRequest,
};

/// One region's clients.
#[derive(Clone, Debug)]
pub struct SdkApi {
    cloudformation: cfn::Client,
    s3: aws_sdk_s3::Client,
    region: String,
}

impl SdkApi {
    /// Clients for `region` (`None`: the configured region) from a loaded configuration.
    pub fn new(config: &aws_config::SdkConfig, region: Option<&str>) -> SdkApi {
        let region = region
            .map(str::to_owned)
            .or_else(|| config.region().map(ToString::to_string))
            .unwrap_or_default();
        let cloudformation = cfn::Client::from_conf(
            cfn::config::Builder::from(config)
                .region(cfn::config::Region::new(region.clone()))
                .build(),
        );
        let local = config.endpoint_url().is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(config)
                .region(aws_sdk_s3::config::Region::new(region.clone()))
                // Local endpoints (AWS_ENDPOINT_URL) serve buckets by path, not by host name.
                .force_path_style(local)
                .build(),
        );
        SdkApi {
            cloudformation,
            s3,
            region,
        }
    }

    /// Clients for a local endpoint (such as `http://127.0.0.1:4566`) with static test
    /// credentials: for tests and local development, never real AWS.
    pub async fn local(endpoint: &str, region: &str) -> SdkApi {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(cfn::config::Credentials::new(
                "test",
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
}

/// Reduces an SDK error to what the engine acts on.
fn error<E, R>(err: &SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_owned);
    let message = err
        .message()
        .map_or_else(|| DisplayErrorContext(err).to_string(), str::to_owned);
    let text = DisplayErrorContext(err).to_string();
    let kind = match err {
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            ApiErrorKind::Connection
        }
        SdkError::TimeoutError(_) => ApiErrorKind::Connection,
        _ if text.contains("credentials") || text.contains("Credentials") => {
            ApiErrorKind::Credentials
        }
        SdkError::DispatchFailure(_) => ApiErrorKind::Connection,
        _ => match code.as_deref() {
            Some(
                "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "TooManyRequestsException",
            ) => ApiErrorKind::Throttling,
            Some(
                "ExpiredToken"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch"
                | "MissingAuthenticationToken",
            ) => ApiErrorKind::Credentials,
            Some("ChangeSetNotFound" | "ChangeSetNotFoundException" | "NoSuchBucket") => {
                ApiErrorKind::NotFound
            }
            _ if message.contains("does not exist") => ApiErrorKind::NotFound,
            _ if message.contains("No updates are to be performed") => ApiErrorKind::NoUpdates,
            Some(
                "ValidationError" | "InsufficientCapabilitiesException" | "AlreadyExistsException",
            ) => ApiErrorKind::Validation,
            _ => ApiErrorKind::Other,
        },
    };
    let message = match kind {
        ApiErrorKind::Connection => format!(
            "cannot reach the CloudFormation endpoint ({}); check AWS_ENDPOINT_URL, AWS_REGION and the network",
            first_line(&text)
        ),
        ApiErrorKind::Credentials => format!(
            "no usable AWS credentials ({}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            first_line(&message)
        ),
        _ => first_line(&message),
    };
    ApiError {
        kind,
        code,
        message,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

fn parameters(values: &BTreeMap<String, String>) -> Vec<Parameter> {
    values
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
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

impl CloudFormationApi for SdkApi {
    async fn describe_stack(&self, name: &str) -> ApiResult<Option<RemoteStack>> {
        match self
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .stacks()
                .first()
                .map(remote)
                .filter(|s| s.status != "DELETE_COMPLETE")),
            Err(e) => {
                let e = error(&e);
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
            .map_err(|e| error(&e))?;
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
            .send()
            .await
            .map_err(|e| error(&e))?;
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
                .map_err(|e| error(&e))?;
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
            .map_err(|e| error(&e))
    }

    async fn delete_change_set(&self, id: &str) -> ApiResult<()> {
        self.cloudformation
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error(&e))
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
            .enable_termination_protection(request.termination_protection)
            .on_failure(OnStackFailure::Rollback.as_str().into())
            .send()
            .await
            .map_err(|e| error(&e))?;
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
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error(&e))
    }

    async fn delete_stack(&self, name_or_id: &str) -> ApiResult<()> {
        self.cloudformation
            .delete_stack()
            .stack_name(name_or_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error(&e))
    }

    async fn stack_events(&self, name_or_id: &str) -> ApiResult<Vec<StackEvent>> {
        let out = self
            .cloudformation
            .describe_stack_events()
            .stack_name(name_or_id)
            .send()
            .await
            .map_err(|e| error(&e))?;
        Ok(out
            .stack_events()
            .iter()
            .map(|e| StackEvent {
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
            })
            .collect())
    }

    async fn set_termination_protection(&self, name: &str, enabled: bool) -> ApiResult<()> {
        self.cloudformation
            .update_termination_protection()
            .stack_name(name)
            .enable_termination_protection(enabled)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error(&e))
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
            .map_err(|e| error(&e))?;
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
}
