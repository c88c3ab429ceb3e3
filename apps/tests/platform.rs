//! Every component of the platform team's infrastructure review, pointed at in the templates:
//! which stack holds it and how it is configured, per environment.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::{Json, Synthesis};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn template(synthesis: &Synthesis, stack: &str) -> Template {
    Template::from_synthesized(
        synthesis
            .stack(stack)
            .unwrap_or_else(|| panic!("no stack {stack}")),
    )
}

fn only<'t>(t: &'t Template, type_name: &str) -> &'t Json {
    let found = t.resources(type_name);
    assert_eq!(found.len(), 1, "{type_name}");
    found[0].1
}

fn by_prefix<'t>(t: &'t Template, type_name: &str, prefix: &str) -> &'t Json {
    t.resources(type_name)
        .into_iter()
        .find(|(id, _)| id.starts_with(prefix))
        .map_or_else(|| panic!("no {type_name} {prefix}*"), |(_, r)| r)
}

#[test]
fn stacks_in_deploy_order() -> TestResult {
    let synthesis = apps::staging()?.synth()?;
    let names: Vec<&str> = synthesis
        .stacks()
        .iter()
        .map(omc_cdk::SynthesizedStack::name)
        .collect();
    assert_eq!(
        names,
        [
            "OmcStaging-Delivery",
            "OmcStaging-Network",
            "OmcStaging-Data",
            "OmcStaging-Services",
            "OmcStaging-Monitoring",
            "OmcStaging-Security"
        ]
    );
    assert_eq!(
        synthesis
            .stack("OmcStaging-Services")
            .unwrap()
            .dependencies(),
        [
            "OmcStaging-Delivery",
            "OmcStaging-Network",
            "OmcStaging-Data"
        ]
    );
    // Every stack but the delivery stack deploys with its CloudFormation execution role.
    for stack in synthesis.stacks() {
        let role = (stack.name() != "OmcStaging-Delivery")
            .then_some("arn:aws:iam::210987654321:role/OmcStaging-cfn-exec");
        assert_eq!(stack.execution_role(), role, "{}", stack.name());
    }
    Ok(())
}

