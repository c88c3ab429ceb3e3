//! Cost estimates: each priced resource kind against the price table and the assumptions,
//! resources the table does not know, and `cost --diff` between two synth outputs.
#![allow(clippy::needless_pass_by_value)] // json! takes its values by reference
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unreadable_literal,
    clippy::similar_names
)]

use std::collections::BTreeMap;

use omc_cdk::check::StackInput;
use omc_cdk::cost::{self, Assumptions, CostError, Estimate, PriceTable};
use omc_cdk::{App, Environment, RawResource, Stack, StackProps, Stage};
use serde_json::{Value as Json, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn estimate_with(resources: Json, assumptions: &Assumptions) -> Estimate {
    let template = json!({ "Resources": resources });
    let inputs = [StackInput {
        name: "Stack",
        template: &template,
        stage: Stage::Production,
        paths: None,
    }];
    cost::estimate(
        &inputs,
        &["us-east-1".to_owned()],
        &BTreeMap::new(),
        assumptions,
    )
    .expect("us-east-1 has a table")
}

fn estimate(resources: Json) -> Estimate {
    estimate_with(resources, &Assumptions::default())
}

fn price(key: &str) -> f64 {
    PriceTable::built_in("us-east-1")
        .expect("table")
        .get(key)
        .unwrap_or_else(|| panic!("no price {key}"))
        .price
}

/// The monthly cost of one resource, and the price keys of its lines.
fn one(resources: Json, id: &str) -> (f64, Vec<String>) {
    let e = estimate(resources);
    let r = e.stacks[0]
        .resources
        .iter()
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {e:#?}"));
    assert!(r.not_priced.is_none(), "{r:?}");
    (
        r.monthly(),
        r.lines.iter().map(|l| l.price_key.clone()).collect(),
    )
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 0.005, "{a} != {b}");
}

#[test]
fn nat_gateways_and_public_addresses() {
    let (monthly, keys) = one(
        json!({ "Nat": { "Type": "AWS::EC2::NatGateway", "Properties": {} } }),
        "Nat",
    );
    close(
        monthly,
        730.0 * price("nat_gateway.hour") + 10.0 * price("nat_gateway.gb"),
    );
    assert_eq!(keys, ["nat_gateway.hour", "nat_gateway.gb"]);
    let (monthly, _) = one(
        json!({ "Ip": { "Type": "AWS::EC2::EIP", "Properties": {} } }),
        "Ip",
    );
    close(monthly, 730.0 * 0.005);
}

#[test]
fn nat_data_follows_the_assumption() {
    let mut assumptions = Assumptions::default();
    assumptions.set("nat_gb", 100.0).expect("a known key");
    let e = estimate_with(
        json!({ "Nat": { "Type": "AWS::EC2::NatGateway", "Properties": {} } }),
        &assumptions,
    );
    close(e.monthly(), 730.0 * 0.045 + 100.0 * 0.045);
    assert!(e.render_table().contains("nat_gb = 100 (default 10)"));
}

#[test]
fn load_balancers_pay_hours_lcus_and_public_addresses() {
    let (monthly, keys) = one(
        json!({ "Lb": { "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": { "Subnets": ["a", "b", "c"] } } }),
        "Lb",
    );
    close(
        monthly,
        730.0 * 0.0225 + 730.0 * 0.008 + 3.0 * 730.0 * 0.005,
    );
    assert_eq!(keys, ["alb.hour", "alb.lcu.hour", "public_ipv4.hour"]);
    let (internal, _) = one(
        json!({ "Lb": { "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": { "Scheme": "internal" } } }),
        "Lb",
    );
    close(internal, 730.0 * 0.0225 + 730.0 * 0.008);
}

fn task_definition(cpu: &str, memory: &str, arm: bool) -> Json {
    let mut props = json!({ "Cpu": cpu, "Memory": memory, "RequiresCompatibilities": ["FARGATE"] });
    if arm {
        props["RuntimePlatform"] = json!({ "CpuArchitecture": "ARM64" });
    }
    json!({ "Type": "AWS::ECS::TaskDefinition", "Properties": props })
}

#[test]
fn fargate_services_pay_for_their_tasks_all_month() {
    let (monthly, keys) = one(
        json!({ "Task": task_definition("512", "1024", false),
                "Svc": { "Type": "AWS::ECS::Service", "Properties": { "LaunchType": "FARGATE", "DesiredCount": 2, "TaskDefinition": { "Ref": "Task" } } } }),
        "Svc",
    );
    close(monthly, 2.0 * 730.0 * (0.5 * 0.04048 + 1.0 * 0.004445));
    assert_eq!(keys, ["fargate.x86.vcpu.hour", "fargate.x86.gb.hour"]);
    // Graviton, and autoscaling: the minimum runs all month.
    let (monthly, keys) = one(
        json!({ "Task": task_definition("1024", "2048", true),
                "Svc": { "Type": "AWS::ECS::Service", "Properties": { "DesiredCount": 5, "TaskDefinition": { "Ref": "Task" } } },
                "Scaling": { "Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
                    "MinCapacity": 3, "MaxCapacity": 6, "ResourceId": { "Fn::GetAtt": ["Svc", "Name"] } } } }),
        "Svc",
    );
    close(monthly, 3.0 * 730.0 * (1.0 * 0.03238 + 2.0 * 0.00356));
    assert_eq!(keys, ["fargate.arm.vcpu.hour", "fargate.arm.gb.hour"]);
}

