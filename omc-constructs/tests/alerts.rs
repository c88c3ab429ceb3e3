//! Alerts that reach people: EventBridge rules to the alarm topic (findings, compliance, failed
//! scheduled runs), dead-letter queues, the Slack channel and the monthly budget.
#![allow(clippy::unwrap_used)]

use omc_cdk::assertions::Template;
use omc_cdk::{Error, Json, Stack, testing};
use omc_constructs::{
    Budget, BudgetProps, Cluster, ClusterProps, ContainerImage, ContainerInsights, ContainerProps,
    FargateService, FargateServiceProps, Monitoring, MonitoringProps, Schedule, ScheduleTrigger,
    ScheduledTask, ScheduledTaskProps, SecurityBaseline, SecurityBaselineProps, SlackChannel, Vpc,
    VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn topic_statements(t: &Template) -> Vec<Json> {
    let (_, policy) = t.resources("AWS::SNS::TopicPolicy")[0];
    policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .clone()
}

fn key_services(t: &Template) -> Vec<String> {
    let (_, key) = t.resources("AWS::KMS::Key")[0];
    key["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Principal"]["Service"].as_str().map(str::to_owned))
        .collect()
}

fn job(stack: &Stack, trigger: ScheduleTrigger, dead_letter_queue: bool) -> ScheduledTask {
    let vpc = Vpc::new(stack, "Vpc", VpcProps::default()).unwrap();
    let cluster = Cluster::new(stack, "Cluster", ClusterProps::new(&vpc)).unwrap();
    ScheduledTask::new(
        stack,
        "Nightly",
        ScheduledTaskProps {
            trigger,
            dead_letter_queue,
            ..ScheduledTaskProps::new(
                &cluster,
                Schedule::cron("0 3 * * ? *"),
                vec![ContainerProps::new(
                    "job",
                    ContainerImage::registry("public.ecr.aws/docker/library/busybox:1.36"),
                )],
            )
        },
    )
    .unwrap()
}

#[test]
fn event_rules_reach_the_topic_through_its_policy_and_key() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    let t = Template::from_stack(&stack)?;
    // Before any rule: the account and CloudWatch alarms (the policy replaces SNS's default).
    let sids: Vec<Json> = topic_statements(&t)
        .iter()
        .map(|s| s["Sid"].clone())
        .collect();
    assert_eq!(sids, [json!("Owner"), json!("cloudwatchamazonawscom")]);
    assert_eq!(key_services(&t), ["cloudwatch.amazonaws.com"]);

    monitoring.add_event_rule(
        "RootSignIn",
        "The root user signed in",
        json!({"detail-type": ["AWS Console Sign In via CloudTrail"]}),
    )?;
    let t = Template::from_stack(&stack)?;
    let statements = topic_statements(&t);
    assert_eq!(statements.len(), 3);
    assert_eq!(
        statements[2],
        json!({
            "Sid": "eventsamazonawscom",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": statements[2]["Resource"]["Ref"]},
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        })
    );
    assert_eq!(
        key_services(&t),
        ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    );
    let (_, rule) = t.resources("AWS::Events::Rule")[0];
    assert_eq!(
        rule["Properties"]["EventPattern"],
        json!({"detail-type": ["AWS Console Sign In via CloudTrail"]})
    );
    assert_eq!(
        rule["Properties"]["Targets"][0]["Arn"],
        statements[2]["Resource"]
    );
    // A second rule adds no second statement.
    monitoring.add_event_rule("Other", "Other", json!({"source": ["aws.s3"]}))?;
    assert_eq!(topic_statements(&Template::from_stack(&stack)?).len(), 3);

    let err = monitoring
        .add_event_rule("Everything", "all", json!({}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Test/Monitoring/Everything: the event pattern is not a non-empty JSON object: give the fields to match, such as {\"source\": [\"aws.guardduty\"]} (an empty pattern would match every event)"
    );
    Ok(())
}

#[test]
fn the_topic_can_post_to_a_slack_channel() -> TestResult {
    let (_app, stack) = testing::stack()?;
    Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            slack: Some(SlackChannel {
                workspace_id: "T0123ABCD".into(),
                channel_id: "C0123ABCDEF".into(),
            }),
            ..MonitoringProps::default()
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let (_, channel) = t.resources("AWS::Chatbot::SlackChannelConfiguration")[0];
    let p = &channel["Properties"];
    assert_eq!(
        (
            &p["SlackWorkspaceId"],
            &p["SlackChannelId"],
            &p["LoggingLevel"]
        ),
        (&json!("T0123ABCD"), &json!("C0123ABCDEF"), &json!("ERROR"))
    );
    assert_eq!(p["SnsTopicArns"].as_array().unwrap().len(), 1);
    let (_, role) = t.resources("AWS::IAM::Role")[0];
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "chatbot.amazonaws.com"})
    );
    assert_eq!(
        p["GuardrailPolicies"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/CloudWatchReadOnlyAccess"}])
    );

    for (workspace, channel, message) in [
        (
            "omc",
            "C0123ABCDEF",
            "Test/Bad: Slack workspace id \"omc\" is not one: it starts with 'T' followed by 8 to 20 upper-case letters or digits (AWS Chatbot console, workspace details)",
        ),
        (
            "T0123ABCD",
            "#alerts",
            "Test/Bad: Slack channel id \"#alerts\" is not one: it starts with 'C' (or 'G' for a private channel) followed by 8 to 20 upper-case letters or digits; the channel's name does not work",
        ),
    ] {
        let err = Monitoring::new(
            &stack,
            "Bad",
            MonitoringProps {
                slack: Some(SlackChannel {
                    workspace_id: workspace.into(),
                    channel_id: channel.into(),
                }),
                ..MonitoringProps::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidProp { .. }));
        assert_eq!(err.to_string(), message);
    }
    Ok(())
}