#[test]
fn network_two_zones_three_tiers_and_nat() -> TestResult {
    for (app, prefix, nat) in [
        (apps::staging()?, "OmcStaging", 1),
        (apps::production()?, "OmcProduction", 2),
    ] {
        let synthesis = app.synth()?;
        let t = template(&synthesis, &format!("{prefix}-Network"));
        let vpc = only(&t, "AWS::EC2::VPC");
        assert!(
            vpc["Properties"]["CidrBlock"]
                .as_str()
                .unwrap()
                .ends_with(".0.0/16")
        );
        let tiers: Vec<&str> = t
            .resources("AWS::EC2::Subnet")
            .into_iter()
            .map(|(_, s)| {
                s["Properties"]["Tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|tag| tag["Key"] == "omc:subnet-name")
                    .unwrap()["Value"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            tiers,
            ["Public", "Public", "App", "App", "Database", "Database"]
        );
        t.resource_count_is("AWS::EC2::NatGateway", nat)?;
    }
    Ok(())
}

#[test]
fn data_postgres_redis_and_secrets() -> TestResult {
    let staging = apps::staging()?.synth()?;
    let production = apps::production()?.synth()?;
    let s = template(&staging, "OmcStaging-Data");
    let p = template(&production, "OmcProduction-Data");
    for (t, multi_az, nodes, policy) in [(&s, false, 1, "Delete"), (&p, true, 2, "Snapshot")] {
        let db = only(t, "AWS::RDS::DBInstance");
        assert_eq!(db["Properties"]["Engine"], "postgres");
        assert_eq!(db["Properties"]["DBInstanceClass"], "db.t3.micro");
        assert_eq!(db["Properties"]["MultiAZ"], multi_az);
        assert_eq!(db["Properties"]["DeletionProtection"], multi_az);
        assert_eq!(db["Properties"]["ManageMasterUserPassword"], true);
        assert_eq!(db["DeletionPolicy"], policy);
        let cache = only(t, "AWS::ElastiCache::ReplicationGroup");
        assert_eq!(cache["Properties"]["CacheNodeType"], "cache.t3.micro");
        assert_eq!(cache["Properties"]["NumCacheClusters"], nodes);
        assert_eq!(cache["Properties"]["TransitEncryptionEnabled"], true);
        // The Redis auth token is generated in Secrets Manager.
        t.resource_count_is("AWS::SecretsManager::Secret", 1)?;
        let files = only(t, "AWS::EFS::FileSystem");
        assert_eq!(files["Properties"]["Encrypted"], true);
    }
    Ok(())
}

#[test]
fn services_behind_the_load_balancer() -> TestResult {
    let synthesis = apps::staging()?.synth()?;
    let t = template(&synthesis, "OmcStaging-Services");
    assert_eq!(
        only(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]["Scheme"],
        "internet-facing"
    );
    // The backend on 8000 under /api/*, the frontend on 80 as the default route.
    let backend_group = by_prefix(&t, "AWS::ElasticLoadBalancingV2::TargetGroup", "Backend");
    assert_eq!(backend_group["Properties"]["Port"], 8000);
    assert_eq!(
        backend_group["Properties"]["HealthCheckPath"],
        "/api/health"
    );
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        json!({"Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}]}),
    )?;
    let frontend_group = t
        .resources("AWS::ElasticLoadBalancingV2::TargetGroup")
        .into_iter()
        .find(|(id, _)| id.starts_with("Frontend"))
        .unwrap()
        .0;
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 443, "Protocol": "HTTPS", "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": frontend_group}}]}),
    )?;
    // HTTP only redirects; the certificate is validated in the staging zone, and the domain
    // points at the load balancer.
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 80, "DefaultActions": [{"Type": "redirect"}]}),
    )?;
    t.has_resource_properties(
        "AWS::CertificateManager::Certificate",
        json!({"DomainName": "staging.omc.example", "ValidationMethod": "DNS",
               "DomainValidationOptions": [{"DomainName": "staging.omc.example", "HostedZoneId": "Z0521849ST4G1NG0MC001"}]}),
    )?;
    t.has_resource_properties(
        "AWS::Route53::RecordSet",
        json!({"Name": "staging.omc.example", "Type": "A", "HostedZoneId": "Z0521849ST4G1NG0MC001"}),
    )?;
    // The firewall guards the load balancer.
    t.resource_count_is("AWS::WAFv2::WebACL", 1)?;
    t.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)?;
    // The backend gets the database and Redis settings and secrets.
    let backend = by_prefix(&t, "AWS::ECS::TaskDefinition", "Backend");
    let container = &backend["Properties"]["ContainerDefinitions"][0];
    let names = |key: &str| -> Vec<String> {
        container[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("Environment"),
        [
            "OMC_ENVIRONMENT",
            "DATABASE_HOST",
            "DATABASE_PORT",
            "DATABASE_NAME",
            "REDIS_HOST",
            "REDIS_PORT",
            "REDIS_TLS"
        ]
    );
    assert_eq!(
        names("Secrets"),
        ["DATABASE_USER", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"]
    );
    // Image tags are stack parameters without a default: a commit SHA or a release version.
    let parameter = &t.to_json()["Parameters"]["BackendImageTag"];
    assert!(parameter.get("Default").is_none(), "{parameter}");
    assert_eq!(parameter["AllowedPattern"], apps::config::IMAGE_TAG_PATTERN);
    assert_eq!(
        container["Image"]["Fn::Sub"][1]["Tag"],
        json!({"Ref": "BackendImageTag"})
    );
    // The image is the registry's, in the production account.
    assert_eq!(
        container["Image"]["Fn::Sub"][0],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/omc-backend:${Tag}"
    );
    // One task each in staging.
    for service in t.resources("AWS::ECS::Service") {
        assert_eq!(service.1["Properties"]["DesiredCount"], 1, "{}", service.0);
    }
    // A log group per task definition, and the firewall's.
    assert_eq!(
        t.resources("AWS::Logs::LogGroup").len(),
        t.resources("AWS::ECS::TaskDefinition").len() + 1
    );
    Ok(())
}

#[test]
fn collectors_scheduled_and_continuous_and_agents_with_efs() -> TestResult {
    let synthesis = apps::staging()?.synth()?;
    let t = template(&synthesis, "OmcStaging-Services");
    let mut schedules: Vec<&str> = t
        .resources("AWS::Scheduler::Schedule")
        .into_iter()
        .map(|(_, s)| s["Properties"]["ScheduleExpression"].as_str().unwrap())
        .collect();
    schedules.sort_unstable();
    assert_eq!(schedules, ["cron(0 6 * * ? *)", "rate(15 minutes)"]);
    // The continuous collector is a service without a load balancer.
    let stream = by_prefix(&t, "AWS::ECS::Service", "StreamCollector");
    assert!(stream["Properties"].get("LoadBalancers").is_none());
    // The agents mount their EFS access point.
    let agents = by_prefix(&t, "AWS::ECS::TaskDefinition", "Agents");
    let volumes = agents["Properties"]["Volumes"].to_string();
    assert!(volumes.contains("EFSVolumeConfiguration"), "{volumes}");
    assert!(
        agents["Properties"]["ContainerDefinitions"][0]["MountPoints"]
            .to_string()
            .contains("/artifacts")
    );
    Ok(())
}

#[test]
fn least_privilege_between_tiers() -> TestResult {
    let synthesis = apps::staging()?.synth()?;
    let t = template(&synthesis, "OmcStaging-Services");
    // Ingress rules in the services stack: the internet to the load balancer, the load
    // balancer to the two web services, and services to the data tier, nothing else.
    let mut rules: Vec<String> = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .map(|(_, r)| {
            let p = &r["Properties"];
            format!(
                "{} {}",
                p["FromPort"],
                p["Description"].as_str().unwrap_or_default()
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "2049 Tasks to EFS",
            "443 HTTPS from the internet",
            "5432 Agents to PostgreSQL",
            "5432 Backend to PostgreSQL",
            "5432 FilingsCollector to PostgreSQL",
            "5432 MarketDataCollector to PostgreSQL",
            "5432 Stream collector to PostgreSQL",
            "6379 Agents to Redis",
            "6379 Backend to Redis",
            "80 HTTP from the internet",
            "80 Load balancer to tasks",
            "8000 Load balancer to tasks",
        ]
    );
    Ok(())
}

#[test]
fn monitoring_and_security_baseline() -> TestResult {
    let synthesis = apps::staging()?.synth()?;
    let m = template(&synthesis, "OmcStaging-Monitoring");
    m.resource_count_is("AWS::CloudWatch::Dashboard", 1)?;
    // ALB 5xx x2 and latency; CPU, memory and tasks below desired of 4 services, unhealthy
    // targets of the 2 behind the load balancer; RDS x3, Redis x2; the 2 scheduled
    // collectors' dead-letter queues.
    m.resource_count_is("AWS::CloudWatch::Alarm", 3 + 4 * 3 + 2 + 3 + 2 + 2)?;
    m.has_resource_properties("AWS::SNS::Subscription", json!({"Protocol": "email"}))?;
    // Failed runs of the 2 scheduled collectors, GuardDuty findings, Config non-compliance.
    m.resource_count_is("AWS::Events::Rule", 2 + 2)?;
    // The monthly budget: the estimate plus 25 %, rounded up to $10.
    let budget = only(&m, "AWS::Budgets::Budget");
    let limit = budget["Properties"]["Budget"]["BudgetLimit"]["Amount"]
        .as_f64()
        .unwrap();
    assert!(limit >= 100.0 && limit % 10.0 == 0.0, "{limit}");
    let s = template(&synthesis, "OmcStaging-Security");
    s.has_resource_properties(
        "AWS::CloudTrail::Trail",
        json!({"IsMultiRegionTrail": true, "EnableLogFileValidation": true}),
    )?;
    s.resource_count_is("AWS::GuardDuty::Detector", 1)?;
    s.resource_count_is("AWS::Config::ConfigurationRecorder", 1)?;
    Ok(())
}

/// Every log group of `synthesis` is encrypted with the logs key of `key_stack`, whose alias is
/// `alias`; and the scanners' checks of logs, the trail and buckets find nothing.
fn logs_under_the_key(app: &omc_cdk::App, key_stack: &str, alias: &str) -> TestResult {
    // Unchecked: production's checks also report rules other teams own; this test reads the
    // findings of its own rules below.
    let synthesis = app.synth_unchecked()?;
    let keys = template(&synthesis, key_stack);
    let key_id = keys
        .resources("AWS::KMS::Key")
        .into_iter()
        .find(|(id, _)| id.starts_with("LogsKey"))
        .map(|(id, _)| id.to_owned())
        .unwrap();
    keys.has_resource_properties("AWS::KMS::Alias", json!({"AliasName": alias}))?;
    let mut groups = 0;
    for stack in synthesis.stacks() {
        let t = Template::from_synthesized(stack);
        for (id, group) in t.resources("AWS::Logs::LogGroup") {
            groups += 1;
            let key = &group["Properties"]["KmsKeyId"];
            if stack.name() == key_stack {
                assert_eq!(key, &json!({"Fn::GetAtt": [key_id, "Arn"]}), "{id}");
            } else {
                let import = key["Fn::ImportValue"].as_str().unwrap_or_default();
                assert!(import.contains("LogsKey"), "{}/{id}: {key}", stack.name());
            }
        }
        for (id, trail) in t.resources("AWS::CloudTrail::Trail") {
            assert!(trail["Properties"]["KMSKeyId"].is_object(), "{id}");
        }
    }
    assert!(groups >= 2, "{groups} log groups");
    let findings = app.check_synthesis(&synthesis).render_findings();
    for rule in [
        "logs-kms-key",
        "cloudtrail-kms",
        "s3-access-logs",
        "sqs-kms-key",
        "sg-open-ingress",
    ] {
        assert!(!findings.contains(&format!("[{rule}]")), "{findings}");
    }
    Ok(())
}

#[test]
fn every_log_is_under_the_environments_logs_key() -> TestResult {
    logs_under_the_key(
        &apps::staging()?,
        "OmcStaging-Network",
        "alias/omc-staging/logs",
    )?;
    logs_under_the_key(
        &apps::production()?,
        "OmcProduction-Network",
        "alias/omc-production/logs",
    )?;
    logs_under_the_key(&apps::ci()?, "OmcCi-Runners", "alias/omc-ci/logs")?;
    // The load balancer's and the trail's buckets log their access into an access-log bucket
    // of their own stack, kept 90 days in staging and a year in production.
    for (app, prefix, days) in [
        (apps::staging()?, "OmcStaging", 90),
        (apps::production()?, "OmcProduction", 365),
    ] {
        let synthesis = app.synth_unchecked()?;
        for (stack, source) in [
            ("Services", "LoadBalancerLogs"),
            ("Security", "BaselineLogBucket"),
        ] {
            let t = template(&synthesis, &format!("{prefix}-{stack}"));
            let logs = by_prefix(&t, "AWS::S3::Bucket", "AccessLogs");
            assert_eq!(
                logs["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"],
                days
            );
            let bucket = by_prefix(&t, "AWS::S3::Bucket", source);
            assert!(
                bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
                    .as_str()
                    .unwrap()
                    .starts_with("AccessLogs"),
                "{bucket}"
            );
        }
    }
    Ok(())
}

#[test]
fn production_differs_where_it_should() -> TestResult {
    let synthesis = apps::production()?.synth()?;
    let t = template(&synthesis, "OmcProduction-Services");
    // HTTPS on the production domain; HTTP redirects.
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 443, "Protocol": "HTTPS"}),
    )?;
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({"Port": 80, "DefaultActions": [{"Type": "redirect"}]}),
    )?;
    // The web services scale from two tasks.
    let mut minimums: Vec<i64> = t
        .resources("AWS::ApplicationAutoScaling::ScalableTarget")
        .into_iter()
        .map(|(_, r)| r["Properties"]["MinCapacity"].as_i64().unwrap())
        .collect();
    minimums.sort_unstable();
    assert_eq!(minimums, [2, 2]);
    // A year of logs.
    t.all_resources_properties("AWS::Logs::LogGroup", json!({"RetentionInDays": 365}))?;
    // Stacks refuse deletion.
    assert!(
        synthesis
            .stacks()
            .iter()
            .all(omc_cdk::SynthesizedStack::termination_protection)
    );
    let data = template(&synthesis, "OmcProduction-Data");
    assert_eq!(
        only(&data, "AWS::EFS::FileSystem")["DeletionPolicy"],
        "Retain"
    );
    Ok(())
}

