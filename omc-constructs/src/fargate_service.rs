//! ECS services on Fargate: task definition, security group, optional load balancer route,
//! autoscaling and EFS volumes.

use omc_cdk::{Result, Scope, TypedResource, Value, fns};
use omc_cfn::{applicationautoscaling as aas, ecs, elasticloadbalancingv2 as elbv2};

use crate::cluster::Cluster;
use crate::connections::{Connectable, Connections};
use crate::iam::Role;
use crate::load_balancer::{ApplicationLoadBalancer, Route, TargetHealthCheck, check_elb_name};
use crate::log_group::{LogGroup, Retention};
use crate::monitoring::{AlarmSpec, ExpressionAlarm, Monitoring, above};
use crate::peer::Port;
use crate::security_group::SecurityGroup;
use crate::task::{self, ContainerProps, EfsVolume, TaskSpec};
use crate::util;
use crate::vpc::SubnetKind;

pub use crate::task::CpuArchitecture;

/// How a service receives traffic from a load balancer.
#[derive(Clone, Debug)]
pub struct AlbRoute<'a> {
    /// The load balancer.
    pub load_balancer: &'a ApplicationLoadBalancer,
    /// Which requests. Default in [`AlbRoute::new`]: the default route.
    pub route: Route,
    /// The container port that receives them. Default: the first container's port.
    pub container_port: Option<u16>,
    /// The target group's health check. Default: `GET /` expecting 200-399.
    pub health_check: TargetHealthCheck,
    /// The target group's name, at most 32 characters. Default: generated.
    pub target_group_name: Option<String>,
    /// Seconds a draining target keeps its connections. Default: 30.
    pub deregistration_delay_seconds: u32,
}

impl<'a> AlbRoute<'a> {
    /// The default route of `load_balancer`.
    pub fn new(load_balancer: &'a ApplicationLoadBalancer) -> AlbRoute<'a> {
        AlbRoute {
            load_balancer,
            route: Route::default_route(),
            container_port: None,
            health_check: TargetHealthCheck::default(),
            target_group_name: None,
            deregistration_delay_seconds: 30,
        }
    }
}

/// Target tracking autoscaling of the task count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Autoscaling {
    /// Fewest tasks.
    pub min: u32,
    /// Most tasks.
    pub max: u32,
    /// Keeps average CPU near this percent. Default in [`Autoscaling::new`]: 60.
    pub cpu_target_percent: Option<u8>,
    /// Keeps average memory near this percent. Default: none.
    pub memory_target_percent: Option<u8>,
    /// Keeps requests per task per minute near this (needs a load balancer route). Default:
    /// none.
    pub requests_per_target: Option<u32>,
    /// Seconds between scale-in steps. Default: 300.
    pub scale_in_cooldown_seconds: u32,
    /// Seconds between scale-out steps. Default: 60.
    pub scale_out_cooldown_seconds: u32,
}

impl Autoscaling {
    /// Between `min` and `max` tasks, keeping CPU near 60%.
    pub fn new(min: u32, max: u32) -> Autoscaling {
        Autoscaling {
            min,
            max,
            cpu_target_percent: Some(60),
            memory_target_percent: None,
            requests_per_target: None,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        }
    }
}

/// How a service is created.
#[derive(Clone, Debug)]
pub struct FargateServiceProps<'a> {
    /// The cluster.
    pub cluster: &'a Cluster,
    /// The containers; the first is the main one.
    pub containers: Vec<ContainerProps>,
    /// CPU units (256 = 0.25 vCPU). Default: 256.
    pub cpu: u32,
    /// Memory in MiB, one of the values Fargate accepts for the CPU. Default: 512.
    pub memory_mib: u32,
    /// Tasks to run. Default: 1 without autoscaling; with autoscaling, none: the template
    /// leaves the count to autoscaling, so a deploy never resets a scaled-out service (a
    /// count given here is written and must lie within the autoscaling range).
    pub desired_count: Option<u32>,
    /// Where the tasks run. Default: [`SubnetKind::PrivateWithEgress`].
    pub subnets: SubnetKind,
    /// CPU architecture. Default: x86-64.
    pub architecture: CpuArchitecture,
    /// Traffic from a load balancer. Default: none.
    pub load_balancer: Option<AlbRoute<'a>>,
    /// Autoscaling. Default: none (a fixed task count).
    pub autoscaling: Option<Autoscaling>,
    /// EFS access points mounted into every container. Default: none.
    pub volumes: Vec<EfsVolume<'a>>,
    /// How long container logs are kept. Default: 30 days.
    pub log_retention: Retention,
    /// Encrypts the container logs with this customer-managed key (its policy is extended for
    /// CloudWatch Logs, once however many log groups use it). Default: none: CloudWatch Logs'
    /// own encryption, which the `logs-kms-key` check reports (an error in production).
    pub log_key: Option<&'a crate::Key>,
    /// Percent of desired tasks that stay running during a deployment. Default: 100.
    pub min_healthy_percent: u32,
    /// Percent of desired tasks that may run during a deployment. Default: 200.
    pub max_percent: u32,
    /// Runs tasks on Fargate Spot (interruptible, cheaper). Default: `false`.
    pub spot: bool,
    /// Allows `ecs execute-command` into containers. Default: `false`.
    pub enable_execute_command: bool,
    /// HTTPS out to any address (`0.0.0.0/0:443`), which pulling from ECR, reading Secrets
    /// Manager, writing CloudWatch Logs and calling AWS APIs need unless the subnets reach them
    /// through VPC endpoints. Turn off to allow only what `connections()` adds. Default: `true`.
    pub https_egress: bool,
}

