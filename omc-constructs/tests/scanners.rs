//! What the scanners teams run (checkov, `cfn_nag`) and our own checks agree on: log groups under
//! a customer-managed key (`log_key` of every construct that makes one), the trail under a key
//! (`SecurityBaselineProps::trail_key`), S3 server access logs into an `AccessLogBucket`, and
//! the constructs' own suppressions (port 80 of a redirect, the scheduled tasks' SSE-SQS
//! dead-letter queues, the access-log bucket's own logs), with their bad input.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::{App, Environment, Error, Json, Stack, StackProps, arn::CertificateArn};
use omc_constructs::{
    AccessLogBucket, AccessLogBucketProps, ApplicationLoadBalancer, ApplicationLoadBalancerProps,
    Bucket, BucketProps, Cluster, ClusterProps, ContainerImage, ContainerProps, EksRunnerCluster,
    EksRunnerClusterProps, FargateService, FargateServiceProps, Key, KeyProps, Retention, Schedule,
    ScheduleTrigger, ScheduledTask, ScheduledTaskProps, SecurityBaseline, SecurityBaselineProps,
    ServerAccessLogs, Vpc, VpcProps, WebAcl, WebAclProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CERTIFICATE: &str = "arn:aws:acm:eu-west-1:123456789012:certificate/abc";

fn stack(app: &App, name: &str) -> Stack {
    Stack::new(
        app,
        name,
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap()
}

fn key(stack: &Stack, id: &str) -> Key {
    Key::new(stack, id, KeyProps::default()).unwrap()
}

fn container(name: &str) -> ContainerProps {
    ContainerProps::new(
        name,
        ContainerImage::registry("public.ecr.aws/docker/library/busybox:1.36"),
    )
}

fn statements(key: &Json) -> Vec<Json> {
    key["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap()
        .clone()
}

/// The key policy statements whose principal is the service `service` (a literal, or the
/// `Fn::Sub` of CloudWatch Logs' regional principal).
fn service_statements(key: &Json, service: &str) -> Vec<Json> {
    statements(key)
        .into_iter()
        .filter(|s| {
            let principal = &s["Principal"]["Service"];
            principal == service || principal["Fn::Sub"] == service
        })
        .collect()
}

fn the_key(t: &Template) -> Json {
    let keys = t.resources("AWS::KMS::Key");
    assert_eq!(keys.len(), 1, "{keys:?}");
    keys[0].1.clone()
}

fn key_arn(t: &Template) -> Json {
    json!({"Fn::GetAtt": [t.resources("AWS::KMS::Key")[0].0, "Arn"]})
}

/// The `(rule, scope, matched)` of every suppression of the app's checks.
fn suppressions(app: &App) -> Vec<(String, String, usize)> {
    let synthesis = app.synth_unchecked().unwrap();
    let report = app.check_synthesis(&synthesis);
    let mut found: Vec<(String, String, usize)> = report
        .suppressions()
        .iter()
        .map(|s| (s.rule.clone(), s.scope.clone(), s.matched))
        .collect();
    found.sort();
    found
}

#[test]
fn every_log_group_takes_the_key_and_the_key_policy_allows_logs_once() -> TestResult {
    let app = App::new();
    let stack = stack(&app, "Logs");
    let logs_key = key(&stack, "LogsKey");
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            flow_log_key: Some(logs_key.clone()),
            ..VpcProps::default()
        },
    )?;
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;
    FargateService::new(
        &stack,
        "Web",
        FargateServiceProps {
            log_key: Some(&logs_key),
            ..FargateServiceProps::new(&cluster, vec![container("web")])
        },
    )?;
    ScheduledTask::new(
        &stack,
        "Nightly",
        ScheduledTaskProps {
            log_key: Some(&logs_key),
            ..ScheduledTaskProps::new(
                &cluster,
                Schedule::cron("0 3 * * ? *"),
                vec![container("job")],
            )
        },
    )?;
    WebAcl::new(
        &stack,
        "Waf",
        WebAclProps {
            log_key: Some(logs_key.clone()),
            ..WebAclProps::new(Retention::Days(90))
        },
    )?;
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            log_key: Some(&logs_key),
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let groups = t.resources("AWS::Logs::LogGroup");
    // Flow logs, the service, the scheduled task, WAF and the control plane.
    assert_eq!(groups.len(), 5, "{groups:?}");
    for (id, group) in &groups {
        assert_eq!(group["Properties"]["KmsKeyId"], key_arn(&t), "{id}");
    }
    // The runner cluster has its secrets key too: find the logs key by its policy.
    let (_, logs) = t
        .resources("AWS::KMS::Key")
        .into_iter()
        .find(|(id, _)| id.starts_with("LogsKey"))
        .unwrap();
    let allowed = service_statements(logs, "logs.${AWS::Region}.amazonaws.com");
    assert_eq!(allowed.len(), 1, "one statement for five log groups");
    assert_eq!(
        allowed[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"})
    );
    // Production's checks find no log group without a key.
    let synthesis = app.synth_unchecked()?;
    let report = app.check_synthesis(&synthesis);
    assert!(
        !report.render_findings().contains("logs-kms-key"),
        "{}",
        report.render_findings()
    );
    Ok(())
}

#[test]
fn a_log_group_without_a_key_is_an_error_in_production() -> TestResult {
    let app = App::new();
    let stack = stack(&app, "Logs");
    Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let t = Template::from_stack(&stack)?;
    let (_, group) = t.resources("AWS::Logs::LogGroup")[0];
    assert!(group["Properties"].get("KmsKeyId").is_none());
    let err = app.synth().map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("logs-kms-key"), "{err}");
    Ok(())
}

#[test]
fn a_key_of_another_stack_is_imported_and_extended() -> TestResult {
    let app = App::new();
    let network = stack(&app, "Network");
    let logs_key = key(&network, "LogsKey");
    let services = stack(&app, "Services");
    WebAcl::new(
        &services,
        "Waf",
        WebAclProps {
            log_key: Some(logs_key),
            ..WebAclProps::new(Retention::Days(30))
        },
    )?;
    let synthesis = app.synth()?;
    let network_t = Template::from_synthesized(synthesis.stack("Network").unwrap());
    assert_eq!(
        service_statements(&the_key(&network_t), "logs.${AWS::Region}.amazonaws.com").len(),
        1
    );
    let services_t = Template::from_synthesized(synthesis.stack("Services").unwrap());
    let (_, group) = services_t.resources("AWS::Logs::LogGroup")[0];
    assert!(
        group["Properties"]["KmsKeyId"]["Fn::ImportValue"].is_string(),
        "{group}"
    );
    assert_eq!(
        synthesis.stack("Services").unwrap().dependencies(),
        ["Network"]
    );
    Ok(())
}

#[test]
fn the_trail_is_encrypted_with_its_key_for_this_trail_only() -> TestResult {
    let app = App::new();
    let stack = stack(&app, "Security");
    let trail_key = key(&stack, "LogsKey");
    let access_logs = AccessLogBucket::new(&stack, "AccessLogs", AccessLogBucketProps::new(365))?;
    SecurityBaseline::new(
        &stack,
        "Baseline",
        SecurityBaselineProps {
            trail_key: Some(trail_key),
            access_logs: Some(ServerAccessLogs::new(&access_logs, "trail/")),
            ..SecurityBaselineProps::new("omc-trail")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::CloudTrail::Trail",
        json!({"KMSKeyId": key_arn(&t), "TrailName": "omc-trail"}),
    )?;
    let trail_arn = json!({"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/omc-trail"});
    let cloudtrail = service_statements(&the_key(&t), "cloudtrail.amazonaws.com");
    assert_eq!(
        cloudtrail,
        [
            json!({
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": {"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"}}
                }
            }),
            json!({
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
            }),
        ]
    );
    // The trail's bucket logs its access; the checks find nothing about the trail or buckets.
    t.has_resource_properties(
        "AWS::S3::Bucket",
        json!({"LoggingConfiguration": {"LogFilePrefix": "trail/"}}),
    )?;
    let synthesis = app.synth()?;
    let report = synthesis.checks().unwrap();
    let findings = report.render_findings();
    for rule in ["cloudtrail-kms", "s3-access-logs"] {
        assert!(!findings.contains(rule), "{findings}");
    }
    Ok(())
}

#[test]
fn a_bucket_logs_its_access_into_the_access_log_bucket_by_policy() -> TestResult {
    let app = App::new();
    let stack = stack(&app, "Logs");
    let access_logs = AccessLogBucket::new(&stack, "AccessLogs", AccessLogBucketProps::new(90))?;
    let archive = Bucket::new(
        &stack,
        "Archive",
        BucketProps {
            access_logs: Some(ServerAccessLogs::new(&access_logs, "archive/")),
            ..BucketProps::default()
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let (archive_id, archive_json) = t
        .resources("AWS::S3::Bucket")
        .into_iter()
        .find(|(id, _)| id.starts_with("Archive"))
        .unwrap();
    let (logs_id, logs_json) = t
        .resources("AWS::S3::Bucket")
        .into_iter()
        .find(|(id, _)| id.starts_with("AccessLogs"))
        .unwrap();
    assert_eq!(
        archive_json["Properties"]["LoggingConfiguration"],
        json!({"DestinationBucketName": {"Ref": logs_id}, "LogFilePrefix": "archive/"})
    );
    // The destination: SSE-S3 (S3 cannot deliver access logs under SSE-KMS), private,
    // expiring, and no access logs of its own.
    let destination = &logs_json["Properties"];
    assert_eq!(
        destination["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "AES256"
    );
    assert_eq!(
        destination["PublicAccessBlockConfiguration"]["BlockPublicPolicy"],
        true
    );
    assert_eq!(
        destination["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"],
        90
    );
    assert!(destination.get("LoggingConfiguration").is_none());
    assert_eq!(
        logs_json["Metadata"]["checkov"]["skip"][0]["id"],
        "CKV_AWS_18"
    );
    let (_, policy) = t
        .resources("AWS::S3::BucketPolicy")
        .into_iter()
        .find(|(_, p)| p["Properties"]["Bucket"] == json!({"Ref": logs_id}))
        .unwrap();
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements[0]["Sid"], "DenyInsecureTransport");
    assert_eq!(
        statements[1],
        json!({
            "Sid": "ServerAccessLogsLogsArchive",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [logs_id, "Arn"]}, "/archive/*"]]},
            "Condition": {
                "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [archive_id, "Arn"]}},
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
            }
        })
    );
    assert_eq!(omc_cdk::Construct::path(&archive), "Logs/Archive");
    // A second source has its own statement and prefix.
    Bucket::new(
        &stack,
        "Reports",
        BucketProps {
            access_logs: Some(ServerAccessLogs::new(&access_logs, "reports/")),
            ..BucketProps::default()
        },
    )?;
    assert_eq!(
        suppressions(&app),
        [("s3-access-logs".to_owned(), "Logs/AccessLogs".to_owned(), 1)]
    );
    let synthesis = app.synth()?;
    assert!(
        !synthesis
            .checks()
            .unwrap()
            .render_findings()
            .contains("s3-access-logs")
    );
    Ok(())
}