#[test]
fn the_ci_runner_cluster() -> TestResult {
    let synthesis = apps::ci()?.synth()?;
    let stack = synthesis.stack("OmcCi-Runners").unwrap();
    let t = Template::from_synthesized(stack);
    t.has_resource_properties("AWS::EKS::Cluster", json!({"Name": "OMC-test"}))?;
    t.has_resource_properties(
        "AWS::EKS::Nodegroup",
        json!({"NodegroupName": "system", "InstanceTypes": ["t3.medium"], "ScalingConfig": {"MinSize": 1, "MaxSize": 1, "DesiredSize": 1}}),
    )?;
    t.has_resource_properties(
        "AWS::EKS::Nodegroup",
        json!({"NodegroupName": "runners", "InstanceTypes": ["t3.large"], "ScalingConfig": {"MinSize": 0, "MaxSize": 10, "DesiredSize": 0}}),
    )?;
    // No application workloads: no ECS, no load balancer, no database in the CI app.
    for kind in [
        "AWS::ECS::Service",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::RDS::DBInstance",
    ] {
        t.resource_count_is(kind, 0)?;
    }
    assert!(stack.files().contains_key("runner-scale-set.values.yaml"));
    Ok(())
}

/// Each environment is pinned to its own account; `OMC_ACCOUNT` (a sandbox, or LocalStack's
/// 000000000000) replaces them in the binaries, and a value that is not an account id is
/// refused with a line that says what to give.
#[test]
fn environments_are_pinned_to_their_accounts() -> TestResult {
    let accounts = |synthesis: &Synthesis| -> Vec<Option<String>> {
        synthesis
            .stacks()
            .iter()
            .map(|s| s.env().and_then(|e| e.account.clone()))
            .collect()
    };
    let staging = apps::staging()?.synth()?;
    assert!(
        accounts(&staging)
            .iter()
            .all(|a| a.as_deref() == Some(apps::config::STAGING_ACCOUNT))
    );
    let production = apps::production()?.synth()?;
    assert!(
        accounts(&production)
            .iter()
            .all(|a| a.as_deref() == Some(apps::config::PRODUCTION_ACCOUNT))
    );
    assert_eq!(
        accounts(&apps::ci()?.synth()?),
        [Some(apps::config::CI_ACCOUNT.to_owned())]
    );
    assert_ne!(
        apps::config::STAGING_ACCOUNT,
        apps::config::PRODUCTION_ACCOUNT
    );

    let synth = |account: &str| {
        let out = tempfile_dir();
        std::process::Command::new(env!("CARGO_BIN_EXE_staging"))
            .args(["synth", "--out"])
            .arg(&out)
            .env("OMC_ACCOUNT", account)
            .output()
            .map(|o| (o, out))
    };
    let (output, out) = synth("000000000000")?;
    assert!(output.status.success(), "{output:?}");
    let manifest: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json"))?)?;
    for stack in manifest["stacks"].as_array().unwrap() {
        assert_eq!(stack["environment"]["account"], "000000000000", "{stack}");
    }
    let (output, _) = synth("staging")?;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: OMC_ACCOUNT: \"staging\" is not an AWS account id; give the 12 digits of the account to deploy to (LocalStack's is 000000000000), or unset it to use the configured accounts\n"
    );
    Ok(())
}

