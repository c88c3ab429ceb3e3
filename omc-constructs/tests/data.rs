//! `Rds`, `Redis`, `Secret`, `EfsFileSystem`, `LogGroup` and `Key`: resources, policies, bad input.
#![allow(clippy::unwrap_used)]

use omc_cdk::assertions::{Match, Template};
use omc_cdk::{Json, RemovalPolicy, Stack, testing};
use omc_constructs::{
    AccessPointProps, CacheEngine, EfsFileSystem, EfsFileSystemProps, GenerateSecret, Key,
    KeyProps, LogGroup, LogGroupProps, PostgresVersion, Principal, Rds, RdsProps, Redis,
    RedisProps, Retention, Role, RoleProps, Secret, SecretAttributes, SecretProps, Vpc, VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn with_vpc() -> (omc_cdk::App, Stack, Vpc) {
    let (app, stack) = testing::stack().unwrap();
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default()).unwrap();
    (app, stack, vpc)
}

fn only_id(t: &Template, type_name: &str) -> String {
    let found = t.resources(type_name);
    assert_eq!(found.len(), 1, "{type_name}: {found:?}");
    found[0].0.to_owned()
}

fn only<'t>(t: &'t Template, type_name: &str) -> &'t Json {
    let found = t.resources(type_name);
    assert_eq!(found.len(), 1, "{type_name}: {found:?}");
    found[0].1
}

#[test]
fn rds_defaults_are_private_encrypted_and_kept() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let db = Rds::new(&stack, "Db", RdsProps::new(&vpc, PostgresVersion::V17_6))?;
    let t = Template::from_stack(&stack)?;
    let instance = only(&t, "AWS::RDS::DBInstance");
    assert_eq!(instance["DeletionPolicy"], "Snapshot");
    assert_eq!(instance["UpdateReplacePolicy"], "Snapshot");
    let p = &instance["Properties"];
    assert_eq!(p["Engine"], "postgres");
    assert_eq!(p["EngineVersion"], "17.6");
    assert_eq!(p["DBInstanceClass"], "db.t4g.micro");
    assert_eq!(p["StorageType"], "gp3");
    assert_eq!(p["StorageEncrypted"], true);
    assert_eq!(p["PubliclyAccessible"], false);
    assert_eq!(p["DeletionProtection"], true);
    assert_eq!(p["MultiAZ"], false);
    // Secrets Manager holds the password; none is in the template.
    assert_eq!(p["ManageMasterUserPassword"], true);
    assert!(p.get("MasterUserPassword").is_none());
    assert!(p.get("MaxAllocatedStorage").is_none());
    assert!(
        p.get("EnablePerformanceInsights").is_none() || p["EnablePerformanceInsights"] == false
    );
    // The subnet group uses the isolated subnets.
    t.has_resource_properties(
        "AWS::RDS::DBSubnetGroup",
        json!({"SubnetIds": [{"Ref": "VpcIsolatedSubnet1SubnetE48C5737"}, {"Ref": "VpcIsolatedSubnet2Subnet16364B91"}]}),
    )?;
    // The handle reads the managed secret, with its JSON keys known.
    let keys = db.secret().json_keys().unwrap();
    assert!(
        keys.contains(&"username") && keys.contains(&"password"),
        "{keys:?}"
    );
    assert_eq!(db.port(), 5432);
    Ok(())
}