fn invalid_prop(err: &Error) -> (&'static str, String, String) {
    match err {
        Error::InvalidProp {
            path,
            field,
            value,
            reason,
        } => {
            assert_eq!(err.to_string(), format!("{path}: {reason}"));
            (field, value.clone(), err.to_string())
        }
        other => panic!("expected InvalidProp, got {other:?}"),
    }
}

#[test]
fn bad_access_log_props_are_refused_with_the_path_the_value_and_the_fix() {
    let app = App::new();
    let stack = stack(&app, "Logs");
    let access_logs =
        AccessLogBucket::new(&stack, "AccessLogs", AccessLogBucketProps::new(90)).unwrap();
    let bucket = |id: &str, prefix: &str| {
        Bucket::new(
            &stack,
            id,
            BucketProps {
                access_logs: Some(ServerAccessLogs::new(&access_logs, prefix)),
                ..BucketProps::default()
            },
        )
        .map(|_| ())
    };
    for prefix in [
        "",
        "archive",
        "/archive/",
        "a//b/",
        "arch ive/",
        &"a/".repeat(101),
    ] {
        let err = bucket("Bad", prefix).unwrap_err();
        let (field, value, message) = invalid_prop(&err);
        assert_eq!(field, "access_logs.prefix");
        assert_eq!(value, format!("{prefix:?}"));
        assert!(
            message.starts_with("Logs/Bad: server access log prefix"),
            "{message}"
        );
        assert!(message.contains("such as \"receipts/\""), "{message}");
    }
    // Nothing was added by the refused buckets.
    assert!(stack.find("Bad").is_none());
    // Two sources may not share a prefix, nor nest theirs (either way round).
    bucket("Archive", "archive/").unwrap();
    bucket("Old", "old/2024/").unwrap();
    for (prefix, other, source) in [
        ("archive/", "archive/", "Logs/Archive"),
        ("archive/2024/", "archive/", "Logs/Archive"),
        ("old/", "old/2024/", "Logs/Old"),
    ] {
        let err = bucket("Other", prefix).unwrap_err();
        let (field, value, message) = invalid_prop(&err);
        assert_eq!(
            (field, value),
            ("access_logs.prefix", format!("{prefix:?}"))
        );
        assert!(
            message.contains(&format!(
                "overlaps {other:?} of {source} in Logs/AccessLogs; give each bucket a prefix of its own"
            )),
            "{message}"
        );
    }
    // Logs are kept at least a day.
    let err = AccessLogBucket::new(&stack, "Zero", AccessLogBucketProps::new(0)).unwrap_err();
    let (field, value, message) = invalid_prop(&err);
    assert_eq!((field, value.as_str()), ("expire_after_days", "0"));
    assert!(message.starts_with("Logs/Zero: expire_after_days counts from 1"));
}