/// A fresh directory under the target directory.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("accounts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn images_come_from_the_registry_in_the_production_account() -> TestResult {
    let synthesis = apps::production()?.synth()?;
    let registry = template(&synthesis, "OmcProduction-Registry");
    let mut names: Vec<&str> = registry
        .resources("AWS::ECR::Repository")
        .into_iter()
        .map(|(_, r)| {
            assert_eq!(r["Properties"]["ImageTagMutability"], "IMMUTABLE");
            assert_eq!(
                r["Properties"]["ImageScanningConfiguration"],
                json!({"ScanOnPush": true})
            );
            // Staging and production pull.
            let policy = r["Properties"]["RepositoryPolicyText"].to_string();
            assert!(policy.contains(":iam::210987654321:root"), "{policy}");
            assert!(policy.contains(":iam::123456789012:root"), "{policy}");
            r["Properties"]["RepositoryName"].as_str().unwrap()
        })
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "omc-agents",
            "omc-backend",
            "omc-collectors",
            "omc-frontend"
        ]
    );
    // The publisher pushes from main and from the approved production environment.
    let publisher = only(&registry, "AWS::IAM::Role");
    let trust = &publisher["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        json!([
            "repo:omc/omc:ref:refs/heads/main",
            "repo:omc/omc:environment:production"
        ])
    );
    // Production's services import the repositories: the registry deploys first.
    let services = synthesis.stack("OmcProduction-Services").unwrap();
    assert!(
        services
            .dependencies()
            .contains(&"OmcProduction-Registry".to_owned())
    );
    // Staging has no registry of its own.
    let staging = apps::staging()?.synth()?;
    assert!(staging.stack("OmcStaging-Registry").is_none());
    Ok(())
}

