//! A fixture built only from typed resources (`omc-cfn`): EC2, ECS, ELBv2, RDS, ElastiCache,
//! EKS, IAM, Logs, Events and EFS, with nested property types filled in, across two stacks.

use omc_cdk::{
    App, Environment, Json, List, Result, Stack, StackProps, Tag, TypedResource, Value, aws, fns,
};
use omc_cfn::{
    ec2, ecs, efs, eks, elasticache, elasticloadbalancingv2 as elbv2, events, iam, logs, rds,
};
use serde_json::json;

fn assume(service: &str) -> Value<Json> {
    Value::Lit(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    }))
}

fn no_egress() -> ec2::security_group::Egress {
    ec2::security_group::Egress {
        cidr_ip: Some("255.255.255.255/32".into()),
        description: Some("No outbound traffic".into()),
        from_port: Some(252.into()),
        to_port: Some(86.into()),
        ..ec2::security_group::Egress::new("icmp")
    }
}

/// The typed-resources fixture.
pub fn typed_resources() -> Result<App> {
    // A fixture of the typed bindings, never deployed: checked as development.
    let app = App::new()
        .named("typed-resources", env!("CARGO_PKG_VERSION"))
        .with_stage(omc_cdk::Stage::Development);
    let env = Some(Environment::region("eu-west-1"));
    let mut tags = std::collections::BTreeMap::new();
    tags.insert("Project".to_owned(), "typed".to_owned());

    // Network: a VPC with two private subnets.
    let network = Stack::new(
        &app,
        "Typed-Network",
        StackProps {
            env: env.clone(),
            tags: tags.clone(),
            ..StackProps::default()
        },
    )?;
    let vpc = network.add(
        "Vpc",
        ec2::Vpc {
            cidr_block: Some("10.30.0.0/16".into()),
            enable_dns_hostnames: Some(true.into()),
            enable_dns_support: Some(true.into()),
            tags: Some(vec![Tag::new("Name", "typed")].into()),
            ..ec2::Vpc::new()
        },
    )?;
    let mut subnets = Vec::new();
    for zone in 0..2_u8 {
        let subnet = network.add(
            &format!("Subnet{}", zone + 1),
            ec2::Subnet {
                cidr_block: Some(format!("10.30.{zone}.0/24").into()),
                availability_zone: Some(fns::select(zone, fns::get_azs(""))),
                map_public_ip_on_launch: Some(false.into()),
                ..ec2::Subnet::new(vpc.reference())
            },
        )?;
        subnets.push(subnet.reference());
    }
    let subnet_list: List<String> = subnets.clone().into();

    // Workloads.
    let stack = Stack::new(
        &app,
        "Typed-Workloads",
        StackProps {
            env,
            tags,
            ..StackProps::default()
        },
    )?;
    let app_sg = stack.add(
        "AppSecurityGroup",
        ec2::SecurityGroup {
            vpc_id: Some(vpc.reference()),
            security_group_egress: Some(
                vec![ec2::security_group::Egress {
                    cidr_ip: Some("0.0.0.0/0".into()),
                    description: Some("HTTPS to AWS APIs".into()),
                    from_port: Some(443.into()),
                    to_port: Some(443.into()),
                    ..ec2::security_group::Egress::new("tcp")
                }]
                .into(),
            ),
            ..ec2::SecurityGroup::new("Application tasks")
        },
    )?;
    let data_sg = stack.add(
        "DataSecurityGroup",
        ec2::SecurityGroup {
            vpc_id: Some(vpc.reference()),
            security_group_ingress: Some(
                vec![ec2::security_group::Ingress {
                    source_security_group_id: Some(app_sg.attr_group_id()),
                    description: Some("Application to PostgreSQL".into()),
                    from_port: Some(5432.into()),
                    to_port: Some(5432.into()),
                    ..ec2::security_group::Ingress::new("tcp")
                }]
                .into(),
            ),
            security_group_egress: Some(vec![no_egress()].into()),
            ..ec2::SecurityGroup::new("Data stores")
        },
    )?;

    // Logs and IAM.
    let log_group = stack.add(
        "Logs",
        logs::LogGroup {
            log_group_name: Some("/typed/app".into()),
            retention_in_days: Some(30.into()),
            ..logs::LogGroup::new()
        },
    )?;
    let execution_role = stack.add(
        "ExecutionRole",
        iam::Role {
            managed_policy_arns: Some(
                vec![fns::sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                )]
                .into(),
            ),
            ..iam::Role::new(assume("ecs-tasks.amazonaws.com"))
        },
    )?;
    let task_role = stack.add(
        "TaskRole",
        iam::Role {
            policies: Some(
                vec![iam::role::Policy::new(
                    Value::Lit(json!({
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": "*"
                        }]
                    })),
                    "write-logs",
                )]
                .into(),
            ),
            ..iam::Role::new(assume("ecs-tasks.amazonaws.com"))
        },
    )?;

    // EFS for artifacts.
    let file_system = stack.add(
        "Artifacts",
        efs::FileSystem {
            encrypted: Some(true.into()),
            performance_mode: Some("generalPurpose".into()),
            throughput_mode: Some("elastic".into()),
            lifecycle_policies: Some(
                vec![efs::file_system::LifecyclePolicy {
                    transition_to_ia: Some("AFTER_30_DAYS".into()),
                    ..efs::file_system::LifecyclePolicy::default()
                }]
                .into(),
            ),
            ..efs::FileSystem::new()
        },
    )?;
    for (i, subnet) in subnets.iter().enumerate() {
        stack.add(
            &format!("ArtifactsTarget{}", i + 1),
            efs::MountTarget::new(
                file_system.reference(),
                vec![data_sg.attr_group_id()],
                subnet.clone(),
            ),
        )?;
    }
    let access_point = stack.add(
        "ArtifactsAccessPoint",
        efs::AccessPoint {
            posix_user: Some(efs::access_point::PosixUser::new("1000", "1000").into()),
            root_directory: Some(
                efs::access_point::RootDirectory {
                    path: Some("/artifacts".into()),
                    creation_info: Some(
                        efs::access_point::CreationInfo::new("1000", "1000", "0750").into(),
                    ),
                }
                .into(),
            ),
            ..efs::AccessPoint::new(file_system.reference())
        },
    )?;

    // ECS: cluster, task definition with containers, secrets, health check and EFS volume.
    let cluster = stack.add(
        "Cluster",
        ecs::Cluster {
            cluster_settings: Some(
                vec![ecs::cluster::ClusterSettings {
                    name: Some("containerInsights".into()),
                    value: Some("enabled".into()),
                }]
                .into(),
            ),
            ..ecs::Cluster::new()
        },
    )?;
    let db_secret = format!(
        "arn:aws:secretsmanager:eu-west-1:{}:secret:typed-db",
        "123456789012"
    );
    let task = stack.add(
        "Task",
        ecs::TaskDefinition {
            family: Some("typed-agent".into()),
            cpu: Some("512".into()),
            memory: Some("1024".into()),
            network_mode: Some("awsvpc".into()),
            requires_compatibilities: Some(vec!["FARGATE"].into()),
            execution_role_arn: Some(execution_role.attr_arn()),
            task_role_arn: Some(task_role.attr_arn()),
            container_definitions: Some(
                vec![ecs::task_definition::ContainerDefinition {
                    essential: Some(true.into()),
                    readonly_root_filesystem: Some(true.into()),
                    port_mappings: Some(
                        vec![ecs::task_definition::PortMapping {
                            container_port: Some(8000.into()),
                            protocol: Some("tcp".into()),
                            ..ecs::task_definition::PortMapping::default()
                        }]
                        .into(),
                    ),
                    environment: Some(
                        vec![ecs::task_definition::KeyValuePair {
                            name: Some("ARTIFACTS_DIR".into()),
                            value: Some("/artifacts".into()),
                        }]
                        .into(),
                    ),
                    secrets: Some(
                        vec![ecs::task_definition::Secret::new(
                            "DATABASE_PASSWORD",
                            format!("{db_secret}:password::"),
                        )]
                        .into(),
                    ),
                    health_check: Some(
                        ecs::task_definition::HealthCheck {
                            command: Some(
                                vec![
                                    "CMD-SHELL",
                                    "curl -f http://localhost:8000/health || exit 1",
                                ]
                                .into(),
                            ),
                            interval: Some(30.into()),
                            retries: Some(3.into()),
                            timeout: Some(5.into()),
                            start_period: Some(10.into()),
                        }
                        .into(),
                    ),
                    mount_points: Some(
                        vec![ecs::task_definition::MountPoint {
                            container_path: Some("/artifacts".into()),
                            source_volume: Some("artifacts".into()),
                            read_only: Some(false.into()),
                        }]
                        .into(),
                    ),
                    log_configuration: Some(
                        ecs::task_definition::LogConfiguration {
                            options: Some(
                                omc_cdk::IndexMap::from([
                                    ("awslogs-group".to_owned(), log_group.reference()),
                                    ("awslogs-region".to_owned(), aws::region()),
                                    ("awslogs-stream-prefix".to_owned(), "agent".into()),
                                ])
                                .into(),
                            ),
                            ..ecs::task_definition::LogConfiguration::new("awslogs")
                        }
                        .into(),
                    ),
                    ..ecs::task_definition::ContainerDefinition::new(
                        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent:1.0.0",
                        "agent",
                    )
                }]
                .into(),
            ),
            volumes: Some(
                vec![ecs::task_definition::Volume {
                    name: Some("artifacts".into()),
                    efs_volume_configuration: Some(
                        ecs::task_definition::EfsVolumeConfiguration {
                            transit_encryption: Some("ENABLED".into()),
                            authorization_config: Some(
                                ecs::task_definition::AuthorizationConfig {
                                    access_point_id: Some(access_point.attr_access_point_id()),
                                    iam: Some("ENABLED".into()),
                                }
                                .into(),
                            ),
                            ..ecs::task_definition::EfsVolumeConfiguration::new(
                                file_system.reference(),
                            )
                        }
                        .into(),
                    ),
                    ..ecs::task_definition::Volume::default()
                }]
                .into(),
            ),
            ..ecs::TaskDefinition::new()
        },
    )?;

    // ELBv2: internal load balancer, target group, listener, rule with conditions.
    let lb_sg = stack.add(
        "LoadBalancerSecurityGroup",
        ec2::SecurityGroup {
            vpc_id: Some(vpc.reference()),
            security_group_ingress: Some(
                vec![ec2::security_group::Ingress {
                    cidr_ip: Some("10.30.0.0/16".into()),
                    description: Some("HTTP from the VPC".into()),
                    from_port: Some(80.into()),
                    to_port: Some(80.into()),
                    ..ec2::security_group::Ingress::new("tcp")
                }]
                .into(),
            ),
            security_group_egress: Some(
                vec![ec2::security_group::Egress {
                    destination_security_group_id: Some(app_sg.attr_group_id()),
                    description: Some("To the tasks".into()),
                    from_port: Some(8000.into()),
                    to_port: Some(8000.into()),
                    ..ec2::security_group::Egress::new("tcp")
                }]
                .into(),
            ),
            ..ec2::SecurityGroup::new("Internal load balancer")
        },
    )?;
    let load_balancer = stack.add(
        "LoadBalancer",
        elbv2::LoadBalancer {
            r#type: Some("application".into()),
            scheme: Some("internal".into()),
            subnets: Some(subnet_list.clone()),
            security_groups: Some(vec![lb_sg.attr_group_id()].into()),
            ..elbv2::LoadBalancer::new()
        },
    )?;
    let target_group = stack.add(
        "TargetGroup",
        elbv2::TargetGroup {
            target_type: Some("ip".into()),
            protocol: Some("HTTP".into()),
            port: Some(8000.into()),
            vpc_id: Some(vpc.reference()),
            health_check_path: Some("/health".into()),
            matcher: Some(
                elbv2::target_group::Matcher {
                    http_code: Some("200-299".into()),
                    ..elbv2::target_group::Matcher::default()
                }
                .into(),
            ),
            ..elbv2::TargetGroup::new()
        },
    )?;
    let fixed = elbv2::listener::Action {
        fixed_response_config: Some(
            elbv2::listener::FixedResponseConfig {
                content_type: Some("text/plain".into()),
                message_body: Some("not found".into()),
                ..elbv2::listener::FixedResponseConfig::new("404")
            }
            .into(),
        ),
        ..elbv2::listener::Action::new("fixed-response")
    };
    let listener = stack.add(
        "Listener",
        elbv2::Listener {
            load_balancer_arn: load_balancer.reference(),
            port: Some(80.into()),
            protocol: Some("HTTP".into()),
            ..elbv2::Listener::new(vec![fixed], load_balancer.reference())
        },
    )?;
    let rule = stack.add(
        "ApiRule",
        elbv2::ListenerRule {
            listener_arn: Some(listener.attr_listener_arn()),
            ..elbv2::ListenerRule::new(
                vec![elbv2::listener_rule::Action {
                    target_group_arn: Some(target_group.reference()),
                    ..elbv2::listener_rule::Action::new("forward")
                }],
                vec![
                    elbv2::listener_rule::RuleCondition {
                        field: Some("path-pattern".into()),
                        path_pattern_config: Some(
                            elbv2::listener_rule::PathPatternConfig {
                                values: Some(vec!["/api/*"].into()),
                                ..elbv2::listener_rule::PathPatternConfig::default()
                            }
                            .into(),
                        ),
                        ..elbv2::listener_rule::RuleCondition::default()
                    },
                    elbv2::listener_rule::RuleCondition {
                        field: Some("http-request-method".into()),
                        http_request_method_config: Some(
                            elbv2::listener_rule::HttpRequestMethodConfig {
                                values: Some(vec!["GET", "POST"].into()),
                            }
                            .into(),
                        ),
                        ..elbv2::listener_rule::RuleCondition::default()
                    },
                ],
                10,
            )
        },
    )?;
    let service = stack.add(
        "Service",
        ecs::Service {
            cluster: Some(cluster.reference()),
            task_definition: Some(task.reference()),
            desired_count: Some(1.into()),
            launch_type: Some("FARGATE".into()),
            network_configuration: Some(
                ecs::service::NetworkConfiguration {
                    awsvpc_configuration: Some(
                        ecs::service::AwsVpcConfiguration {
                            assign_public_ip: Some("DISABLED".into()),
                            security_groups: Some(vec![app_sg.attr_group_id()].into()),
                            subnets: Some(subnet_list.clone()),
                        }
                        .into(),
                    ),
                }
                .into(),
            ),
            load_balancers: Some(
                vec![ecs::service::LoadBalancer {
                    container_name: Some("agent".into()),
                    container_port: Some(8000.into()),
                    target_group_arn: Some(target_group.reference()),
                    ..ecs::service::LoadBalancer::default()
                }]
                .into(),
            ),
            deployment_configuration: Some(
                ecs::service::DeploymentConfiguration {
                    deployment_circuit_breaker: Some(
                        ecs::service::DeploymentCircuitBreaker::new(true, true).into(),
                    ),
                    ..ecs::service::DeploymentConfiguration::default()
                }
                .into(),
            ),
            ..ecs::Service::new()
        },
    )?;
    service.add_depends_on(rule.as_resource())?;

    // RDS and ElastiCache in the private subnets.
    let db_subnets = stack.add(
        "DbSubnets",
        rds::DbSubnetGroup::new("typed database", subnet_list.clone()),
    )?;
    let db = stack.add(
        "Db",
        rds::DbInstance {
            engine: Some("postgres".into()),
            engine_version: Some("17.6".into()),
            db_instance_class: Some("db.t3.micro".into()),
            allocated_storage: Some("20".into()),
            storage_type: Some("gp3".into()),
            storage_encrypted: Some(true.into()),
            master_username: Some("typed".into()),
            manage_master_user_password: Some(true.into()),
            db_subnet_group_name: Some(db_subnets.reference()),
            vpc_security_groups: Some(vec![data_sg.attr_group_id()].into()),
            publicly_accessible: Some(false.into()),
            backup_retention_period: Some(7.into()),
            ..rds::DbInstance::new()
        },
    )?;
    db.apply_removal_policy(omc_cdk::RemovalPolicy::Snapshot);
    let cache_subnets = stack.add(
        "CacheSubnets",
        elasticache::SubnetGroup::new("typed cache", subnet_list.clone()),
    )?;
    let cache = stack.add(
        "Cache",
        elasticache::ReplicationGroup {
            engine: Some("redis".into()),
            cache_node_type: Some("cache.t3.micro".into()),
            num_cache_clusters: Some(1.into()),
            cache_subnet_group_name: Some(cache_subnets.reference()),
            security_group_ids: Some(vec![data_sg.attr_group_id()].into()),
            at_rest_encryption_enabled: Some(true.into()),
            transit_encryption_enabled: Some(true.into()),
            ..elasticache::ReplicationGroup::new("typed cache")
        },
    )?;
    cache.apply_removal_policy(omc_cdk::RemovalPolicy::Snapshot);

    // EventBridge: run the task every night.
    let events_role = stack.add(
        "EventsRole",
        iam::Role {
            policies: Some(
                vec![iam::role::Policy::new(
                    Value::Lit(json!({"Version": "2012-10-17", "Statement": []})),
                    "run-task",
                )]
                .into(),
            ),
            ..iam::Role::new(assume("events.amazonaws.com"))
        },
    )?;
    events_role.add_property_override(
        "Policies.0.PolicyDocument.Statement",
        vec![
            omc_cdk::Node::map([
                ("Effect", omc_cdk::IntoNode::into_node("Allow")),
                ("Action", omc_cdk::IntoNode::into_node("ecs:RunTask")),
                ("Resource", omc_cdk::IntoNode::into_node(task.reference())),
            ]),
            omc_cdk::Node::map([
                ("Effect", omc_cdk::IntoNode::into_node("Allow")),
                ("Action", omc_cdk::IntoNode::into_node("iam:PassRole")),
                (
                    "Resource",
                    omc_cdk::IntoNode::into_node(vec![
                        execution_role.attr_arn(),
                        task_role.attr_arn(),
                    ]),
                ),
            ]),
        ],
    );
    stack.add(
        "Nightly",
        events::Rule {
            schedule_expression: Some("cron(0 3 * * ? *)".into()),
            state: Some("ENABLED".into()),
            targets: Some(
                vec![events::rule::Target {
                    role_arn: Some(events_role.attr_arn()),
                    ecs_parameters: Some(
                        events::rule::EcsParameters {
                            launch_type: Some("FARGATE".into()),
                            task_count: Some(1.into()),
                            network_configuration: Some(
                                events::rule::NetworkConfiguration {
                                    aws_vpc_configuration: Some(
                                        events::rule::AwsVpcConfiguration {
                                            assign_public_ip: Some("DISABLED".into()),
                                            security_groups: Some(
                                                vec![app_sg.attr_group_id()].into(),
                                            ),
                                            ..events::rule::AwsVpcConfiguration::new(
                                                subnet_list.clone(),
                                            )
                                        }
                                        .into(),
                                    ),
                                }
                                .into(),
                            ),
                            ..events::rule::EcsParameters::new(task.reference())
                        }
                        .into(),
                    ),
                    ..events::rule::Target::new(cluster.attr_arn(), "nightly-agent")
                }]
                .into(),
            ),
            ..events::Rule::new()
        },
    )?;

    // EKS: cluster with a node group scaling to zero, tainted for runners.
    let cluster_role = stack.add(
        "EksRole",
        iam::Role {
            managed_policy_arns: Some(
                vec![fns::sub(
                    "arn:${AWS::Partition}:iam::aws:policy/AmazonEKSClusterPolicy",
                )]
                .into(),
            ),
            ..iam::Role::new(assume("eks.amazonaws.com"))
        },
    )?;
    let node_role = stack.add(
        "NodeRole",
        iam::Role {
            managed_policy_arns: Some(
                [
                    "AmazonEKSWorkerNodePolicy",
                    "AmazonEKS_CNI_Policy",
                    "AmazonEC2ContainerRegistryReadOnly",
                ]
                .iter()
                .map(|p| fns::sub(format!("arn:${{AWS::Partition}}:iam::aws:policy/{p}")))
                .collect::<Vec<_>>()
                .into(),
            ),
            ..iam::Role::new(assume("ec2.amazonaws.com"))
        },
    )?;
    let eks_cluster = stack.add(
        "Eks",
        eks::Cluster {
            version: Some("1.33".into()),
            ..eks::Cluster::new(
                eks::cluster::ResourcesVpcConfig {
                    subnet_ids: subnet_list.clone(),
                    endpoint_private_access: Some(true.into()),
                    endpoint_public_access: Some(false.into()),
                    ..eks::cluster::ResourcesVpcConfig::new(subnet_list.clone())
                },
                cluster_role.attr_arn(),
            )
        },
    )?;
    stack.add(
        "Runners",
        eks::Nodegroup {
            instance_types: Some(vec!["t3.large"].into()),
            capacity_type: Some("ON_DEMAND".into()),
            scaling_config: Some(
                eks::nodegroup::ScalingConfig {
                    desired_size: Some(0.into()),
                    min_size: Some(0.into()),
                    max_size: Some(10.into()),
                }
                .into(),
            ),
            labels: Some(
                omc_cdk::IndexMap::from([("role".to_owned(), Value::from("runner"))]).into(),
            ),
            taints: Some(
                vec![eks::nodegroup::Taint {
                    key: Some("dedicated".into()),
                    value: Some("runners".into()),
                    effect: Some("NO_SCHEDULE".into()),
                }]
                .into(),
            ),
            ..eks::Nodegroup::new(eks_cluster.reference(), node_role.attr_arn(), subnet_list)
        },
    )?;
    // The bindings fixture writes raw resources the way a hand-written template would; the
    // constructs are where the checks' advice is built in.
    let fixture_reason = "typed-resources is a fixture of the generated bindings for cfn-lint and snapshots; it is never deployed";
    task_role.suppress("iam-wildcard-resource-write", fixture_reason)?;
    listener.suppress("alb-listener-https", fixture_reason)?;
    eks_cluster.suppress("eks-secrets-encrypted", fixture_reason)?;
    Ok(app)
}
