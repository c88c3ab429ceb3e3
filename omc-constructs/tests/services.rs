//! `Cluster`, `ApplicationLoadBalancer`, `FargateService` and `ScheduledTask`: resources,
//! least-privilege roles, routing, autoscaling and bad input.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::template::schedule::{CronField, ScheduleError};
use omc_cdk::{App, Environment, IndexMap, Json, Stack, StackProps};
use omc_constructs::{
    AccessPointProps, AlbRoute, ApplicationLoadBalancer, ApplicationLoadBalancerProps, Autoscaling,
    Cluster, ClusterProps, ContainerImage, ContainerInsights, ContainerProps, EfsFileSystem,
    EfsFileSystemProps, EfsVolume, FargateService, FargateServiceProps, GenerateSecret, Route,
    Schedule, ScheduleTrigger, ScheduledTask, ScheduledTaskProps, Secret, SecretProps, SslPolicy,
    TargetHealthCheck, Vpc, VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CERTIFICATE: &str =
    "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012";
const REPO: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

struct Fixture {
    app: App,
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
        app,
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

fn https_alb(f: &Fixture) -> ApplicationLoadBalancer {
    ApplicationLoadBalancer::new(
        &f.stack,
        "Alb",
        ApplicationLoadBalancerProps {
            certificate_arn: Some(omc_cdk::arn::CertificateArn::new(CERTIFICATE).unwrap()),
            ..ApplicationLoadBalancerProps::new(&f.vpc)
        },
    )
    .unwrap()
}

fn only<'t>(t: &'t Template, type_name: &str) -> &'t Json {
    let found = t.resources(type_name);
    assert_eq!(found.len(), 1, "{type_name}: {found:?}");
    found[0].1
}

fn statements(role: &Json) -> Vec<Json> {
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn role<'t>(t: &'t Template, prefix: &str) -> &'t Json {
    t.resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with(prefix))
        .map_or_else(|| panic!("no role {prefix}*"), |(_, r)| r)
}

#[test]
fn cluster_uses_fargate_capacity_providers_and_container_insights() -> TestResult {
    let f = fixture();
    Cluster::new(
        &f.stack,
        "Plain",
        ClusterProps {
            container_insights: ContainerInsights::Disabled,
            fargate_spot: false,
            ..ClusterProps::new(&f.vpc)
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    t.has_resource_properties(
        "AWS::ECS::Cluster",
        json!({"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}),
    )?;
    t.has_resource_properties(
        "AWS::ECS::Cluster",
        json!({"ClusterSettings": [{"Name": "containerInsights", "Value": "disabled"}]}),
    )?;
    t.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        json!({"CapacityProviders": ["FARGATE", "FARGATE_SPOT"], "DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}]}),
    )?;
    t.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        json!({"CapacityProviders": ["FARGATE"]}),
    )?;
    Ok(())
}

#[test]
fn https_load_balancer_redirects_http_and_drops_invalid_headers() -> TestResult {
    let f = fixture();
    let alb = https_alb(&f);
    let t = Template::from_stack(&f.stack)?;
    t.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 2)?;
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 80, "Protocol": "HTTP", "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]}),
    )?;
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 443, "Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "Certificates": [{"CertificateArn": CERTIFICATE}]}),
    )?;
    let lb = only(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    assert_eq!(lb["Properties"]["Scheme"], "internet-facing");
    let attributes = lb["Properties"]["LoadBalancerAttributes"].to_string();
    assert!(
        attributes.contains(
            r#"{"Key":"routing.http.drop_invalid_header_fields.enabled","Value":"true"}"#
        ),
        "{attributes}"
    );
    // Internet-facing: 80 and 443 open to the world, nothing else.
    let ingress: Vec<(i64, &Json)> = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .map(|(_, r)| {
            (
                r["Properties"]["FromPort"].as_i64().unwrap(),
                &r["Properties"]["CidrIp"],
            )
        })
        .collect();
    assert_eq!(
        ingress,
        [(80, &json!("0.0.0.0/0")), (443, &json!("0.0.0.0/0"))]
    );
    assert_eq!(alb.node_path(), "Test/Alb");
    Ok(())
}

#[test]
fn internal_load_balancer_accepts_only_the_vpc() -> TestResult {
    let f = fixture();
    ApplicationLoadBalancer::new(
        &f.stack,
        "Alb",
        ApplicationLoadBalancerProps {
            internet_facing: false,
            ssl_policy: SslPolicy::Tls13Only,
            ..ApplicationLoadBalancerProps::new(&f.vpc)
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    assert_eq!(
        only(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]["Scheme"],
        "internal"
    );
    // Without a certificate there is one HTTP listener, answering 404 until a route is added.
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 80, "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]}),
    )?;
    t.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        json!({"CidrIp": {"Fn::GetAtt": ["Vpc8378EB38", "CidrBlock"]}, "FromPort": 80, "ToPort": 80}),
    )?;
    t.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)?;
    Ok(())
}

#[test]
fn routes_get_deterministic_priorities_and_one_default() -> TestResult {
    let f = fixture();
    let alb = https_alb(&f);
    let service = |id: &str, route: Route| {
        FargateService::new(
            &f.stack,
            id,
            FargateServiceProps {
                load_balancer: Some(AlbRoute {
                    route,
                    ..AlbRoute::new(&alb)
                }),
                ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
            },
        )
    };
    service("Frontend", Route::default_route())?;
    service("Api", Route::paths(["/api/*"]))?;
    service(
        "Admin",
        Route {
            host_headers: vec!["admin.example.com".into()],
            ..Route::default()
        },
    )?;
    service(
        "Pinned",
        Route {
            priority: Some(5),
            ..Route::paths(["/pinned"])
        },
    )?;
    let err = service("Again", Route::default_route())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "Test/Again: Test/Alb already has a default route (from Test/Frontend); give this route path patterns or host headers"
    );
    let err = service(
        "Clash",
        Route {
            priority: Some(20),
            ..Route::paths(["/x"])
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Clash: route priority 20 is already used on Test/Alb; choose another"
    );
    let t = Template::from_stack(&f.stack)?;
    let mut priorities: Vec<(String, i64)> = t
        .resources("AWS::ElasticLoadBalancingV2::ListenerRule")
        .into_iter()
        .map(|(id, r)| (id.to_owned(), r["Properties"]["Priority"].as_i64().unwrap()))
        .collect();
    priorities.sort_by_key(|(_, p)| *p);
    assert_eq!(
        priorities.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        [5, 10, 20],
        "{priorities:?}"
    );
    assert!(
        priorities[1].0.starts_with("ApiListenerRule"),
        "{priorities:?}"
    );
    assert!(
        priorities[2].0.starts_with("AdminListenerRule"),
        "{priorities:?}"
    );
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        json!({"Priority": 20, "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["admin.example.com"]}}]}),
    )?;
    // The default route replaced the HTTPS listener's 404.
    let frontend_group = t
        .resources("AWS::ElasticLoadBalancingV2::TargetGroup")
        .into_iter()
        .find(|(id, _)| id.starts_with("FrontendTargetGroup"))
        .unwrap()
        .0;
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 443, "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": frontend_group}}]}),
    )?;
    Ok(())
}