#[test]
fn a_bucket_of_another_stack_cannot_log_into_the_access_log_bucket() {
    let app = App::new();
    let network = stack(&app, "Network");
    let access_logs =
        AccessLogBucket::new(&network, "AccessLogs", AccessLogBucketProps::new(90)).unwrap();
    let services = stack(&app, "Services");
    let err = Bucket::new(
        &services,
        "AlbLogs",
        BucketProps {
            access_logs: Some(ServerAccessLogs::new(&access_logs, "alb/")),
            ..BucketProps::default()
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("Services/AlbLogs: access_logs:"),
        "{message}"
    );
    assert!(
        message.contains("create an AccessLogBucket in Services"),
        "{message}"
    );
    assert!(services.find("AlbLogs").is_none());
}

#[test]
fn port_80_is_suppressed_only_where_it_redirects_to_https() -> TestResult {
    let app = App::new();
    let stack = stack(&app, "Edge");
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    ApplicationLoadBalancer::new(
        &stack,
        "Https",
        ApplicationLoadBalancerProps {
            certificate_arn: Some(CertificateArn::new(CERTIFICATE)?),
            ..ApplicationLoadBalancerProps::new(&vpc)
        },
    )?;
    // Without a certificate, port 80 serves the routes: reported.
    ApplicationLoadBalancer::new(&stack, "Http", ApplicationLoadBalancerProps::new(&vpc))?;
    let found: Vec<(String, String, usize)> = suppressions(&app)
        .into_iter()
        .filter(|(rule, _, _)| rule == "sg-open-ingress")
        .collect();
    assert_eq!(
        found,
        [(
            "sg-open-ingress".to_owned(),
            "Edge/Https/SecurityGroup/FromAnyIpv4Tcp80".to_owned(),
            1
        )]
    );
    let synthesis = app.synth_unchecked()?;
    let findings = app.check_synthesis(&synthesis).render_findings();
    assert!(
        findings.contains("sg-open-ingress]: Edge/Http/SecurityGroup/FromAnyIpv4Tcp80"),
        "{findings}"
    );
    assert!(!findings.contains("Edge/Https/SecurityGroup"), "{findings}");
    // checkov skips CKV_AWS_260 on the redirect's rule, with the same reason.
    let t = Template::from_stack(&stack)?;
    let (_, rule) = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .find(|(id, r)| id.starts_with("HttpsSecurityGroup") && r["Properties"]["FromPort"] == 80)
        .unwrap();
    let skips = rule["Metadata"]["checkov"]["skip"].as_array().unwrap();
    let skip = skips.iter().find(|s| s["id"] == "CKV_AWS_260").unwrap();
    assert!(
        skip["comment"]
            .as_str()
            .unwrap()
            .contains("redirects every request to HTTPS"),
        "{skip}"
    );
    Ok(())
}

#[test]
fn the_dead_letter_queue_is_sse_sqs_with_a_reason_or_under_the_given_key() -> TestResult {
    let app = App::new();
    let stack = stack(&app, "Jobs");
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;
    let queue_key = key(&stack, "QueueKey");
    let task = |id: &str, trigger: ScheduleTrigger, key: Option<&Key>| {
        ScheduledTask::new(
            &stack,
            id,
            ScheduledTaskProps {
                trigger,
                dead_letter_key: key,
                ..ScheduledTaskProps::new(
                    &cluster,
                    Schedule::rate(1, "hour"),
                    vec![container("job")],
                )
            },
        )
        .map(|_| ())
    };
    let scheduler = || ScheduleTrigger::Scheduler {
        time_zone: "UTC".into(),
    };
    task("Plain", scheduler(), None)?;
    task("Scheduled", scheduler(), Some(&queue_key))?;
    task("Ruled", ScheduleTrigger::EventBridgeRule, Some(&queue_key))?;
    let t = Template::from_stack(&stack)?;
    let queues = t.resources("AWS::SQS::Queue");
    let queue = |prefix: &str| {
        queues
            .iter()
            .find(|(id, _)| id.starts_with(prefix))
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(queue("Plain")["Properties"]["SqsManagedSseEnabled"], true);
    for prefix in ["Scheduled", "Ruled"] {
        let p = &queue(prefix)["Properties"];
        assert_eq!(p["KmsMasterKeyId"], key_arn(&t), "{prefix}");
        assert!(p.get("SqsManagedSseEnabled").is_none(), "{prefix}");
    }
    // The scheduler's role may use the key; EventBridge may, for its rule only.
    let (_, role) = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("ScheduledScheduleRole"))
        .unwrap();
    let policy = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].to_string();
    assert!(policy.contains("kms:GenerateDataKey"), "{policy}");
    let events = service_statements(&the_key(&t), "events.amazonaws.com");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0]["Condition"],
        json!({"ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*"}}})
    );
    // The synthesis has no cycle (the key policy names no rule of the queue's).
    app.synth_unchecked()?;
    // Only the SSE-SQS queue is suppressed, with EventBridge's reason.
    let found: Vec<(String, String, usize)> = suppressions(&app)
        .into_iter()
        .filter(|(rule, _, _)| rule == "sqs-kms-key")
        .collect();
    assert_eq!(
        found,
        [(
            "sqs-kms-key".to_owned(),
            "Jobs/Plain/DeadLetterQueue".to_owned(),
            1
        )]
    );
    let skip = &queue("Plain")["Metadata"]["checkov"]["skip"][0];
    assert_eq!(skip["id"], "CKV_AWS_27");
    assert!(
        skip["comment"]
            .as_str()
            .unwrap()
            .contains("EventBridge cannot deliver to a queue under the AWS managed key aws/sqs")
    );
    Ok(())
}