impl<'a> FargateServiceProps<'a> {
    /// One small task of `containers` in `cluster`'s private subnets.
    pub fn new(cluster: &'a Cluster, containers: Vec<ContainerProps>) -> FargateServiceProps<'a> {
        FargateServiceProps {
            cluster,
            containers,
            cpu: 256,
            memory_mib: 512,
            desired_count: None,
            subnets: SubnetKind::PrivateWithEgress,
            architecture: CpuArchitecture::X86_64,
            load_balancer: None,
            autoscaling: None,
            volumes: Vec::new(),
            log_retention: Retention::Days(30),
            log_key: None,
            min_healthy_percent: 100,
            max_percent: 200,
            spot: false,
            enable_execute_command: false,
            https_egress: true,
        }
    }
}

/// An ECS service on Fargate.
///
/// Defines the task definition (valid CPU/memory pairs only), a log group, an execution role
/// that may pull exactly the service's ECR repositories, write its log group and read its
/// secrets, a task role, a security group that allows HTTPS out (images and AWS APIs) and
/// nothing else until connections are added, and the service with a deployment circuit breaker
/// that rolls back. With a load balancer route: a target group and listener rule, and rules
/// that let the load balancer reach the container port. With autoscaling: a scalable target
/// and target-tracking policies.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::*;
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Services", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
/// let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;
/// let alb = ApplicationLoadBalancer::new(&stack, "Alb", ApplicationLoadBalancerProps::new(&vpc))?;
/// // The image must run with a read-only root file system (writes go to /tmp), or set
/// // readonly_root_filesystem: false.
/// let web = ContainerProps { port: Some(8080), ..ContainerProps::new("web", ContainerImage::ecr_repository("shop/web", "1.0.0")) };
/// FargateService::new(&stack, "Web", FargateServiceProps {
///     load_balancer: Some(AlbRoute::new(&alb)),
///     autoscaling: Some(Autoscaling::new(1, 4)),
///     ..FargateServiceProps::new(&cluster, vec![web])
/// })?;
/// let t = Template::from_stack(&stack)?;
/// t.has_resource_properties("AWS::ECS::Service", json!({
///     "LaunchType": "FARGATE",
///     "DeploymentConfiguration": {"DeploymentCircuitBreaker": {"Enable": true, "Rollback": true}}
/// }))?;
/// t.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 1)?;
///
/// let big = ContainerProps::new("big", ContainerImage::registry("busybox"));
/// let err = FargateService::new(&stack, "Big", FargateServiceProps {
///     memory_mib: 4096, ..FargateServiceProps::new(&cluster, vec![big])
/// }).unwrap_err();
/// assert!(err.to_string().contains("with 256 CPU units the memory is one of 512, 1024, 2048 MiB"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct FargateService {
    service: ecs::ServiceHandle,
    security_group: SecurityGroup,
    task_role: Role,
    execution_role: Role,
    log_group: LogGroup,
    target_group: Option<elbv2::TargetGroupHandle>,
    load_balancer: Option<ApplicationLoadBalancer>,
    cluster: Cluster,
    port: Option<u16>,
    path: String,
    /// Where the construct created its resources.
    scope: Scope,
}

