//! `Monitoring` (alarm topic, alarms per construct, dashboard) and `SecurityBaseline` (CloudTrail,
//! GuardDuty, AWS Config, the log bucket).
#![allow(clippy::unwrap_used)]

use omc_cdk::assertions::{Match, Template};
use omc_cdk::{App, Environment, Json, Stack, StackProps, testing};
use omc_constructs::{
    AlbRoute, ApplicationLoadBalancer, ApplicationLoadBalancerProps, Cluster, ClusterProps,
    ContainerImage, ContainerProps, FargateService, FargateServiceProps, Monitoring,
    MonitoringProps, PostgresVersion, Rds, RdsProps, Redis, RedisProps, SecurityBaseline,
    SecurityBaselineProps, Vpc, VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn alarms(t: &Template) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = t
        .resources("AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, r)| {
            let p = &r["Properties"];
            if let Some(queries) = p["Metrics"].as_array() {
                // A metric math alarm: its expression.
                let expression = queries
                    .iter()
                    .find_map(|q| q["Expression"].as_str())
                    .unwrap();
                return ("math".to_owned(), expression.to_owned());
            }
            (
                p["Namespace"].as_str().unwrap().to_owned(),
                p["MetricName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn each_construct_attaches_its_alarms_and_a_dashboard_widget() -> TestResult {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Ops",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let monitoring = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: Some("oncall@example.com".into()),
            ..MonitoringProps::default()
        },
    )?;
    let db = Rds::new(&stack, "Db", RdsProps::new(&vpc, PostgresVersion::V17_6))?;
    db.add_alarms(&monitoring, 90)?;
    let cache = Redis::new(&stack, "Cache", RedisProps::new(&vpc))?;
    cache.add_alarms(&monitoring)?;
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        alarms(&t),
        [
            (
                "AWS/ElastiCache".to_owned(),
                "DatabaseMemoryUsagePercentage".to_owned()
            ),
            (
                "AWS/ElastiCache".to_owned(),
                "EngineCPUUtilization".to_owned()
            ),
            ("AWS/RDS".to_owned(), "CPUUtilization".to_owned()),
            ("AWS/RDS".to_owned(), "DatabaseConnections".to_owned()),
            ("AWS/RDS".to_owned(), "FreeStorageSpace".to_owned()),
        ]
    );
    // Every alarm notifies the topic, both ways.
    let topic = t.resources("AWS::SNS::Topic")[0].0.to_owned();
    t.all_resources_properties(
        "AWS::CloudWatch::Alarm",
        json!({"AlarmActions": [{"Ref": topic}], "OKActions": [{"Ref": topic}]}),
    )?;
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        json!({"MetricName": "DatabaseConnections", "Threshold": 90.0, "AlarmDescription": "Ops/Db: more than 90 connections"}),
    )?;
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        json!({"MetricName": "FreeStorageSpace", "ComparisonOperator": "LessThanThreshold", "Threshold": 2_147_483_648.0}),
    )?;
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        json!({"MetricName": "EngineCPUUtilization", "AlarmDescription": "Ops/Cache: engine CPU above 80% for 15 minutes"}),
    )?;
    t.has_resource_properties(
        "AWS::SNS::Subscription",
        json!({"Protocol": "email", "Endpoint": "oncall@example.com"}),
    )?;
    // Encrypted by default (the check sns-topic-encrypted requires it), with its own key.
    t.resource_count_is("AWS::KMS::Key", 1)?;
    t.has_resource_properties(
        "AWS::SNS::Topic",
        Match::object_like([("KmsMasterKeyId", Match::any_value())]),
    )?;
    // Opting out leaves the key out.
    let (_plain_app, plain) = testing::stack()?;
    Monitoring::new(
        &plain,
        "Monitoring",
        MonitoringProps {
            encrypted_topic: false,
            ..MonitoringProps::default()
        },
    )?;
    let p = Template::from_stack(&plain)?;
    p.resource_count_is("AWS::KMS::Key", 0)?;
    p.has_resource_properties(
        "AWS::SNS::Topic",
        Match::object_like([("KmsMasterKeyId", Match::absent())]),
    )?;
    // The dashboard holds three widgets: database CPU and connections, database storage, cache.
    let dashboard = &t.resources("AWS::CloudWatch::Dashboard")[0].1["Properties"]["DashboardBody"];
    let text = dashboard.to_string();
    assert_eq!(text.matches(r#"\"type\":\"metric\""#).count(), 3, "{text}");
    // Attaching twice is an error, not a duplicate alarm.
    let err = cache.add_alarms(&monitoring).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    Ok(())
}

#[test]
fn services_and_load_balancers_alarm_on_what_users_feel() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;
    let alb = ApplicationLoadBalancer::new(&stack, "Alb", ApplicationLoadBalancerProps::new(&vpc))?;
    let service = FargateService::new(
        &stack,
        "Web",
        FargateServiceProps {
            load_balancer: Some(AlbRoute::new(&alb)),
            ..FargateServiceProps::new(
                &cluster,
                vec![ContainerProps {
                    port: Some(80),
                    ..ContainerProps::new(
                        "web",
                        ContainerImage::registry("public.ecr.aws/nginx/nginx:1.27"),
                    )
                }],
            )
        },
    )?;
    let monitoring = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            encrypted_topic: true,
            ..MonitoringProps::default()
        },
    )?;
    alb.add_alarms(&monitoring)?;
    service.add_alarms(&monitoring)?;
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        alarms(&t),
        [
            (
                "AWS/ApplicationELB".to_owned(),
                "HTTPCode_ELB_5XX_Count".to_owned()
            ),
            (
                "AWS/ApplicationELB".to_owned(),
                "HTTPCode_Target_5XX_Count".to_owned()
            ),
            (
                "AWS/ApplicationELB".to_owned(),
                "TargetResponseTime".to_owned()
            ),
            (
                "AWS/ApplicationELB".to_owned(),
                "UnHealthyHostCount".to_owned()
            ),
            ("AWS/ECS".to_owned(), "CPUUtilization".to_owned()),
            ("AWS/ECS".to_owned(), "MemoryUtilization".to_owned()),
            ("math".to_owned(), "desired - running".to_owned()),
        ]
    );
    // Fewer tasks running than desired, from Container Insights, for 10 minutes.
    let (_, tasks) = t
        .resources("AWS::CloudWatch::Alarm")
        .into_iter()
        .find(|(id, _)| id.contains("TasksBelowDesired"))
        .unwrap();
    let p = &tasks["Properties"];
    assert_eq!(
        (
            &p["Threshold"],
            &p["ComparisonOperator"],
            &p["EvaluationPeriods"]
        ),
        (
            &json!(1.0),
            &json!("GreaterThanOrEqualToThreshold"),
            &json!(10)
        )
    );
    let metrics: Vec<(&str, &str, &str)> = p["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| {
            let stat = q.get("MetricStat")?;
            Some((
                q["Id"].as_str()?,
                stat["Metric"]["MetricName"].as_str()?,
                stat["Metric"]["Namespace"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        metrics,
        [
            ("running", "RunningTaskCount", "ECS/ContainerInsights"),
            ("desired", "DesiredTaskCount", "ECS/ContainerInsights"),
        ]
    );
    // Unhealthy targets name the target group and the load balancer.
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        Match::object_like([
            ("MetricName", Match::from(json!("UnHealthyHostCount"))),
            (
                "Dimensions",
                Match::ArrayEquals(vec![
                    Match::object_like([("Name", Match::from(json!("TargetGroup")))]),
                    Match::object_like([("Name", Match::from(json!("LoadBalancer")))]),
                ]),
            ),
        ]),
    )?;
    // ECS alarms name the cluster and the service.
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        Match::object_like([
            ("MetricName", Match::from(json!("CPUUtilization"))),
            (
                "Dimensions",
                Match::ArrayEquals(vec![
                    Match::from(
                        json!({"Name": "ClusterName", "Value": {"Ref": "ClusterEB0386A7"}}),
                    ),
                    Match::object_like([("Name", Match::from(json!("ServiceName")))]),
                ]),
            ),
        ]),
    )?;
    // An encrypted topic gets a key CloudWatch may use.
    let (_, key) = t.resources("AWS::KMS::Key")[0];
    assert!(
        key["Properties"]["KeyPolicy"]
            .to_string()
            .contains("cloudwatch.amazonaws.com")
    );
    t.has_resource_properties(
        "AWS::SNS::Topic",
        Match::object_like([("KmsMasterKeyId", Match::any_value())]),
    )?;
    Ok(())
}