#[test]
fn container_insights_pays_for_its_metrics() {
    let (monthly, keys) = one(
        json!({ "Cluster": { "Type": "AWS::ECS::Cluster", "Properties": { "ClusterSettings": [{ "Name": "containerInsights", "Value": "enabled" }] } },
                "A": { "Type": "AWS::ECS::Service", "Properties": { "Cluster": { "Ref": "Cluster" } } },
                "B": { "Type": "AWS::ECS::Service", "Properties": { "Cluster": { "Ref": "Cluster" } } } }),
        "Cluster",
    );
    close(monthly, (11.0 + 2.0 * 13.0) * 0.30);
    assert_eq!(keys, ["cloudwatch.metric.month"]);
    let e = estimate(json!({ "Plain": { "Type": "AWS::ECS::Cluster", "Properties": {} } }));
    assert!(
        e.stacks[0].resources.is_empty(),
        "a cluster without Container Insights is free"
    );
}

#[test]
fn scheduled_tasks_pay_for_their_runs() {
    let (monthly, _) = one(
        json!({ "Task": task_definition("256", "512", false),
                "Every15": { "Type": "AWS::Scheduler::Schedule", "Properties": {
                    "ScheduleExpression": "rate(15 minutes)", "FlexibleTimeWindow": { "Mode": "OFF" },
                    "Target": { "Arn": "cluster", "RoleArn": "role", "EcsParameters": { "TaskDefinitionArn": { "Ref": "Task" } } } } } }),
        "Every15",
    );
    // 2,920 runs of 10 minutes.
    close(
        monthly,
        2920.0 * 10.0 / 60.0 * (0.25 * 0.04048 + 0.5 * 0.004445),
    );
}

/// Runs a month the estimate counts for a scheduled 0.25 vCPU task, from its vCPU line
/// (runs × 10 minutes × 0.25 vCPU); the resource must be priced.
fn scheduled_runs(expression: &str) -> f64 {
    let e = estimate(json!({ "Task": task_definition("256", "512", false),
            "Job": { "Type": "AWS::Scheduler::Schedule", "Properties": {
                "ScheduleExpression": expression, "FlexibleTimeWindow": { "Mode": "OFF" },
                "Target": { "Arn": "cluster", "RoleArn": "role", "EcsParameters": { "TaskDefinitionArn": { "Ref": "Task" } } } } } }));
    let job = e.stacks[0]
        .resources
        .iter()
        .find(|r| r.logical_id == "Job")
        .unwrap_or_else(|| panic!("{expression}: the schedule is not listed"));
    assert!(job.not_priced.is_none(), "{expression}: {job:?}");
    assert!(job.lines[0].description.contains(expression), "{job:?}");
    job.lines[0].quantity / (10.0 / 60.0 * 0.25)
}

