//! The services stack: an ECS Fargate cluster behind a public Application Load Balancer,
//! running the FastAPI backend (`/api/*`, port 8000) and the Vue.js frontend (port 80).

use omc_cdk::{
    App, IntoNode, Node, OutputProps, ParameterProps, RawResource, Resource, Result, Scope, Stack,
    Value, aws, fns,
};
use serde_json::json;

use crate::config::{Config, Image, ServiceSize};
use crate::data::{CACHE_PORT, DB_NAME, DB_PORT, Data};
use crate::network::Network;
use crate::{stack_props, tagged};

const BACKEND_PORT: u16 = 8000;
const FRONTEND_PORT: u16 = 80;

fn ingress(
    scope: &Scope,
    id: &str,
    group: Value<String>,
    from: Value<String>,
    port: u16,
    what: &str,
) -> Result<Resource> {
    scope.add(
        id,
        RawResource::new("AWS::EC2::SecurityGroupIngress")
            .property("GroupId", group)
            .property("SourceSecurityGroupId", from)
            .property("IpProtocol", "tcp")
            .property("FromPort", i64::from(port))
            .property("ToPort", i64::from(port))
            .property("Description", what),
    )
}

fn egress_nowhere() -> serde_json::Value {
    json!({
        "CidrIp": "255.255.255.255/32",
        "Description": "No outbound traffic",
        "IpProtocol": "icmp",
        "FromPort": 252,
        "ToPort": 86
    })
}

fn assume_ecs_tasks() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
}

struct ServiceSpec<'a> {
    id: &'a str,
    container: &'a str,
    port: u16,
    image: &'a Image,
    size: &'a ServiceSize,
    health_check_path: &'a str,
    environment: Vec<(&'a str, Value<String>)>,
    secrets: Vec<(&'a str, Value<String>)>,
}

struct Shared<'a> {
    config: &'a Config,
    network: &'a Network,
    cluster: Resource,
    execution_role: Resource,
    load_balancer_sg: Resource,
}

struct Service {
    security_group: Resource,
    target_group: Resource,
    workload: Resource,
}