#[test]
fn names_over_32_characters_are_refused() {
    let f = fixture();
    let err = ApplicationLoadBalancer::new(
        &f.stack,
        "Alb",
        ApplicationLoadBalancerProps {
            name: Some("omc-staging-public-load-balancer-1".into()),
            ..ApplicationLoadBalancerProps::new(&f.vpc)
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Alb: load balancer name \"omc-staging-public-load-balancer-1\" (34 characters) must be 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen or starting with \"internal-\""
    );
    let alb = https_alb(&f);
    let err = FargateService::new(
        &f.stack,
        "Web",
        FargateServiceProps {
            load_balancer: Some(AlbRoute {
                target_group_name: Some("omc-staging-frontend-target-group".into()),
                ..AlbRoute::new(&alb)
            }),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Web: target group name \"omc-staging-frontend-target-group\" (33 characters) must be 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen or starting with \"internal-\""
    );
}

#[test]
fn fargate_service_is_private_read_only_and_rolls_back() -> TestResult {
    let f = fixture();
    let alb = https_alb(&f);
    let secret = Secret::new(
        &f.stack,
        "Api",
        SecretProps {
            generate: GenerateSecret::json([("user", "svc")], "key"),
            ..SecretProps::default()
        },
    )?;
    let mut secrets = IndexMap::new();
    secrets.insert("API_KEY".to_owned(), secret.field("key")?);
    let service = FargateService::new(
        &f.stack,
        "Backend",
        FargateServiceProps {
            cpu: 1024,
            memory_mib: 2048,
            load_balancer: Some(AlbRoute {
                route: Route::paths(["/api/*"]),
                ..AlbRoute::new(&alb)
            }),
            ..FargateServiceProps::new(
                &f.cluster,
                vec![ContainerProps {
                    secrets,
                    ..container("backend", Some(8000))
                }],
            )
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    let svc = &only(&t, "AWS::ECS::Service")["Properties"];
    assert_eq!(
        svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"],
        json!({"Enable": true, "Rollback": true})
    );
    assert_eq!(
        svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
        "DISABLED"
    );
    assert_eq!(
        svc["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"],
        json!([{"Ref": "VpcPrivateSubnet1Subnet536B997A"}, {"Ref": "VpcPrivateSubnet2Subnet3788AAA1"}])
    );
    assert_eq!(svc["LoadBalancers"][0]["ContainerPort"], 8000);
    assert_eq!(svc["DesiredCount"], 1);
    let task = &only(&t, "AWS::ECS::TaskDefinition")["Properties"];
    assert_eq!(
        (task["Cpu"].as_str(), task["Memory"].as_str()),
        (Some("1024"), Some("2048"))
    );
    let c = &task["ContainerDefinitions"][0];
    assert_eq!(c["ReadonlyRootFilesystem"], true);
    assert_eq!(
        c["MountPoints"],
        json!([{"ContainerPath": "/tmp", "ReadOnly": false, "SourceVolume": "tmp"}])
    );
    assert_eq!(
        c["Secrets"][0]["ValueFrom"],
        json!({"Fn::Sub": ["${Secret}:key::", {"Secret": {"Ref": "ApiF70053CD"}}]})
    );
    assert_eq!(
        c["LogConfiguration"]["Options"]["awslogs-region"],
        "eu-west-1"
    );
    // The execution role: pull from exactly this repository, write to exactly this log group,
    // read exactly this secret.
    let exec = statements(role(&t, "BackendExecutionRole"));
    assert_eq!(exec.len(), 4, "{exec:?}");
    assert_eq!(
        exec[0],
        json!({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
    );
    assert_eq!(
        exec[1]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:eu-west-1:123456789012:repository/backend"})
    );
    assert_eq!(
        exec[2]["Action"],
        json!(["logs:CreateLogStream", "logs:PutLogEvents"])
    );
    assert!(
        exec[2]["Resource"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("BackendLogs")
    );
    assert_eq!(exec[3]["Resource"], json!({"Ref": "ApiF70053CD"}));
    // The task role starts empty.
    assert!(
        role(&t, "BackendTaskRole")["Properties"]
            .get("Policies")
            .is_none()
    );
    // Only the load balancer reaches the service, on the container port.
    let from_alb: Vec<&Json> = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .filter(|(id, _)| id.starts_with("BackendSecurityGroup"))
        .map(|(_, r)| &r["Properties"])
        .collect();
    assert_eq!(from_alb.len(), 1, "{from_alb:?}");
    assert_eq!(
        (&from_alb[0]["FromPort"], &from_alb[0]["ToPort"]),
        (&json!(8000), &json!(8000))
    );
    assert!(
        from_alb[0]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("AlbSecurityGroup")
    );
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        json!({"Port": 8000, "TargetType": "ip", "HealthCheckPath": "/", "Matcher": {"HttpCode": "200-399"}}),
    )?;
    assert!(service.target_group_full_name().is_some());
    t.resource_count_is("AWS::Logs::LogGroup", 2)?; // the service's and the VPC flow logs'
    Ok(())
}

#[test]
fn fargate_autoscaling_tracks_cpu_memory_and_requests() -> TestResult {
    let f = fixture();
    let alb = https_alb(&f);
    FargateService::new(
        &f.stack,
        "Web",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            autoscaling: Some(Autoscaling {
                memory_target_percent: Some(70),
                requests_per_target: Some(1000),
                ..Autoscaling::new(2, 8)
            }),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        json!({"MinCapacity": 2, "MaxCapacity": 8, "ScalableDimension": "ecs:service:DesiredCount", "ServiceNamespace": "ecs"}),
    )?;
    t.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 3)?;
    // Autoscaling owns the task count: a deploy must not reset a scaled-out service.
    assert!(
        only(&t, "AWS::ECS::Service")["Properties"]
            .get("DesiredCount")
            .is_none()
    );
    for (metric, target) in [
        ("ECSServiceAverageCPUUtilization", 60.0),
        ("ECSServiceAverageMemoryUtilization", 70.0),
        ("ALBRequestCountPerTarget", 1000.0),
    ] {
        let found = t
            .resources("AWS::ApplicationAutoScaling::ScalingPolicy")
            .into_iter()
            .any(|(_, p)| {
                let c = &p["Properties"]["TargetTrackingScalingPolicyConfiguration"];
                c["PredefinedMetricSpecification"]["PredefinedMetricType"] == metric
                    && c["TargetValue"] == target
            });
        assert!(found, "{metric} at {target}");
    }
    // Request-count scaling needs a load balancer.
    let err = FargateService::new(
        &f.stack,
        "Worker",
        FargateServiceProps {
            autoscaling: Some(Autoscaling {
                requests_per_target: Some(100),
                ..Autoscaling::new(1, 2)
            }),
            ..FargateServiceProps::new(&f.cluster, vec![container("worker", None)])
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("Test/Worker: "), "{err}");
    assert!(err.contains("requests_per_target"), "{err}");
    let err = FargateService::new(
        &f.stack,
        "Backwards",
        FargateServiceProps {
            autoscaling: Some(Autoscaling::new(5, 2)),
            ..FargateServiceProps::new(&f.cluster, vec![container("worker", None)])
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("Test/Backwards: ") && err.contains("min (5)"),
        "{err}"
    );
    let err = FargateService::new(
        &f.stack,
        "Outside",
        FargateServiceProps {
            desired_count: Some(9),
            autoscaling: Some(Autoscaling::new(1, 4)),
            ..FargateServiceProps::new(&f.cluster, vec![container("worker", None)])
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Outside: desired_count (9) must be between autoscaling min (1) and max (4); or leave it None to let autoscaling set it"
    );
    Ok(())
}

#[test]
fn fargate_efs_volumes_use_iam_and_transit_encryption() -> TestResult {
    let f = fixture();
    let files = EfsFileSystem::new(
        &f.stack,
        "Files",
        EfsFileSystemProps {
            access_points: vec![(
                "Agents".into(),
                AccessPointProps::new("/agents", 1000, 1000),
            )],
            ..EfsFileSystemProps::new(&f.vpc)
        },
    )?;
    let agents = files.access_point("Agents").unwrap();
    FargateService::new(
        &f.stack,
        "Agent",
        FargateServiceProps {
            volumes: vec![EfsVolume::new(&agents, "/artifacts")],
            ..FargateServiceProps::new(&f.cluster, vec![container("agent", None)])
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    let task = &only(&t, "AWS::ECS::TaskDefinition")["Properties"];
    let efs = task["Volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|v| v.get("EFSVolumeConfiguration"))
        .unwrap();
    assert_eq!(efs["TransitEncryption"], "ENABLED");
    assert_eq!(efs["AuthorizationConfig"]["IAM"], "ENABLED");
    assert!(
        efs["AuthorizationConfig"]["AccessPointId"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("FilesAgents")
    );
    // The task role may mount through that access point only.
    let task_role = statements(role(&t, "AgentTaskRole"));
    assert_eq!(task_role.len(), 1);
    assert_eq!(
        task_role[0]["Action"],
        json!([
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite"
        ])
    );
    assert!(
        task_role[0]["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"].is_object()
    );
    // NFS from the service to the file system.
    t.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        json!({"FromPort": 2049, "ToPort": 2049, "IpProtocol": "tcp"}),
    )?;
    let err = FargateService::new(
        &f.stack,
        "Relative",
        FargateServiceProps {
            volumes: vec![EfsVolume::new(&agents, "artifacts")],
            ..FargateServiceProps::new(&f.cluster, vec![container("agent", None)])
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Relative: EFS volume path \"artifacts\" must be absolute"
    );
    Ok(())
}

#[test]
fn fargate_sizes_are_checked_against_the_fargate_table() {
    let f = fixture();
    let size = |cpu, memory_mib| {
        FargateService::new(
            &f.stack,
            "Sized",
            FargateServiceProps {
                cpu,
                memory_mib,
                ..FargateServiceProps::new(&f.cluster, vec![container("web", None)])
            },
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    assert_eq!(
        size(256, 4096).unwrap_err(),
        "Test/Sized: Fargate does not run 256 CPU units with 4096 MiB; with 256 CPU units the memory is one of 512, 1024, 2048 MiB"
    );
    assert_eq!(
        size(300, 1024).unwrap_err(),
        "Test/Sized: cpu 300 is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units"
    );
    let err = size(4096, 4096).unwrap_err();
    assert!(
        err.contains("with 4096 CPU units the memory is one of 8192, 9216,"),
        "{err}"
    );
    assert!(size(16384, 122_880).is_ok());
}

#[test]
fn container_bad_input() {
    let f = fixture();
    let service = |containers: Vec<ContainerProps>| {
        FargateService::new(
            &f.stack,
            "Bad",
            FargateServiceProps::new(&f.cluster, containers),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        service(vec![]),
        "Test/Bad: a task needs at least one container"
    );
    assert_eq!(
        service(vec![container("web", None), container("web", None)]),
        "Test/Bad: two containers are named \"web\""
    );
    let mut environment = IndexMap::new();
    environment.insert("1BAD".to_owned(), "x".into());
    assert!(
        service(vec![ContainerProps {
            environment,
            ..container("web", None)
        }])
        .contains("environment variable name \"1BAD\"")
    );
    let err = FargateService::new(
        &f.stack,
        "Image",
        FargateServiceProps::new(
            &f.cluster,
            vec![ContainerProps::new(
                "web",
                ContainerImage::ecr("docker.io/library/nginx", "1"),
            )],
        ),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"docker.io/library/nginx\" is not an ECR repository URI"),
        "{err}"
    );
}

#[test]
fn scheduled_task_with_scheduler_runs_only_its_task() -> TestResult {
    let f = fixture();
    ScheduledTask::new(
        &f.stack,
        "Nightly",
        ScheduledTaskProps {
            trigger: ScheduleTrigger::Scheduler {
                time_zone: "Europe/Berlin".into(),
            },
            ..ScheduledTaskProps::new(
                &f.cluster,
                Schedule::cron("30 2 ? * MON-FRI *"),
                vec![container("job", None)],
            )
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    t.resource_count_is("AWS::ECS::Service", 0)?;
    let schedule = &only(&t, "AWS::Scheduler::Schedule")["Properties"];
    assert_eq!(schedule["ScheduleExpression"], "cron(30 2 ? * MON-FRI *)");
    assert_eq!(schedule["ScheduleExpressionTimezone"], "Europe/Berlin");
    assert_eq!(
        schedule["Target"]["EcsParameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
        "DISABLED"
    );
    let scheduler_role = role(&t, "NightlyScheduleRole");
    assert_eq!(
        scheduler_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "scheduler.amazonaws.com"})
    );
    let policy = statements(scheduler_role);
    // Run the task, pass its two roles, and send runs it could not start to its dead-letter
    // queue.
    assert_eq!(policy.len(), 3, "{policy:?}");
    let queue = t.resources("AWS::SQS::Queue")[0].0.to_owned();
    assert_eq!(
        policy[2],
        json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": [queue, "Arn"]}})
    );
    let definition = t.resources("AWS::ECS::TaskDefinition")[0].0.to_owned();
    assert_eq!(
        policy[0],
        json!({"Effect": "Allow", "Action": "ecs:RunTask", "Resource": {"Ref": definition},
               "Condition": {"ArnEquals": {"ecs:cluster": {"Fn::GetAtt": ["ClusterEB0386A7", "Arn"]}}}})
    );
    assert_eq!(policy[1]["Action"], "iam:PassRole");
    let passed = policy[1]["Resource"].as_array().unwrap();
    assert_eq!(passed.len(), 2);
    assert!(
        passed[0]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("NightlyExecutionRole")
    );
    assert!(
        passed[1]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("NightlyTaskRole")
    );
    Ok(())
}

#[test]
fn scheduled_task_with_an_eventbridge_rule() -> TestResult {
    let f = fixture();
    ScheduledTask::new(
        &f.stack,
        "Hourly",
        ScheduledTaskProps {
            trigger: ScheduleTrigger::EventBridgeRule,
            enabled: false,
            ..ScheduledTaskProps::new(
                &f.cluster,
                Schedule::rate(15, "minutes"),
                vec![container("job", None)],
            )
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    t.resource_count_is("AWS::Scheduler::Schedule", 0)?;
    let rule = &only(&t, "AWS::Events::Rule")["Properties"];
    assert_eq!(rule["ScheduleExpression"], "rate(15 minutes)");
    assert_eq!(rule["State"], "DISABLED");
    assert_eq!(
        role(&t, "HourlyScheduleRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    Ok(())
}

#[test]
fn schedules_are_validated() {
    let check = |s: Schedule| s.check().unwrap_err();
    assert_eq!(
        check(Schedule::cron("0 3 * * *")),
        ScheduleError::FieldCount {
            expression: "0 3 * * *".into(),
            found: 5
        }
    );
    assert_eq!(
        check(Schedule::cron("0 3 * * *")).to_string(),
        "cron expression \"0 3 * * *\" has 5 fields; AWS cron takes 6: minutes hours day-of-month month day-of-week year, such as \"0 3 * * ? *\""
    );
    assert_eq!(
        check(Schedule::cron("0 3 1 * MON *")).to_string(),
        "day-of-month (\"1\") and day-of-week (\"MON\") are both set; one of them must be \"?\""
    );
    assert_eq!(
        check(Schedule::cron("0 3 ? * ? *")),
        ScheduleError::NoDayGiven
    );
    assert_eq!(
        check(Schedule::cron("61 3 * * ? *")).to_string(),
        "cron field minutes (\"61\") is not valid; it takes 0-59, with ',', '-', '/' and '*'"
    );
    assert!(matches!(
        check(Schedule::cron("0 3 * FOO ? *")),
        ScheduleError::Field { field: CronField::Month, valid, .. } if valid.contains("or JAN-DEC")
    ));
    assert_eq!(
        check(Schedule::rate(1, "hours")).to_string(),
        "\"rate(1 hours)\": the unit \"hours\" is not valid for 1; it takes minute, hour or day"
    );
    assert_eq!(
        check(Schedule::rate(0, "minutes")).to_string(),
        "\"rate(0 minutes)\": the rate value \"0\" is not valid; it takes a whole number of at least 1"
    );
    for ok in [
        "0/15 * * * ? *",
        "0 8 ? * MON#1 *",
        "0 0 L * ? 2027",
        "0 9 15W * ? *",
        "0 9 LW * ? *",
        "0 12 ? JAN-MAR 2L *",
    ] {
        assert!(Schedule::cron(ok).check().is_ok(), "{ok}");
    }
    assert!(Schedule::rate(1, "day").check().is_ok());
    let parsed = Schedule::rate(15, "minutes").parse().unwrap();
    assert!((parsed.runs_per_month() - 2920.0).abs() < 1e-9);

    // The construct puts the path in front.
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
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("Test/Job: schedule cron(0 3 * * *): cron expression"),
        "{err}"
    );
    let err = ScheduledTask::new(
        &f.stack,
        "Zoned",
        ScheduledTaskProps {
            trigger: ScheduleTrigger::Scheduler {
                time_zone: "Berlin".into(),
            },
            ..ScheduledTaskProps::new(
                &f.cluster,
                Schedule::cron("0 3 * * ? *"),
                vec![container("job", None)],
            )
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Zoned: time zone \"Berlin\" is not an IANA time zone such as \"Europe/Berlin\" or \"UTC\""
    );
}

fn depends_on(resource: &Json) -> Vec<String> {
    resource["DependsOn"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn resources_wait_for_what_they_need_at_creation() -> TestResult {
    let f = fixture();
    let alb = https_alb(&f);
    let files = EfsFileSystem::new(
        &f.stack,
        "Files",
        EfsFileSystemProps {
            access_points: vec![("Data".into(), AccessPointProps::new("/data", 1000, 1000))],
            ..EfsFileSystemProps::new(&f.vpc)
        },
    )?;
    let data = files.access_point("Data").unwrap();
    FargateService::new(
        &f.stack,
        "Web",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            volumes: vec![EfsVolume::new(&data, "/data")],
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    )?;
    ScheduledTask::new(
        &f.stack,
        "Job",
        ScheduledTaskProps {
            volumes: vec![EfsVolume::new(&data, "/data")],
            ..ScheduledTaskProps::new(
                &f.cluster,
                Schedule::rate(1, "hour"),
                vec![container("job", None)],
            )
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    // The internet-facing load balancer waits for the public subnets' routes.
    let lb = depends_on(only(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer"));
    assert!(lb.iter().any(|d| d.starts_with("VpcVPCGW")), "{lb:?}");
    assert_eq!(
        lb.iter()
            .filter(|d| d.starts_with("VpcPublicSubnet"))
            .count(),
        2,
        "{lb:?}"
    );
    // The service waits for the NAT routes (image pulls), the mount targets, the capacity
    // providers and its listener rule or listener.
    let service = depends_on(only(&t, "AWS::ECS::Service"));
    for prefix in [
        "VpcPrivateSubnet1DefaultRoute",
        "VpcPrivateSubnet2DefaultRoute",
        "FilesMountTarget1",
        "FilesMountTarget2",
        "ClusterCapacityProviders",
    ] {
        assert!(
            service.iter().any(|d| d.starts_with(prefix)),
            "{prefix} not in {service:?}"
        );
    }
    let schedule = depends_on(only(&t, "AWS::Scheduler::Schedule"));
    assert!(
        schedule.iter().any(|d| d.starts_with("FilesMountTarget1")),
        "{schedule:?}"
    );
    assert!(
        schedule
            .iter()
            .any(|d| d.starts_with("VpcPrivateSubnet1DefaultRoute")),
        "{schedule:?}"
    );
    Ok(())
}

#[test]
fn spot_needs_the_spot_capacity_provider() -> TestResult {
    let f = fixture();
    let on_demand = Cluster::new(
        &f.stack,
        "OnDemand",
        ClusterProps {
            fargate_spot: false,
            ..ClusterProps::new(&f.vpc)
        },
    )?;
    let err = FargateService::new(
        &f.stack,
        "Cheap",
        FargateServiceProps {
            spot: true,
            ..FargateServiceProps::new(&on_demand, vec![container("w", None)])
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Cheap: spot is true, and the cluster has no FARGATE_SPOT capacity provider; set ClusterProps.fargate_spot or spot: false"
    );
    FargateService::new(
        &f.stack,
        "Spot",
        FargateServiceProps {
            spot: true,
            ..FargateServiceProps::new(&f.cluster, vec![container("w", None)])
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    let service = &only(&t, "AWS::ECS::Service")["Properties"];
    assert!(service.get("LaunchType").is_none());
    assert_eq!(
        service["CapacityProviderStrategy"],
        json!([{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}])
    );
    Ok(())
}

#[test]
fn routes_and_load_balancers_refuse_what_aws_would() {
    let f = fixture();
    let alb = https_alb(&f);
    let route_error = |id: &str, route: AlbRoute<'_>| {
        FargateService::new(
            &f.stack,
            id,
            FargateServiceProps {
                load_balancer: Some(route),
                ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
            },
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        route_error(
            "Port",
            AlbRoute {
                container_port: Some(9999),
                ..AlbRoute::new(&alb)
            }
        ),
        "Test/Port: the load balancer route's container_port 9999 is not a port of any container; the containers map web (8080)"
    );
    assert_eq!(
        route_error(
            "Health",
            AlbRoute {
                health_check: TargetHealthCheck {
                    healthy_http_codes: "200-600".into(),
                    ..TargetHealthCheck::default()
                },
                ..AlbRoute::new(&alb)
            }
        ),
        "Test/Health: healthy_http_codes \"200-600\" must be codes from 200 to 499, such as \"200\", \"200,204\" or \"200-399\""
    );
    assert!(
        route_error(
            "Interval",
            AlbRoute {
                health_check: TargetHealthCheck {
                    interval_seconds: 5,
                    ..TargetHealthCheck::default()
                },
                ..AlbRoute::new(&alb)
            }
        )
        .contains("interval_seconds is 5; use 6 to 300")
    );
    // A default route from another stack would make the two stacks import from each other.
    let other = Stack::new(&f.app, "Other", StackProps::default()).unwrap();
    let err = FargateService::new(
        &other,
        "Web",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            ..FargateServiceProps::new(&f.cluster, vec![container("web", Some(8080))])
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Other/Web: the default route of Test/Alb must come from a service in its own stack Test; create the service there, or give this route path patterns or host headers"
    );
    FargateService::new(
        &other,
        "Api",
        FargateServiceProps {
            load_balancer: Some(AlbRoute {
                route: Route::hosts(["api.example.com"]),
                ..AlbRoute::new(&alb)
            }),
            ..FargateServiceProps::new(&f.cluster, vec![container("api", Some(8080))])
        },
    )
    .unwrap();
    // Access log prefixes and imported VPCs without a range.
    let logs =
        omc_constructs::Bucket::new(&f.stack, "Logs", omc_constructs::BucketProps::default())
            .unwrap();
    let err = ApplicationLoadBalancer::new(
        &f.stack,
        "Logged",
        ApplicationLoadBalancerProps {
            access_logs: Some(omc_constructs::AccessLogs {
                prefix: "/alb".into(),
                ..omc_constructs::AccessLogs::new(&logs)
            }),
            ..ApplicationLoadBalancerProps::new(&f.vpc)
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("Test/Logged: access log prefix \"/alb\" must be"),
        "{err}"
    );
    let imported = Vpc::from_attributes(
        &f.stack,
        "Imported",
        omc_constructs::VpcAttributes {
            vpc_id: Some("vpc-0123456789abcdef0".into()),
            availability_zones: vec!["eu-west-1a".into()],
            private_subnet_ids: vec!["subnet-0123456789abcdef0".into()],
            ..omc_constructs::VpcAttributes::default()
        },
    )
    .unwrap();
    let err = ApplicationLoadBalancer::new(
        &f.stack,
        "Internal",
        ApplicationLoadBalancerProps {
            internet_facing: false,
            ..ApplicationLoadBalancerProps::new(&imported)
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Internal: an internal load balancer admits the VPC's range, and this imported VPC has none; give VpcAttributes.cidr"
    );
}

#[test]
fn schedule_roles_trust_only_this_account_and_pass_roles_only_to_ecs() -> TestResult {
    let f = fixture();
    ScheduledTask::new(
        &f.stack,
        "Job",
        ScheduledTaskProps::new(
            &f.cluster,
            Schedule::rate(1, "day"),
            vec![container("job", None)],
        ),
    )?;
    let t = Template::from_stack(&f.stack)?;
    let role = role(&t, "JobScheduleRole");
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    );
    assert_eq!(
        statements(role)[1]["Condition"],
        json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
    );
    Ok(())
}

#[test]
fn images_of_the_stacks_own_account_and_no_internet_egress() -> TestResult {
    let f = fixture();
    FargateService::new(
        &f.stack,
        "Worker",
        FargateServiceProps {
            https_egress: false,
            ..FargateServiceProps::new(
                &f.cluster,
                vec![ContainerProps::new(
                    "worker",
                    ContainerImage::ecr_repository("omc/worker", "2.1.0"),
                )],
            )
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    assert_eq!(
        only(&t, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]["Image"],
        json!({"Fn::Sub": ["${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/omc/worker:${Tag}", {"Tag": "2.1.0"}]})
    );
    assert_eq!(
        statements(role(&t, "WorkerExecutionRole"))[1]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/omc/worker"})
    );
    assert!(
        !t.resources("AWS::EC2::SecurityGroupEgress")
            .into_iter()
            .any(|(_, r)| r["Properties"]["CidrIp"] == "0.0.0.0/0")
    );
    let err = FargateService::new(
        &f.stack,
        "Bad",
        FargateServiceProps::new(
            &f.cluster,
            vec![ContainerProps::new(
                "bad",
                ContainerImage::ecr_repository("Omc/Worker", "1"),
            )],
        ),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("Test/Bad: ECR repository name \"Omc/Worker\" must be lower-case"),
        "{err}"
    );
    Ok(())
}

/// Runs a month the estimate counts for the scheduled tasks of an app: by construct path, from
/// the vCPU line of each schedule (runs × 10 minutes × 0.25 vCPU, the default task size).
fn priced_runs(app: &App) -> Vec<(String, f64)> {
    let synthesis = app.synth_unchecked().unwrap();
    let estimate = omc_cdk::cost::estimate_synthesis(
        &synthesis,
        Some("us-east-1"),
        None,
        &omc_cdk::cost::Assumptions::default(),
    )
    .unwrap();
    estimate.stacks[0]
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::Scheduler::Schedule")
        .map(|r| {
            assert!(r.not_priced.is_none(), "{r:?}");
            (r.path.clone(), r.lines[0].quantity / (10.0 / 60.0 * 0.25))
        })
        .collect()
}

#[test]
fn schedules_with_last_weekday_and_nth_are_priced() {
    let f = fixture();
    // Runs a year in 2027 (it starts on a Friday and is not a leap year), counted by hand.
    let schedules = [
        // The last day of every month: 12.
        ("0 3 L * ? *", 12.0),
        // The last Friday of every month (Jan 29, Feb 26, Mar 26, Apr 30, May 28, Jun 25,
        // Jul 30, Aug 27, Sep 24, Oct 29, Nov 26, Dec 31): 12.
        ("0 9 ? * 6L *", 12.0),
        // The second Tuesday of every month (Jan 12, ..., Mar 9, ...): 12.
        ("0 9 ? * 3#2 *", 12.0),
        // The weekday nearest the 15th of every month (Friday May 14 for Saturday the 15th,
        // Monday Aug 16 for Sunday the 15th): 12.
        ("0 9 15W * ? *", 12.0),
        // The last weekday of every month (Friday Jan 29 for Sunday the 31st, Friday Jul 30
        // for Saturday the 31st): 12.
        ("0 9 LW * ? *", 12.0),
        // Every 30 minutes from 09:00 to 10:30 on the fifth Monday, which only March (29th),
        // May (31st), August (30th) and November (29th) have: 4 days × 4 runs = 16.
        ("0/30 9-10 ? * 2#5 *", 16.0),
    ];
    for (i, (fields, _)) in schedules.iter().enumerate() {
        ScheduledTask::new(
            &f.stack,
            &format!("Job{i}"),
            ScheduledTaskProps::new(
                &f.cluster,
                Schedule::cron(*fields),
                vec![container("job", None)],
            ),
        )
        .unwrap();
    }
    let runs = priced_runs(&f.app);
    assert_eq!(runs.len(), schedules.len());
    for ((path, runs), (i, (fields, a_year))) in runs.iter().zip(schedules.iter().enumerate()) {
        assert_eq!(path, &format!("Test/Job{i}/Schedule"));
        assert!(
            (runs - a_year / 12.0).abs() < 1e-9,
            "{fields}: {runs} a month, not {a_year} / 12"
        );
    }
}

#[test]
fn every_schedule_a_task_accepts_is_priced() {
    // Field values the parser accepts and rejects, combined: every combination the construct
    // accepts must price with the runs the parser counts (one parser, no disagreement).
    let minutes = ["0", "0/15", "5,35"];
    let hours = ["3", "9-17/2"];
    let days_of_month = [
        "?", "*", "1", "31", "L", "LW", "15W", "1W", "31W", "1-7", "1/3", "L-3", "1,L", "W", "32",
    ];
    let months = ["*", "JAN-MAR", "2", "1/2", "jan"];
    let days_of_week = [
        "?", "*", "MON-FRI", "6L", "3#2", "L", "FRI#5", "SAT", "1,7", "1/2", "8", "FRIL", "2#6",
    ];
    let years = ["*", "2026-2030", "1969"];
    let mut accepted = Vec::new();
    let mut rejected = 0;
    for m in minutes {
        for h in hours {
            for dom in days_of_month {
                for month in months {
                    for dow in days_of_week {
                        for y in years {
                            let schedule =
                                Schedule::cron(format!("{m} {h} {dom} {month} {dow} {y}"));
                            match schedule.parse() {
                                Ok(parsed) => accepted.push((schedule, parsed.runs_per_month())),
                                Err(_) => rejected += 1,
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        accepted.len() > 500 && rejected > 1000,
        "{} {rejected}",
        accepted.len()
    );
    // Price them as the construct writes them, in stacks of at most 500 schedules.
    let task = json!({ "Type": "AWS::ECS::TaskDefinition", "Properties": { "Cpu": "256", "Memory": "512", "RequiresCompatibilities": ["FARGATE"] } });
    for chunk in accepted.chunks(500) {
        let mut resources = serde_json::Map::new();
        resources.insert("Task".into(), task.clone());
        for (i, (schedule, _)) in chunk.iter().enumerate() {
            resources.insert(format!("Job{i}"), json!({ "Type": "AWS::Scheduler::Schedule", "Properties": {
                "ScheduleExpression": schedule.expression(), "FlexibleTimeWindow": { "Mode": "OFF" },
                "Target": { "Arn": "cluster", "RoleArn": "role", "EcsParameters": { "TaskDefinitionArn": { "Ref": "Task" } } } } }));
        }
        let template = json!({ "Resources": resources });
        let estimate = omc_cdk::cost::estimate(
            &[omc_cdk::check::StackInput {
                name: "Jobs",
                template: &template,
                stage: omc_cdk::Stage::Production,
                paths: None,
            }],
            &["us-east-1".to_owned()],
            &std::collections::BTreeMap::new(),
            &omc_cdk::cost::Assumptions::default(),
        )
        .unwrap();
        let priced: IndexMap<&str, f64> = estimate.stacks[0]
            .resources
            .iter()
            .map(|r| {
                assert!(r.not_priced.is_none(), "{r:?}");
                (
                    r.logical_id.as_str(),
                    r.lines[0].quantity / (10.0 / 60.0 * 0.25),
                )
            })
            .collect();
        for (i, (schedule, runs)) in chunk.iter().enumerate() {
            // A schedule with no run in 2027 (the 31st of February) has no lines: free.
            let counted = priced
                .get(format!("Job{i}").as_str())
                .copied()
                .unwrap_or(0.0);
            assert!(
                (counted - runs).abs() < 1e-6,
                "{}: priced {counted}, parsed {runs}",
                schedule.expression()
            );
        }
    }
}