#[test]
fn schedules_with_last_weekday_and_nth_are_priced() {
    // Counted over 2027, which starts on a Friday and is not a leap year.
    for (expression, runs_a_year) in [
        // The last day of every month: 12.
        ("cron(0 3 L * ? *)", 12.0),
        // The last Friday of every month (Jan 29, Feb 26, Mar 26, Apr 30, May 28, Jun 25,
        // Jul 30, Aug 27, Sep 24, Oct 29, Nov 26, Dec 31): 12.
        ("cron(0 9 ? * 6L *)", 12.0),
        // The second Tuesday of every month: 12.
        ("cron(0 9 ? * 3#2 *)", 12.0),
        // The weekday nearest the 15th, in every month (May 14 for Saturday the 15th, Aug 16
        // for Sunday the 15th): 12.
        ("cron(0 9 15W * ? *)", 12.0),
        // The last weekday of every month (Jan 29 for Sunday the 31st, Jul 30 for Saturday
        // the 31st): 12.
        ("cron(0 9 LW * ? *)", 12.0),
        // Twice on the last weekday: 24.
        ("cron(0 9,21 LW * ? *)", 24.0),
        // A fifth Monday: only March, May, August and November have one: 4.
        ("cron(0 9 ? * 2#5 *)", 4.0),
        // L alone in day-of-week is Saturday: 52 (2027 has 53 Fridays, 52 Saturdays).
        ("cron(0 9 ? * L *)", 52.0),
        // The weekday nearest the 31st: only the seven months with a 31st: 7.
        ("cron(0 9 31W * ? *)", 7.0),
        // The last Friday of the first quarter: 3.
        ("cron(0 9 ? JAN-MAR FRIL *)", 3.0),
    ] {
        let runs = scheduled_runs(expression);
        assert!(
            (runs - runs_a_year / 12.0).abs() < 1e-9,
            "{expression}: {runs} runs a month, not {runs_a_year} / 12"
        );
    }
}

#[test]
fn schedules_the_parser_rejects_are_not_priced_and_say_why() {
    let e = estimate(json!({ "Task": task_definition("256", "512", false),
            "Job": { "Type": "AWS::Scheduler::Schedule", "Properties": {
                "ScheduleExpression": "cron(0 9 1,L * ? *)", "FlexibleTimeWindow": { "Mode": "OFF" },
                "Target": { "Arn": "cluster", "RoleArn": "role", "EcsParameters": { "TaskDefinitionArn": { "Ref": "Task" } } } } } }));
    let reason = e.stacks[0].resources[0].not_priced.as_deref();
    assert_eq!(
        reason,
        Some(
            "schedule cron(0 9 1,L * ? *): cron field day-of-month (\"1,L\") is not valid; it takes 1-31, with ',', '-', '/' and '*', or alone '?', 'L' (the last day), 'LW' (the last weekday) or nW (the weekday nearest day n, such as 15W)"
        )
    );
}

#[test]
fn databases_caches_and_file_systems() {
    let (single, keys) = one(
        json!({ "Db": { "Type": "AWS::RDS::DBInstance", "Properties": { "Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20" } } }),
        "Db",
    );
    close(single, 730.0 * 0.018 + 20.0 * 0.115);
    assert_eq!(
        keys,
        ["rds.postgres.db.t3.micro.hour", "rds.storage.gp.gb_month"]
    );
    let (multi, _) = one(
        json!({ "Db": { "Type": "AWS::RDS::DBInstance", "Properties": { "Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": 50, "MultiAZ": true } } }),
        "Db",
    );
    close(multi, 2.0 * (730.0 * 0.018 + 50.0 * 0.115));
    let (cache, _) = one(
        json!({ "Cache": { "Type": "AWS::ElastiCache::ReplicationGroup", "Properties": { "CacheNodeType": "cache.t3.micro", "NumCacheClusters": 2 } } }),
        "Cache",
    );
    close(cache, 2.0 * 730.0 * 0.017);
    let (files, _) = one(
        json!({ "Fs": { "Type": "AWS::EFS::FileSystem", "Properties": {} } }),
        "Fs",
    );
    close(files, 5.0 * 0.30);
}