#[test]
fn ci_deploys_through_oidc_roles_of_each_environment() -> TestResult {
    for (app, prefix, account, subject) in [
        (
            apps::staging()?,
            "OmcStaging",
            "210987654321",
            "repo:omc/omc:ref:refs/heads/main",
        ),
        (
            apps::production()?,
            "OmcProduction",
            "123456789012",
            "repo:omc/omc:environment:production",
        ),
    ] {
        let synthesis = app.synth()?;
        let t = template(&synthesis, &format!("{prefix}-Delivery"));
        t.resource_count_is("AWS::IAM::OIDCProvider", 1)?;
        let deploy = t
            .resources("AWS::IAM::Role")
            .into_iter()
            .find(|(_, r)| r["Properties"]["RoleName"] == format!("{prefix}-deploy"))
            .unwrap()
            .1;
        let trust = &deploy["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(
            trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            subject
        );
        assert_eq!(deploy["Properties"]["MaxSessionDuration"], 7200);
        // It may pass only the execution role, only to CloudFormation, and change only the
        // environment's stacks, never the delivery stack.
        let statements = deploy["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        let pass: Vec<&Json> = statements
            .iter()
            .filter(|s| s["Action"] == "iam:PassRole")
            .collect();
        assert_eq!(pass.len(), 1);
        assert_eq!(
            pass[0]["Resource"],
            json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{prefix}-cfn-exec")})
        );
        let deny = statements.iter().find(|s| s["Effect"] == "Deny").unwrap();
        assert_eq!(
            deny["Resource"],
            json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{prefix}-Delivery/*")})
        );
        let bucket = statements
            .iter()
            .find(|s| s["Action"] == json!(["s3:GetObject", "s3:PutObject"]))
            .unwrap();
        assert_eq!(
            bucket["Resource"],
            format!("arn:aws:s3:::omc-cdk-toolkit-{account}-us-east-1/omc-cdk/{prefix}-*")
        );
        // The execution role covers the services the environment's templates use, no more.
        let execution = t
            .resources("AWS::IAM::Role")
            .into_iter()
            .find(|(_, r)| r["Properties"]["RoleName"] == format!("{prefix}-cfn-exec"))
            .unwrap()
            .1;
        let actions =
            &execution["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"];
        let actions: Vec<&str> = actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(actions.contains(&"rds:*") && actions.contains(&"wafv2:*"));
        // The monitoring stack's budget too (added after the synthesis the services come from).
        assert!(actions.contains(&"budgets:*"), "{actions:?}");
        assert!(!actions.contains(&"iam:*") && !actions.contains(&"*"));
        assert!(!actions.contains(&"eks:*"), "{actions:?}");
    }
    Ok(())
}

#[test]
fn a_new_image_tag_is_a_new_task_definition_revision_that_the_service_rolls_to() -> TestResult {
    // The tag is in the container definitions, which CloudFormation cannot change in place
    // (the pinned schema says so): a new tag replaces the task definition, which registers a
    // new revision with a new ARN. The service refers to that ARN, so it updates and rolls
    // its tasks, with the circuit breaker rolling back a revision that never gets healthy.
    let synthesis = apps::staging()?.synth()?;
    let t = template(&synthesis, "OmcStaging-Services");
    let schema = omc_constructs::cfn::schema::find("AWS::ECS::TaskDefinition").unwrap();
    let containers = schema
        .properties
        .iter()
        .find(|p| p.name == "ContainerDefinitions")
        .unwrap();
    assert_eq!(
        containers.replacement,
        omc_cdk::template::schema::Replacement::Always
    );
    let (definition_id, definition) = t
        .resources("AWS::ECS::TaskDefinition")
        .into_iter()
        .find(|(id, _)| id.starts_with("Frontend"))
        .unwrap();
    assert_eq!(
        definition["Properties"]["ContainerDefinitions"][0]["Image"]["Fn::Sub"][1]["Tag"],
        json!({"Ref": "FrontendImageTag"})
    );
    let service = by_prefix(&t, "AWS::ECS::Service", "Frontend");
    assert_eq!(
        service["Properties"]["TaskDefinition"],
        json!({"Ref": definition_id})
    );
    assert_eq!(
        service["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"],
        json!({"Enable": true, "Rollback": true})
    );
    Ok(())
}
