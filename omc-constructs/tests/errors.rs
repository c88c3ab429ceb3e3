//! Construct errors are typed: a refused prop is `Error::InvalidProp` naming the field and the
//! value, a refused schedule is `Error::InvalidSchedule` with the `ScheduleError`, and props
//! that clash with the app around them are `Error::Conflict`. One representative failure per
//! construct, matched on the variant, not only on the message.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::template::schedule::ScheduleError;
use omc_cdk::{App, Environment, Error, Stack, StackProps};
use omc_constructs::{
    AccessPointProps, AlbRoute, ApplicationLoadBalancer, ApplicationLoadBalancerProps, Autoscaling,
    Bucket, BucketProps, Cluster, ClusterProps, Connections, ContainerImage, ContainerProps,
    EfsFileSystem, EfsFileSystemProps, EksRunnerCluster, EksRunnerClusterProps, FargateService,
    FargateServiceProps, GenerateSecret, Key, KeyProps, LogGroup, LogGroupProps, Monitoring,
    MonitoringProps, Peer, Port, PostgresVersion, Principal, Rds, RdsProps, Redis, RedisProps,
    Retention, Role, RoleProps, Route, Schedule, ScheduledTask, ScheduledTaskProps, Secret,
    SecretProps, SecurityBaseline, SecurityBaselineProps, SecurityGroup, SecurityGroupAttributes,
    SecurityGroupProps, SubnetKind, Vpc, VpcAttributes, VpcProps,
};

const REPO: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

struct Fixture {
    _app: App,
    stack: Stack,
    vpc: Vpc,
    cluster: Cluster,
}

fn fixture() -> Fixture {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Test",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default()).unwrap();
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc)).unwrap();
    Fixture {
        _app: app,
        stack,
        vpc,
        cluster,
    }
}

fn container(name: &str, port: Option<u16>) -> ContainerProps {
    ContainerProps {
        port,
        ..ContainerProps::new(name, ContainerImage::ecr(format!("{REPO}/{name}"), "1.0.0"))
    }
}

/// The field and value of an `InvalidProp`, after checking its path and that `Display` is
/// `path: reason`.
fn prop(err: &Error) -> (&'static str, &str) {
    match err {
        Error::InvalidProp {
            path,
            field,
            value,
            reason,
        } => {
            assert_eq!(err.to_string(), format!("{path}: {reason}"));
            (field, value)
        }
        other => panic!("expected InvalidProp, got {other:?}"),
    }
}

#[test]
fn vpc_props_and_attributes() {
    let f = fixture();
    let err = Vpc::new(
        &f.stack,
        "Wide",
        VpcProps {
            max_azs: 7,
            ..VpcProps::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidProp { path, field: "max_azs", value, .. }
        if value == "7" && path == "Test/Wide")
    );
    assert_eq!(
        err.to_string(),
        "Test/Wide: max_azs is 7; a VPC spans 1 to 6 availability zones"
    );
    let err = Vpc::new(
        &f.stack,
        "Huge",
        VpcProps {
            cidr: "10.0.0.0/8".into(),
            ..VpcProps::default()
        },
    )
    .unwrap_err();
    assert_eq!(prop(&err), ("cidr", "10.0.0.0/8"));
    let err = Vpc::from_attributes(
        &f.stack,
        "Imported",
        VpcAttributes {
            vpc_id: Some("subnet-0123".into()),
            ..VpcAttributes::default()
        },
    )
    .unwrap_err();
    assert_eq!(prop(&err), ("vpc_id", "subnet-0123"));
    // An imported construct has its own path, like any other.
    assert!(err.to_string().starts_with("Test/Imported: "), "{err}");
}

#[test]
fn a_missing_subnet_kind_names_the_subnets_prop() {
    // A VPC with isolated subnets only, and a cache asked to go in public ones.
    let app = App::new();
    let stack = Stack::new(&app, "Iso", StackProps::default()).unwrap();
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            max_azs: 2,
            nat_gateways: 0,
            subnets: vec![omc_constructs::SubnetGroup::new(
                "Data",
                SubnetKind::Isolated,
                24,
            )],
            ..VpcProps::default()
        },
    )
    .unwrap();
    let err = Redis::new(
        &stack,
        "Cache",
        RedisProps {
            subnets: SubnetKind::Public,
            ..RedisProps::new(&vpc)
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("subnets", "Public"));
}