impl FargateService {
    /// Creates a service.
    pub fn new(scope: &Scope, id: &str, props: FargateServiceProps<'_>) -> Result<FargateService> {
        let path = util::path(scope, id);
        let fail = |field: &'static str, value: String, reason: String| {
            Err(util::invalid_prop(&path, field, value, reason))
        };
        task::check_size(&path, props.cpu, props.memory_mib)?;
        if props.min_healthy_percent > 100 || props.max_percent < 100 || props.max_percent > 200 {
            let (field, value) = if props.min_healthy_percent > 100 {
                ("min_healthy_percent", props.min_healthy_percent)
            } else {
                ("max_percent", props.max_percent)
            };
            return fail(
                field,
                value.to_string(),
                format!(
                    "min_healthy_percent ({}) must be at most 100 and max_percent ({}) 100 to 200",
                    props.min_healthy_percent, props.max_percent
                ),
            );
        }
        let main_port = props.containers.first().and_then(|c| c.port);
        if let Some(scaling) = &props.autoscaling {
            if scaling.min > scaling.max || scaling.max == 0 {
                let (field, value) = if scaling.max == 0 {
                    ("autoscaling.max", scaling.max)
                } else {
                    ("autoscaling.min", scaling.min)
                };
                return fail(
                    field,
                    value.to_string(),
                    format!(
                        "autoscaling min ({}) must not exceed max ({}), and max must be at least 1",
                        scaling.min, scaling.max
                    ),
                );
            }
            if let Some(count) = props.desired_count
                && !(scaling.min..=scaling.max).contains(&count)
            {
                return fail(
                    "desired_count",
                    count.to_string(),
                    format!(
                        "desired_count ({count}) must be between autoscaling min ({}) and max ({}); or leave it None to let autoscaling set it",
                        scaling.min, scaling.max
                    ),
                );
            }
            let targets = [scaling.cpu_target_percent, scaling.memory_target_percent];
            if let Some((field, value)) = [
                ("autoscaling.cpu_target_percent", scaling.cpu_target_percent),
                (
                    "autoscaling.memory_target_percent",
                    scaling.memory_target_percent,
                ),
            ]
            .into_iter()
            .find_map(|(field, t)| t.filter(|t| !(1..=100).contains(t)).map(|t| (field, t)))
            {
                return fail(
                    field,
                    value.to_string(),
                    "autoscaling CPU and memory targets are percents from 1 to 100".into(),
                );
            }
            if targets.iter().all(Option::is_none) && scaling.requests_per_target.is_none() {
                return fail("autoscaling.cpu_target_percent", "None".into(),
                    "autoscaling needs a target: cpu_target_percent, memory_target_percent or requests_per_target".into(),
                );
            }
            if scaling.requests_per_target.is_some() && props.load_balancer.is_none() {
                return fail("autoscaling.requests_per_target", format!("{:?}", scaling.requests_per_target),
                    "requests_per_target scales on load balancer requests, and the service has no load_balancer route".into(),
                );
            }
        }
        let route_port = match &props.load_balancer {
            None => None,
            Some(route) => {
                if let Some(name) = &route.target_group_name {
                    check_elb_name(
                        &path,
                        "load_balancer.target_group_name",
                        "target group",
                        name,
                    )?;
                }
                route
                    .load_balancer
                    .check_route(scope, &path, &route.route)?;
                route.health_check.check(&path)?;
                if route.deregistration_delay_seconds > 3600 {
                    return fail(
                        "load_balancer.deregistration_delay_seconds",
                        route.deregistration_delay_seconds.to_string(),
                        format!(
                            "deregistration_delay_seconds is {}; use 0 to 3600",
                            route.deregistration_delay_seconds
                        ),
                    );
                }
                match route.container_port.or(main_port) {
                    Some(port) if props.containers.iter().any(|c| c.port == Some(port)) => {
                        Some(port)
                    }
                    Some(port) => {
                        let mapped: Vec<String> = props
                            .containers
                            .iter()
                            .filter_map(|c| c.port.map(|p| format!("{} ({p})", c.name)))
                            .collect();
                        return fail(
                            "load_balancer.container_port",
                            port.to_string(),
                            format!(
                                "the load balancer route's container_port {port} is not a port of any container; the containers map {}",
                                if mapped.is_empty() {
                                    "no ports".to_owned()
                                } else {
                                    mapped.join(", ")
                                }
                            ),
                        );
                    }
                    None => {
                        return fail("load_balancer.container_port", "None".into(),
                            "a load balancer route needs a container port: set the first container's port or container_port".into(),
                        );
                    }
                }
            }
        };
        if props.spot && props.cluster.has_fargate_spot() == Some(false) {
            return fail("spot", "true".into(),
                "spot is true, and the cluster has no FARGATE_SPOT capacity provider; set ClusterProps.fargate_spot or spot: false".into(),
            );
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

        let mut target_group = None;
        let mut depends_on = None;
        let mut load_balancers = None;
        if let (Some(route), Some(port)) = (&props.load_balancer, route_port) {
            let container = props
                .containers
                .iter()
                .find(|c| c.port == Some(port))
                .or_else(|| props.containers.first())
                .map(|c| c.name.clone())
                .unwrap_or_default();
            let hc = &route.health_check;
            let group = scope.add(
                "TargetGroup",
                elbv2::TargetGroup {
                    name: route.target_group_name.clone().map(Into::into),
                    target_type: Some("ip".into()),
                    protocol: Some("HTTP".into()),
                    port: Some(i64::from(port).into()),
                    vpc_id: Some(vpc.vpc_id().value()),
                    health_check_path: Some(hc.path.as_str().into()),
                    health_check_interval_seconds: Some(i64::from(hc.interval_seconds).into()),
                    healthy_threshold_count: Some(i64::from(hc.healthy_threshold).into()),
                    unhealthy_threshold_count: Some(i64::from(hc.unhealthy_threshold).into()),
                    matcher: Some(
                        elbv2::target_group::Matcher {
                            http_code: Some(hc.healthy_http_codes.as_str().into()),
                            ..elbv2::target_group::Matcher::default()
                        }
                        .into(),
                    ),
                    target_group_attributes: Some(
                        vec![elbv2::target_group::TargetGroupAttribute {
                            key: Some("deregistration_delay.timeout_seconds".into()),
                            value: Some(route.deregistration_delay_seconds.to_string().into()),
                        }]
                        .into(),
                    ),
                    ..elbv2::TargetGroup::new()
                },
            )?;
            let rule = route
                .load_balancer
                .add_route(&scope, group.reference(), &route.route)?;
            depends_on = Some(rule.unwrap_or_else(|| route.load_balancer.listener().clone()));
            security_group.connections().allow_from(
                route.load_balancer,
                Port::tcp(port),
                "Load balancer to tasks",
            )?;
            load_balancers = Some(
                vec![ecs::service::LoadBalancer {
                    container_name: Some(container.into()),
                    container_port: Some(i64::from(port).into()),
                    target_group_arn: Some(group.reference()),
                    ..ecs::service::LoadBalancer::default()
                }]
                .into(),
            );
            target_group = Some(group);
        }

        let service = scope.add(
            "Service",
            ecs::Service {
                cluster: Some(props.cluster.cluster_name()),
                task_definition: Some(task.definition.reference()),
                desired_count: props
                    .desired_count
                    .or(if props.autoscaling.is_some() {
                        None
                    } else {
                        Some(1)
                    })
                    .map(|count| i64::from(count).into()),
                launch_type: (!props.spot).then(|| "FARGATE".into()),
                capacity_provider_strategy: props.spot.then(|| {
                    vec![ecs::service::CapacityProviderStrategyItem {
                        capacity_provider: Some("FARGATE_SPOT".into()),
                        weight: Some(1.into()),
                        base: None,
                    }]
                    .into()
                }),
                platform_version: Some("LATEST".into()),
                propagate_tags: Some("SERVICE".into()),
                enable_ecs_managed_tags: Some(true.into()),
                enable_execute_command: Some(props.enable_execute_command.into()),
                health_check_grace_period_seconds: target_group.as_ref().map(|_| 60.into()),
                deployment_configuration: Some(
                    ecs::service::DeploymentConfiguration {
                        deployment_circuit_breaker: Some(
                            ecs::service::DeploymentCircuitBreaker::new(true, true).into(),
                        ),
                        minimum_healthy_percent: Some(i64::from(props.min_healthy_percent).into()),
                        maximum_percent: Some(i64::from(props.max_percent).into()),
                        ..ecs::service::DeploymentConfiguration::default()
                    }
                    .into(),
                ),
                network_configuration: Some(
                    ecs::service::NetworkConfiguration {
                        awsvpc_configuration: Some(
                            ecs::service::AwsVpcConfiguration {
                                assign_public_ip: Some("DISABLED".into()),
                                security_groups: Some(
                                    vec![security_group.security_group_id().value()].into(),
                                ),
                                subnets: Some(subnets.ids()),
                            }
                            .into(),
                        ),
                    }
                    .into(),
                ),
                load_balancers,
                ..ecs::Service::new()
            },
        )?;
        if let Some(dependency) = &depends_on {
            service.add_depends_on(dependency)?;
        }
        for dependency in &start_after {
            service.add_depends_on(dependency)?;
        }
        if let Some(association) = props.cluster.capacity_providers() {
            // The service's capacity provider must stay associated while it runs.
            service.add_depends_on(association)?;
        }
        if props.enable_execute_command {
            task.task_role.add_to_policy(crate::PolicyStatement::allow(
                [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                ["*".into()],
            ));
        }

        if let Some(scaling) = &props.autoscaling {
            let autoscaling = scope.child("Scaling")?;
            let target = autoscaling.add(
                "Target",
                aas::ScalableTarget::new(
                    i64::from(scaling.max),
                    i64::from(scaling.min),
                    fns::join(
                        "/",
                        [
                            Value::from("service"),
                            props.cluster.cluster_name(),
                            service.attr_name(),
                        ],
                    ),
                    "ecs:service:DesiredCount",
                    "ecs",
                ),
            )?;
            let policy = |id: &str, metric: &str, value: f64, label: Option<Value<String>>| {
                autoscaling.add(
                    id,
                    aas::ScalingPolicy {
                        scaling_target_id: Some(target.reference()),
                        target_tracking_scaling_policy_configuration: Some(
                            aas::scaling_policy::TargetTrackingScalingPolicyConfiguration {
                                predefined_metric_specification: Some(
                                    aas::scaling_policy::PredefinedMetricSpecification {
                                        resource_label: label,
                                        ..aas::scaling_policy::PredefinedMetricSpecification::new(metric)
                                    }
                                    .into(),
                                ),
                                scale_in_cooldown: Some(i64::from(scaling.scale_in_cooldown_seconds).into()),
                                scale_out_cooldown: Some(i64::from(scaling.scale_out_cooldown_seconds).into()),
                                ..aas::scaling_policy::TargetTrackingScalingPolicyConfiguration::new(value)
                            }
                            .into(),
                        ),
                        ..aas::ScalingPolicy::new(format!("{path}/{id}"), "TargetTrackingScaling")
                    },
                )
            };
            if let Some(cpu) = scaling.cpu_target_percent {
                policy(
                    "Cpu",
                    "ECSServiceAverageCPUUtilization",
                    f64::from(cpu),
                    None,
                )?;
            }
            if let Some(memory) = scaling.memory_target_percent {
                policy(
                    "Memory",
                    "ECSServiceAverageMemoryUtilization",
                    f64::from(memory),
                    None,
                )?;
            }
            if let (Some(requests), Some(group), Some(route)) = (
                scaling.requests_per_target,
                &target_group,
                &props.load_balancer,
            ) {
                let label = fns::join(
                    "/",
                    [
                        route.load_balancer.load_balancer_full_name(),
                        group.attr_target_group_full_name(),
                    ],
                );
                policy(
                    "Requests",
                    "ALBRequestCountPerTarget",
                    f64::from(requests),
                    Some(label),
                )?;
            }
        }

        Ok(FargateService {
            scope: scope.clone(),
            service,
            security_group,
            task_role: task.task_role,
            execution_role: task.execution_role,
            log_group: task.log_group,
            target_group,
            load_balancer: props
                .load_balancer
                .as_ref()
                .map(|r| r.load_balancer.clone()),
            cluster: props.cluster.clone(),
            port: main_port,
            path: scope.node_path(),
        })
    }

    /// The service's name.
    pub fn service_name(&self) -> Value<String> {
        self.service.attr_name()
    }

    /// The service's ARN.
    pub fn service_arn(&self) -> Value<String> {
        self.service.reference()
    }

    /// The cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The role the containers run as: grant it what the application needs.
    pub fn task_role(&self) -> &Role {
        &self.task_role
    }

    /// The role ECS uses to start the containers.
    pub fn execution_role(&self) -> &Role {
        &self.execution_role
    }

    /// The containers' log group.
    pub fn log_group(&self) -> &LogGroup {
        &self.log_group
    }

    /// The tasks' security group.
    pub fn security_group(&self) -> &SecurityGroup {
        &self.security_group
    }

    /// The target group's full name (for metrics), when the service has a route.
    pub fn target_group_full_name(&self) -> Option<Value<String>> {
        self.target_group
            .as_ref()
            .map(elbv2::TargetGroupHandle::attr_target_group_full_name)
    }

    /// The load balancer, when the service has a route.
    pub fn load_balancer(&self) -> Option<&ApplicationLoadBalancer> {
        self.load_balancer.as_ref()
    }

    /// The construct path.
    pub fn node_path(&self) -> &str {
        &self.path
    }
}

impl Connectable for FargateService {
    fn connections(&self) -> Connections {
        Connections::new(vec![self.security_group.clone()], self.port.map(Port::tcp))
    }
}

// Alarms: what Monitoring watches of this construct.
impl FargateService {
    /// Alarms for average CPU and memory above 80% for 15 minutes, for fewer running tasks than
    /// desired for 10 minutes (Container Insights' task counts: a crash loop, a failing health
    /// check, an image that does not pull), for unhealthy targets behind the load balancer for
    /// 5 minutes, and a dashboard widget.
    ///
    /// The task-count alarm needs Container Insights (the default of [`crate::ClusterProps`]): on a
    /// cluster created without it this is a [`omc_cdk::Error::Conflict`].
    pub fn add_alarms(&self, monitoring: &Monitoring) -> Result<()> {
        let group = util::alnum(self.node_path());
        let name = self.node_path().to_owned();
        if self.cluster().container_insights_disabled() {
            return Err(util::conflict(
                &name,
                format!(
                    "the alarm on running tasks below the desired count needs Container Insights' RunningTaskCount and DesiredTaskCount, and the cluster {} has container_insights: Disabled; enable it (ContainerInsights::Enabled) or do not add the service's alarms",
                    omc_cdk::Construct::path(self.cluster())
                ),
            ));
        }
        let dims = vec![
            ("ClusterName", self.cluster().cluster_name()),
            ("ServiceName", self.service_name()),
        ];
        monitoring.expression_alarm(
            &group,
            ExpressionAlarm {
                id: "TasksBelowDesired",
                description: format!(
                    "{name}: fewer tasks running than desired for 10 minutes (tasks failing to start or to stay healthy)"
                ),
                metrics: vec![
                    (
                        "running",
                        "ECS/ContainerInsights",
                        "RunningTaskCount",
                        dims.clone(),
                        "Minimum",
                    ),
                    (
                        "desired",
                        "ECS/ContainerInsights",
                        "DesiredTaskCount",
                        dims.clone(),
                        "Maximum",
                    ),
                ],
                expression: "desired - running",
                label: "tasks missing",
                period: 60,
                periods: 10,
                comparison: above(1.0),
                treat_missing: "missing",
            },
        )?;
        if let (Some(group_name), Some(load_balancer)) =
            (self.target_group_full_name(), self.load_balancer())
        {
            monitoring.alarm(
                &group,
                AlarmSpec {
                    id: "UnhealthyTargets",
                    description: format!(
                        "{name}: unhealthy targets behind the load balancer for 5 minutes"
                    ),
                    namespace: "AWS/ApplicationELB",
                    metric: "UnHealthyHostCount",
                    dimensions: vec![
                        ("TargetGroup", group_name),
                        ("LoadBalancer", load_balancer.load_balancer_full_name()),
                    ],
                    statistic: "Maximum",
                    period: 60,
                    periods: 5,
                    comparison: above(1.0),
                    treat_missing: "notBreaching",
                },
            )?;
        }
        for (id, metric, what) in [
            ("Cpu", "CPUUtilization", "CPU"),
            ("Memory", "MemoryUtilization", "memory"),
        ] {
            let spec = AlarmSpec {
                id,
                description: format!("{name}: {what} above 80% for 15 minutes"),
                namespace: "AWS/ECS",
                metric,
                dimensions: dims.clone(),
                statistic: "Average",
                period: 300,
                periods: 3,
                comparison: above(80.0),
                treat_missing: "missing",
            };
            monitoring.alarm(&group, spec)?;
        }
        monitoring.widget(
            format!("{name}: CPU and memory"),
            &[
                ("AWS/ECS", "CPUUtilization", &dims, "Average"),
                ("AWS/ECS", "MemoryUtilization", &dims, "Average"),
            ],
        );
        Ok(())
    }
}

impl omc_cdk::Construct for FargateService {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
