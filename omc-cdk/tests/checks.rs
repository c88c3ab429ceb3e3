//! The check rules: every rule fails a template that breaks it, passes one that follows it,
//! and its suppression works only with a reason.

#![allow(clippy::needless_pass_by_value)] // json! takes its values by reference

use omc_cdk::Stage;
use omc_cdk::check::{self, Report, Severity, StackInput, rules};
use serde_json::{Value as Json, json};

/// One rule's test: the stage to check in, and the resources of a failing and a passing
/// template (or several stacks, for rules that look across them).
struct Case {
    rule: &'static str,
    stage: Stage,
    fail: Vec<(&'static str, Json)>,
    pass: Vec<(&'static str, Json)>,
}

fn one(rule: &'static str, fail: Json, pass: Json) -> Case {
    Case {
        rule,
        stage: Stage::Production,
        fail: vec![("Stack", fail)],
        pass: vec![("Stack", pass)],
    }
}

fn run(stacks: &[(&str, Json)], stage: Stage) -> Report {
    let templates: Vec<(&str, Json)> = stacks
        .iter()
        .map(|(name, t)| {
            let template = if t.get("Resources").is_some() {
                t.clone()
            } else {
                json!({ "Resources": t })
            };
            (*name, template)
        })
        .collect();
    let inputs: Vec<StackInput<'_>> = templates
        .iter()
        .map(|(name, template)| StackInput {
            name,
            template,
            stage,
            paths: None,
        })
        .collect();
    let mut all = rules::all();
    all.extend(rules::OPTIONAL);
    check::check(&inputs, &all)
}

fn export(name: &str, value: Json) -> Json {
    json!({ "Value": value, "Export": { "Name": name } })
}

fn bucket_policy(bucket: &str) -> Json {
    json!({ "Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": { "Ref": bucket },
        "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": { "AWS": "*" }, "Action": "s3:*",
            "Resource": [{ "Fn::GetAtt": [bucket, "Arn"] }],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]}
    }})
}

fn role(statement: Json) -> Json {
    json!({ "Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {},
        "Policies": [{ "PolicyName": "p", "PolicyDocument": { "Version": "2012-10-17", "Statement": [statement] } }]
    }})
}

fn task(container: Json) -> Json {
    json!({ "Type": "AWS::ECS::TaskDefinition", "Properties": { "ContainerDefinitions": [container] } })
}

