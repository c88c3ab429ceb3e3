//! `<Prefix>-Services`: the ECS cluster and everything that runs on it.

use omc_cdk::{App, IndexMap, ParameterProps, Result, Stack, Value};
use omc_constructs::{
    AccessLogBucket, AccessLogBucketProps, AccessLogs, AlbRoute, AliasRecord, AliasRecordProps,
    ApplicationLoadBalancer, ApplicationLoadBalancerProps, Autoscaling, Bucket, BucketProps,
    Certificate, CertificateProps, Cluster, ClusterProps, Connectable, ContainerHealthCheck,
    ContainerImage, ContainerProps, EfsVolume, FargateService, FargateServiceProps, HostedZone,
    HostedZoneAttributes, Key, Retention, Route, ScheduleTrigger, ScheduledTask,
    ScheduledTaskProps, SecretField, ServerAccessLogs, TargetHealthCheck, WebAcl, WebAclProps,
};

use crate::config::{Config, IMAGE_TAG_PATTERN, Image, TaskCount, TaskSize};
use crate::data::{ARTIFACTS, DATABASE_NAME, Data};
use crate::delivery::Registry;
use crate::network::Network;

/// The backend's port.
pub(crate) const BACKEND_PORT: u16 = 8000;
/// The frontend's port.
pub(crate) const FRONTEND_PORT: u16 = 80;

/// The services stack's handles.
pub(crate) struct Services {
    pub(crate) load_balancer: ApplicationLoadBalancer,
    pub(crate) backend: FargateService,
    pub(crate) frontend: FargateService,
    pub(crate) stream_collector: FargateService,
    pub(crate) agents: FargateService,
    pub(crate) scheduled: Vec<ScheduledTask>,
}

/// The image `image` at the tag of the stack parameter `<name>ImageTag`, which has no default:
/// the first deploy names it, later deploys keep it unless they name another. A new tag changes
/// the task definition's image, so CloudFormation registers a new revision and the service
/// rolls to it (with the circuit breaker rolling back a revision that does not get healthy).
fn image(stack: &Stack, registry: &Registry, name: &str, image: &Image) -> Result<ContainerImage> {
    let tag = stack.add_parameter(
        &format!("{name}ImageTag"),
        ParameterProps {
            description: Some(format!(
                "Tag of {} to deploy: a commit SHA or a release version",
                image.repository
            )),
            allowed_pattern: Some(IMAGE_TAG_PATTERN.into()),
            constraint_description: Some(
                "a commit SHA (7 to 40 hex digits) or a release version such as 1.4.2; moving tags such as latest are refused".into(),
            ),
            ..ParameterProps::default()
        },
    )?;
    registry.image(stack, image, tag.value())
}

/// A container's environment variables and its variables from Secrets Manager.
type Settings = (
    IndexMap<String, Value<String>>,
    IndexMap<String, SecretField>,
);

/// Environment variables and secrets that reach PostgreSQL (and Redis when `cache`).
fn connection_settings(config: &Config, data: &Data, cache: bool) -> Result<Settings> {
    let mut environment = IndexMap::new();
    let mut secrets = IndexMap::new();
    environment.insert("OMC_ENVIRONMENT".to_owned(), config.stage.name().into());
    environment.insert("DATABASE_HOST".to_owned(), data.database.endpoint_address());
    environment.insert("DATABASE_PORT".to_owned(), data.database.endpoint_port());
    environment.insert("DATABASE_NAME".to_owned(), DATABASE_NAME.into());
    secrets.insert(
        "DATABASE_USER".to_owned(),
        data.database.secret().field("username")?,
    );
    secrets.insert(
        "DATABASE_PASSWORD".to_owned(),
        data.database.secret().field("password")?,
    );
    if cache {
        environment.insert(
            "REDIS_HOST".to_owned(),
            data.cache.primary_endpoint_address(),
        );
        environment.insert("REDIS_PORT".to_owned(), data.cache.primary_endpoint_port());
        environment.insert("REDIS_TLS".to_owned(), "true".into());
        if let Some(token) = data.cache.auth_token_secret() {
            secrets.insert("REDIS_AUTH_TOKEN".to_owned(), token.field("token")?);
        }
    }
    Ok((environment, secrets))
}

/// The fixed count, or autoscaling on CPU.
fn count(size: &TaskSize) -> (Option<u32>, Option<Autoscaling>) {
    match size.count {
        TaskCount::Fixed(n) => (Some(n), None),
        TaskCount::Autoscaling { min, max } => (None, Some(Autoscaling::new(min, max))),
    }
}