#[test]
fn a_dead_letter_key_without_a_dead_letter_queue_is_refused() {
    let app = App::new();
    let keys = stack(&app, "Keys");
    let queue_key = key(&keys, "QueueKey");
    let jobs = stack(&app, "Jobs");
    let vpc = Vpc::new(&jobs, "Vpc", VpcProps::default()).unwrap();
    let cluster = Cluster::new(&jobs, "Cluster", ClusterProps::new(&vpc)).unwrap();
    let err = ScheduledTask::new(
        &jobs,
        "Nightly",
        ScheduledTaskProps {
            dead_letter_queue: false,
            dead_letter_key: Some(&queue_key),
            ..ScheduledTaskProps::new(&cluster, Schedule::rate(1, "day"), vec![container("job")])
        },
    )
    .map(|_| ())
    .unwrap_err();
    let (field, value, message) = invalid_prop(&err);
    assert_eq!(
        (field, value.as_str()),
        ("dead_letter_key", "Keys/QueueKey")
    );
    assert!(
        message.starts_with("Jobs/Nightly: dead_letter_key Keys/QueueKey encrypts the dead-letter queue, and dead_letter_queue is false"),
        "{message}"
    );
    assert!(jobs.find("Nightly").is_none());
    // A key of another stack serves an EventBridge rule's queue: its policy names no rule.
    ScheduledTask::new(
        &jobs,
        "Hourly",
        ScheduledTaskProps {
            trigger: ScheduleTrigger::EventBridgeRule,
            dead_letter_key: Some(&queue_key),
            ..ScheduledTaskProps::new(&cluster, Schedule::rate(1, "hour"), vec![container("job")])
        },
    )
    .unwrap();
    let synthesis = app.synth_unchecked().unwrap();
    assert_eq!(synthesis.stack("Jobs").unwrap().dependencies(), ["Keys"]);
}