#[test]
fn rds_with_autoscaling_storage_and_insights() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let key = Key::new(&stack, "Key", KeyProps::default())?;
    Rds::new(
        &stack,
        "Db",
        RdsProps {
            instance_class: "db.r7g.large".into(),
            max_allocated_storage_gib: Some(500),
            multi_az: true,
            performance_insights: true,
            kms_key: Some(&key),
            removal_policy: RemovalPolicy::Destroy,
            deletion_protection: false,
            ..RdsProps::new(&vpc, PostgresVersion::V16_9)
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let instance = only(&t, "AWS::RDS::DBInstance");
    assert_eq!(instance["DeletionPolicy"], "Delete");
    let p = &instance["Properties"];
    assert_eq!(p["MaxAllocatedStorage"], 500);
    assert_eq!(p["MultiAZ"], true);
    assert_eq!(p["EnablePerformanceInsights"], true);
    assert_eq!(p["EngineVersion"], "16.9");
    assert_eq!(p["KmsKeyId"], json!({"Fn::GetAtt": ["Key961B73FD", "Arn"]}));
    Ok(())
}

#[test]
fn rds_bad_input() {
    let (_app, stack, vpc) = with_vpc();
    let err = Rds::new(
        &stack,
        "Db",
        RdsProps {
            instance_class: "db.t4g.mega".into(),
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("Test/Db: instance class \"db.t4g.mega\" does not exist for PostgreSQL; in that family: db.t4g.micro, db.t4g.small, db.t4g.medium, db.t4g.large, db.t4g.xlarge, db.t4g.2xlarge"),
        "{err}"
    );
    // A class RDS has, but not for PostgreSQL (SQL Server only).
    let err = Rds::new(
        &stack,
        "Db",
        RdsProps {
            instance_class: "db.x1.16xlarge".into(),
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"db.x1.16xlarge\" does not exist for PostgreSQL"),
        "{err}"
    );
    let err = Rds::new(
        &stack,
        "Db",
        RdsProps {
            max_allocated_storage_gib: Some(20),
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Db: max_allocated_storage_gib (20) must be above allocated_storage_gib (20) and at most 65,536"
    );
    let err = Rds::new(
        &stack,
        "Db",
        RdsProps {
            backup_retention_days: 40,
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Db: backup_retention_days is 40; RDS keeps 0 to 35 days"
    );
}

/// IAM authentication is on by default and `grant_connect` scopes `rds-db:connect` to one
/// user of this instance; enhanced monitoring takes an interval RDS offers and a role.
#[test]
fn rds_iam_logins_and_enhanced_monitoring() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let db = Rds::new(
        &stack,
        "Db",
        RdsProps {
            enhanced_monitoring_seconds: Some(60),
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )?;
    let app_role = Role::new(
        &stack,
        "App",
        RoleProps::new(Principal::service("ecs-tasks.amazonaws.com")),
    )?;
    db.grant_connect(&app_role, "app_user")?;
    let t = Template::from_stack(&stack)?;
    let instance = &only(&t, "AWS::RDS::DBInstance")["Properties"];
    assert_eq!(instance["EnableIAMDatabaseAuthentication"], true);
    assert_eq!(instance["MonitoringInterval"], 60);
    assert_eq!(
        instance["MonitoringRoleArn"],
        json!({ "Fn::GetAtt": ["DbMonitoringRole0A2030F1", "Arn"] })
    );
    t.has_resource_properties(
        "AWS::IAM::Role",
        json!({
            "AssumeRolePolicyDocument": { "Statement": [{ "Principal": { "Service": "monitoring.rds.amazonaws.com" } }] },
            "ManagedPolicyArns": [{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" }]
        }),
    )?;
    let statements = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("App"))
        .map(|(_, r)| r["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].clone())
        .unwrap();
    assert_eq!(
        statements,
        json!([{
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": { "Fn::Join": ["", [
                { "Fn::Sub": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:" },
                { "Fn::GetAtt": [only_id(&t, "AWS::RDS::DBInstance"), "DbiResourceId"] },
                "/app_user"
            ]] }
        }])
    );
    let err = db
        .grant_connect(&app_role, "app-user")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "Test/Db: database user \"app-user\" must start with a letter or '_' and have up to 63 letters, digits and '_'"
    );
    let err = Rds::new(
        &stack,
        "Every7",
        RdsProps {
            enhanced_monitoring_seconds: Some(7),
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Every7: enhanced monitoring every 7 s is not an interval RDS offers; use 1, 5, 10, 15, 30 or 60 (or None to turn it off)"
    );
    let passwords_only = Rds::new(
        &stack,
        "PasswordsOnly",
        RdsProps {
            iam_authentication: false,
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )?;
    let err = passwords_only
        .grant_connect(&app_role, "app_user")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "Test/PasswordsOnly: cannot grant Test/App an IAM login as \"app_user\": IAM authentication is off; set RdsProps::iam_authentication to true"
    );
    Ok(())
}

/// The cache's auth token can be kept under a customer-managed key.
#[test]
fn redis_auth_token_under_a_customer_managed_key() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let key = Key::new(&stack, "Secrets", KeyProps::default())?;
    Redis::new(
        &stack,
        "Cache",
        RedisProps {
            auth_token_key: Some(&key),
            ..RedisProps::new(&vpc)
        },
    )?;
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        only(&t, "AWS::SecretsManager::Secret")["Properties"]["KmsKeyId"],
        json!({ "Fn::GetAtt": ["SecretsA3BCC2E9", "Arn"] })
    );
    Ok(())
}

#[test]
fn redis_with_replicas_fails_over_and_takes_its_token_from_secrets_manager() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let cache = Redis::new(
        &stack,
        "Cache",
        RedisProps {
            replicas: 2,
            ..RedisProps::new(&vpc)
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let group = only(&t, "AWS::ElastiCache::ReplicationGroup");
    let p = &group["Properties"];
    assert_eq!(p["NumCacheClusters"], 3);
    assert_eq!(p["AutomaticFailoverEnabled"], true);
    assert_eq!(p["MultiAZEnabled"], true);
    assert_eq!(p["AtRestEncryptionEnabled"], true);
    assert_eq!(p["TransitEncryptionEnabled"], true);
    let token = cache.auth_token_secret().unwrap();
    assert_eq!(token.json_keys(), Some(vec!["token"]));
    assert_eq!(
        p["AuthToken"]["Fn::Sub"][0],
        "{{resolve:secretsmanager:${Secret}:SecretString:token}}"
    );
    // ElastiCache refuses some punctuation in auth tokens.
    t.has_resource_properties(
        "AWS::SecretsManager::Secret",
        json!({"GenerateSecretString": {"ExcludePunctuation": true}}),
    )?;
    // The subnet group uses the isolated subnets: a cache needs no route out.
    t.has_resource_properties(
        "AWS::ElastiCache::SubnetGroup",
        json!({"SubnetIds": [{"Ref": "VpcIsolatedSubnet1SubnetE48C5737"}, {"Ref": "VpcIsolatedSubnet2Subnet16364B91"}]}),
    )?;
    Ok(())
}

#[test]
fn redis_without_replicas_and_without_a_token() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let cache = Redis::new(
        &stack,
        "Cache",
        RedisProps {
            auth_token: false,
            engine: CacheEngine::Redis7_1,
            ..RedisProps::new(&vpc)
        },
    )?;
    assert!(cache.auth_token_secret().is_none());
    let t = Template::from_stack(&stack)?;
    let p = &only(&t, "AWS::ElastiCache::ReplicationGroup")["Properties"];
    assert_eq!(p["NumCacheClusters"], 1);
    assert_eq!(p["AutomaticFailoverEnabled"], false);
    assert_eq!(p["Engine"], "redis");
    assert_eq!(p["EngineVersion"], "7.1");
    assert!(p.get("AuthToken").is_none());
    t.resource_count_is("AWS::SecretsManager::Secret", 0)?;
    Ok(())
}

#[test]
fn redis_auth_token_without_transit_encryption_is_refused() {
    let (_app, stack, vpc) = with_vpc();
    let err = Redis::new(
        &stack,
        "Cache",
        RedisProps {
            transit_encryption: false,
            ..RedisProps::new(&vpc)
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Cache: an auth token needs transit encryption; set transit_encryption: true or auth_token: false"
    );
}

#[test]
fn secrets_generate_json_and_refuse_unknown_keys() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let secret = Secret::new(
        &stack,
        "Api",
        SecretProps {
            generate: GenerateSecret::json([("user", "svc")], "password"),
            ..SecretProps::default()
        },
    )?;
    let role = Role::new(
        &stack,
        "Reader",
        RoleProps::new(Principal::service("ecs-tasks.amazonaws.com")),
    )?;
    secret.grant_read(&role);
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::SecretsManager::Secret",
        json!({"GenerateSecretString": {"SecretStringTemplate": "{\"user\":\"svc\"}", "GenerateStringKey": "password"}}),
    )?;
    t.has_resource_properties(
        "AWS::IAM::Role",
        Match::object_like([(
            "Policies",
            Match::from(json!([{"PolicyName": "default", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], "Resource": {"Ref": "ApiF70053CD"}}
            ]}}])),
        )]),
    )?;
    assert!(secret.field("password").is_ok());
    let err = secret.field("pasword").unwrap_err().to_string();
    assert_eq!(
        err,
        "Test/Api: the secret has no JSON key \"pasword\"; its keys are password, user"
    );
    // An imported secret whose keys are unknown takes any key.
    let imported = Secret::from_attributes(
        &stack,
        "Legacy",
        SecretAttributes {
            secret_arn: omc_cdk::arn::SecretArn::new(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-AbCdEf",
            )?,
            json_keys: None,
            kms_key_arn: None,
        },
    )?;
    assert!(imported.field("anything").is_ok());
    assert_eq!(omc_cdk::Construct::path(&imported), "Test/Legacy");
    let err = Secret::new(
        &stack,
        "Bad",
        SecretProps {
            generate: GenerateSecret {
                length: 0,
                ..GenerateSecret::default()
            },
            ..SecretProps::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, "Test/Bad: length 0 must be 1 to 4096");
    Ok(())
}