#[test]
fn service_task_and_load_balancer() {
    let f = fixture();
    let service = |id: &str, props: FargateServiceProps<'_>| {
        FargateService::new(&f.stack, id, props)
            .map(|_| ())
            .unwrap_err()
    };
    let err = service(
        "Sized",
        FargateServiceProps {
            cpu: 300,
            ..FargateServiceProps::new(&f.cluster, vec![container("web", None)])
        },
    );
    assert_eq!(prop(&err), ("cpu", "300"));
    let err = service(
        "Memory",
        FargateServiceProps {
            cpu: 256,
            memory_mib: 4096,
            ..FargateServiceProps::new(&f.cluster, vec![container("web", None)])
        },
    );
    assert_eq!(prop(&err), ("memory_mib", "4096"));
    let err = service(
        "Twice",
        FargateServiceProps::new(
            &f.cluster,
            vec![container("web", None), container("web", None)],
        ),
    );
    assert_eq!(prop(&err), ("containers.name", "web"));
    let err = service(
        "Scaling",
        FargateServiceProps {
            autoscaling: Some(Autoscaling::new(5, 2)),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", None)])
        },
    );
    assert_eq!(prop(&err), ("autoscaling.min", "5"));

    let err = ApplicationLoadBalancer::new(
        &f.stack,
        "Slow",
        ApplicationLoadBalancerProps {
            idle_timeout_seconds: 0,
            ..ApplicationLoadBalancerProps::new(&f.vpc)
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("idle_timeout_seconds", "0"));
    let alb =
        ApplicationLoadBalancer::new(&f.stack, "Alb", ApplicationLoadBalancerProps::new(&f.vpc))
            .unwrap();
    let err = service(
        "Priority",
        FargateServiceProps {
            load_balancer: Some(AlbRoute {
                route: Route {
                    priority: Some(60_000),
                    ..Route::paths(["/x"])
                },
                ..AlbRoute::new(&alb)
            }),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    );
    assert_eq!(prop(&err), ("load_balancer.route.priority", "60000"));
    // A second default route clashes with the load balancer's first: no prop is wrong alone.
    FargateService::new(
        &f.stack,
        "First",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    )
    .unwrap();
    let err = service(
        "Second",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    );
    assert!(
        matches!(&err, Error::Conflict { path, reason } if path == "Test/Second" && reason.contains("already has a default route")),
        "{err:?}"
    );
}

#[test]
fn scheduled_tasks_carry_the_schedule_error() {
    let f = fixture();
    let err = ScheduledTask::new(
        &f.stack,
        "Job",
        ScheduledTaskProps::new(
            &f.cluster,
            Schedule::cron("0 3 * * *"),
            vec![container("job", None)],
        ),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSchedule { path, expression, source: ScheduleError::FieldCount { found: 5, .. } }
            if path == "Test/Job" && expression == "cron(0 3 * * *)"),
        "{err:?}"
    );
    assert!(std::error::Error::source(&err).is_some());
    assert!(
        err.to_string()
            .starts_with("Test/Job: schedule cron(0 3 * * *): "),
        "{err}"
    );
}