/// A service's props with the environment's size, log retention and logs key.
fn service_props<'a>(
    config: &Config,
    cluster: &'a Cluster,
    logs_key: &'a Key,
    size: &TaskSize,
    container: ContainerProps,
) -> FargateServiceProps<'a> {
    let (desired_count, autoscaling) = count(size);
    FargateServiceProps {
        cpu: size.cpu,
        memory_mib: size.memory_mib,
        desired_count,
        autoscaling,
        log_retention: Retention::Days(config.log_retention_days),
        log_key: Some(logs_key),
        ..FargateServiceProps::new(cluster, vec![container])
    }
}

/// The services stack: an ECS cluster (Fargate, Container Insights) behind a public
/// Application Load Balancer that sends `/api/*` to the FastAPI backend and everything else to
/// the Vue.js frontend; a continuous collector and the agents (with their EFS artifacts) as
/// services without a load balancer; the cron-like collectors as tasks started by EventBridge
/// Scheduler. Only the services that need PostgreSQL or Redis may reach them. Every log group
/// is encrypted with the environment's logs key (of the network stack); the load balancer's
/// log bucket writes its server access logs to this stack's access-log bucket (its own: the
/// access-log bucket's policy names the source bucket, so one in the network stack would
/// depend on this stack, which depends on it).
pub(crate) fn services(
    app: &App,
    config: &Config,
    network: &Network,
    data: &Data,
    registry: &Registry,
) -> Result<Services> {
    let stack = crate::stack(
        app,
        config,
        "Services",
        "ECS cluster, load balancer, backend, frontend, collectors, agents",
    )?;
    let backend_image = image(&stack, registry, "Backend", &config.backend_image)?;
    let frontend_image = image(&stack, registry, "Frontend", &config.frontend_image)?;
    let collectors_image = image(&stack, registry, "Collectors", &config.collectors_image)?;
    let agents_image = image(&stack, registry, "Agents", &config.agents_image)?;

    let vpc = &network.vpc;
    let logs_key = &network.logs_key;
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(vpc))?;
    let server_access_logs = AccessLogBucket::new(
        &stack,
        "AccessLogs",
        AccessLogBucketProps::new(crate::access_log_days(config)),
    )?;
    let access_logs = Bucket::new(
        &stack,
        "LoadBalancerLogs",
        BucketProps {
            expire_after_days: Some(if config.protect_data { 365 } else { 30 }),
            access_logs: Some(ServerAccessLogs::new(
                &server_access_logs,
                "load-balancer-logs/",
            )),
            ..BucketProps::default()
        },
    )?;
    // HTTPS: a certificate validated in the environment's hosted zone, HTTP only redirects.
    let zone = HostedZone::from_attributes(
        &stack,
        "Zone",
        HostedZoneAttributes {
            hosted_zone_id: config.domain.hosted_zone_id.clone(),
            zone_name: config.domain.zone_name.clone(),
        },
    )?;
    let certificate = Certificate::new(
        &stack,
        "Certificate",
        CertificateProps::new(config.domain.name.clone(), &zone),
    )?;
    let load_balancer = ApplicationLoadBalancer::new(
        &stack,
        "LoadBalancer",
        ApplicationLoadBalancerProps {
            certificate_arn: Some(certificate.certificate_arn()),
            access_logs: Some(AccessLogs::new(&access_logs)),
            deletion_protection: config.protect_data,
            ..ApplicationLoadBalancerProps::new(vpc)
        },
    )?;
    AliasRecord::new(
        &stack,
        "Domain",
        AliasRecordProps {
            zone: &zone,
            record_name: config.domain.name.clone(),
            load_balancer: &load_balancer,
        },
    )?;
    // The web application firewall: AWS's managed rules and a rate limit per address.
    let firewall = WebAcl::new(
        &stack,
        "Firewall",
        WebAclProps {
            rate_limit_per_5_minutes: config.rate_limit_per_5_minutes,
            log_removal_policy: if config.protect_data {
                omc_cdk::RemovalPolicy::Retain
            } else {
                omc_cdk::RemovalPolicy::Destroy
            },
            log_key: Some(logs_key.clone()),
            ..WebAclProps::new(Retention::Days(config.log_retention_days))
        },
    )?;
    load_balancer.associate_web_acl(&firewall)?;

    // The FastAPI backend: /api/*, PostgreSQL and Redis.
    let (environment, secrets) = connection_settings(config, data, true)?;
    let backend = FargateService::new(
        &stack,
        "Backend",
        FargateServiceProps {
            load_balancer: Some(AlbRoute {
                route: Route::paths(["/api/*"]),
                health_check: TargetHealthCheck {
                    path: "/api/health".into(),
                    ..TargetHealthCheck::default()
                },
                ..AlbRoute::new(&load_balancer)
            }),
            ..service_props(
                config,
                &cluster,
                logs_key,
                &config.backend,
                ContainerProps {
                    port: Some(BACKEND_PORT),
                    environment,
                    secrets,
                    health_check: Some(ContainerHealthCheck::shell(format!(
                        "curl -fs http://localhost:{BACKEND_PORT}/api/health || exit 1"
                    ))),
                    ..ContainerProps::new("backend", backend_image)
                },
            )
        },
    )?;

    // The Vue.js frontend: the default route. nginx writes its cache under /var/cache/nginx
    // and its pid under /run (/var/run links there); those are the only writable paths.
    let frontend = FargateService::new(
        &stack,
        "Frontend",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&load_balancer)),
            ..service_props(
                config,
                &cluster,
                logs_key,
                &config.frontend,
                ContainerProps {
                    port: Some(FRONTEND_PORT),
                    writable_paths: vec!["/var/cache/nginx".into(), "/run".into()],
                    ..ContainerProps::new("frontend", frontend_image)
                },
            )
        },
    )?;

    // The continuous collector: a service without a load balancer, writing to PostgreSQL.
    let (environment, secrets) = connection_settings(config, data, false)?;
    let stream_collector = FargateService::new(
        &stack,
        "StreamCollector",
        service_props(
            config,
            &cluster,
            logs_key,
            &config.stream_collector,
            ContainerProps {
                command: ["python", "-m", "collectors.stream"]
                    .map(str::to_owned)
                    .to_vec(),
                environment: environment.clone(),
                secrets: secrets.clone(),
                ..ContainerProps::new("collector", collectors_image.clone())
            },
        ),
    )?;

    // The cron-like collectors: one task per run, started by EventBridge Scheduler.
    let mut scheduled = Vec::new();
    for collector in &config.scheduled_collectors {
        let task = ScheduledTask::new(
            &stack,
            &collector.id,
            ScheduledTaskProps {
                cpu: collector.size.cpu,
                memory_mib: collector.size.memory_mib,
                trigger: ScheduleTrigger::Scheduler {
                    time_zone: "UTC".into(),
                },
                log_retention: Retention::Days(config.log_retention_days),
                log_key: Some(logs_key),
                ..ScheduledTaskProps::new(
                    &cluster,
                    collector.schedule.clone(),
                    vec![ContainerProps {
                        command: collector.command.clone(),
                        environment: environment.clone(),
                        secrets: secrets.clone(),
                        ..ContainerProps::new("collector", collectors_image.clone())
                    }],
                )
            },
        )?;
        scheduled.push(task);
    }

    // The agents: PostgreSQL, Redis, and their artifacts on EFS.
    let artifacts =
        data.files
            .access_point(ARTIFACTS)
            .ok_or_else(|| omc_cdk::Error::InvalidValue {
                path: config.stack_name("Data"),
                message: format!("the agents' file system has no access point {ARTIFACTS:?}"),
            })?;
    let (mut environment, secrets) = connection_settings(config, data, true)?;
    environment.insert("ARTIFACTS_DIR".to_owned(), "/artifacts".into());
    let agents = FargateService::new(
        &stack,
        "Agents",
        FargateServiceProps {
            volumes: vec![EfsVolume::new(&artifacts, "/artifacts")],
            ..service_props(
                config,
                &cluster,
                logs_key,
                &config.agents,
                ContainerProps {
                    command: ["python", "-m", "agents.worker"]
                        .map(str::to_owned)
                        .to_vec(),
                    environment,
                    secrets,
                    ..ContainerProps::new("agents", agents_image)
                },
            )
        },
    )?;

    // Least privilege between tiers: load balancer -> web services; services -> data.
    let database = data.database.connections();
    database.allow_default_port_from(&backend, "Backend to PostgreSQL")?;
    database.allow_default_port_from(&stream_collector, "Stream collector to PostgreSQL")?;
    database.allow_default_port_from(&agents, "Agents to PostgreSQL")?;
    for (task, collector) in scheduled.iter().zip(&config.scheduled_collectors) {
        database.allow_default_port_from(task, &format!("{} to PostgreSQL", collector.id))?;
    }
    let cache = data.cache.connections();
    cache.allow_default_port_from(&backend, "Backend to Redis")?;
    cache.allow_default_port_from(&agents, "Agents to Redis")?;

    Ok(Services {
        load_balancer,
        backend,
        frontend,
        stream_collector,
        agents,
        scheduled,
    })
}