#[test]
fn scheduled_runs_that_cannot_start_go_to_an_encrypted_dead_letter_queue() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let task = job(
        &stack,
        ScheduleTrigger::Scheduler {
            time_zone: "UTC".into(),
        },
        true,
    );
    let t = Template::from_stack(&stack)?;
    let (queue_id, queue) = t.resources("AWS::SQS::Queue")[0];
    assert_eq!(queue["Properties"]["SqsManagedSseEnabled"], true);
    assert_eq!(queue["Properties"]["MessageRetentionPeriod"], 1_209_600);
    let (_, schedule) = t.resources("AWS::Scheduler::Schedule")[0];
    let target = &schedule["Properties"]["Target"];
    assert_eq!(
        target["DeadLetterConfig"],
        json!({"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}})
    );
    assert_eq!(target["EcsParameters"]["Group"], task.task_group());
    assert_eq!(task.task_group(), "scheduled-TestNightly");
    // The scheduler sends dead letters with the schedule's role: it may, to this queue only.
    let roles = t.resources("AWS::IAM::Role");
    let send: Vec<&Json> = roles
        .iter()
        .filter_map(|(_, r)| r["Properties"]["Policies"].as_array())
        .flatten()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .filter(|s| s["Action"] == "sqs:SendMessage")
        .collect();
    assert_eq!(
        send,
        [
            &json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}})
        ]
    );
    assert!(t.resources("AWS::SQS::QueuePolicy").is_empty());
    Ok(())
}