fn service(stack: &Stack, shared: &Shared<'_>, spec: &ServiceSpec<'_>) -> Result<Service> {
    let config = shared.config;
    let stage = config.stage.name();
    let scope = stack.child(spec.id)?;
    let tag = stack.add_parameter(
        &format!("{}ImageTag", spec.id),
        ParameterProps {
            default: Some(spec.image.default_tag.clone()),
            description: Some(format!(
                "Tag of {} to deploy for the {}",
                spec.image.repository, spec.container
            )),
            allowed_pattern: Some("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$".into()),
            ..ParameterProps::default()
        },
    )?;
    let security_group = scope.add(
        "SecurityGroup",
        tagged("AWS::EC2::SecurityGroup")
            .property(
                "GroupDescription",
                format!("OMC {stage} {} tasks", spec.container),
            )
            .property("VpcId", shared.network.vpc_id.clone()),
    )?;
    ingress(
        &scope,
        "FromLoadBalancer",
        security_group.get_att("GroupId"),
        shared.load_balancer_sg.get_att("GroupId"),
        spec.port,
        "Load balancer to tasks",
    )?;
    let logs = scope.add(
        "Logs",
        tagged("AWS::Logs::LogGroup")
            .property("LogGroupName", format!("/omc/{stage}/{}", spec.container))
            .property("RetentionInDays", config.log_retention_days),
    )?;
    let task_role = scope.add(
        "TaskRole",
        tagged("AWS::IAM::Role")
            .property("AssumeRolePolicyDocument", assume_ecs_tasks())
            .property(
                "Description",
                format!("OMC {stage} {} application role", spec.container),
            ),
    )?;
    let task = scope.add(
        "TaskDefinition",
        tagged("AWS::ECS::TaskDefinition")
            .property("Family", format!("omc-{stage}-{}", spec.container))
            .property("Cpu", spec.size.cpu.to_string())
            .property("Memory", spec.size.memory_mib.to_string())
            .property("NetworkMode", "awsvpc")
            .property("RequiresCompatibilities", vec!["FARGATE"])
            .property(
                "RuntimePlatform",
                json!({"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}),
            )
            .property(
                "ExecutionRoleArn",
                shared.execution_role.get_att::<String>("Arn"),
            )
            .property("TaskRoleArn", task_role.get_att::<String>("Arn"))
            .property(
                "ContainerDefinitions",
                vec![container_definition(spec, &tag.value(), &logs)],
            ),
    )?;
    let target_group = scope.add(
        "TargetGroup",
        tagged("AWS::ElasticLoadBalancingV2::TargetGroup")
            .property("TargetType", "ip")
            .property("Protocol", "HTTP")
            .property("Port", i64::from(spec.port))
            .property("VpcId", shared.network.vpc_id.clone())
            .property("HealthCheckPath", spec.health_check_path)
            .property("HealthCheckIntervalSeconds", 15)
            .property("HealthyThresholdCount", 2)
            .property(
                "TargetGroupAttributes",
                vec![json!({"Key": "deregistration_delay.timeout_seconds", "Value": "30"})],
            ),
    )?;
    let service = scope.add(
        "Service",
        tagged("AWS::ECS::Service")
            .property("Cluster", shared.cluster.reference())
            .property("TaskDefinition", task.reference())
            .property("DesiredCount", spec.size.desired_count)
            .property("LaunchType", "FARGATE")
            .property("PropagateTags", "SERVICE")
            .property("EnableECSManagedTags", true)
            .property("HealthCheckGracePeriodSeconds", 60)
            .property(
                "DeploymentConfiguration",
                json!({
                    "DeploymentCircuitBreaker": {"Enable": true, "Rollback": true},
                    "MinimumHealthyPercent": 100,
                    "MaximumPercent": 200
                }),
            )
            .property(
                "NetworkConfiguration",
                Node::map([(
                    "AwsvpcConfiguration",
                    Node::map([
                        ("AssignPublicIp", "DISABLED".into_node()),
                        (
                            "SecurityGroups",
                            vec![security_group.get_att::<String>("GroupId")].into_node(),
                        ),
                        ("Subnets", shared.network.app_subnets.clone().into_node()),
                    ]),
                )]),
            )
            .property(
                "LoadBalancers",
                vec![Node::map([
                    ("ContainerName", spec.container.into_node()),
                    ("ContainerPort", spec.port.into_node()),
                    ("TargetGroupArn", target_group.reference().into_node()),
                ])],
            ),
    )?;
    Ok(Service {
        security_group,
        target_group,
        workload: service,
    })
}

fn container_definition(spec: &ServiceSpec<'_>, tag: &Value<String>, logs: &Resource) -> Node {
    let pairs = |items: &[(&str, Value<String>)], value_key: &str| {
        Node::list(items.iter().map(|(name, value)| {
            Node::map([
                ("Name", (*name).into_node()),
                (value_key, value.clone().into_node()),
            ])
        }))
    };
    let image = fns::sub_with(
        "${Repository}:${Tag}",
        [
            ("Repository", Value::from(spec.image.repository.as_str())),
            ("Tag", tag.clone()),
        ],
    );
    let mut entries = vec![
        ("Name", spec.container.into_node()),
        ("Image", image.into_node()),
        ("Essential", true.into_node()),
        (
            "PortMappings",
            json!([{"ContainerPort": spec.port, "Protocol": "tcp"}]).into_node(),
        ),
    ];
    if !spec.environment.is_empty() {
        entries.push(("Environment", pairs(&spec.environment, "Value")));
    }
    if !spec.secrets.is_empty() {
        entries.push(("Secrets", pairs(&spec.secrets, "ValueFrom")));
    }
    entries.push((
        "LogConfiguration",
        Node::map([
            ("LogDriver", "awslogs".into_node()),
            (
                "Options",
                Node::map([
                    ("awslogs-group", logs.reference().into_node()),
                    ("awslogs-region", aws::region().into_node()),
                    ("awslogs-stream-prefix", spec.container.into_node()),
                ]),
            ),
        ]),
    ));
    Node::map(entries)
}

/// Creates the services stack.
pub fn services(app: &App, config: &Config, network: &Network, data: &Data) -> Result<()> {
    let stack = Stack::new(
        app,
        &config.stack_name("Services"),
        stack_props(
            config,
            "OMC services: ECS Fargate behind an Application Load Balancer",
        ),
    )?;
    let stage = config.stage.name();

    let cluster = stack.child("Cluster")?.add(
        "Resource",
        tagged("AWS::ECS::Cluster")
            .property("ClusterName", format!("omc-{stage}"))
            .property(
                "ClusterSettings",
                vec![json!({"Name": "containerInsights", "Value": "enabled"})],
            )
            .property("CapacityProviders", vec!["FARGATE", "FARGATE_SPOT"]),
    )?;

    let lb = stack.child("LoadBalancer")?;
    let lb_sg = lb.add(
        "SecurityGroup",
        tagged("AWS::EC2::SecurityGroup")
            .property("GroupDescription", format!("OMC {stage} public load balancer"))
            .property("VpcId", network.vpc_id.clone())
            .property(
                "SecurityGroupIngress",
                vec![json!({"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "Description": "HTTP from the internet"})],
            )
            .property("SecurityGroupEgress", vec![egress_nowhere()]),
    )?;
    let load_balancer = lb.add(
        "Resource",
        tagged("AWS::ElasticLoadBalancingV2::LoadBalancer")
            .property("Type", "application")
            .property("Scheme", "internet-facing")
            .property("Subnets", network.public_subnets.clone())
            .property("SecurityGroups", vec![lb_sg.get_att::<String>("GroupId")])
            .property(
                "LoadBalancerAttributes",
                vec![json!({"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"})],
            ),
    )?;

    let execution_role = stack.child("TaskExecutionRole")?.add(
        "Resource",
        tagged("AWS::IAM::Role")
            .property("AssumeRolePolicyDocument", assume_ecs_tasks())
            .property(
                "ManagedPolicyArns",
                vec![fns::sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                )],
            )
            .property("Description", format!("OMC {stage} ECS task execution (image pull, logs, secrets)")),
    )?;
    execution_role.update_properties(|properties| {
        properties.insert(
            "Policies".into(),
            Node::list([read_secrets_policy(vec![
                data.db_secret_arn.clone(),
                data.cache_secret_arn.clone(),
            ])]),
        );
    });

    let shared = Shared {
        config,
        network,
        cluster,
        execution_role,
        load_balancer_sg: lb_sg.clone(),
    };
    let secret = |arn: &Value<String>, key: &str| {
        fns::sub_with(format!("${{Secret}}:{key}::"), [("Secret", arn.clone())])
    };
    let backend = service(
        &stack,
        &shared,
        &ServiceSpec {
            id: "Backend",
            container: "backend",
            port: BACKEND_PORT,
            image: &config.backend_image,
            size: &config.backend,
            health_check_path: "/api/health",
            environment: vec![
                ("DATABASE_HOST", data.db_address.clone()),
                ("DATABASE_PORT", data.db_port.clone()),
                ("DATABASE_NAME", DB_NAME.into()),
                ("REDIS_HOST", data.cache_address.clone()),
                ("REDIS_PORT", data.cache_port.clone()),
                ("REDIS_TLS", "true".into()),
            ],
            secrets: vec![
                ("DATABASE_USER", secret(&data.db_secret_arn, "username")),
                ("DATABASE_PASSWORD", secret(&data.db_secret_arn, "password")),
                ("REDIS_AUTH_TOKEN", secret(&data.cache_secret_arn, "token")),
            ],
        },
    )?;
    let frontend = service(
        &stack,
        &shared,
        &ServiceSpec {
            id: "Frontend",
            container: "frontend",
            port: FRONTEND_PORT,
            image: &config.frontend_image,
            size: &config.frontend,
            health_check_path: "/",
            environment: Vec::new(),
            secrets: Vec::new(),
        },
    )?;

    // Least privilege: the load balancer reaches the tasks; only the backend reaches the data.
    let backend_sg: Value<String> = backend.security_group.get_att("GroupId");
    ingress(
        &stack,
        "DbFromBackend",
        data.db_security_group.clone(),
        backend_sg.clone(),
        DB_PORT,
        "Backend to PostgreSQL",
    )?;
    ingress(
        &stack,
        "CacheFromBackend",
        data.cache_security_group.clone(),
        backend_sg,
        CACHE_PORT,
        "Backend to Redis",
    )?;
    for (id, target, port) in [
        ("ToBackend", &backend.security_group, BACKEND_PORT),
        ("ToFrontend", &frontend.security_group, FRONTEND_PORT),
    ] {
        lb.add(
            id,
            RawResource::new("AWS::EC2::SecurityGroupEgress")
                .property("GroupId", lb_sg.get_att::<String>("GroupId"))
                .property(
                    "DestinationSecurityGroupId",
                    target.get_att::<String>("GroupId"),
                )
                .property("IpProtocol", "tcp")
                .property("FromPort", i64::from(port))
                .property("ToPort", i64::from(port))
                .property("Description", "Load balancer to tasks"),
        )?;
    }

    let listener = lb.add(
        "HttpListener",
        RawResource::new("AWS::ElasticLoadBalancingV2::Listener")
            .property("LoadBalancerArn", load_balancer.reference())
            .property("Port", 80)
            .property("Protocol", "HTTP")
            .property("DefaultActions", vec![forward(&frontend.target_group)]),
    )?;
    let api_rule = lb.add(
        "ApiRule",
        RawResource::new("AWS::ElasticLoadBalancingV2::ListenerRule")
            .property("ListenerArn", listener.reference())
            .property("Priority", 10)
            .property(
                "Conditions",
                vec![json!({"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}})],
            )
            .property("Actions", vec![forward(&backend.target_group)]),
    )?;
    backend.workload.add_depends_on(&api_rule)?;
    frontend.workload.add_depends_on(&listener)?;

    stack.add_output(
        "LoadBalancerUrl",
        fns::sub_with(
            "http://${Dns}",
            [("Dns", load_balancer.get_att::<String>("DNSName"))],
        ),
        OutputProps {
            description: Some("Where the frontend and the API answer".into()),
            ..OutputProps::default()
        },
    )?;
    Ok(())
}

fn forward(target_group: &Resource) -> Node {
    Node::map([
        ("Type", "forward".into_node()),
        ("TargetGroupArn", target_group.reference().into_node()),
    ])
}

fn read_secrets_policy(secrets: Vec<Value<String>>) -> Node {
    Node::map([
        ("PolicyName", "read-secrets".into_node()),
        (
            "PolicyDocument",
            Node::map([
                ("Version", "2012-10-17".into_node()),
                (
                    "Statement",
                    Node::list([Node::map([
                        ("Effect", "Allow".into_node()),
                        ("Action", "secretsmanager:GetSecretValue".into_node()),
                        ("Resource", secrets.into_node()),
                    ])]),
                ),
            ]),
        ),
    ])
}
