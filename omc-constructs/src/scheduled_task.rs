//! Fargate tasks run on a schedule by EventBridge Scheduler or an EventBridge rule.

use omc_cdk::template::schedule::{ScheduleError, ScheduleExpression};
use omc_cdk::{Result, Scope, TypedResource, Value};
use omc_cfn::{events, scheduler, sqs};

use crate::cluster::Cluster;
use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::log_group::Retention;
use crate::monitoring::{AlarmSpec, Monitoring, above};
use crate::security_group::SecurityGroup;
use crate::task::{self, ContainerProps, CpuArchitecture, EfsVolume, TaskSpec};
use crate::util::{self, node};
use crate::vpc::SubnetKind;

/// When a task runs: an AWS cron or rate expression, checked when the task is created by the
/// parser the cost estimate counts runs with ([`omc_cdk::template::schedule`]), so every
/// schedule a task accepts is priced. The errors are [`ScheduleError`]s: which field, the bad
/// value and what is valid.
///
/// ```
/// use omc_cdk::template::schedule::{CronField, ScheduleError};
/// use omc_constructs::Schedule;
/// assert_eq!(Schedule::cron("0 3 * * ? *").expression(), "cron(0 3 * * ? *)");
/// assert_eq!(Schedule::rate(15, "minutes").expression(), "rate(15 minutes)");
/// // AWS's L, W and #: the last weekday of the month, the second Tuesday.
/// assert!(Schedule::cron("0 9 LW * ? *").check().is_ok());
/// assert!(Schedule::cron("0 9 ? * 3#2 *").check().is_ok());
/// assert!(matches!(
///     Schedule::cron("0 3 * *").check(),
///     Err(ScheduleError::FieldCount { found: 4, .. })
/// ));
/// let err = Schedule::cron("0 3 1 * MON *").check().unwrap_err();
/// assert!(matches!(err, ScheduleError::BothDaysGiven { .. }));
/// assert!(err.to_string().contains("one of them must be \"?\""));
/// assert!(matches!(
///     Schedule::cron("0 3 ? * 8 *").check(),
///     Err(ScheduleError::Field { field: CronField::DayOfWeek, .. })
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// `cron(minutes hours day-of-month month day-of-week year)`.
    Cron(String),
    /// `rate(value unit)`.
    Rate(u32, String),
}

impl Schedule {
    /// A cron schedule from its six fields, such as `"0 3 * * ? *"` (03:00 every day).
    pub fn cron(fields: impl Into<String>) -> Schedule {
        Schedule::Cron(fields.into())
    }

    /// A rate such as `rate(1, "hour")` or `rate(15, "minutes")`.
    pub fn rate(value: u32, unit: impl Into<String>) -> Schedule {
        Schedule::Rate(value, unit.into())
    }

    /// The expression AWS takes.
    pub fn expression(&self) -> String {
        match self {
            Schedule::Cron(fields) => format!("cron({fields})"),
            Schedule::Rate(value, unit) => format!("rate({value} {unit})"),
        }
    }

    /// The expression, parsed: what it runs on and how often
    /// ([`ScheduleExpression::runs_per_month`]).
    pub fn parse(&self) -> std::result::Result<ScheduleExpression, ScheduleError> {
        ScheduleExpression::parse(&self.expression())
    }

    /// Checks the expression; the error says which field, the bad value and what is valid.
    pub fn check(&self) -> std::result::Result<(), ScheduleError> {
        self.parse().map(|_| ())
    }
}

/// What starts the task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleTrigger {
    /// EventBridge Scheduler, which evaluates cron expressions in a time zone (IANA name such
    /// as `Europe/Berlin`, or `UTC`) and retries failed starts.
    Scheduler {
        /// The time zone.
        time_zone: String,
    },
    /// A scheduled EventBridge rule (UTC only).
    EventBridgeRule,
}

/// Why the dead-letter queue uses SSE-SQS rather than a KMS key, when no key is given.
const DEAD_LETTERS_SSE_SQS: &str = "EventBridge cannot deliver to a queue under the AWS managed key aws/sqs, so the dead-letter queue is encrypted with SSE-SQS; it holds only the metadata of the runs that could not be started";