#[test]
fn eks_control_plane_and_node_groups() {
    let (plane, _) = one(
        json!({ "Eks": { "Type": "AWS::EKS::Cluster", "Properties": {} } }),
        "Eks",
    );
    close(plane, 73.0);
    let (system, _) = one(
        json!({ "System": { "Type": "AWS::EKS::Nodegroup", "Properties": { "InstanceTypes": ["t3.medium"],
            "ScalingConfig": { "MinSize": 1, "DesiredSize": 1, "MaxSize": 1 } } } }),
        "System",
    );
    close(system, 730.0 * 0.0416 + 20.0 * 0.10);
    // Scaled from zero: the assumed node-hours.
    let (runners, _) = one(
        json!({ "Runners": { "Type": "AWS::EKS::Nodegroup", "Properties": { "InstanceTypes": ["t3.large"], "DiskSize": 50,
            "ScalingConfig": { "MinSize": 0, "DesiredSize": 0, "MaxSize": 10 } } } }),
        "Runners",
    );
    close(runners, 100.0 * 0.0832 + 50.0 * 0.10 * 100.0 / 730.0);
    // Booting from a launch template: its root volume, not DiskSize (which EKS refuses then).
    let (booted, lines) = one(
        json!({
            "Template": { "Type": "AWS::EC2::LaunchTemplate", "Properties": { "LaunchTemplateData": {
                "BlockDeviceMappings": [{ "DeviceName": "/dev/xvda",
                    "Ebs": { "VolumeSize": 50, "VolumeType": "gp3", "Encrypted": true } }] } } },
            "Runners": { "Type": "AWS::EKS::Nodegroup", "Properties": { "InstanceTypes": ["t3.large"],
                "LaunchTemplate": { "Id": { "Ref": "Template" }, "Version": { "Fn::GetAtt": ["Template", "LatestVersionNumber"] } },
                "ScalingConfig": { "MinSize": 0, "DesiredSize": 0, "MaxSize": 10 } } }
        }),
        "Runners",
    );
    close(booted, 100.0 * 0.0832 + 50.0 * 0.08 * 100.0 / 730.0);
    assert!(lines.contains(&"ebs.gp3.gb_month".to_owned()), "{lines:?}");
}

#[test]
fn monitoring_secrets_keys_and_the_security_baseline() {
    let e = estimate(json!({
        "Alarm": { "Type": "AWS::CloudWatch::Alarm", "Properties": {} },
        "Dash": { "Type": "AWS::CloudWatch::Dashboard", "Properties": {} },
        "Secret": { "Type": "AWS::SecretsManager::Secret", "Properties": {} },
        "Key": { "Type": "AWS::KMS::Key", "Properties": {} },
        "Logs": { "Type": "AWS::Logs::LogGroup", "Properties": { "RetentionInDays": 30 } },
        "Guard": { "Type": "AWS::GuardDuty::Detector", "Properties": { "Enable": true } },
        "Recorder": { "Type": "AWS::Config::ConfigurationRecorder", "Properties": {} },
        "Rule": { "Type": "AWS::Config::ConfigRule", "Properties": {} },
        "Bucket": { "Type": "AWS::S3::Bucket", "Properties": {} },
        "Trail": { "Type": "AWS::CloudTrail::Trail", "Properties": {} }
    }));
    let by_id: BTreeMap<&str, f64> = e.stacks[0]
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.monthly()))
        .collect();
    close(by_id["Alarm"], 0.10);
    close(by_id["Dash"], 3.00);
    close(by_id["Secret"], 0.40);
    close(by_id["Key"], 1.00);
    close(by_id["Logs"], 0.50 + 1.0 * 30.0 * 12.0 / 365.0 * 0.03);
    close(by_id["Guard"], 4.0 + 5.0);
    close(by_id["Recorder"], 1000.0 * 0.003);
    close(by_id["Rule"], 100.0 * 0.001);
    close(by_id["Bucket"], 5.0 * 0.023);
    // The first trail's management events are free: not listed.
    assert!(!by_id.contains_key("Trail"));
}

#[test]
fn free_resources_are_left_out_and_unknown_ones_are_not_priced() {
    let e = estimate(json!({
        "Vpc": { "Type": "AWS::EC2::VPC", "Properties": {} },
        "Role": { "Type": "AWS::IAM::Role", "Properties": {} },
        "Fn": { "Type": "AWS::Lambda::Function", "Properties": {} },
        "Db": { "Type": "AWS::RDS::DBInstance", "Properties": { "Engine": "postgres", "DBInstanceClass": "db.x2iedn.32xlarge" } }
    }));
    let listed: Vec<(&str, Option<&str>)> = e.stacks[0]
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.not_priced.as_deref()))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].0, "Fn");
    assert!(
        listed[0]
            .1
            .is_some_and(|r| r.contains("AWS::Lambda::Function"))
    );
    assert!(
        listed[1]
            .1
            .is_some_and(|r| r.contains("rds.postgres.db.x2iedn.32xlarge.hour")),
        "{listed:?}"
    );
    let table = e.render_table();
    assert!(
        table.contains("not priced  Stack/Fn (AWS::Lambda::Function)"),
        "{table}"
    );
    close(e.monthly(), 0.0);
}