#[test]
fn efs_is_encrypted_private_and_grants_through_access_points() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    let files = EfsFileSystem::new(
        &stack,
        "Files",
        EfsFileSystemProps {
            access_points: vec![(
                "Agents".into(),
                AccessPointProps::new("/agents", 1000, 1000),
            )],
            ..EfsFileSystemProps::new(&vpc)
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let fs = only(&t, "AWS::EFS::FileSystem");
    assert_eq!(fs["DeletionPolicy"], "Retain");
    assert_eq!(fs["Properties"]["Encrypted"], true);
    assert_eq!(
        fs["Properties"]["BackupPolicy"],
        json!({"Status": "ENABLED"})
    );
    assert_eq!(
        fs["Properties"]["LifecyclePolicies"],
        json!([{"TransitionToIA": "AFTER_30_DAYS"}])
    );
    // One mount target per private subnet.
    t.resource_count_is("AWS::EFS::MountTarget", 2)?;
    t.has_resource_properties(
        "AWS::EFS::AccessPoint",
        json!({"RootDirectory": {"Path": "/agents", "CreationInfo": {"OwnerUid": "1000", "OwnerGid": "1000", "Permissions": "750"}}, "PosixUser": {"Uid": "1000", "Gid": "1000"}}),
    )?;
    assert!(files.access_point("Agents").is_some());
    assert!(files.access_point("Other").is_none());
    let err = EfsFileSystem::new(
        &stack,
        "Bad",
        EfsFileSystemProps {
            access_points: vec![("Root".into(), AccessPointProps::new("agents", 0, 0))],
            ..EfsFileSystemProps::new(&vpc)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("Test/Bad: access point \"Root\""), "{err}");
    Ok(())
}

#[test]
fn log_groups_take_only_retentions_cloudwatch_accepts() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let key = Key::new(&stack, "Key", KeyProps::default())?;
    LogGroup::new(
        &stack,
        "Logs",
        LogGroupProps {
            kms_key: Some(&key),
            ..LogGroupProps::new(Retention::Days(30))
        },
    )?;
    LogGroup::new(&stack, "Forever", LogGroupProps::new(Retention::Infinite))?;
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::Logs::LogGroup",
        json!({"RetentionInDays": 30, "KmsKeyId": {"Fn::GetAtt": ["Key961B73FD", "Arn"]}}),
    )?;
    t.has_resource_properties(
        "AWS::Logs::LogGroup",
        Match::object_like([("RetentionInDays", Match::absent())]),
    )?;
    // The key lets CloudWatch Logs in this region use it, for this account's log groups only.
    let policy = &only(&t, "AWS::KMS::Key")["Properties"]["KeyPolicy"];
    assert!(
        policy
            .to_string()
            .contains("logs.${AWS::Region}.amazonaws.com"),
        "{policy}"
    );
    let err = LogGroup::new(&stack, "Bad", LogGroupProps::new(Retention::Days(45)))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Test/Bad: 45 days is not a retention CloudWatch Logs accepts; use one of 1, 3, 5, 7, 14, 30, 60, 90,"),
        "{err}"
    );
    assert!(err.ends_with("3653 or Retention::Infinite"), "{err}");
    Ok(())
}