/// How long the dead-letter queue keeps a run that could not be started: 14 days, SQS's most.
const DEAD_LETTER_RETENTION_SECONDS: i64 = 14 * 24 * 3600;

/// The ECS task group of a scheduled task's runs: `scheduled-` and the construct path's letters
/// and digits (ECS allows up to 255 characters).
fn task_group(path: &str) -> String {
    let mut group = format!("scheduled-{}", util::alnum(path));
    group.truncate(255);
    group
}

/// How a scheduled task is created.
#[derive(Clone, Debug)]
pub struct ScheduledTaskProps<'a> {
    /// The cluster.
    pub cluster: &'a Cluster,
    /// When it runs.
    pub schedule: Schedule,
    /// The containers.
    pub containers: Vec<ContainerProps>,
    /// CPU units. Default: 256.
    pub cpu: u32,
    /// Memory in MiB. Default: 512.
    pub memory_mib: u32,
    /// Where the task runs. Default: [`SubnetKind::PrivateWithEgress`].
    pub subnets: SubnetKind,
    /// What starts it. Default: EventBridge Scheduler in UTC.
    pub trigger: ScheduleTrigger,
    /// CPU architecture. Default: x86-64.
    pub architecture: CpuArchitecture,
    /// EFS access points mounted into every container. Default: none.
    pub volumes: Vec<EfsVolume<'a>>,
    /// How long container logs are kept. Default: 30 days.
    pub log_retention: Retention,
    /// Encrypts the container logs with this customer-managed key (its policy is extended for
    /// CloudWatch Logs, once however many log groups use it). Default: none: CloudWatch Logs'
    /// own encryption, which the `logs-kms-key` check reports (an error in production).
    pub log_key: Option<&'a crate::Key>,
    /// Whether the schedule is active. Default: `true`.
    pub enabled: bool,
    /// HTTPS out to any address (`0.0.0.0/0:443`), which pulling from ECR, reading Secrets
    /// Manager, writing CloudWatch Logs and calling AWS APIs need unless the subnets reach them
    /// through VPC endpoints. Turn off to allow only what `connections()` adds. Default: `true`.
    pub https_egress: bool,
    /// An encrypted SQS dead-letter queue for runs the scheduler could not start after its
    /// retries (2 retries within an hour): the run is kept for 14 days instead of lost, and
    /// `add_alarms` alarms on it. Default: `true`.
    pub dead_letter_queue: bool,
    /// Encrypts the dead-letter queue with this customer-managed key instead of SSE-SQS
    /// (requires `dead_letter_queue`): the scheduler's role may generate data keys with it and
    /// decrypt (with [`ScheduleTrigger::Scheduler`]), or the key policy lets
    /// `events.amazonaws.com` do so for the EventBridge rules of the account and region (with
    /// [`ScheduleTrigger::EventBridgeRule`]; not this rule alone, which would make the key, the
    /// rule and the queue depend on each other). Readers of the queue need `kms:Decrypt` too.
    /// Default: none: SSE-SQS (EventBridge cannot deliver to a queue under the AWS managed key
    /// `aws/sqs`), with the `sqs-kms-key` check suppressed on the queue, which holds only the
    /// failed runs' event metadata.
    pub dead_letter_key: Option<&'a crate::Key>,
}

impl<'a> ScheduledTaskProps<'a> {
    /// A small task of `containers` in `cluster`, run on `schedule`.
    pub fn new(
        cluster: &'a Cluster,
        schedule: Schedule,
        containers: Vec<ContainerProps>,
    ) -> ScheduledTaskProps<'a> {
        ScheduledTaskProps {
            cluster,
            schedule,
            containers,
            cpu: 256,
            memory_mib: 512,
            subnets: SubnetKind::PrivateWithEgress,
            trigger: ScheduleTrigger::Scheduler {
                time_zone: "UTC".into(),
            },
            architecture: CpuArchitecture::X86_64,
            volumes: Vec::new(),
            log_retention: Retention::Days(30),
            log_key: None,
            enabled: true,
            https_egress: true,
            dead_letter_queue: true,
            dead_letter_key: None,
        }
    }
}