#[test]
fn rule_triggered_tasks_let_eventbridge_send_dead_letters_for_their_rule_only() -> TestResult {
    let (_app, stack) = testing::stack()?;
    job(&stack, ScheduleTrigger::EventBridgeRule, true);
    let t = Template::from_stack(&stack)?;
    let (queue_id, _) = t.resources("AWS::SQS::Queue")[0];
    let (rule_id, rule) = t.resources("AWS::Events::Rule")[0];
    let target = &rule["Properties"]["Targets"][0];
    assert_eq!(
        target["DeadLetterConfig"],
        json!({"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}})
    );
    assert_eq!(
        target["RetryPolicy"],
        json!({"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600})
    );
    let (_, policy) = t.resources("AWS::SQS::QueuePolicy")[0];
    assert_eq!(
        policy["Properties"]["PolicyDocument"]["Statement"][0]["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}})
    );
    Ok(())
}

#[test]
fn failed_scheduled_runs_and_dead_letters_alert_the_topic() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let task = job(
        &stack,
        ScheduleTrigger::Scheduler {
            time_zone: "UTC".into(),
        },
        true,
    );
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    task.add_alarms(&monitoring)?;
    let t = Template::from_stack(&stack)?;
    let (_, rule) = t.resources("AWS::Events::Rule")[0];
    let pattern = &rule["Properties"]["EventPattern"];
    assert_eq!(pattern["source"], json!(["aws.ecs"]));
    assert_eq!(pattern["detail-type"], json!(["ECS Task State Change"]));
    assert_eq!(pattern["detail"]["group"], json!(["scheduled-TestNightly"]));
    assert_eq!(pattern["detail"]["lastStatus"], json!(["STOPPED"]));
    assert_eq!(
        pattern["detail"]["$or"],
        json!([
            {"containers": {"exitCode": [{"anything-but": 0}]}},
            {"stopCode": ["TaskFailedToStart"]}
        ])
    );
    let (_, alarm) = t.resources("AWS::CloudWatch::Alarm")[0];
    let p = &alarm["Properties"];
    assert_eq!(
        (&p["Namespace"], &p["MetricName"], &p["Threshold"]),
        (
            &json!("AWS/SQS"),
            &json!("ApproximateNumberOfMessagesVisible"),
            &json!(1.0)
        )
    );

    // Without a dead-letter queue: the failed-run rule, no queue alarm.
    let (_app, stack) = testing::stack()?;
    let task = job(&stack, ScheduleTrigger::EventBridgeRule, false);
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    task.add_alarms(&monitoring)?;
    let t = Template::from_stack(&stack)?;
    assert!(t.resources("AWS::SQS::Queue").is_empty());
    assert!(t.resources("AWS::CloudWatch::Alarm").is_empty());
    assert_eq!(t.resources("AWS::Events::Rule").len(), 2);
    assert!(task.dead_letter_queue_arn().is_none());
    Ok(())
}

#[test]
fn guardduty_findings_of_medium_severity_and_config_non_compliance_alert_the_topic() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let baseline = SecurityBaseline::new(&stack, "Baseline", SecurityBaselineProps::new("trail"))?;
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    baseline.add_alerts(&monitoring)?;
    let t = Template::from_stack(&stack)?;
    let patterns: Vec<Json> = t
        .resources("AWS::Events::Rule")
        .into_iter()
        .map(|(_, r)| r["Properties"]["EventPattern"].clone())
        .collect();
    assert_eq!(
        patterns,
        [
            json!({"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"], "detail": {"severity": [{"numeric": [">=", 4]}]}}),
            json!({"source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"], "detail": {"messageType": ["ComplianceChangeNotification"], "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}}}),
        ]
    );
    Ok(())
}

#[test]
fn a_monthly_budget_alerts_the_topic_at_80_and_100_percent() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    let budget = Budget::new(
        &stack,
        "Budget",
        BudgetProps::new("omc-staging-monthly", 240, &monitoring),
    )?;
    assert_eq!(budget.budget_name(), "omc-staging-monthly");
    let t = Template::from_stack(&stack)?;
    let (_, resource) = t.resources("AWS::Budgets::Budget")[0];
    let p = &resource["Properties"];
    assert_eq!(
        p["Budget"],
        json!({"BudgetName": "omc-staging-monthly", "BudgetLimit": {"Amount": 240.0, "Unit": "USD"}, "BudgetType": "COST", "TimeUnit": "MONTHLY"})
    );
    let notifications: Vec<(String, f64)> = p["NotificationsWithSubscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(n["Subscribers"][0]["SubscriptionType"], "SNS");
            assert_eq!(n["Notification"]["ThresholdType"], "PERCENTAGE");
            (
                n["Notification"]["NotificationType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                n["Notification"]["Threshold"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        notifications,
        [
            ("ACTUAL".to_owned(), 80.0),
            ("ACTUAL".to_owned(), 100.0),
            ("FORECASTED".to_owned(), 100.0)
        ]
    );
    // Budgets may publish to the topic and use its key.
    assert!(
        topic_statements(&t)
            .iter()
            .any(|s| s["Principal"] == json!({"Service": "budgets.amazonaws.com"}))
    );
    assert!(key_services(&t).contains(&"budgets.amazonaws.com".to_owned()));

    for (props, message) in [
        (
            BudgetProps::new("omc", 0, &monitoring),
            "Test/Bad: monthly_limit_usd is 0: a budget of $0 would alert on the first cent: give the expected monthly cost plus a margin (the `cost` command estimates it)",
        ),
        (
            BudgetProps::new("omc:staging", 100, &monitoring),
            "Test/Bad: budget name \"omc:staging\" must be 1 to 100 characters without ':' or '\\'",
        ),
        (
            BudgetProps {
                actual_percent: vec![80, 0],
                ..BudgetProps::new("omc", 100, &monitoring)
            },
            "Test/Bad: threshold 0 % is out of range: give a percentage of the limit from 1 to 1000",
        ),
        (
            BudgetProps {
                actual_percent: Vec::new(),
                forecast_percent: None,
                ..BudgetProps::new("omc", 100, &monitoring)
            },
            "Test/Bad: a budget without thresholds (actual_percent empty, forecast_percent None) notifies nobody: give percentages of the limit, such as [80, 100], or a forecast_percent",
        ),
    ] {
        let err = Budget::new(&stack, "Bad", props).unwrap_err();
        assert!(matches!(err, Error::InvalidProp { .. }));
        assert_eq!(err.to_string(), message);
    }
    Ok(())
}

#[test]
fn service_task_count_alarms_need_container_insights() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let cluster = Cluster::new(
        &stack,
        "Cluster",
        ClusterProps {
            container_insights: ContainerInsights::Disabled,
            ..ClusterProps::new(&vpc)
        },
    )?;
    let service = FargateService::new(
        &stack,
        "Worker",
        FargateServiceProps::new(
            &cluster,
            vec![ContainerProps::new(
                "worker",
                ContainerImage::registry("public.ecr.aws/docker/library/busybox:1.36"),
            )],
        ),
    )?;
    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    let err = service.add_alarms(&monitoring).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }));
    assert_eq!(
        err.to_string(),
        "Test/Worker: the alarm on running tasks below the desired count needs Container Insights' RunningTaskCount and DesiredTaskCount, and the cluster Test/Cluster has container_insights: Disabled; enable it (ContainerInsights::Enabled) or do not add the service's alarms"
    );
    Ok(())
}