#[test]
fn monitoring_bad_input() {
    let (_app, stack) = testing::stack().unwrap();
    let err = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: Some("ops.example.com".into()),
            ..MonitoringProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Monitoring: alarm_email \"ops.example.com\" is not an e-mail address"
    );
    let err = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            dashboard_name: Some("ops dashboard".into()),
            ..MonitoringProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Monitoring: dashboard name \"ops dashboard\" must be 1 to 255 letters, digits, '-' and '_'"
    );
}

fn bucket_policy(t: &Template) -> Vec<Json> {
    t.resources("AWS::S3::BucketPolicy")[0].1["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .cloned()
        .unwrap()
}

#[test]
fn security_baseline_records_everything_into_a_locked_bucket() -> TestResult {
    let (_app, stack) = testing::stack()?;
    SecurityBaseline::new(&stack, "Baseline", SecurityBaselineProps::new("org-trail"))?;
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::CloudTrail::Trail",
        json!({"TrailName": "org-trail", "IsMultiRegionTrail": true, "EnableLogFileValidation": true, "IncludeGlobalServiceEvents": true, "IsLogging": true}),
    )?;
    let (_, bucket) = t.resources("AWS::S3::Bucket")[0];
    let p = &bucket["Properties"];
    assert_eq!(bucket["DeletionPolicy"], "Retain");
    assert_eq!(
        p["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    assert!(p["BucketEncryption"].is_object());
    let rules = p["LifecycleConfiguration"]["Rules"].to_string();
    assert!(
        rules.contains("\"ExpirationInDays\":365") && rules.contains("GLACIER"),
        "{rules}"
    );
    // TLS only, and CloudTrail and Config may write, each only for this account.
    let statements = bucket_policy(&t);
    let deny = statements.iter().find(|s| s["Effect"] == "Deny").unwrap();
    assert_eq!(
        deny["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
    let services: Vec<&Json> = statements.iter().map(|s| &s["Principal"]).collect();
    assert!(services.contains(&&json!({"Service": "cloudtrail.amazonaws.com"})));
    assert!(services.contains(&&json!({"Service": "config.amazonaws.com"})));
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        assert!(
            s["Condition"]["StringEquals"].is_object(),
            "unconditioned grant {s}"
        );
    }
    t.has_resource_properties("AWS::GuardDuty::Detector", json!({"Enable": true}))?;
    t.resource_count_is("AWS::Config::ConfigurationRecorder", 1)?;
    t.resource_count_is("AWS::Config::DeliveryChannel", 1)?;
    t.resource_count_is("AWS::Config::ConfigRule", 8)?;
    t.has_resource_properties(
        "AWS::Config::ConfigRule",
        json!({"Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_SSL_REQUESTS_ONLY"}}),
    )?;
    t.has_resource_properties(
        "AWS::Config::ConfigurationRecorder",
        json!({"RecordingGroup": {"AllSupported": true, "IncludeGlobalResourceTypes": true}}),
    )?;
    Ok(())
}

#[test]
fn security_baseline_parts_can_be_left_out_where_the_account_has_them() -> TestResult {
    let (_app, stack) = testing::stack()?;
    SecurityBaseline::new(
        &stack,
        "Baseline",
        SecurityBaselineProps {
            guardduty: false,
            config: false,
            ..SecurityBaselineProps::new("org-trail")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    t.resource_count_is("AWS::CloudTrail::Trail", 1)?;
    t.resource_count_is("AWS::GuardDuty::Detector", 0)?;
    t.resource_count_is("AWS::Config::ConfigurationRecorder", 0)?;
    t.resource_count_is("AWS::Config::ConfigRule", 0)?;
    t.resource_count_is("AWS::IAM::Role", 0)?;
    assert!(
        !bucket_policy(&t)
            .iter()
            .any(|s| s["Principal"] == json!({"Service": "config.amazonaws.com"}))
    );
    Ok(())
}

#[test]
fn security_baseline_bad_input() {
    let (_app, stack) = testing::stack().unwrap();
    let err = SecurityBaseline::new(&stack, "Baseline", SecurityBaselineProps::new("x"))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Test/Baseline: trail name \"x\" must be 3 to 128"),
        "{err}"
    );
    let err = SecurityBaseline::new(
        &stack,
        "Baseline",
        SecurityBaselineProps {
            config_rules: vec!["s3-bucket-ssl-requests-only".into()],
            ..SecurityBaselineProps::new("org-trail")
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Baseline: Config rule \"s3-bucket-ssl-requests-only\" is not an AWS managed rule identifier such as \"S3_BUCKET_SSL_REQUESTS_ONLY\""
    );
}

#[test]
fn config_delivers_with_its_role_after_the_recorder_exists() -> TestResult {
    let (_app, stack) = testing::stack()?;
    SecurityBaseline::new(&stack, "Baseline", SecurityBaselineProps::new("org-trail"))?;
    let t = Template::from_stack(&stack)?;
    let recorder = t.resources("AWS::Config::ConfigurationRecorder")[0]
        .0
        .to_owned();
    let (_, channel) = t.resources("AWS::Config::DeliveryChannel")[0];
    assert!(
        channel["DependsOn"]
            .as_array()
            .unwrap()
            .contains(&json!(recorder))
    );
    let (_, role) = t.resources("AWS::IAM::Role")[0];
    let p = &role["Properties"];
    assert_eq!(
        p["AssumeRolePolicyDocument"]["Statement"][0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    );
    let statements = p["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements[0]["Action"], "s3:GetBucketAcl");
    assert_eq!(statements[1]["Action"], "s3:PutObject");
    assert_eq!(
        statements[1]["Condition"],
        json!({"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}})
    );
    let object = statements[1]["Resource"].to_string();
    assert!(
        object.contains("/AWSLogs/") && object.contains("/Config/*"),
        "{object}"
    );
    Ok(())
}