#[test]
fn bad_assumptions_and_missing_regions_are_clear_errors() {
    let mut a = Assumptions::default();
    let err = a.apply("nat=5").expect_err("no assumption nat");
    assert!(
        matches!(&err, CostError::UnknownAssumption { key, known } if key == "nat" && known.contains(&"nat_gb")),
        "{err:?}"
    );
    assert!(err.to_string().contains("nat_gb"), "{err}");
    assert!(matches!(
        a.apply("nat_gb=lots"),
        Err(CostError::AssumptionNumber { value, .. }) if value == "lots"
    ));
    assert_eq!(
        a.apply("nat_gb=lots").map_err(|e| e.to_string()),
        Err("\"nat_gb=lots\": \"lots\" is not a number".to_owned())
    );
    assert!(matches!(
        a.apply("nat_gb=-1"),
        Err(CostError::AssumptionValue { value, .. }) if value < 0.0
    ));
    assert!(
        a.apply("nat_gb")
            .is_err_and(|e| matches!(e, CostError::AssumptionSyntax { .. })
                && e.to_string().contains("KEY=VALUE"))
    );
    let template = json!({ "Resources": {} });
    let inputs = [StackInput {
        name: "S",
        template: &template,
        stage: Stage::Production,
        paths: None,
    }];
    let err = cost::estimate(&inputs, &["ap-south-2".to_owned()], &BTreeMap::new(), &a)
        .expect_err("no table for ap-south-2");
    assert!(
        matches!(&err, CostError::NoPriceTable { region, known } if region == "ap-south-2" && known == &["us-east-1"]),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("ap-south-2") && message.contains("--region"),
        "{message}"
    );
    assert!(matches!(
        cost::estimate(&inputs, &[], &BTreeMap::new(), &a),
        Err(CostError::RegionCount {
            stacks: 1,
            regions: 0
        })
    ));
    let agnostic = omc_cdk::cost::estimate_in_regions(&[(inputs[0], None)], None, None, &a);
    assert!(matches!(agnostic, Err(CostError::NoRegion { stack }) if stack == "S"));
    for (table, expected) in [
        (
            "{",
            "prices.json is not JSON: EOF while parsing an object at line 1 column 1",
        ),
        (
            r#"{"currency": "EUR"}"#,
            "prices.json: prices must be in USD, not \"EUR\"",
        ),
        (
            r#"{"currency": "USD"}"#,
            "prices.json: the table has no \"prices\" object",
        ),
        (
            r#"{"currency": "USD", "prices": {"x": {"price": -1}}}"#,
            "prices.json: x has the price -1, which is not a price",
        ),
        (
            r#"{"currency": "USD", "prices": {"x": {"price": 1}}}"#,
            "prices.json: x has no \"unit\" string",
        ),
    ] {
        let err = PriceTable::parse(table, "prices.json").expect_err(table);
        assert_eq!(err.to_string(), expected);
    }
    assert!(matches!(
        PriceTable::parse("{", "prices.json"),
        Err(CostError::PriceTableJson { .. })
    ));
}

fn app(with_database: bool) -> Result<App, omc_cdk::Error> {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Shop",
        StackProps {
            env: Some(Environment::region("us-east-1")),
            ..StackProps::default()
        },
    )?;
    stack
        .child("Nat")?
        .add("Resource", RawResource::new("AWS::EC2::NatGateway"))?;
    if with_database {
        stack.child("Db")?.add(
            "Resource",
            RawResource::new("AWS::RDS::DBInstance")
                .property("Engine", "postgres")
                .property("DBInstanceClass", "db.t3.micro")
                .property("AllocatedStorage", "20")
                .property("StorageEncrypted", true),
        )?;
    }
    Ok(app)
}

fn run(app: &App, args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut argv = vec!["shop"];
    argv.extend_from_slice(args);
    let code = app.run_with(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("utf-8"),
        String::from_utf8(err).expect("utf-8"),
    )
}

