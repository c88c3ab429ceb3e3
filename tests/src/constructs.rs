//! Fixtures built from the high-level constructs: every construct, in its notable
//! configurations, across the stacks a team would split them into.

use omc_cdk::{App, Construct, Environment, IndexMap, Result, Stack, StackProps};
use omc_constructs::{
    AccessLogBucket, AccessLogBucketProps, AccessPointProps, AlbRoute, ApplicationLoadBalancer,
    ApplicationLoadBalancerProps, Autoscaling, Bucket, BucketProps, CacheEngine, Cluster,
    ClusterProps, Connectable, ContainerHealthCheck, ContainerImage, ContainerProps, EfsFileSystem,
    EfsFileSystemProps, EfsVolume, EksRunnerCluster, EksRunnerClusterProps, FlowLogTraffic,
    GenerateSecret, Key, KeyProps, Monitoring, MonitoringProps, PostgresVersion, Rds, RdsProps,
    Redis, RedisProps, Route, Schedule, ScheduleTrigger, ScheduledTask, ScheduledTaskProps, Secret,
    SecretProps, SecurityBaseline, SecurityBaselineProps, ServerAccessLogs, SubnetGroup,
    SubnetKind, TargetHealthCheck, Vpc, VpcProps,
};

fn props(description: &str) -> StackProps {
    let mut tags = std::collections::BTreeMap::new();
    tags.insert("Project".to_owned(), "constructs".to_owned());
    StackProps {
        env: Some(Environment::region("us-east-1")),
        description: Some(description.to_owned()),
        tags,
        termination_protection: false,
        stage: None,
    }
}