fn good_container() -> Json {
    json!({ "Name": "app", "Image": "app:1", "ReadonlyRootFilesystem": true })
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    let public_lb = |sg: Json| {
        json!({ "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "SecurityGroups": [sg],
            "LoadBalancerAttributes": [{ "Key": "access_logs.s3.enabled", "Value": "true" }]
        }})
    };
    let open_sg = |port: u16| {
        json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "web",
            "SecurityGroupIngress": [{ "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": "0.0.0.0/0" }]
        }})
    };
    let replication_group = |extra: Json| {
        let mut props = json!({ "Engine": "redis", "CacheNodeType": "cache.t3.micro",
            "AtRestEncryptionEnabled": true, "TransitEncryptionEnabled": true,
            "MultiAZEnabled": true, "AutomaticFailoverEnabled": true });
        for (k, v) in extra.as_object().into_iter().flatten() {
            props[k] = v.clone();
        }
        json!({ "Type": "AWS::ElastiCache::ReplicationGroup", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot", "Properties": props })
    };
    let database = |extra: Json| {
        let mut props = json!({ "Engine": "postgres", "StorageEncrypted": true, "MultiAZ": true,
            "BackupRetentionPeriod": 7, "DeletionProtection": true });
        for (k, v) in extra.as_object().into_iter().flatten() {
            props[k] = v.clone();
        }
        json!({ "Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot", "Properties": props })
    };
    let listener = |props: Json| json!({ "Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": props });
    let eks = |extra: Json| {
        let mut props = json!({
            "RoleArn": "arn:aws:iam::123456789012:role/eks",
            "ResourcesVpcConfig": { "SubnetIds": ["subnet-1"], "EndpointPrivateAccess": true, "EndpointPublicAccess": false },
            "EncryptionConfig": [{ "Resources": ["secrets"], "Provider": { "KeyArn": "arn:aws:kms:us-east-1:123456789012:key/1" } }],
            "Logging": { "ClusterLogging": { "EnabledTypes": [{ "Type": "api" }, { "Type": "audit" }, { "Type": "authenticator" }] } }
        });
        for (k, v) in extra.as_object().into_iter().flatten() {
            props[k] = v.clone();
        }
        json!({ "Type": "AWS::EKS::Cluster", "Properties": props })
    };
    let bucket = |props: Json| json!({ "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props });
    let good_bucket_props = json!({
        "BucketEncryption": { "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }] },
        "PublicAccessBlockConfiguration": { "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true }
    });

    vec![
        one(
            "rds-storage-encrypted",
            json!({ "Db": database(json!({ "StorageEncrypted": false })) }),
            json!({ "Db": database(json!({})),
                    "Member": { "Type": "AWS::RDS::DBInstance", "Properties": { "DBClusterIdentifier": "aurora" } },
                    "Replica": { "Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
                        "Properties": { "SourceDBInstanceIdentifier": { "Ref": "Db" }, "PubliclyAccessible": false } } }),
        ),
        one(
            "efs-encrypted",
            json!({ "Files": { "Type": "AWS::EFS::FileSystem", "Properties": {} } }),
            json!({ "Files": { "Type": "AWS::EFS::FileSystem", "Properties": { "Encrypted": true } } }),
        ),
        one(
            "elasticache-at-rest-encryption",
            json!({ "Cache": replication_group(json!({ "AtRestEncryptionEnabled": false })),
                    "Node": { "Type": "AWS::ElastiCache::CacheCluster", "Properties": { "Engine": "redis" } } }),
            json!({ "Cache": replication_group(json!({})) }),
        ),
        one(
            "s3-bucket-encryption",
            json!({ "B": bucket(json!({})) }),
            json!({ "B": bucket(good_bucket_props.clone()) }),
        ),
        one(
            "sns-topic-encrypted",
            json!({ "T": { "Type": "AWS::SNS::Topic", "Properties": { "DisplayName": "alarms" } } }),
            json!({ "T": { "Type": "AWS::SNS::Topic", "Properties": { "KmsMasterKeyId": "alias/aws/sns" } } }),
        ),
        one(
            "sqs-queue-encrypted",
            json!({ "Q": { "Type": "AWS::SQS::Queue", "Properties": { "SqsManagedSseEnabled": false } } }),
            json!({ "Q": { "Type": "AWS::SQS::Queue", "Properties": {} },
                    "K": { "Type": "AWS::SQS::Queue", "Properties": { "SqsManagedSseEnabled": false, "KmsMasterKeyId": "alias/q" } } }),
        ),
        one(
            "ebs-encrypted",
            json!({ "Lt": { "Type": "AWS::EC2::LaunchTemplate", "Properties": { "LaunchTemplateData": {
                        "BlockDeviceMappings": [{ "DeviceName": "/dev/xvda", "Ebs": { "VolumeSize": 20 } }] } } },
                    "V": { "Type": "AWS::EC2::Volume", "Properties": { "Size": 10, "AvailabilityZone": "us-east-1a" } } }),
            json!({ "Lt": { "Type": "AWS::EC2::LaunchTemplate", "Properties": { "LaunchTemplateData": {
                        "BlockDeviceMappings": [{ "DeviceName": "/dev/xvda", "Ebs": { "VolumeSize": 20, "Encrypted": true } }] } } },
                    "V": { "Type": "AWS::EC2::Volume", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
                           "Properties": { "Size": 10, "AvailabilityZone": "us-east-1a", "Encrypted": true } } }),
        ),
        one(
            "eks-secrets-encrypted",
            json!({ "Eks": eks(json!({ "EncryptionConfig": [] })) }),
            json!({ "Eks": eks(json!({})) }),
        ),
        one(
            "logs-kms-key",
            json!({ "L": { "Type": "AWS::Logs::LogGroup", "Properties": { "RetentionInDays": 30 } } }),
            json!({ "L": { "Type": "AWS::Logs::LogGroup", "Properties": { "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1" } } }),
        ),
        one(
            "elasticache-transit-encryption",
            json!({ "Cache": replication_group(json!({ "TransitEncryptionEnabled": false })) }),
            json!({ "Cache": replication_group(json!({})) }),
        ),
        one(
            "alb-listener-https",
            json!({ "L": listener(json!({ "Protocol": "HTTP", "Port": 80, "DefaultActions": [{ "Type": "forward", "TargetGroupArn": "tg" }] })) }),
            json!({ "L": listener(json!({ "Protocol": "HTTP", "Port": 80, "DefaultActions": [{ "Type": "redirect", "RedirectConfig": { "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301" } }] })),
                    "S": listener(json!({ "Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06" })) }),
        ),
        one(
            "alb-tls-policy",
            json!({ "Default": listener(json!({ "Protocol": "HTTPS", "Port": 443 })),
                    "Old": listener(json!({ "Protocol": "HTTPS", "Port": 8443, "SslPolicy": "ELBSecurityPolicy-2016-08" })) }),
            json!({ "S": listener(json!({ "Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS-1-2-Ext-2018-06" })) }),
        ),
        one(
            "efs-transit-encryption",
            json!({ "Task": { "Type": "AWS::ECS::TaskDefinition", "Properties": {
                "ContainerDefinitions": [good_container()],
                "Volumes": [{ "Name": "files", "EFSVolumeConfiguration": { "FilesystemId": "fs-1" } }] } } }),
            json!({ "Task": { "Type": "AWS::ECS::TaskDefinition", "Properties": {
                "ContainerDefinitions": [good_container()],
                "Volumes": [{ "Name": "files", "EFSVolumeConfiguration": { "FilesystemId": "fs-1", "TransitEncryption": "ENABLED" } }] } } }),
        ),
        // The bucket policy may live in another stack: the check follows the import.
        Case {
            rule: "s3-tls-only",
            stage: Stage::Production,
            fail: vec![("Stack", json!({ "B": bucket(good_bucket_props.clone()) }))],
            pass: vec![
                (
                    "Storage",
                    json!({
                        "Resources": { "B": bucket(good_bucket_props.clone()) },
                        "Outputs": { "BucketName": export("Storage:BucketName", json!({ "Ref": "B" })) }
                    }),
                ),
                (
                    "Policies",
                    json!({ "P": {
                    "Type": "AWS::S3::BucketPolicy", "Properties": {
                        "Bucket": { "Fn::ImportValue": "Storage:BucketName" },
                        "PolicyDocument": bucket_policy("B")["Properties"]["PolicyDocument"].clone()
                    }
                } }),
                ),
            ],
        },
        // A public load balancer in another stack may open its own group to 80/443; the
        // same port on a group no load balancer uses fails, and SSH always does.
        Case {
            rule: "sg-open-ingress",
            stage: Stage::Production,
            fail: vec![(
                "Stack",
                json!({
                    "Web": open_sg(443),
                    "Ssh": { "Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                        "GroupId": { "Fn::GetAtt": ["Web", "GroupId"] }, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0" } },
                    "V6": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "GroupDescription": "all",
                        "SecurityGroupIngress": [{ "IpProtocol": "-1", "CidrIpv6": "::/0" }] } }
                }),
            )],
            pass: vec![
                (
                    "Network",
                    json!({
                        "Resources": { "LbSg": open_sg(443),
                            "Inner": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "GroupDescription": "db",
                                "SecurityGroupIngress": [{ "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/16" }] } } },
                        "Outputs": { "LbSg": export("Network:LbSg", json!({ "Fn::GetAtt": ["LbSg", "GroupId"] })) }
                    }),
                ),
                (
                    "Services",
                    json!({
                        "Lb": public_lb(json!({ "Fn::ImportValue": "Network:LbSg" })),
                        "Https": { "Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                            "GroupId": { "Fn::ImportValue": "Network:LbSg" }, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0" } }
                    }),
                ),
            ],
        },
        one(
            "rds-public-access",
            json!({ "Db": database(json!({ "PubliclyAccessible": true })) }),
            json!({ "Db": database(json!({ "PubliclyAccessible": false })) }),
        ),
        one(
            "s3-public-access-block",
            json!({ "Open": bucket(json!({ "PublicAccessBlockConfiguration": { "BlockPublicAcls": true, "BlockPublicPolicy": false, "IgnorePublicAcls": true, "RestrictPublicBuckets": true } })) }),
            json!({ "B": bucket(good_bucket_props.clone()) }),
        ),
        one(
            "eks-public-endpoint",
            json!({ "Eks": eks(json!({ "ResourcesVpcConfig": { "SubnetIds": ["subnet-1"] } })) }),
            json!({ "Eks": eks(json!({})),
                    "Narrow": eks(json!({ "ResourcesVpcConfig": { "SubnetIds": ["subnet-1"], "EndpointPublicAccess": true, "PublicAccessCidrs": ["203.0.113.0/24"] } })) }),
        ),
        one(
            "iam-wildcard-action",
            json!({ "R": role(json!({ "Effect": "Allow", "Action": "*", "Resource": "*" })),
                    "N": role(json!({ "Effect": "Allow", "NotAction": "iam:*", "Resource": "*" })) }),
            json!({ "R": role(json!({ "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*" })),
                    "D": role(json!({ "Effect": "Deny", "Action": "*", "Resource": "*" })) }),
        ),
        one(
            "iam-wildcard-resource-write",
            json!({ "P": { "Type": "AWS::IAM::ManagedPolicy", "Properties": { "PolicyDocument": { "Statement": [
                { "Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": "*" }] } } } }),
            json!({ "P": { "Type": "AWS::IAM::ManagedPolicy", "Properties": { "PolicyDocument": { "Statement": [
                { "Effect": "Allow", "Action": ["ec2:DescribeInstances", "cloudwatch:PutMetricData", "s3:List*"], "Resource": "*" },
                { "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*" }] } } } }),
        ),
        one(
            "iam-passrole-wildcard",
            json!({ "R": role(json!({ "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
                    "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } })) }),
            json!({ "R": role(json!({ "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/task" })) }),
        ),
        one(
            "iam-user-inline-policy",
            json!({ "U": { "Type": "AWS::IAM::User", "Properties": { "Policies": [{ "PolicyName": "p",
                    "PolicyDocument": { "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*" }] } }] } } }),
            json!({ "U": { "Type": "AWS::IAM::User", "Properties": { "Groups": ["readers"] } } }),
        ),
        one(
            "alb-access-logs",
            json!({ "Lb": { "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {} } }),
            json!({ "Lb": public_lb(json!("sg-1")),
                    "Nlb": { "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": { "Type": "network" } } }),
        ),
        // The flow log may be in another stack.
        Case {
            rule: "vpc-flow-logs",
            stage: Stage::Production,
            fail: vec![(
                "Stack",
                json!({ "Vpc": { "Type": "AWS::EC2::VPC", "Properties": { "CidrBlock": "10.0.0.0/16" } } }),
            )],
            pass: vec![
                (
                    "Network",
                    json!({
                        "Resources": { "Vpc": { "Type": "AWS::EC2::VPC", "Properties": { "CidrBlock": "10.0.0.0/16" } } },
                        "Outputs": { "Vpc": export("Network:Vpc", json!({ "Ref": "Vpc" })) }
                    }),
                ),
                (
                    "Audit",
                    json!({ "Flow": { "Type": "AWS::EC2::FlowLog", "Properties": {
                    "ResourceId": { "Fn::ImportValue": "Network:Vpc" }, "ResourceType": "VPC", "TrafficType": "ALL" } } }),
                ),
            ],
        },
        one(
            "cloudtrail-log-validation",
            json!({ "T": { "Type": "AWS::CloudTrail::Trail", "Properties": { "IsLogging": true, "S3BucketName": "b" } } }),
            json!({ "T": { "Type": "AWS::CloudTrail::Trail", "Properties": { "IsLogging": true, "S3BucketName": "b", "EnableLogFileValidation": true } } }),
        ),
        one(
            "ecs-container-insights",
            json!({ "C": { "Type": "AWS::ECS::Cluster", "Properties": { "ClusterSettings": [{ "Name": "containerInsights", "Value": "disabled" }] } } }),
            json!({ "C": { "Type": "AWS::ECS::Cluster", "Properties": { "ClusterSettings": [{ "Name": "containerInsights", "Value": "enhanced" }] } } }),
        ),
        one(
            "eks-control-plane-logs",
            json!({ "Eks": eks(json!({ "Logging": { "ClusterLogging": { "EnabledTypes": [{ "Type": "api" }] } } })) }),
            json!({ "Eks": eks(json!({})) }),
        ),
        one(
            "rds-multi-az",
            json!({ "Db": database(json!({ "MultiAZ": false })) }),
            json!({ "Db": database(json!({})) }),
        ),
        one(
            "rds-backup-retention",
            json!({ "Db": database(json!({ "BackupRetentionPeriod": 1 })) }),
            json!({ "Db": database(json!({ "BackupRetentionPeriod": "14" })) }),
        ),
        one(
            "rds-deletion-protection",
            json!({ "Db": database(json!({ "DeletionProtection": false })) }),
            json!({ "Db": database(json!({})) }),
        ),
        one(
            "elasticache-multi-az",
            json!({ "Cache": replication_group(json!({ "MultiAZEnabled": false, "AutomaticFailoverEnabled": false })) }),
            json!({ "Cache": replication_group(json!({})) }),
        ),
        one(
            "stateful-retention",
            json!({ "Files": { "Type": "AWS::EFS::FileSystem", "Properties": { "Encrypted": true } },
                    "Db": { "Type": "AWS::RDS::DBInstance", "Properties": database(json!({}))["Properties"].clone() } }),
            json!({ "Files": { "Type": "AWS::EFS::FileSystem", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": { "Encrypted": true } },
                    "Db": database(json!({})),
                    "AuroraMember": { "Type": "AWS::RDS::DBInstance", "Properties": { "DBClusterIdentifier": "aurora" } } }),
        ),
        one(
            "ecs-circuit-breaker",
            json!({ "S": { "Type": "AWS::ECS::Service", "Properties": { "DeploymentConfiguration": { "MinimumHealthyPercent": 100 } } } }),
            json!({ "S": { "Type": "AWS::ECS::Service", "Properties": { "DeploymentConfiguration": { "DeploymentCircuitBreaker": { "Enable": true, "Rollback": true } } } },
                    "B": { "Type": "AWS::ECS::Service", "Properties": { "DeploymentController": { "Type": "CODE_DEPLOY" } } } }),
        ),
        one(
            "ecs-privileged",
            json!({ "Task": task(json!({ "Name": "app", "Image": "app:1", "ReadonlyRootFilesystem": true, "Privileged": true })) }),
            json!({ "Task": task(good_container()) }),
        ),
        one(
            "ecs-readonly-root",
            json!({ "Task": task(json!({ "Name": "app", "Image": "app:1" })) }),
            json!({ "Task": task(good_container()) }),
        ),
        one(
            "ecs-plain-secrets",
            json!({ "Task": task(json!({ "Name": "app", "Image": "app:1", "ReadonlyRootFilesystem": true,
                    "Environment": [{ "Name": "DATABASE_PASSWORD", "Value": "hunter2" }, { "Name": "DATABASE_URL", "Value": "postgres://app:hunter2@db/app" }] })) }),
            json!({ "Task": task(json!({ "Name": "app", "Image": "app:1", "ReadonlyRootFilesystem": true,
                    "Environment": [{ "Name": "DATABASE_HOST", "Value": "db" }, { "Name": "DATABASE_SECRET_ARN", "Value": "arn:aws:secretsmanager:us-east-1:1:secret:db" }],
                    "Secrets": [{ "Name": "DATABASE_PASSWORD", "ValueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:db:password::" }] })) }),
        ),
        one(
            "cloudtrail-kms",
            json!({ "T": { "Type": "AWS::CloudTrail::Trail", "Properties": { "IsLogging": true, "S3BucketName": "trail", "EnableLogFileValidation": true } } }),
            json!({ "T": { "Type": "AWS::CloudTrail::Trail", "Properties": { "IsLogging": true, "S3BucketName": "trail", "EnableLogFileValidation": true, "KMSKeyId": { "Fn::GetAtt": ["K", "Arn"] } } } }),
        ),
        one(
            "secret-cmk",
            json!({ "S": { "Type": "AWS::SecretsManager::Secret", "Properties": {} },
                    "M": { "Type": "AWS::SecretsManager::Secret", "Properties": { "KmsKeyId": "alias/aws/secretsmanager" } } }),
            json!({ "S": { "Type": "AWS::SecretsManager::Secret", "Properties": { "KmsKeyId": { "Fn::GetAtt": ["K", "Arn"] } } } }),
        ),
        one(
            "sqs-kms-key",
            json!({ "Q": { "Type": "AWS::SQS::Queue", "Properties": { "SqsManagedSseEnabled": true } } }),
            json!({ "Q": { "Type": "AWS::SQS::Queue", "Properties": { "KmsMasterKeyId": "alias/q" } } }),
        ),
        one(
            "ecr-kms-key",
            json!({ "R": { "Type": "AWS::ECR::Repository", "Properties": {} },
                    "A": { "Type": "AWS::ECR::Repository", "Properties": { "EncryptionConfiguration": { "EncryptionType": "AES256" } } } }),
            json!({ "R": { "Type": "AWS::ECR::Repository", "Properties": { "EncryptionConfiguration": { "EncryptionType": "KMS" } } } }),
        ),
        one(
            "s3-access-logs",
            json!({ "B": bucket(good_bucket_props.clone()) }),
            json!({ "B": bucket(json!({ "LoggingConfiguration": { "DestinationBucketName": { "Ref": "Logs" }, "LogFilePrefix": "b/" } })) }),
        ),
        one(
            "rds-iam-auth",
            json!({ "Db": database(json!({})),
                    "Off": database(json!({ "EnableIAMDatabaseAuthentication": false })) }),
            json!({ "Db": database(json!({ "EnableIAMDatabaseAuthentication": true })),
                    "Member": { "Type": "AWS::RDS::DBInstance", "Properties": { "DBClusterIdentifier": "aurora" } },
                    "Oracle": database(json!({ "Engine": "oracle-se2" })) }),
        ),
        one(
            "rds-enhanced-monitoring",
            json!({ "Db": database(json!({})),
                    "Zero": database(json!({ "MonitoringInterval": 0 })) }),
            json!({ "Db": database(json!({ "MonitoringInterval": 60 })),
                    "Computed": database(json!({ "MonitoringInterval": { "Ref": "Interval" } })) }),
        ),
    ]
}

fn findings_of<'r>(report: &'r Report, rule: &str) -> Vec<&'r check::Finding> {
    report
        .findings()
        .iter()
        .filter(|f| f.rule == rule)
        .collect()
}

#[test]
fn every_rule_has_a_case() {
    let cases = cases();
    for rule in rules::ALL.iter().chain(rules::OPTIONAL.iter()) {
        assert!(
            cases.iter().any(|c| c.rule == rule.id),
            "rule {} has no failing and passing template here",
            rule.id
        );
    }
}

#[test]
fn each_rule_fails_its_failing_template() {
    for case in cases() {
        let report = run(&case.fail, case.stage);
        let found = findings_of(&report, case.rule);
        assert!(
            !found.is_empty(),
            "{}: no finding in {:#?}",
            case.rule,
            report.findings()
        );
        let rule = rules::find(case.rule).expect("a built-in rule");
        let level = rule
            .levels
            .at(case.stage)
            .expect("the rule is on in the case's stage");
        for f in &found {
            assert!(f.severity <= level, "{}: {f:?}", case.rule);
            assert!(f.suppressed.is_none());
            assert!(!f.message.is_empty() && f.fix == rule.doc.fix);
            assert!(
                f.path.starts_with("Stack/"),
                "{}: path {}",
                case.rule,
                f.path
            );
        }
        assert!(
            found.iter().any(|f| f.severity == level),
            "{}: no finding at the rule's level {level}",
            case.rule
        );
    }
}

#[test]
fn each_rule_passes_its_passing_template() {
    for case in cases() {
        let report = run(&case.pass, case.stage);
        let found = findings_of(&report, case.rule);
        assert!(found.is_empty(), "{}: unexpected {found:#?}", case.rule);
    }
}

/// Adds a suppression of `rule` with `reason` to every resource of the stacks.
fn suppressed(
    stacks: &[(&'static str, Json)],
    rule: &str,
    reason: &str,
) -> Vec<(&'static str, Json)> {
    stacks
        .iter()
        .map(|(name, t)| {
            let mut t = t.clone();
            let resources = if t.get("Resources").is_some() {
                &mut t["Resources"]
            } else {
                &mut t
            };
            for (_, resource) in resources.as_object_mut().into_iter().flatten() {
                resource["Metadata"] = json!({ "omc:check": { "suppressions": [{ "rule": rule, "reason": reason }] } });
            }
            (*name, t)
        })
        .collect()
}

#[test]
fn each_rule_can_be_suppressed_with_a_reason() {
    for case in cases() {
        let stacks = suppressed(
            &case.fail,
            case.rule,
            "accepted for this test: the resource is a fixture",
        );
        let report = run(&stacks, case.stage);
        let found = findings_of(&report, case.rule);
        assert!(!found.is_empty(), "{}", case.rule);
        for f in &found {
            assert_eq!(
                f.suppressed.as_deref(),
                Some("accepted for this test: the resource is a fixture"),
                "{}",
                case.rule
            );
        }
        assert!(
            report
                .active()
                .all(|f| f.rule != case.rule && f.rule != "invalid-suppression"),
            "{}: {}",
            case.rule,
            report.render_table()
        );
        assert!(
            report
                .suppressions()
                .iter()
                .any(|s| s.rule == case.rule && s.matched > 0),
            "{}",
            case.rule
        );
    }
}

#[test]
fn a_suppression_without_a_reason_is_an_error_and_suppresses_nothing() {
    for case in cases() {
        for reason in ["", "ok", "   fine    "] {
            let stacks = suppressed(&case.fail, case.rule, reason);
            let report = run(&stacks, case.stage);
            assert!(
                findings_of(&report, case.rule)
                    .iter()
                    .all(|f| f.suppressed.is_none()),
                "{}: a reasonless suppression took effect",
                case.rule
            );
            let invalid = findings_of(&report, "invalid-suppression");
            assert!(!invalid.is_empty(), "{}", case.rule);
            assert!(invalid.iter().all(|f| f.severity == Severity::Error));
            assert!(report.has_errors());
        }
    }
}

#[test]
fn a_suppression_that_matches_nothing_is_reported() {
    let stacks = suppressed(
        &[(
            "Stack",
            json!({ "Files": { "Type": "AWS::EFS::FileSystem", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": { "Encrypted": true } } }),
        )],
        "efs-encrypted",
        "the file system holds public data only",
    );
    let report = run(&stacks, Stage::Production);
    let unused = findings_of(&report, "unused-suppression");
    assert_eq!(unused.len(), 1, "{:#?}", report.findings());
    assert_eq!(unused[0].severity, Severity::Warning);
    assert_eq!(unused[0].path, "Stack/Files");
    assert!(unused[0].message.contains("efs-encrypted"));
    assert_eq!(report.suppressions()[0].matched, 0);
}

#[test]
fn a_suppression_of_an_unknown_rule_is_an_error() {
    let stacks = suppressed(
        &[(
            "Stack",
            json!({ "Files": { "Type": "AWS::EFS::FileSystem", "Properties": {} } }),
        )],
        "efs-encrypt",
        "a typo in the rule id must not go unnoticed",
    );
    let report = run(&stacks, Stage::Production);
    let invalid = findings_of(&report, "invalid-suppression");
    assert_eq!(invalid.len(), 1);
    assert!(
        invalid[0].message.contains("\"efs-encrypt\""),
        "{}",
        invalid[0].message
    );
    assert!(
        findings_of(&report, "efs-encrypted")[0]
            .suppressed
            .is_none()
    );
}

#[test]
fn severities_follow_the_stage() {
    let single_az = [(
        "Stack",
        json!({ "Db": {
        "Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
        "Properties": { "StorageEncrypted": true, "MultiAZ": false, "BackupRetentionPeriod": 1 } } }),
    )];
    let level = |stage: Stage, rule: &str| {
        let report = run(&single_az, stage);
        findings_of(&report, rule).first().map(|f| f.severity)
    };
    assert_eq!(
        level(Stage::Production, "rds-multi-az"),
        Some(Severity::Error)
    );
    assert_eq!(
        level(Stage::Staging, "rds-multi-az"),
        Some(Severity::Warning)
    );
    assert_eq!(level(Stage::Development, "rds-multi-az"), None);
    assert_eq!(
        level(Stage::Production, "rds-backup-retention"),
        Some(Severity::Error)
    );
    assert_eq!(level(Stage::Staging, "rds-backup-retention"), None);
    assert_eq!(
        level(Stage::Production, "rds-deletion-protection"),
        Some(Severity::Error)
    );
    assert_eq!(level(Stage::Staging, "rds-deletion-protection"), None);
    // Security rules do not relax outside production.
    let open = [(
        "Stack",
        json!({ "Db": { "Type": "AWS::RDS::DBInstance", "Properties": { "StorageEncrypted": false } } }),
    )];
    for stage in Stage::ALL {
        let report = run(&open, stage);
        assert_eq!(
            findings_of(&report, "rds-storage-encrypted")[0].severity,
            Severity::Error
        );
    }
}

#[test]
fn computed_values_get_the_benefit_of_the_doubt_and_parameters_their_default() {
    let template = json!({
        "Parameters": { "Encrypt": { "Type": "String", "Default": "false" }, "Open": { "Type": "String" } },
        "Conditions": { "Prod": { "Fn::Equals": ["a", "b"] } },
        "Resources": {
            "ByDefault": { "Type": "AWS::EFS::FileSystem", "Properties": { "Encrypted": { "Ref": "Encrypt" } } },
            "NoDefault": { "Type": "AWS::EFS::FileSystem", "Properties": { "Encrypted": { "Ref": "Open" } } },
            "Conditional": { "Type": "AWS::EFS::FileSystem", "Properties": { "Encrypted": { "Fn::If": ["Prod", true, true] } } }
        }
    });
    let report = run(&[("Stack", template)], Stage::Development);
    let found: Vec<&str> = findings_of(&report, "efs-encrypted")
        .iter()
        .map(|f| f.logical_id.as_str())
        .collect();
    assert_eq!(found, ["ByDefault"]);
}

/// Port 80 open to the internet on a public load balancer is a warning (acceptable where
/// the listener redirects to HTTPS, which a suppression says); 443 is not reported.
#[test]
fn port_80_on_a_public_load_balancer_is_a_warning() {
    let stacks = [(
        "Web",
        json!({
            "LbSg": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "GroupDescription": "lb",
                "SecurityGroupIngress": [
                    { "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0" },
                    { "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0" }
                ] } },
            "Lb": { "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                "SecurityGroups": [{ "Fn::GetAtt": ["LbSg", "GroupId"] }] } }
        }),
    )];
    let report = run(&stacks, Stage::Production);
    let open: Vec<_> = report
        .findings()
        .iter()
        .filter(|f| f.rule == "sg-open-ingress")
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].severity, Severity::Warning);
    assert_eq!(open[0].property, "SecurityGroupIngress[1]");
    assert!(
        open[0].message.starts_with("ingress from 0.0.0.0/0 on tcp port 80 (plain HTTP) to a public load balancer: acceptable only where its port-80 listener redirects to HTTPS"),
        "{}",
        open[0].message
    );
}

#[test]
fn reports_render_as_table_json_and_sarif() {
    let stacks = [(
        "Stack",
        json!({ "Files": { "Type": "AWS::EFS::FileSystem", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {} },
        "Db": { "Type": "AWS::RDS::DBInstance", "Metadata": { "omc:check": { "suppressions": [
            { "rule": "rds-multi-az", "reason": "single AZ is fine for this test database" }] } },
            "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
            "Properties": { "StorageEncrypted": true, "PubliclyAccessible": false, "BackupRetentionPeriod": 7, "DeletionProtection": true,
                "EnableIAMDatabaseAuthentication": true, "MonitoringInterval": 60 } } }),
    )];
    let report = run(&stacks, Stage::Production);
    let table = report.render_table();
    assert!(
        table.contains("reason: single AZ is fine for this test database\n    also skips: checkov CKV_AWS_157\n"),
        "{table}"
    );
    assert!(
        table.contains("error[efs-encrypted]: Stack/Files (AWS::EFS::FileSystem) Encrypted"),
        "{table}"
    );
    assert!(table.contains("fix: Set `Encrypted: true`"), "{table}");
    assert!(
        table.contains("rds-multi-az  Stack/Db  (1 finding)"),
        "{table}"
    );
    assert!(
        table.contains("reason: single AZ is fine for this test database"),
        "{table}"
    );
    assert!(
        table.ends_with("1 error, 0 warnings, 1 suppressed\n"),
        "{table}"
    );

    let json = report.to_json();
    assert_eq!(json["errors"], 1);
    assert_eq!(
        json["suppressions"][0]["reason"],
        "single AZ is fine for this test database"
    );

    let sarif = report.to_sarif(&|stack| format!("out/{stack}.template.json"), &|_, id| {
        (id == "Files").then_some(7)
    });
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let efs = results
        .iter()
        .find(|r| r["ruleId"] == "efs-encrypted")
        .expect("efs result");
    assert_eq!(efs["level"], "error");
    assert_eq!(
        efs["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "out/Stack.template.json"
    );
    assert_eq!(
        efs["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    let rule_index = efs["ruleIndex"].as_u64().expect("rule index");
    let rule_index = usize::try_from(rule_index).expect("small index");
    assert_eq!(
        run["tool"]["driver"]["rules"][rule_index]["id"],
        "efs-encrypted"
    );
    let db = results
        .iter()
        .find(|r| r["ruleId"] == "rds-multi-az")
        .expect("db result");
    assert_eq!(
        db["suppressions"][0]["justification"],
        "single AZ is fine for this test database"
    );
}

#[test]
fn the_rule_documentation_is_generated_into_docs() {
    // Below this line the file is written by hand (the OMC apps' fixes and suppressions).
    const HAND_WRITTEN: &str =
        "\n<!-- Written by hand below this line: the OMC apps' decisions. -->\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/checks.md");
    let generated = check::rules_markdown(&rules::documented());
    let read = || std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("OMC_UPDATE_DOCS").is_some() {
        let current = read();
        let tail = current.find(HAND_WRITTEN).map_or("", |at| &current[at..]);
        std::fs::write(&path, format!("{generated}{tail}")).expect("docs/checks.md is writable");
    }
    let current = read();
    let head = current
        .find(HAND_WRITTEN)
        .map_or(current.as_str(), |at| &current[..at]);
    assert!(
        head == generated,
        "docs/checks.md is out of date: run `OMC_UPDATE_DOCS=1 cargo test -p omc-cdk --test checks`"
    );
    assert!(
        current.contains(HAND_WRITTEN),
        "docs/checks.md lost its hand-written part (the OMC apps' fixes and suppressions)"
    );
    for rule in rules::documented() {
        assert!(
            generated.contains(&format!("\n### {}\n", rule.id)),
            "{}",
            rule.id
        );
    }
}

mod api {
    use omc_cdk::check::{Category, Levels, Rule, RuleDoc, Severity, Violations};
    use omc_cdk::{App, RawResource, Stack, StackProps, Stage};
    use serde_json::json;

    /// A suppression is written for the other scanners too, with the same reason: checkov's
    /// `skip`, `cfn_nag`'s `rules_to_suppress` and cfn-lint's `ignore_checks`. Two of our rules
    /// sharing an equivalent give one entry with both reasons; entries a construct wrote
    /// itself are kept; `check` lists the equivalents under the suppression.
    #[test]
    fn suppressions_are_written_for_every_scanner() -> Result<(), omc_cdk::Error> {
        let app = App::new().with_stage(Stage::Production);
        let stack = Stack::new(&app, "Jobs", StackProps::default())?;
        let queue = stack.add(
            "Queue",
            RawResource::new("AWS::SQS::Queue").property("SqsManagedSseEnabled", false),
        )?;
        queue.add_metadata("checkov", json!({ "skip": [{ "id": "CKV_AWS_999", "comment": "a team's own skip of a check we do not know" }] }));
        let unencrypted =
            "The queue holds only public job ids, published on the status page anyway";
        let sse_sqs = "EventBridge cannot deliver to a queue under the AWS managed key";
        queue.suppress("sqs-queue-encrypted", unencrypted)?;
        queue.suppress("sqs-kms-key", sse_sqs)?;
        let db = stack.add(
            "Database",
            RawResource::new("AWS::RDS::DBInstance")
                .property("Engine", "postgres")
                .property("StorageEncrypted", true)
                .property("MultiAZ", true)
                .property("BackupRetentionPeriod", 7)
                .property("DeletionProtection", true)
                .property("EnableIAMDatabaseAuthentication", true)
                .property("MonitoringInterval", 60)
                .property("PubliclyAccessible", false),
        )?;
        let retention = "A nightly copy of the database, rebuilt from production at will";
        db.suppress("stateful-retention", retention)?;
        let synthesis = app.synth()?;
        let template = synthesis.stacks()[0].template_json();
        let checks = synthesis.checks().expect("synth runs the checks");
        let queue = &template["Resources"]["Queue"]["Metadata"];
        assert_eq!(
            queue["checkov"],
            json!({ "skip": [
                { "id": "CKV_AWS_999", "comment": "a team's own skip of a check we do not know" },
                { "id": "CKV_AWS_27", "comment": format!("{unencrypted} / {sse_sqs}") },
            ] })
        );
        assert_eq!(
            queue["cfn_nag"],
            json!({ "rules_to_suppress": [{ "id": "W48", "reason": format!("{unencrypted} / {sse_sqs}") }] })
        );
        assert!(queue.get("cfn-lint").is_none(), "{queue}");
        let db = &template["Resources"]["Database"]["Metadata"];
        assert_eq!(
            db["cfn-lint"],
            json!({ "config": { "ignore_checks": ["I3011", "W3011"] } })
        );
        assert!(db.get("checkov").is_none(), "{db}");
        assert_eq!(
            db["omc:check"]["suppressions"][0]["reason"],
            json!(retention)
        );
        let table = checks.render_table();
        assert!(
            table.contains("    also skips: checkov CKV_AWS_27; cfn_nag W48\n"),
            "{table}"
        );
        assert!(
            table.contains("    also skips: cfn-lint I3011, W3011\n"),
            "{table}"
        );
        let report = checks.to_json();
        let suppression = report["suppressions"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["rule"] == "stateful-retention"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            suppression["equivalents"]["cfn-lint"],
            json!(["I3011", "W3011"])
        );
        Ok(())
    }

    /// One synthesis: `App::synth()` refuses what `synth` on the command line refuses, with
    /// the same findings, and a synthesis carries what the checks found.
    #[test]
    fn app_synth_runs_the_checks_as_the_command_line_does() -> Result<(), omc_cdk::Error> {
        // In development, retention policies are not required: one finding is left.
        let app = App::new().with_stage(Stage::Development);
        let stack = Stack::new(&app, "Data", StackProps::default())?;
        let files = stack
            .child("Files")?
            .add("Resource", RawResource::new("AWS::EFS::FileSystem"))?;
        let err = app.synth().unwrap_err();
        let omc_cdk::Error::Checks(failed) = &err else {
            panic!("{err}")
        };
        let rules: Vec<&str> = failed.report.active().map(|f| f.rule.as_str()).collect();
        assert_eq!(failed.report.errors(), 1, "{rules:?}");
        assert_eq!(failed.synthesis.stacks().len(), 1, "the synthesis is kept");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "error[efs-encrypted]: Data/Files/Resource (AWS::EFS::FileSystem) Encrypted"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("checks: 1 error, 0 warnings, 0 suppressed; fix each error, or suppress it with a reason (`Scope::suppress`)"),
            "{text}"
        );
        // The command line prints the same findings and refuses too.
        let out = std::env::temp_dir().join(format!("omc-one-synthesis-{}", std::process::id()));
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let code = app.run_with(
            ["app", "synth", "--out", out.to_str().unwrap()],
            &mut stdout,
            &mut stderr,
        );
        assert_eq!(code, omc_cdk::EXIT_FAILURE);
        let stderr = String::from_utf8(stderr).unwrap();
        assert!(
            stderr.starts_with(&failed.report.render_findings()),
            "{stderr}"
        );
        assert!(!out.join("Data.template.json").exists(), "nothing written");

        // Suppressed, it synthesizes, and the suppressed finding is in the result.
        files.suppress(
            "efs-encrypted",
            "a scratch file system of a test that holds nothing worth encrypting",
        )?;
        let synthesis = app.synth()?;
        let checks = synthesis.checks().expect("synth runs the checks");
        assert!(!checks.has_errors());
        assert!(
            checks
                .findings()
                .iter()
                .any(|f| f.rule == "efs-encrypted" && f.suppressed.is_some()),
            "{:#?}",
            checks.findings()
        );
        // Tools that only look at templates can skip the checks, explicitly.
        assert!(app.synth_unchecked()?.checks().is_none());
        Ok(())
    }

    #[test]
    fn suppressions_are_declared_on_scopes_with_a_reason() -> Result<(), omc_cdk::Error> {
        let app = App::new().with_stage(Stage::Staging);
        let stack = Stack::new(&app, "Data", StackProps::default())?;
        let db = stack.child("Db")?;
        let instance = db.add(
            "Resource",
            RawResource::new("AWS::RDS::DBInstance").property("StorageEncrypted", true),
        )?;
        let secret = db.add("Secret", RawResource::new("AWS::SecretsManager::Secret"))?;

        let whole_stack = stack.suppress("rds-multi-az", "one AZ is enough for staging");
        assert!(
            whole_stack.is_err_and(|e| e.to_string().contains("whole stack")),
            "a stack-wide suppression is refused"
        );
        let bad_id = db.suppress("RDS multi AZ", "one AZ is enough for staging");
        assert!(bad_id.is_err_and(|e| e.to_string().contains("not a rule id")));
        let short = db
            .suppress("rds-multi-az", "cost")
            .expect_err("a one-word reason is refused");
        let text = short.to_string();
        assert!(text.starts_with("Data/Db:"), "{text}");
        assert!(text.contains("too short to judge"), "{text}");
        db.suppress(
            "rds-multi-az",
            "Staging runs one AZ for cost; production is multi-AZ",
        )?;
        let twice = db.suppress("rds-multi-az", "a second reason for the same rule");
        assert!(twice.is_err_and(|e| e.to_string().contains("already suppressed")));

        let synthesis = app.synth()?;
        let template = synthesis.stack("Data").expect("the stack").json();
        // Written where the rule looks (the instance), not into the secret.
        assert_eq!(
            template["Resources"][instance.logical_id()]["Metadata"]["omc:check"],
            json!({ "suppressions": [{ "rule": "rds-multi-az", "reason": "Staging runs one AZ for cost; production is multi-AZ", "scope": "Db" }] })
        );
        assert_eq!(
            template["Resources"][secret.logical_id()]["Metadata"],
            json!({ "aws:cdk:path": "Data/Db/Secret" }),
            "only the construct path"
        );

        let report = app.check_synthesis(&synthesis);
        assert_eq!(report.suppressions().len(), 1);
        assert_eq!(report.suppressions()[0].scope, "Data/Db");
        assert_eq!(report.suppressions()[0].matched, 1);
        let finding = report
            .findings()
            .iter()
            .find(|f| f.rule == "rds-multi-az")
            .expect("the finding is kept, suppressed");
        assert_eq!(finding.path, "Data/Db/Resource");
        assert_eq!(finding.severity, Severity::Warning);
        assert!(finding.suppressed.is_some());
        assert!(!report.has_errors());
        Ok(())
    }

    #[test]
    fn a_suppression_over_no_resource_fails_synthesis() -> Result<(), omc_cdk::Error> {
        let app = App::new();
        let stack = Stack::new(&app, "Data", StackProps::default())?;
        let empty = stack.child("Nothing")?;
        empty.suppress("efs-encrypted", "nothing here needs encryption at all")?;
        let err = app.synth().expect_err("the suppression covers nothing");
        let text = err.to_string();
        assert!(text.contains("Data/Nothing"), "{text}");
        assert!(text.contains("covers no resource"), "{text}");
        Ok(())
    }

    fn require_owner_tag(view: &omc_cdk::check::ResourceView<'_>, out: &mut Violations) {
        let tagged = view
            .prop("Tags")
            .and_then(|t| t.as_array())
            .is_some_and(|tags| tags.iter().any(|t| t["Key"] == "Owner"));
        if !tagged {
            out.add("Tags", "the bucket has no Owner tag");
        }
    }

    const OWNER_TAG: Rule = Rule {
        id: "owner-tag",
        title: "Buckets name their owner",
        category: Category::Identity,
        levels: Levels::always(Severity::Error),
        types: &["AWS::S3::Bucket"],
        check: require_owner_tag,
        doc: RuleDoc {
            checks: "Buckets have an Owner tag.",
            why: "Someone must answer for the data.",
            fix: "Tag the bucket with Owner.",
            example: r#"{ "Tags": [{ "Key": "Owner", "Value": "team" }] }"#,
        },
        equivalents: omc_cdk::check::Equivalents::NONE,
    };

    #[test]
    fn apps_add_their_own_rules() -> Result<(), omc_cdk::Error> {
        let app = App::new();
        app.add_rule(OWNER_TAG)?;
        assert!(app.add_rule(OWNER_TAG).is_err(), "one rule per id");
        let stack = Stack::new(&app, "Storage", StackProps::default())?;
        stack
            .child("Logs")?
            .add("Resource", RawResource::new("AWS::S3::Bucket"))?;
        let report = app.check()?;
        let owner: Vec<_> = report
            .findings()
            .iter()
            .filter(|f| f.rule == "owner-tag")
            .collect();
        assert_eq!(owner.len(), 1);
        assert_eq!(owner[0].path, "Storage/Logs/Resource");
        assert_eq!(owner[0].fix, "Tag the bucket with Owner.");
        Ok(())
    }

    /// A load balancer in one stack and its security group in another: synthesis turns the
    /// reference into an export and an import, and the check follows it back.
    #[test]
    fn references_across_stacks_are_followed() -> Result<(), omc_cdk::Error> {
        for with_load_balancer in [true, false] {
            let app = App::new();
            let network = Stack::new(&app, "Network", StackProps::default())?;
            let group = network.child("WebSg")?.add(
                "Resource",
                RawResource::new("AWS::EC2::SecurityGroup")
                    .property("GroupDescription", "web")
                    .property(
                        "SecurityGroupIngress",
                        json!([{ "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0" }]),
                    ),
            )?;
            let services = Stack::new(&app, "Services", StackProps::default())?;
            let sg_id = group.get_att::<String>("GroupId");
            if with_load_balancer {
                services.child("Lb")?.add(
                    "Resource",
                    RawResource::new("AWS::ElasticLoadBalancingV2::LoadBalancer")
                        .property("SecurityGroups", vec![sg_id])
                        .property(
                            "LoadBalancerAttributes",
                            json!([{ "Key": "access_logs.s3.enabled", "Value": "true" }]),
                        ),
                )?;
            } else {
                services.child("Task")?.add(
                    "Resource",
                    RawResource::new("AWS::SSM::Parameter")
                        .property("Type", "String")
                        .property("Value", sg_id),
                )?;
            }
            let synthesis = app.synth_unchecked()?;
            assert!(
                synthesis
                    .stack("Services")
                    .expect("the stack")
                    .template()
                    .contains("Fn::ImportValue")
            );
            let report = app.check_synthesis(&synthesis);
            let open: Vec<_> = report
                .findings()
                .iter()
                .filter(|f| f.rule == "sg-open-ingress")
                .collect();
            assert_eq!(open.is_empty(), with_load_balancer, "{open:#?}");
        }
        Ok(())
    }
}

/// A list of security groups crosses stacks joined (`Fn::Join` of references, split again on
/// import): the check still finds the load balancer behind the group.
#[test]
fn list_references_across_stacks_are_followed() {
    let stacks = [
        (
            "Network",
            json!({
                "Resources": { "LbSg": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "GroupDescription": "web",
                    "SecurityGroupIngress": [{ "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0" }] } } },
                "Outputs": { "Groups": export("Network:Groups", json!({ "Fn::Join": ["||", [{ "Fn::GetAtt": ["LbSg", "GroupId"] }]] })) }
            }),
        ),
        (
            "Services",
            json!({ "Lb": { "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "SecurityGroups": { "Fn::Split": ["||", { "Fn::ImportValue": "Network:Groups" }] },
            "LoadBalancerAttributes": [{ "Key": "access_logs.s3.enabled", "Value": "true" }] } } }),
        ),
    ];
    let report = run(&stacks, Stage::Production);
    assert!(
        findings_of(&report, "sg-open-ingress").is_empty(),
        "{}",
        report.render_table()
    );
}