#[test]
fn data_constructs() {
    let f = fixture();
    let err = Rds::new(
        &f.stack,
        "Db",
        RdsProps {
            backup_retention_days: 36,
            ..RdsProps::new(&f.vpc, PostgresVersion::V17_6)
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("backup_retention_days", "36"));
    let err = Redis::new(
        &f.stack,
        "Cache",
        RedisProps {
            replicas: 6,
            ..RedisProps::new(&f.vpc)
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("replicas", "6"));
    let err = EfsFileSystem::new(
        &f.stack,
        "Files",
        EfsFileSystemProps {
            access_points: vec![("Data".into(), AccessPointProps::new("data", 1000, 1000))],
            ..EfsFileSystemProps::new(&f.vpc)
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("access_points.path", "data"));
    let err = Bucket::new(
        &f.stack,
        "Bucket",
        BucketProps {
            name: Some("Not_A_Bucket".into()),
            ..BucketProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("name", "Not_A_Bucket"));
    let err = Secret::new(
        &f.stack,
        "Long",
        SecretProps {
            generate: GenerateSecret {
                length: 0,
                ..GenerateSecret::default()
            },
            ..SecretProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("generate.length", "0"));
    let secret = Secret::new(
        &f.stack,
        "Json",
        SecretProps {
            generate: GenerateSecret::json([("user", "svc")], "password"),
            ..SecretProps::default()
        },
    )
    .unwrap();
    let err = secret.field("pasword").map(|_| ()).unwrap_err();
    assert_eq!(prop(&err), ("key", "pasword"));
    let err = Key::new(
        &f.stack,
        "Key",
        KeyProps {
            alias: Some("data".into()),
            ..KeyProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("alias", "data"));
}

#[test]
fn operations_constructs() {
    let f = fixture();
    let err = LogGroup::new(&f.stack, "Logs", LogGroupProps::new(Retention::Days(2)))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(prop(&err), ("retention", "2"));
    let err = Monitoring::new(
        &f.stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: Some("ops".into()),
            ..MonitoringProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("alarm_email", "ops"));
    let err = Role::new(
        &f.stack,
        "Role",
        RoleProps {
            description: Some("x".repeat(1001)),
            ..RoleProps::new(Principal::Service("ecs-tasks.amazonaws.com".into()))
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err).0, "description");
    let err = SecurityBaseline::new(&f.stack, "Baseline", SecurityBaselineProps::new("x"))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(prop(&err), ("trail_name", "x"));
    let err = Cluster::new(
        &f.stack,
        "Named",
        ClusterProps {
            name: Some("a b".into()),
            ..ClusterProps::new(&f.vpc)
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("name", "a b"));
}

#[test]
fn security_groups_peers_and_connections() {
    let f = fixture();
    let err = SecurityGroup::new(&f.stack, "Empty", SecurityGroupProps::new(&f.vpc, ""))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(prop(&err), ("description", ""));
    let group =
        SecurityGroup::new(&f.stack, "Group", SecurityGroupProps::new(&f.vpc, "app")).unwrap();
    let err = group
        .add_ingress_rule(&Peer::Ipv4("10.0.0.0/33".into()), Port::tcp(443), "https")
        .unwrap_err();
    assert_eq!(prop(&err), ("peer", "10.0.0.0/33"));
    let err = SecurityGroup::from_attributes(
        &f.stack,
        "Imported",
        SecurityGroupAttributes {
            security_group_id: "vpc-0123".into(),
            allow_all_outbound: true,
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("security_group_id", "vpc-0123"));
    let connections = Connections::new(vec![group.clone()], None);
    let err = connections
        .allow_default_port_from(&group, "self")
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}

#[test]
fn eks_runner_cluster() {
    let f = fixture();
    let err = EksRunnerCluster::new(
        &f.stack,
        "Runners",
        EksRunnerClusterProps::new(&f.vpc, "http://github.com/omc"),
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(prop(&err), ("github_config_url", "http://github.com/omc"));
    // An environment-agnostic stack has no region for the autoscaler's values.
    let app = App::new();
    let stack = Stack::new(&app, "Agnostic", StackProps::default()).unwrap();
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            max_azs: 2,
            ..VpcProps::default()
        },
    )
    .unwrap();
    let err = EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps::new(&vpc, "https://github.com/omc"),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}

/// Typed resources carry their schema's value constraints: literal values they refuse fail
/// synthesis with the construct path, the property, the value and what is allowed.
#[test]
fn typed_resources_check_the_schemas_value_constraints() {
    use omc_constructs::cfn::{ec2, s3};
    let app = App::new();
    let stack = Stack::new(&app, "Test", StackProps::default()).unwrap();
    stack
        .add(
            "Vpc",
            ec2::Vpc {
                cidr_block: Some("10.0.0.0/16".into()),
                instance_tenancy: Some("shared".into()),
                ..ec2::Vpc::new()
            },
        )
        .unwrap();
    stack
        .add(
            "Bucket",
            s3::Bucket {
                bucket_name: Some("Omc-Reports".into()),
                ..s3::Bucket::new()
            },
        )
        .unwrap();
    let err = app.synth_unchecked().unwrap_err();
    let kinds: Vec<omc_cdk::ProblemKind> = err.problems().iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            omc_cdk::ProblemKind::ValueNotAllowed,
            omc_cdk::ProblemKind::PatternMismatch
        ]
    );
    assert_eq!(
        err.to_string(),
        r#"synthesis found 2 problems:
  - Test/Vpc (Properties.InstanceTenancy): InstanceTenancy is "shared"; AWS::EC2::VPC allows one of dedicated, default, host
  - Test/Bucket (Properties.BucketName): BucketName is "Omc-Reports"; AWS::S3::Bucket allows only values that match ^([a-z0-9][a-z0-9.-]*[a-z0-9])?$"#
    );
}