const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// Every construct wired together: network, data, services, scheduled jobs, runners,
/// monitoring and the security baseline.
pub fn constructs() -> Result<App> {
    let app = App::new().named("constructs", env!("CARGO_PKG_VERSION"));

    let network = Stack::new(&app, "Constructs-Network", props("VPC"))?;
    // One key for every log group and the trail, as the OMC apps have.
    let logs_key = Key::new(
        &network,
        "LogsKey",
        KeyProps {
            description: Some("Encrypts the fixture's logs".into()),
            ..KeyProps::default()
        },
    )?;
    let vpc = Vpc::new(
        &network,
        "Vpc",
        VpcProps {
            cidr: "10.40.0.0/16".into(),
            subnets: vec![
                SubnetGroup::new("Public", SubnetKind::Public, 24),
                SubnetGroup::new("App", SubnetKind::PrivateWithEgress, 22),
                SubnetGroup::new("Db", SubnetKind::Isolated, 24),
            ],
            nat_gateways: 2,
            flow_logs: Some(FlowLogTraffic::All),
            flow_log_key: Some(logs_key.clone()),
            ..VpcProps::default()
        },
    )?;

    let data = Stack::new(&app, "Constructs-Data", props("Database, cache, files"))?;
    let secrets_key = Key::new(&data, "SecretsKey", KeyProps::default())?;
    let db = Rds::new(
        &data,
        "Db",
        RdsProps {
            multi_az: true,
            max_allocated_storage_gib: Some(100),
            performance_insights: true,
            instance_class: "db.t4g.medium".into(),
            enhanced_monitoring_seconds: Some(30),
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )?;
    let cache = Redis::new(
        &data,
        "Cache",
        RedisProps {
            replicas: 1,
            engine: CacheEngine::Valkey8_0,
            auth_token_key: Some(&secrets_key),
            ..RedisProps::new(&vpc)
        },
    )?;
    let files = EfsFileSystem::new(
        &data,
        "Artifacts",
        EfsFileSystemProps {
            access_points: vec![(
                "Agents".into(),
                AccessPointProps::new("/agents", 1000, 1000),
            )],
            ..EfsFileSystemProps::new(&vpc)
        },
    )?;
    let agents = files
        .access_point("Agents")
        .ok_or_else(|| omc_cdk::Error::InvalidValue {
            path: "Constructs-Data/Artifacts".into(),
            message: "access point \"Agents\" is missing".into(),
        })?;
    let api_key = Secret::new(
        &data,
        "ApiKey",
        SecretProps {
            description: Some("Third-party API key".into()),
            generate: GenerateSecret::json([("client", "omc")], "key"),
            kms_key: Some(&secrets_key),
            ..SecretProps::default()
        },
    )?;

    let services = Stack::new(&app, "Constructs-Services", props("ECS services"))?;
    let cluster = Cluster::new(&services, "Cluster", ClusterProps::new(&vpc))?;
    let server_access_logs =
        AccessLogBucket::new(&services, "ServerAccessLogs", AccessLogBucketProps::new(90))?;
    let logs = Bucket::new(
        &services,
        "AccessLogs",
        BucketProps {
            expire_after_days: Some(90),
            access_logs: Some(ServerAccessLogs::new(&server_access_logs, "alb-logs/")),
            ..BucketProps::default()
        },
    )?;
    let alb = ApplicationLoadBalancer::new(
        &services,
        "Alb",
        ApplicationLoadBalancerProps {
            certificate_arn: Some(omc_cdk::arn::CertificateArn::new(
                "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012",
            )?),
            access_logs: Some(omc_constructs::AccessLogs::new(&logs)),
            ..ApplicationLoadBalancerProps::new(&vpc)
        },
    )?;
    let mut environment = IndexMap::new();
    environment.insert("DATABASE_HOST".to_owned(), db.endpoint_address());
    environment.insert("DATABASE_PORT".to_owned(), db.endpoint_port());
    environment.insert("REDIS_HOST".to_owned(), cache.primary_endpoint_address());
    let mut secrets = IndexMap::new();
    secrets.insert("DATABASE_USER".to_owned(), db.secret().field("username")?);
    secrets.insert(
        "DATABASE_PASSWORD".to_owned(),
        db.secret().field("password")?,
    );
    if let Some(token) = cache.auth_token_secret() {
        secrets.insert("REDIS_AUTH_TOKEN".to_owned(), token.field("token")?);
    }
    secrets.insert("API_KEY".to_owned(), api_key.field("key")?);
    let backend = omc_constructs::FargateService::new(
        &services,
        "Backend",
        omc_constructs::FargateServiceProps {
            cpu: 512,
            memory_mib: 1024,
            load_balancer: Some(AlbRoute {
                route: Route::paths(["/api/*"]),
                health_check: TargetHealthCheck {
                    path: "/api/health".into(),
                    ..TargetHealthCheck::default()
                },
                ..AlbRoute::new(&alb)
            }),
            log_key: Some(&logs_key),
            autoscaling: Some(Autoscaling {
                requests_per_target: Some(500),
                memory_target_percent: Some(75),
                ..Autoscaling::new(2, 6)
            }),
            volumes: vec![EfsVolume::new(&agents, "/artifacts")],
            ..omc_constructs::FargateServiceProps::new(
                &cluster,
                vec![ContainerProps {
                    port: Some(8000),
                    environment,
                    secrets,
                    health_check: Some(ContainerHealthCheck::shell(
                        "curl -f http://localhost:8000/api/health || exit 1",
                    )),
                    ..ContainerProps::new(
                        "backend",
                        ContainerImage::ecr(format!("{REPO}/backend"), "1.4.2"),
                    )
                }],
            )
        },
    )?;
    db.connections()
        .allow_default_port_from(&backend, "Backend to PostgreSQL")?;
    cache
        .connections()
        .allow_default_port_from(&backend, "Backend to Redis")?;
    let frontend = omc_constructs::FargateService::new(
        &services,
        "Frontend",
        omc_constructs::FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            log_key: Some(&logs_key),
            ..omc_constructs::FargateServiceProps::new(
                &cluster,
                vec![ContainerProps {
                    port: Some(8080),
                    ..ContainerProps::new(
                        "frontend",
                        ContainerImage::ecr(format!("{REPO}/frontend"), "2.0.0"),
                    )
                }],
            )
        },
    )?;
    let collector = ContainerProps {
        command: vec!["python".into(), "-m".into(), "collectors.prices".into()],
        ..ContainerProps::new(
            "collector",
            ContainerImage::ecr(format!("{REPO}/collectors"), "0.9.0"),
        )
    };
    let nightly = ScheduledTask::new(
        &services,
        "NightlyCollector",
        ScheduledTaskProps {
            trigger: ScheduleTrigger::Scheduler {
                time_zone: "Europe/Berlin".into(),
            },
            log_key: Some(&logs_key),
            ..ScheduledTaskProps::new(
                &cluster,
                Schedule::cron("0 3 * * ? *"),
                vec![collector.clone()],
            )
        },
    )?;
    db.connections()
        .allow_default_port_from(&nightly, "Collector to PostgreSQL")?;
    ScheduledTask::new(
        &services,
        "HourlyCollector",
        ScheduledTaskProps {
            trigger: ScheduleTrigger::EventBridgeRule,
            log_key: Some(&logs_key),
            ..ScheduledTaskProps::new(&cluster, Schedule::rate(1, "hour"), vec![collector])
        },
    )?;

    let ops = Stack::new(&app, "Constructs-Ops", props("Alarms and dashboard"))?;
    let monitoring = Monitoring::new(
        &ops,
        "Monitoring",
        MonitoringProps {
            alarm_email: Some("ops@example.com".into()),
            encrypted_topic: true,
            ..MonitoringProps::default()
        },
    )?;
    alb.add_alarms(&monitoring)?;
    backend.add_alarms(&monitoring)?;
    frontend.add_alarms(&monitoring)?;
    db.add_alarms(&monitoring, 80)?;
    cache.add_alarms(&monitoring)?;

    let security = Stack::new(&app, "Constructs-Security", props("Security baseline"))?;
    let trail_access_logs =
        AccessLogBucket::new(&security, "AccessLogs", AccessLogBucketProps::new(365))?;
    SecurityBaseline::new(
        &security,
        "Baseline",
        SecurityBaselineProps {
            trail_key: Some(logs_key.clone()),
            access_logs: Some(ServerAccessLogs::new(&trail_access_logs, "trail/")),
            ..SecurityBaselineProps::new("constructs-trail")
        },
    )?;

    let ci = Stack::new(&app, "Constructs-Ci", props("CI runners"))?;
    let ci_logs_key = Key::new(&ci, "LogsKey", KeyProps::default())?;
    let ci_vpc = Vpc::new(
        &ci,
        "Vpc",
        VpcProps {
            cidr: "10.50.0.0/16".into(),
            flow_log_key: Some(ci_logs_key.clone()),
            ..VpcProps::default()
        },
    )?;
    EksRunnerCluster::new(
        &ci,
        "Runners",
        EksRunnerClusterProps {
            admin_role_arns: vec![omc_cdk::arn::RoleArn::new(
                "arn:aws:iam::123456789012:role/platform-admin",
            )?],
            public_access_cidrs: vec!["203.0.113.0/24".into()],
            log_key: Some(&ci_logs_key),
            ..EksRunnerClusterProps::new(&ci_vpc, "https://github.com/omc")
        },
    )?;
    Ok(app)
}

