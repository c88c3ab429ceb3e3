//! A deliberately insecure stack, the kind of template the checks exist for: a public,
//! unencrypted database, SSH open to the internet, a bucket that can be made public, a role
//! that may do everything, a privileged container with its password in plain sight.
//!
//! `cargo run -p example-insecure -- synth` fails with exit code 1 and one finding per
//! problem, each naming the resource, the rule and the fix; `-- check` prints the same as a
//! report (`--format json`, `--format sarif`).

use omc_cdk::{App, RawResource, Result, Stack, StackProps, Stage, TagFormat};
use serde_json::json;

/// The insecure app: one production stack.
pub fn app() -> Result<App> {
    let app = App::new()
        .named("insecure", env!("CARGO_PKG_VERSION"))
        .with_stage(Stage::Production);
    let stack = Stack::new(
        &app,
        "Insecure",
        StackProps {
            description: Some("Everything the checks refuse".into()),
            ..StackProps::default()
        },
    )?;

    let admin = stack.child("AdminAccess")?.add(
        "Resource",
        RawResource::new("AWS::EC2::SecurityGroup")
            .property("GroupDescription", "admin access")
            .property(
                "SecurityGroupIngress",
                json!([{ "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0" },
                       { "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "0.0.0.0/0" }]),
            ),
    )?;
    stack.child("Database")?.add(
        "Resource",
        RawResource::new("AWS::RDS::DBInstance")
            .property("Engine", "postgres")
            .property("DBInstanceClass", "db.t3.micro")
            .property("AllocatedStorage", "20")
            .property("MasterUsername", "omc")
            .property("ManageMasterUserPassword", true)
            .property("PubliclyAccessible", true)
            .property(
                "VPCSecurityGroups",
                vec![admin.get_att::<String>("GroupId")],
            ),
    )?;
    stack.child("Uploads")?.add(
        "Resource",
        RawResource::new("AWS::S3::Bucket")
            .property(
                "PublicAccessBlockConfiguration",
                json!({ "BlockPublicAcls": false, "BlockPublicPolicy": false,
                        "IgnorePublicAcls": false, "RestrictPublicBuckets": false }),
            )
            .tags(TagFormat::KeyValueList("Tags".into())),
    )?;
    let worker = stack.child("Worker")?;
    worker.add(
        "Role",
        RawResource::new("AWS::IAM::Role")
            .property(
                "AssumeRolePolicyDocument",
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
                    "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }] }),
            )
            .property(
                "Policies",
                json!([{ "PolicyName": "everything", "PolicyDocument": { "Version": "2012-10-17",
                    "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] } }]),
            ),
    )?;
    worker.add(
        "TaskDefinition",
        RawResource::new("AWS::ECS::TaskDefinition")
            .property("RequiresCompatibilities", vec!["FARGATE"])
            .property("NetworkMode", "awsvpc")
            .property("Cpu", "256")
            .property("Memory", "512")
            .property(
                "ContainerDefinitions",
                json!([{ "Name": "worker", "Image": "public.ecr.aws/docker/library/python:3.12",
                    "Privileged": true, "ReadonlyRootFilesystem": true,
                    "Environment": [{ "Name": "DATABASE_PASSWORD", "Value": "hunter2" }] }]),
            ),
    )?;
    Ok(app)
}