/// A Fargate task started on a schedule.
///
/// Defines the task definition (as [`crate::FargateService`] does), a security group with HTTPS
/// out, a role the scheduler assumes that may run exactly this task definition in this cluster
/// and pass exactly its two roles, and the schedule or rule. The dead-letter queue is encrypted
/// with SSE-SQS, the `sqs-kms-key` check suppressed on it with the reason (EventBridge cannot
/// deliver to a queue under `aws/sqs`; it holds only the failed runs' metadata), unless
/// [`ScheduledTaskProps::dead_letter_key`] gives a customer-managed key.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::*;
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Jobs", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
/// let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;
/// let job = ContainerProps::new("collect", ContainerImage::registry("public.ecr.aws/docker/library/busybox:1.36"));
/// ScheduledTask::new(&stack, "Nightly", ScheduledTaskProps::new(&cluster, Schedule::cron("0 3 * * ? *"), vec![job]))?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::Scheduler::Schedule", json!({
///     "ScheduleExpression": "cron(0 3 * * ? *)", "ScheduleExpressionTimezone": "UTC"
/// }))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ScheduledTask {
    task_role: Role,
    execution_role: Role,
    log_group: crate::LogGroup,
    security_group: SecurityGroup,
    task_definition_arn: Value<String>,
    cluster_arn: Value<String>,
    group: String,
    /// The dead-letter queue's ARN and name.
    dead_letter_queue: Option<(Value<String>, Value<String>)>,
    /// Where the construct created its resources.
    scope: Scope,
}