/// Every construct with its defaults, in one environment-agnostic stack (zones from
/// `Fn::GetAZs`), plus the configurations the main fixture does not show: an internal HTTP-only
/// load balancer, Redis without replicas, a secret with a generated password only, and (in a second stack, with a region) a runner cluster with its defaults.
pub fn constructs_defaults() -> Result<App> {
    // Defaults are sized for development (single-AZ, no certificate): checked as such.
    let app = App::new()
        .named("constructs-defaults", env!("CARGO_PKG_VERSION"))
        .with_stage(omc_cdk::Stage::Development);
    let stack = Stack::new(
        &app,
        "Defaults",
        StackProps {
            description: Some("Every construct with its defaults".into()),
            ..StackProps::default()
        },
    )?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let db = Rds::new(&stack, "Db", RdsProps::new(&vpc, PostgresVersion::V16_9))?;
    let cache = Redis::new(&stack, "Cache", RedisProps::new(&vpc))?;
    let files = EfsFileSystem::new(&stack, "Files", EfsFileSystemProps::new(&vpc))?;
    let token = Secret::new(&stack, "Token", SecretProps::default())?;
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;
    let alb = ApplicationLoadBalancer::new(
        &stack,
        "Alb",
        ApplicationLoadBalancerProps {
            internet_facing: false,
            ..ApplicationLoadBalancerProps::new(&vpc)
        },
    )?;
    if let Some(listener) = alb.node().find("HttpListener") {
        listener.suppress(
            "alb-listener-https",
            "the defaults fixture shows ApplicationLoadBalancer without a certificate, as its defaults give it",
        )?;
    }
    let mut secrets = IndexMap::new();
    secrets.insert("TOKEN".to_owned(), token.whole());
    let web = omc_constructs::FargateService::new(
        &stack,
        "Web",
        omc_constructs::FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            ..omc_constructs::FargateServiceProps::new(
                &cluster,
                vec![ContainerProps {
                    port: Some(8080),
                    secrets,
                    ..ContainerProps::new(
                        "web",
                        ContainerImage::ecr_repository("defaults/web", "1.0.0"),
                    )
                }],
            )
        },
    )?;
    db.connections()
        .allow_default_port_from(&web, "Web to PostgreSQL")?;
    cache
        .connections()
        .allow_default_port_from(&web, "Web to Redis")?;
    files
        .connections()
        .allow_default_port_from(&web, "Web to EFS")?;
    ScheduledTask::new(
        &stack,
        "Cleanup",
        ScheduledTaskProps::new(
            &cluster,
            Schedule::rate(6, "hours"),
            vec![ContainerProps::new(
                "cleanup",
                ContainerImage::registry("public.ecr.aws/docker/library/busybox:1.37"),
            )],
        ),
    )?;
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    alb.add_alarms(&monitoring)?;
    web.add_alarms(&monitoring)?;
    db.add_alarms(&monitoring, 50)?;
    cache.add_alarms(&monitoring)?;
    SecurityBaseline::new(
        &stack,
        "Baseline",
        SecurityBaselineProps::new("defaults-trail"),
    )?;
    // The runner cluster's Helm values name the region, so it needs a stack with one.
    let ci = Stack::new(
        &app,
        "Defaults-Ci",
        StackProps {
            env: Some(Environment::region("eu-central-1")),
            ..StackProps::default()
        },
    )?;
    let ci_vpc = Vpc::new(&ci, "Vpc", VpcProps::default())?;
    EksRunnerCluster::new(
        &ci,
        "Runners",
        EksRunnerClusterProps::new(&ci_vpc, "https://github.com/omc"),
    )?;
    Ok(app)
}