#[test]
fn keys_rotate_and_are_retained() -> TestResult {
    let (_app, stack) = testing::stack()?;
    Key::new(
        &stack,
        "Key",
        KeyProps {
            alias: Some("alias/omc-test".into()),
            ..KeyProps::default()
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let key = only(&t, "AWS::KMS::Key");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true);
    assert_eq!(key["DeletionPolicy"], "Retain");
    t.has_resource_properties("AWS::KMS::Alias", json!({"AliasName": "alias/omc-test"}))?;
    Ok(())
}

#[test]
fn more_bad_input_aws_would_refuse_at_deploy() -> TestResult {
    let (_app, stack, vpc) = with_vpc();
    // A generated plain string has no JSON keys.
    let token = Secret::new(&stack, "Token", SecretProps::default())?;
    assert_eq!(
        token.field("password").map(|_| ()).unwrap_err().to_string(),
        "Test/Token: the secret is a plain generated string, not JSON, so it has no key \"password\"; use whole(), or generate JSON with GenerateSecret::json"
    );
    // Replicas fail over to another zone.
    let one_zone = Vpc::new(
        &stack,
        "OneZone",
        VpcProps {
            max_azs: 1,
            cidr: "10.1.0.0/16".into(),
            ..VpcProps::default()
        },
    )?;
    let err = Redis::new(
        &stack,
        "Cache",
        RedisProps {
            replicas: 1,
            ..RedisProps::new(&one_zone)
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Cache: replicas fail over to another availability zone, and the Isolated subnets are in one; give the VPC two or more zones or set replicas: 0"
    );
    let err = Rds::new(
        &stack,
        "Db",
        RdsProps {
            port: 80,
            ..RdsProps::new(&vpc, PostgresVersion::V17_6)
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Db: port 80 is not a port RDS accepts; use 1150 to 65535 (PostgreSQL's default is 5432)"
    );
    let err = omc_constructs::Bucket::new(
        &stack,
        "Logs",
        omc_constructs::BucketProps {
            expire_after_days: Some(0),
            ..omc_constructs::BucketProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Logs: expire_after_days and archive_after_days count from 1; use None to keep objects"
    );
    Ok(())
}

/// Every construct is a `Construct`: one path, suppressions and tags on everything it made.
#[test]
fn constructs_share_path_suppressions_and_tags() -> TestResult {
    use omc_cdk::Construct;
    let (_app, stack, vpc) = with_vpc();
    stack.add_tag("team", "platform")?;
    stack.add_tag("cost-center", "42")?;
    let db = Rds::new(&stack, "Db", RdsProps::new(&vpc, PostgresVersion::V17_6))?;
    let key = Key::new(&stack, "Key", KeyProps::default())?;
    let constructs: [&dyn Construct; 2] = [&db, &key];
    let paths: Vec<String> = constructs.iter().map(|c| c.path()).collect();
    assert_eq!(paths, ["Test/Db", "Test/Key"]);
    db.add_tag("team", "data")?; // wins over the stack's tag on the database's resources
    db.add_tag("backup", "daily")?;
    db.add_metadata("owner", "data-team")?;
    db.node().add_metadata("owner", "not this one")?; // the same scope: replaced
    db.add_metadata("owner", "data-team")?;
    db.suppress(
        "rds-multi-az",
        "One zone in this test: the tags are what is under test here",
    )?;
    let t = Template::from_stack(&stack)?;
    let tags = |type_name: &str| -> Vec<(String, String)> {
        only(&t, type_name)["Properties"]["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|tag| {
                (
                    tag["Key"].as_str().unwrap_or_default().to_owned(),
                    tag["Value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let db_tags = tags("AWS::RDS::DBInstance");
    assert!(
        db_tags.contains(&("team".into(), "data".into())),
        "{db_tags:?}"
    );
    assert!(
        db_tags.contains(&("backup".into(), "daily".into())),
        "{db_tags:?}"
    );
    assert!(
        db_tags.contains(&("cost-center".into(), "42".into())),
        "{db_tags:?}"
    );
    // The key is outside the database's scope: the stack's tags only.
    let key_tags = tags("AWS::KMS::Key");
    assert!(
        key_tags.contains(&("team".into(), "platform".into())),
        "{key_tags:?}"
    );
    assert!(!key_tags.iter().any(|(k, _)| k == "backup"), "{key_tags:?}");
    // The suppression covers the database instance, and the metadata reaches it.
    let instance = only(&t, "AWS::RDS::DBInstance");
    assert_eq!(instance["Metadata"]["owner"], "data-team");
    assert!(only(&t, "AWS::KMS::Key")["Metadata"].get("owner").is_none());
    let err = db
        .add_metadata("aws:cdk:path", "x")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("Test/Db: metadata key"), "{err}");
    assert!(instance["Metadata"]["omc:check"].is_object(), "{instance}");
    // Bad tags are refused with the construct's path.
    let err = db.add_tag("aws:reserved", "x").unwrap_err().to_string();
    assert!(err.starts_with("Test/Db"), "{err}");
    Ok(())
}

/// Keys are user text: in the `Fn::Sub` a secret field renders to, `${...}` in a key stays
/// literal (escaped as `${!...}`) instead of becoming a variable.
#[test]
fn secret_keys_with_sub_syntax_stay_literal() -> TestResult {
    let (app, stack) = testing::stack()?;
    let secret = Secret::new(
        &stack,
        "Api",
        SecretProps {
            generate: GenerateSecret::json([("${AWS::Region}", "x")], "${Foo.Bar}"),
            ..SecretProps::default()
        },
    )?;
    let field = secret.field("${AWS::Region}")?;
    stack.add_output(
        "ValueFrom",
        field.value_from(),
        omc_cdk::OutputProps::default(),
    )?;
    let token = secret.field("${Foo.Bar}")?;
    stack.add_output(
        "Token",
        token.dynamic_reference(),
        omc_cdk::OutputProps::default(),
    )?;
    let synthesis = app.synth_unchecked()?;
    let template: Json = serde_json::from_str(synthesis.stack("Test").unwrap().template())?;
    assert_eq!(
        template["Outputs"]["ValueFrom"]["Value"],
        json!({"Fn::Sub": ["${Secret}:${!AWS::Region}::", {"Secret": {"Ref": "ApiF70053CD"}}]})
    );
    assert_eq!(
        template["Outputs"]["Token"]["Value"],
        json!({"Fn::Sub": ["{{resolve:secretsmanager:${Secret}:SecretString:${!Foo.Bar}}}", {"Secret": {"Ref": "ApiF70053CD"}}]})
    );
    Ok(())
}
