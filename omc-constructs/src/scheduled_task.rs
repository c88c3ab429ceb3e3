//! Fargate tasks run on a schedule by EventBridge Scheduler or an EventBridge rule.

use omc_cdk::{Result, Scope, Value};
use omc_cfn::{events, scheduler};

use crate::cluster::Cluster;
use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::log_group::Retention;
use crate::security_group::SecurityGroup;
use crate::task::{self, ContainerProps, CpuArchitecture, EfsVolume, TaskSpec};
use crate::util::{self, node};
use crate::vpc::SubnetKind;

/// When a task runs: an AWS cron or rate expression, checked when the task is created.
///
/// ```
/// use omc_constructs::Schedule;
/// assert_eq!(Schedule::cron("0 3 * * ? *").expression(), "cron(0 3 * * ? *)");
/// assert_eq!(Schedule::rate(15, "minutes").expression(), "rate(15 minutes)");
/// assert!(Schedule::cron("0 3 * *").check().unwrap_err().contains("has 4 fields"));
/// assert!(Schedule::cron("0 3 1 * MON *").check().unwrap_err().contains("one of them must be \"?\""));
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

    /// Checks the expression; the error says what is wrong and what is valid.
    pub fn check(&self) -> std::result::Result<(), String> {
        match self {
            Schedule::Rate(value, unit) => {
                let singular = ["minute", "hour", "day"];
                let plural = ["minutes", "hours", "days"];
                if *value == 0 {
                    return Err("a rate needs a value of at least 1".into());
                }
                let ok = if *value == 1 {
                    singular.contains(&unit.as_str())
                } else {
                    plural.contains(&unit.as_str())
                };
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "rate({value} {unit}) is not a rate; the unit is {} for {value}",
                        if *value == 1 {
                            "minute, hour or day"
                        } else {
                            "minutes, hours or days"
                        }
                    ))
                }
            }
            Schedule::Cron(fields) => check_cron(fields),
        }
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn check_cron(expression: &str) -> std::result::Result<(), String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "cron expression {expression:?} has {} fields; AWS cron takes 6: minutes hours day-of-month month day-of-week year, such as \"0 3 * * ? *\"",
            fields.len()
        ));
    }
    let names = [
        "minutes",
        "hours",
        "day-of-month",
        "month",
        "day-of-week",
        "year",
    ];
    let ranges: [(u32, u32); 6] = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)];
    for (i, field) in fields.iter().enumerate() {
        let (min, max) = ranges[i];
        let value_ok = |v: &str| -> bool {
            if let Ok(n) = v.parse::<u32>() {
                return (min..=max).contains(&n);
            }
            match i {
                3 => MONTHS.contains(&v),
                4 => DAYS.contains(&v) || v == "L" || v.ends_with('L') && v.len() > 1,
                2 => {
                    v == "L"
                        || v == "W"
                        || v.ends_with('W')
                            && v[..v.len() - 1]
                                .parse::<u32>()
                                .is_ok_and(|n| (1..=31).contains(&n))
                }
                _ => false,
            }
        };
        let ok = field.split(',').all(|part| {
            if part == "*" || (part == "?" && (i == 2 || i == 4)) {
                return true;
            }
            let (range, step) = part.split_once('/').unwrap_or((part, "1"));
            if step.parse::<u32>().map_or(true, |s| s == 0) {
                return false;
            }
            if i == 4
                && let Some((day, nth)) = range.split_once('#')
            {
                return value_ok(day) && nth.parse::<u32>().is_ok_and(|n| (1..=5).contains(&n));
            }
            if range == "*" {
                return true;
            }
            match range.split_once('-') {
                Some((a, b)) => value_ok(a) && value_ok(b),
                None => value_ok(range),
            }
        });
        if !ok {
            return Err(format!(
                "cron field {} ({field:?}) is not valid; it takes {min}-{max}{}, with ',', '-', '/' and '*'{}",
                names[i],
                match i {
                    3 => " or JAN-DEC",
                    4 => " or SUN-SAT",
                    _ => "",
                },
                if i == 2 || i == 4 { " (or '?')" } else { "" }
            ));
        }
    }
    let (day_of_month, day_of_week) = (fields[2], fields[4]);
    if (day_of_month == "?") == (day_of_week == "?") {
        return Err(format!(
            "day-of-month ({day_of_month:?}) and day-of-week ({day_of_week:?}) are {}; one of them must be \"?\"",
            if day_of_month == "?" {
                "both \"?\""
            } else {
                "both set"
            }
        ));
    }
    Ok(())
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
    /// Whether the schedule is active. Default: `true`.
    pub enabled: bool,
    /// HTTPS out to any address (`0.0.0.0/0:443`), which pulling from ECR, reading Secrets
    /// Manager, writing CloudWatch Logs and calling AWS APIs need unless the subnets reach them
    /// through VPC endpoints. Turn off to allow only what `connections()` adds. Default: `true`.
    pub https_egress: bool,
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
            enabled: true,
            https_egress: true,
        }
    }
}

/// A Fargate task started on a schedule.
///
/// Defines the task definition (as [`crate::FargateService`] does), a security group with HTTPS
/// out, a role the scheduler assumes that may run exactly this task definition in this cluster
/// and pass exactly its two roles, and the schedule or rule.
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
}

impl ScheduledTask {
    /// Creates a scheduled task.
    pub fn new(scope: &Scope, id: &str, props: ScheduledTaskProps<'_>) -> Result<ScheduledTask> {
        let path = util::path(scope, id);
        props.schedule.check().map_err(|why| {
            util::invalid(
                &path,
                format!("schedule {}: {why}", props.schedule.expression()),
            )
        })?;
        if let ScheduleTrigger::Scheduler { time_zone } = &props.trigger {
            let ok = time_zone == "UTC"
                || (time_zone.contains('/')
                    && time_zone
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b)));
            if !ok {
                return Err(util::invalid(
                    &path,
                    format!(
                        "time zone {time_zone:?} is not an IANA time zone such as \"Europe/Berlin\" or \"UTC\""
                    ),
                ));
            }
        }
        let vpc = props.cluster.vpc().clone();
        let subnets = vpc.require(props.subnets, &path)?.clone();
        let spec = TaskSpec {
            cpu: props.cpu,
            memory_mib: props.memory_mib,
            containers: &props.containers,
            volumes: &props.volumes,
            log_retention: props.log_retention,
            architecture: props.architecture,
            https_egress: props.https_egress,
        };
        let task::TaskParts {
            scope,
            task,
            security_group,
            start_after,
        } = task::new_task(scope, id, &path, &vpc, props.subnets, &spec)?;
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
                                ..scheduler::schedule::Target::new(props.cluster.cluster_arn(), role.role_arn())
                            },
                        )
                    },
                )?;
                (*handle).clone()
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
                                ..events::rule::Target::new(props.cluster.cluster_arn(), "Task")
                            }]
                            .into(),
                        ),
                        ..events::Rule::new()
                    },
                )?;
                (*handle).clone()
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
        })
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