#[test]
fn cost_diff_between_two_synth_outputs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let before = dir.path().join("before");
    app(false)?.synth_unchecked()?.write(&before)?;
    let after = app(true)?;
    let (code, out, err) = run(
        &after,
        &[
            "cost",
            "--diff",
            "--against",
            before.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Monthly cost: $33.30 -> $48.74 (+$15.44)\n"),
        "{out}"
    );
    assert!(
        out.contains("+$15.44  Shop/Db/Resource (AWS::RDS::DBInstance) added [Shop]"),
        "{out}"
    );

    let (code, json, _) = run(
        &after,
        &[
            "cost",
            "--diff",
            "--against",
            before.to_str().unwrap_or_default(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let json: Json = serde_json::from_str(&json)?;
    assert_eq!(json["change"], 15.44);
    assert_eq!(json["before"]["monthly"], 33.3);

    // No change: the same app against its own output.
    let same = dir.path().join("same");
    after.synth_unchecked()?.write(&same)?;
    let (_, out, _) = run(
        &after,
        &[
            "cost",
            "--diff",
            "--against",
            same.to_str().unwrap_or_default(),
        ],
    );
    assert!(
        out.contains("(+$0.00)") && out.contains("no resource changes cost"),
        "{out}"
    );
    Ok(())
}

#[test]
fn the_cost_command_prints_a_table_json_and_clear_errors() -> TestResult {
    let app = app(true)?;
    let (code, table, _) = run(&app, &["cost"]);
    assert_eq!(code, 0);
    assert!(table.contains("Shop (us-east-1)"), "{table}");
    assert!(table.contains("$48.74  total a month"), "{table}");
    assert!(table.contains("[rds.postgres.db.t3.micro.hour]"), "{table}");
    assert!(
        table.contains("Prices: omc-cdk/pricing/us-east-1.json"),
        "{table}"
    );
    let (_, json, _) = run(&app, &["cost", "--format", "json", "--assume", "nat_gb=0"]);
    let json: Json = serde_json::from_str(&json)?;
    assert_eq!(json["monthly"], 48.29);
    let (code, _, err) = run(&app, &["cost", "--assume", "bandwidth=5"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("there is no assumption \"bandwidth\""),
        "{err}"
    );
    let (code, _, err) = run(&app, &["cost", "--region", "eu-west-3"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no price table for region \"eu-west-3\""),
        "{err}"
    );
    Ok(())
}

#[test]
fn cost_diff_labels_added_removed_and_not_priced_resources() {
    let before = estimate(json!({
        "Ip": { "Type": "AWS::EC2::EIP", "Properties": {} },
        "Cluster": { "Type": "AWS::ECS::Cluster", "Properties": { "ClusterSettings": [{ "Name": "containerInsights", "Value": "enabled" }] } }
    }));
    let after = estimate(json!({
        "Cluster": { "Type": "AWS::ECS::Cluster", "Properties": {} },
        "Fn": { "Type": "AWS::Lambda::Function", "Properties": {} },
        "Nat": { "Type": "AWS::EC2::NatGateway", "Properties": {} }
    }));
    let diff = cost::CostDiff::between(&before, &after);
    let changes: Vec<(&str, &str)> = diff
        .resources
        .iter()
        .map(|r| (r.path.as_str(), r.change))
        .collect();
    // The cluster still exists (only free now): changed, not removed.
    assert_eq!(
        changes,
        [
            ("Stack/Cluster", "changed"),
            ("Stack/Fn", "not priced"),
            ("Stack/Ip", "removed"),
            ("Stack/Nat", "added"),
        ]
    );
    let text = diff.render();
    assert!(
        text.contains("         ?  Stack/Fn (AWS::Lambda::Function) not priced [Stack]"),
        "{text}"
    );
}

#[test]
fn a_stack_of_free_resources_costs_zero_not_minus_zero() {
    // f64's `Sum` starts at -0.0; a stack of roles alone printed "$-0.00".
    let e = estimate(json!({"Role": {"Type": "AWS::IAM::Role", "Properties": {}}}));
    assert!(e.monthly().is_sign_positive(), "{}", e.monthly());
    let table = e.render_table();
    assert!(table.contains("$0.00  total Stack"), "{table}");
    assert!(!table.contains("-0.00"), "{table}");
}