impl ScheduledTask {
    /// Creates a scheduled task.
    pub fn new(scope: &Scope, id: &str, props: ScheduledTaskProps<'_>) -> Result<ScheduledTask> {
        let path = util::path(scope, id);
        props
            .schedule
            .check()
            .map_err(|source| omc_cdk::Error::InvalidSchedule {
                path: path.clone(),
                expression: props.schedule.expression(),
                source,
            })?;
        if let ScheduleTrigger::Scheduler { time_zone } = &props.trigger {
            let ok = time_zone == "UTC"
                || (time_zone.contains('/')
                    && time_zone
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b)));
            if !ok {
                return Err(util::invalid_prop(
                    &path,
                    "trigger.time_zone",
                    time_zone,
                    format!(
                        "time zone {time_zone:?} is not an IANA time zone such as \"Europe/Berlin\" or \"UTC\""
                    ),
                ));
            }
        }
        if let (Some(key), false) = (props.dead_letter_key, props.dead_letter_queue) {
            let key_path = omc_cdk::Construct::path(key);
            return Err(util::invalid_prop(
                &path,
                "dead_letter_key",
                &key_path,
                format!(
                    "dead_letter_key {key_path} encrypts the dead-letter queue, and dead_letter_queue is false; remove the key, or set dead_letter_queue to true"
                ),
            ));
        }
        let vpc = props.cluster.vpc().clone();
        let subnets = vpc
            .require(
                props.subnets,
                ("subnets", format!("{:?}", props.subnets)),
                &path,
            )?
            .clone();
        let spec = TaskSpec {
            cpu: props.cpu,
            memory_mib: props.memory_mib,
            containers: &props.containers,
            volumes: &props.volumes,
            log_retention: props.log_retention,
            log_key: props.log_key,
            architecture: props.architecture,
            https_egress: props.https_egress,
        };
        let task::TaskParts {
            scope,
            task,
            security_group,
            start_after,
        } = task::new_task(scope, id, &path, &vpc, props.subnets, &spec)?;
        let dead_letters = if props.dead_letter_queue {
            let queue = scope.add(
                "DeadLetterQueue",
                sqs::Queue {
                    sqs_managed_sse_enabled: props.dead_letter_key.is_none().then(|| true.into()),
                    kms_master_key_id: props.dead_letter_key.map(crate::Key::key_arn),
                    message_retention_period: Some(DEAD_LETTER_RETENTION_SECONDS.into()),
                    ..sqs::Queue::new()
                },
            )?;
            if props.dead_letter_key.is_none() {
                queue.suppress("sqs-kms-key", DEAD_LETTERS_SSE_SQS)?;
            }
            Some(queue)
        } else {
            None
        };
        // The task group of every run: the failed-run rule of `add_alarms` matches it.
        let group = task_group(&path);
        let service = match props.trigger {
            ScheduleTrigger::Scheduler { .. } => "scheduler.amazonaws.com",
            ScheduleTrigger::EventBridgeRule => "events.amazonaws.com",
        };
        let role = Role::new(
            &scope,
            "ScheduleRole",
            RoleProps {
                description: Some(format!("Starts {path}")),
                statements: vec![
                    PolicyStatement::allow(["ecs:RunTask"], [task.definition.reference()])
                        .with_condition(omc_cdk::Node::map([(
                            "ArnEquals",
                            omc_cdk::Node::map([(
                                "ecs:cluster",
                                node(props.cluster.cluster_arn()),
                            )]),
                        )])),
                    PolicyStatement::allow(
                        ["iam:PassRole"],
                        [task.execution_role.role_arn(), task.task_role.role_arn()],
                    )
                    .with_condition(omc_cdk::Node::map([(
                        "StringEquals",
                        omc_cdk::Node::map([(
                            "iam:PassedToService",
                            node("ecs-tasks.amazonaws.com"),
                        )]),
                    )])),
                ],
                ..RoleProps::new(Principal::ServiceForAccount(service.into()))
            },
        )?;
        if let (Some(queue), ScheduleTrigger::Scheduler { .. }) = (&dead_letters, &props.trigger) {
            // The scheduler sends undeliverable runs with the schedule's role.
            role.add_to_policy(PolicyStatement::allow(
                ["sqs:SendMessage"],
                [queue.attr_arn()],
            ));
            if let Some(key) = props.dead_letter_key {
                role.add_to_policy(PolicyStatement::allow(
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [key.key_arn()],
                ));
            }
        }
        let security_groups: omc_cdk::List<String> =
            vec![security_group.security_group_id().value()].into();
        let trigger = match &props.trigger {
            ScheduleTrigger::Scheduler { time_zone } => {
                let handle = scope.add(
                    "Schedule",
                    scheduler::Schedule {
                        description: Some(format!("Runs {path}").into()),
                        schedule_expression_timezone: Some(time_zone.as_str().into()),
                        state: Some(if props.enabled { "ENABLED" } else { "DISABLED" }.into()),
                        ..scheduler::Schedule::new(
                            scheduler::schedule::FlexibleTimeWindow::new("OFF"),
                            props.schedule.expression(),
                            scheduler::schedule::Target {
                                ecs_parameters: Some(
                                    scheduler::schedule::EcsParameters {
                                        launch_type: Some("FARGATE".into()),
                                        platform_version: Some("LATEST".into()),
                                        task_count: Some(1.into()),
                                        group: Some(group.clone().into()),
                                        network_configuration: Some(
                                            scheduler::schedule::NetworkConfiguration {
                                                awsvpc_configuration: Some(
                                                    scheduler::schedule::AwsVpcConfiguration {
                                                        assign_public_ip: Some("DISABLED".into()),
                                                        security_groups: Some(security_groups.clone()),
                                                        ..scheduler::schedule::AwsVpcConfiguration::new(subnets.ids())
                                                    }
                                                    .into(),
                                                ),
                                            }
                                            .into(),
                                        ),
                                        ..scheduler::schedule::EcsParameters::new(task.definition.reference())
                                    }
                                    .into(),
                                ),
                                retry_policy: Some(
                                    scheduler::schedule::RetryPolicy {
                                        maximum_retry_attempts: Some(2.into()),
                                        maximum_event_age_in_seconds: Some(3600.into()),
                                    }
                                    .into(),
                                ),
                                dead_letter_config: dead_letters.as_ref().map(|queue| {
                                    scheduler::schedule::DeadLetterConfig {
                                        arn: Some(queue.attr_arn()),
                                    }
                                    .into()
                                }),
                                ..scheduler::schedule::Target::new(props.cluster.cluster_arn(), role.role_arn())
                            },
                        )
                    },
                )?;
                handle.as_resource().clone()
            }
            ScheduleTrigger::EventBridgeRule => {
                let handle = scope.add(
                    "Rule",
                    events::Rule {
                        description: Some(format!("Runs {path}").into()),
                        schedule_expression: Some(props.schedule.expression().into()),
                        state: Some(if props.enabled { "ENABLED" } else { "DISABLED" }.into()),
                        targets: Some(
                            vec![events::rule::Target {
                                role_arn: Some(role.role_arn()),
                                ecs_parameters: Some(
                                    events::rule::EcsParameters {
                                        launch_type: Some("FARGATE".into()),
                                        platform_version: Some("LATEST".into()),
                                        task_count: Some(1.into()),
                                        group: Some(group.clone().into()),
                                        network_configuration: Some(
                                            events::rule::NetworkConfiguration {
                                                aws_vpc_configuration: Some(
                                                    events::rule::AwsVpcConfiguration {
                                                        assign_public_ip: Some("DISABLED".into()),
                                                        security_groups: Some(security_groups),
                                                        ..events::rule::AwsVpcConfiguration::new(
                                                            subnets.ids(),
                                                        )
                                                    }
                                                    .into(),
                                                ),
                                            }
                                            .into(),
                                        ),
                                        ..events::rule::EcsParameters::new(
                                            task.definition.reference(),
                                        )
                                    }
                                    .into(),
                                ),
                                dead_letter_config: dead_letters.as_ref().map(|queue| {
                                    events::rule::DeadLetterConfig {
                                        arn: Some(queue.attr_arn()),
                                    }
                                    .into()
                                }),
                                retry_policy: Some(
                                    events::rule::RetryPolicy {
                                        maximum_retry_attempts: Some(2.into()),
                                        maximum_event_age_in_seconds: Some(3600.into()),
                                    }
                                    .into(),
                                ),
                                ..events::rule::Target::new(props.cluster.cluster_arn(), "Task")
                            }]
                            .into(),
                        ),
                        ..events::Rule::new()
                    },
                )?;
                if let (Some(key), Some(_)) = (props.dead_letter_key, &dead_letters) {
                    // EventBridge encrypts what it sends to the queue as itself. Its rules of
                    // this account and region: naming this rule would make the key depend on
                    // the rule, which depends on the queue, which depends on the key.
                    key.allow_service(
                        "events.amazonaws.com".into(),
                        &["kms:Decrypt", "kms:GenerateDataKey"],
                        Some(omc_cdk::Node::map([(
                            "ArnLike",
                            omc_cdk::Node::map([(
                                "aws:SourceArn",
                                node(util::arn("events", true, true, "rule/*")),
                            )]),
                        )])),
                    );
                }
                if let Some(queue) = &dead_letters {
                    // EventBridge sends undeliverable runs as itself, for this rule only.
                    let statement = omc_cdk::Node::map([
                        ("Effect", node("Allow")),
                        (
                            "Principal",
                            omc_cdk::Node::map([("Service", node("events.amazonaws.com"))]),
                        ),
                        ("Action", node("sqs:SendMessage")),
                        ("Resource", node(queue.attr_arn())),
                        (
                            "Condition",
                            omc_cdk::Node::map([(
                                "ArnEquals",
                                omc_cdk::Node::map([("aws:SourceArn", node(handle.attr_arn()))]),
                            )]),
                        ),
                    ]);
                    scope.add(
                        "DeadLetterQueuePolicy",
                        sqs::QueuePolicy::new(
                            omc_cdk::AnyValue::new(omc_cdk::Node::map([
                                ("Version", node("2012-10-17")),
                                ("Statement", omc_cdk::Node::List(vec![statement])),
                            ])),
                            vec![queue.reference()],
                        ),
                    )?;
                }
                handle.as_resource().clone()
            }
        };
        for dependency in &start_after {
            trigger.add_depends_on(dependency)?;
        }
        Ok(ScheduledTask {
            task_role: task.task_role,
            execution_role: task.execution_role,
            log_group: task.log_group,
            security_group,
            task_definition_arn: task.definition.reference(),
            cluster_arn: props.cluster.cluster_arn(),
            group,
            dead_letter_queue: dead_letters
                .map(|queue| (queue.attr_arn(), queue.attr_queue_name())),
            scope,
        })
    }

    /// The task group of every run (`group` of the ECS task), which the failed-run rule matches.
    pub fn task_group(&self) -> &str {
        &self.group
    }

    /// The dead-letter queue's ARN, when the task has one.
    pub fn dead_letter_queue_arn(&self) -> Option<Value<String>> {
        self.dead_letter_queue.as_ref().map(|(arn, _)| arn.clone())
    }

    /// Alerts on failed runs: an EventBridge rule that sends the topic every run of this task
    /// that stopped with a non-zero exit code or failed to start, and an alarm when a run could
    /// not be started at all and went to the dead-letter queue.
    pub fn add_alarms(&self, monitoring: &Monitoring) -> Result<()> {
        let group = util::alnum(&omc_cdk::Construct::path(self));
        let name = omc_cdk::Construct::path(self);
        monitoring.add_event_rule(
            &format!("{group}FailedRun"),
            format!("{name}: a run stopped with a non-zero exit code or failed to start"),
            omc_cdk::Node::map([
                ("source", omc_cdk::Node::List(vec![node("aws.ecs")])),
                (
                    "detail-type",
                    omc_cdk::Node::List(vec![node("ECS Task State Change")]),
                ),
                (
                    "detail",
                    omc_cdk::Node::map([
                        (
                            "clusterArn",
                            omc_cdk::Node::List(vec![node(self.cluster_arn.clone())]),
                        ),
                        (
                            "group",
                            omc_cdk::Node::List(vec![node(self.group.as_str())]),
                        ),
                        ("lastStatus", omc_cdk::Node::List(vec![node("STOPPED")])),
                        (
                            "$or",
                            omc_cdk::Node::List(vec![
                                omc_cdk::Node::map([(
                                    "containers",
                                    omc_cdk::Node::map([(
                                        "exitCode",
                                        omc_cdk::Node::List(vec![omc_cdk::Node::map([(
                                            "anything-but",
                                            node(0),
                                        )])]),
                                    )]),
                                )]),
                                omc_cdk::Node::map([(
                                    "stopCode",
                                    omc_cdk::Node::List(vec![node("TaskFailedToStart")]),
                                )]),
                            ]),
                        ),
                    ]),
                ),
            ]),
        )?;
        if let Some((_, queue_name)) = &self.dead_letter_queue {
            monitoring.alarm(
                &group,
                AlarmSpec {
                    id: "DeadLetters",
                    description: format!(
                        "{name}: a scheduled run could not be started and is in the dead-letter queue"
                    ),
                    namespace: "AWS/SQS",
                    metric: "ApproximateNumberOfMessagesVisible",
                    dimensions: vec![("QueueName", queue_name.clone())],
                    statistic: "Maximum",
                    period: 300,
                    periods: 1,
                    comparison: above(1.0),
                    treat_missing: "notBreaching",
                },
            )?;
        }
        Ok(())
    }

    /// The role ECS uses to pull the image, write logs and read the secrets.
    pub fn execution_role(&self) -> &Role {
        &self.execution_role
    }

    /// The containers' log group.
    pub fn log_group(&self) -> &crate::LogGroup {
        &self.log_group
    }

    /// The role the containers run as.
    pub fn task_role(&self) -> &Role {
        &self.task_role
    }

    /// The tasks' security group.
    pub fn security_group(&self) -> &SecurityGroup {
        &self.security_group
    }

    /// The task definition's ARN.
    pub fn task_definition_arn(&self) -> Value<String> {
        self.task_definition_arn.clone()
    }
}

impl crate::Connectable for ScheduledTask {
    fn connections(&self) -> crate::Connections {
        crate::Connections::new(vec![self.security_group.clone()], None)
    }
}

impl omc_cdk::Construct for ScheduledTask {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
