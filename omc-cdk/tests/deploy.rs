//! The deploy engine against the scripted fake of the CloudFormation API: the behaviour no
//! local endpoint produces on demand (throttling, dropped connections, stuck stacks, resources
//! that fail), and the engine's own logic (ordering, skipping, approvals, parameters).
//! The flows that a local endpoint can show are also tested end to end against moto and
//! LocalStack in the `omc-tests` crate.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omc_cdk::deploy::api::{ApiError, ApiErrorKind, StoppedContainer, StoppedTask};
use omc_cdk::deploy::diff::{self, ChangeKind, Impact, Style};
use omc_cdk::deploy::engine::{
    Approval, Approver, Engine, Method, Outcome, ParameterOverride, PlannedStack, RunError,
    RunSummary, Settings, capabilities, check_parameters,
};
use omc_cdk::deploy::fake::FakeApi;
use omc_cdk::deploy::plan;
use omc_cdk::deploy::report::RecordingReporter;
use omc_cdk::deploy::retry::RetryPolicy;
use omc_cdk::{
    App, OutputProps, ParameterProps, RawResource, RemovalPolicy, Stack, StackProps, TagFormat,
};
use serde_json::json;

/// Network <- Data <- Services, and an independent Audit stack.
fn app(version: u32) -> App {
    let app = App::new();
    let props = || StackProps {
        tags: [("Team".to_owned(), "platform".to_owned())].into(),
        ..StackProps::default()
    };
    let network = Stack::new(&app, "Network", props()).unwrap();
    let vpc = network
        .add(
            "Vpc",
            RawResource::new("AWS::EC2::VPC")
                .property("CidrBlock", "10.0.0.0/16")
                .tags(TagFormat::KeyValueList("Tags".into())),
        )
        .unwrap();
    let data = Stack::new(&app, "Data", props()).unwrap();
    let db_sg = data
        .add(
            "DbSg",
            RawResource::new("AWS::EC2::SecurityGroup")
                .property("GroupDescription", "db")
                .property("VpcId", vpc.reference()),
        )
        .unwrap();
    let bucket = data
        .add("Files", RawResource::new("AWS::S3::Bucket"))
        .unwrap();
    bucket.apply_removal_policy(RemovalPolicy::Retain);
    let services = Stack::new(&app, "Services", props()).unwrap();
    services
        .add_parameter(
            "ImageTag",
            ParameterProps {
                default: Some("1.0".into()),
                ..ParameterProps::default()
            },
        )
        .unwrap();
    services
        .add(
            "Topic",
            RawResource::new("AWS::SNS::Topic").property("DisplayName", format!("v{version}")),
        )
        .unwrap();
    if version >= 2 {
        services
            .add(
                "Queue",
                RawResource::new("AWS::SQS::Queue").property("VisibilityTimeout", 60),
            )
            .unwrap();
    }
    if version < 3 {
        services
            .add(
                "Ingress",
                RawResource::new("AWS::EC2::SecurityGroupIngress")
                    .property("GroupId", db_sg.get_att::<String>("GroupId"))
                    .property("IpProtocol", "tcp")
                    .property("FromPort", 5432)
                    .property("ToPort", 5432)
                    .property("CidrIp", "10.0.0.0/16"),
            )
            .unwrap();
    }
    services
        .add_output("TopicName", "orders", OutputProps::default())
        .unwrap();
    let audit = Stack::new(&app, "Audit", props()).unwrap();
    audit
        .add(
            "Trail",
            RawResource::new("AWS::SNS::Topic").property("DisplayName", "audit"),
        )
        .unwrap();
    app
}

fn stacks(app: &App) -> Vec<PlannedStack> {
    plan(&app.synth_unchecked().unwrap(), &[], false, false).unwrap()
}

fn settings() -> Settings {
    Settings {
        yes: true,
        poll_interval: Duration::ZERO,
        retry: RetryPolicy {
            base: Duration::ZERO,
            ..RetryPolicy::default()
        },
        ..Settings::default()
    }
}

struct Scripted(Mutex<Vec<String>>, bool);

impl Approver for Scripted {
    fn approve(&self, stack: &str, summary: &str) -> bool {
        self.0.lock().unwrap().push(format!("{stack}: {summary}"));
        self.1
    }
}

fn engine(
    api: &Arc<FakeApi>,
    settings: Settings,
) -> (Arc<Engine<FakeApi>>, Arc<RecordingReporter>) {
    let reporter = RecordingReporter::new();
    let apis = BTreeMap::from([(String::new(), Arc::clone(api))]);
    let engine = Engine::new(
        apis,
        settings,
        reporter.clone(),
        Arc::new(Scripted(Mutex::new(Vec::new()), false)),
    );
    (engine, reporter)
}

fn deploy(api: &Arc<FakeApi>, settings: Settings, stacks: &[PlannedStack]) -> RunSummary {
    let (engine, _) = engine(api, settings);
    block(engine.deploy(stacks, std::future::pending())).unwrap()
}

/// The failure of a stack that failed.
fn failure<'s>(summary: &'s RunSummary, stack: &str) -> &'s omc_cdk::deploy::operation::Failure {
    outcome(summary, stack)
        .failure()
        .unwrap_or_else(|| panic!("{stack} did not fail: {summary:?}"))
}

fn block<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn outcome<'s>(summary: &'s RunSummary, stack: &str) -> &'s Outcome {
    &summary
        .results
        .iter()
        .find(|r| r.stack == stack)
        .unwrap()
        .outcome
}

#[test]
fn several_failures_are_all_reported_the_root_cause_first() {
    // LocalStack stops at the first failing resource and cancels nothing: the fake stands in.
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let db_sg = json!(planned[1].template)
        .as_str()
        .map(|t| {
            let t: serde_json::Value = serde_json::from_str(t).unwrap();
            t["Resources"]
                .as_object()
                .unwrap()
                .keys()
                .find(|k| k.starts_with("DbSg"))
                .unwrap()
                .clone()
        })
        .unwrap();
    let files = planned[1]
        .template
        .split('"')
        .find(|k| k.starts_with("Files"))
        .unwrap()
        .to_owned();
    // Two resources fail; CloudFormation cancels what was under way.
    api.fail_resource(&db_sg, "The vpc ID 'vpc-123' does not exist");
    api.fail_resource(&files, "Bucket name already exists");
    let summary = deploy(&api, settings(), &planned);
    assert!(!summary.is_success());
    let f = failure(&summary, "Data");
    assert_eq!(
        f.status.as_deref(),
        Some("ROLLBACK_COMPLETE (the next deploy deletes it and creates it again)")
    );
    let failed: Vec<(&str, bool, &str)> = f
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.root_cause, r.reason.as_str()))
        .collect();
    // The first failure in time is the root cause, and every failure is listed.
    assert_eq!(
        failed,
        [
            (db_sg.as_str(), true, "The vpc ID 'vpc-123' does not exist"),
            (files.as_str(), false, "Bucket name already exists"),
        ],
        "{f}"
    );
    // Construct paths come from the template's metadata.
    assert_eq!(f.resources[0].path.as_deref(), Some("Data/DbSg"));
    assert_eq!(
        f.stack_reasons,
        [format!(
            "The following resource(s) failed to create: [{db_sg}, {files}]. Rollback requested by user."
        )]
    );
    assert_eq!(
        f.to_string().lines().next(),
        Some("the create of Data failed")
    );
    assert_eq!(
        outcome(&summary, "Services"),
        &Outcome::Skipped {
            reason: "Data did not succeed".into()
        }
    );
    // Independent stacks are not held back.
    assert!(matches!(
        outcome(&summary, "Audit"),
        Outcome::Deployed { .. }
    ));
    assert_eq!(api.statuses()["Data"], "ROLLBACK_COMPLETE");
}

#[test]
fn transient_errors_are_retried_where_safe_and_reported_otherwise() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let throttled = ApiError::new(ApiErrorKind::Throttling, "Rate exceeded");
    // Throttling of reads and writes: retried (stands for CloudFormation's Rate exceeded).
    api.fail_next("describe_stack", &throttled, 3);
    api.fail_next("create_change_set", &throttled, 2);
    assert!(deploy(&api, settings(), &planned[..1]).is_success());

    // A dropped connection while executing: the change may have happened, so it is reported,
    // in one line, not retried (stands for a connection reset by the endpoint).
    let api = Arc::new(FakeApi::new());
    api.fail_next(
        "execute_change_set",
        &ApiError::new(
            ApiErrorKind::Connection,
            "cannot reach CloudFormation at https://cloudformation.us-east-1.amazonaws.com (connection reset)",
        ),
        1,
    );
    let summary = deploy(&api, settings(), &planned[..1]);
    assert_eq!(
        failure(&summary, "Network").to_string(),
        "cannot reach CloudFormation at https://cloudformation.us-east-1.amazonaws.com (connection reset)"
    );
    // Tried once: the change set may have started executing.
    assert_eq!(api.count_calls("execute_change_set"), 1);

    // Throttled until the retries run out: one line that says what to do.
    let api = Arc::new(FakeApi::new());
    api.fail_next("create_change_set", &throttled, 100);
    let summary = deploy(&api, settings(), &planned[..1]);
    assert_eq!(
        failure(&summary, "Network").to_string(),
        "Rate exceeded after 8 attempts; lower --concurrency or try again later"
    );
    assert_eq!(api.count_calls("create_change_set"), 8);
}

#[test]
fn stuck_stacks_are_explained() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned[..1]).is_success());
    // Stands for an update whose rollback failed on real CloudFormation.
    api.set_status("Network", "UPDATE_ROLLBACK_FAILED");
    let summary = deploy(&api, settings(), &stacks(&app(2))[..1]);
    let reason = failure(&summary, "Network").to_string();
    assert!(
        reason.contains("aws cloudformation continue-update-rollback --stack-name Network"),
        "{reason}"
    );
}

#[test]
fn concurrency_runs_independent_stacks_together_and_honours_dependencies() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let summary = deploy(
        &api,
        Settings {
            concurrency: 1,
            ..settings()
        },
        &planned,
    );
    assert!(summary.is_success());
    let executed: Vec<String> = api
        .calls()
        .into_iter()
        .filter(|(c, _)| c == "executed")
        .map(|(_, s)| s)
        .collect();
    // One at a time: plan order.
    assert_eq!(executed, ["Network", "Data", "Services", "Audit"]);
    // With room for two, Audit (independent) starts beside Network, before Data.
    let api = Arc::new(FakeApi::new());
    let summary = deploy(
        &api,
        Settings {
            concurrency: 2,
            ..settings()
        },
        &planned,
    );
    assert!(summary.is_success());
    let starts: Vec<String> = api
        .calls()
        .into_iter()
        .filter(|(c, _)| c == "create_change_set")
        .map(|(_, s)| s)
        .collect();
    let mut first_two = starts[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, ["Audit", "Network"]);
}

#[test]
fn broadening_changes_need_approval() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned[..2]).is_success());
    let approver = Arc::new(Scripted(Mutex::new(Vec::new()), false));
    let apis = BTreeMap::from([(String::new(), Arc::clone(&api))]);
    let reporter = RecordingReporter::new();
    let engine = Engine::new(
        apis,
        Settings {
            yes: false,
            approval: Approval::Broadening,
            ..settings()
        },
        reporter.clone(),
        approver.clone(),
    );
    // Services adds a security group ingress rule: declined, nothing executed.
    let summary = block(engine.deploy(&planned, std::future::pending())).unwrap();
    // The summary is printed once, then the live view steps aside for the question.
    let lines = reporter.lines();
    let summaries: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Services: change set:"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(summaries.len(), 1, "{lines:#?}");
    assert_eq!(
        lines[summaries[0] + 1..summaries[0] + 3],
        [": suspended", ": resumed"],
        "{lines:#?}"
    );
    assert_eq!(
        failure(&summary, "Services").to_string(),
        "not approved; deleted the change set"
    );
    let asked = approver.0.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].contains("AWS::EC2::SecurityGroupIngress"),
        "{asked:?}"
    );
    assert!(asked[0].contains("access may widen"), "{asked:?}");
    assert!(
        !api.statuses().contains_key("Services")
            || api.statuses()["Services"] == "REVIEW_IN_PROGRESS"
    );
}

#[test]
fn parameter_overrides_must_name_a_declared_parameter() {
    // The flows (values kept across deploys, --reset-parameters) run on LocalStack:
    // tests/tests/e2e/deploy_localstack.rs.
    let planned = stacks(&app(1));
    let templates: Vec<(String, serde_json::Value)> = planned
        .iter()
        .map(|s| (s.name.clone(), serde_json::from_str(&s.template).unwrap()))
        .collect();
    let templates = || templates.iter().map(|(n, t)| (n.as_str(), t));
    let overrides: Vec<ParameterOverride> = vec!["ImageTag=2.0".parse().unwrap()];
    check_parameters(templates(), &overrides).unwrap();
    check_parameters(templates(), &["Services:ImageTag=2.0".parse().unwrap()]).unwrap();
    let err = check_parameters(templates(), &["Missing=1".parse().unwrap()]).unwrap_err();
    assert_eq!(
        err,
        "--parameters Missing: no selected stack declares a parameter \"Missing\""
    );
    let err = check_parameters(templates(), &["Network:ImageTag=1".parse().unwrap()]).unwrap_err();
    assert_eq!(
        err,
        "--parameters Network:ImageTag: stack Network (or not among the selected stacks) declares no parameter \"ImageTag\""
    );
    assert_eq!(
        "bad".parse::<ParameterOverride>().unwrap_err(),
        "parameter \"bad\" is not NAME=VALUE or STACK:NAME=VALUE"
    );
}

#[test]
fn destroy_names_what_the_deployed_template_keeps() {
    // The order and the no-op second destroy run on moto and LocalStack; what is kept comes
    // from the deployed template, which the local one may contradict.
    let api = Arc::new(FakeApi::new());
    let mut planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned).is_success());
    planned[1].template = planned[1].template.replace("\"Retain\"", "\"Delete\"");
    assert!(!planned[1].template.contains("Retain\""));
    let (destroyer, _) = engine(&api, settings());
    let summary = block(destroyer.destroy(&planned, std::future::pending())).unwrap();
    assert!(summary.is_success(), "{summary:?}");
    let Outcome::Destroyed { retained, changes } = outcome(&summary, "Data") else {
        panic!()
    };
    assert_eq!(changes.deleted, 2);
    assert_eq!(retained.len(), 1);
    assert!(retained[0].starts_with("Files") && retained[0].ends_with("(AWS::S3::Bucket)"));
}

#[test]
fn an_interrupted_run_says_what_cloudformation_is_still_doing() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let (engine, _) = engine(
        &api,
        Settings {
            poll_interval: Duration::from_millis(20),
            ..settings()
        },
    );
    let summary = block(async {
        engine
            .deploy(&planned, tokio::time::sleep(Duration::from_millis(30)))
            .await
            .unwrap()
    });
    let active = summary.interrupted.clone().unwrap();
    assert!(!active.is_empty(), "{summary:?}");
    assert!(!summary.is_success());
}

#[test]
fn capabilities_come_from_the_template() {
    assert!(capabilities(&json!({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})).is_empty());
    assert_eq!(
        capabilities(&json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}})),
        ["CAPABILITY_IAM"]
    );
    assert_eq!(
        capabilities(
            &json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}})
        ),
        ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    );
    assert_eq!(
        capabilities(&json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}})),
        ["CAPABILITY_AUTO_EXPAND"]
    );
}

#[test]
fn diffs_mark_replacements_stateful_resources_and_access() {
    fn lookup(type_name: &str) -> Option<&'static omc_cdk::schema::ResourceSchema> {
        static SCHEMAS: std::sync::OnceLock<Vec<omc_cdk::schema::ResourceSchema>> =
            std::sync::OnceLock::new();
        let all = SCHEMAS.get_or_init(|| {
            omc_cdk::schema::parse_registry(
                "AWS::RDS::DBInstance\tTags:S\tDBInstanceClass:,DBName:A,Engine:rC,Tags:\tEndpoint.Address\n",
            )
            .unwrap()
        });
        all.iter().find(|s| s.type_name == type_name)
    }
    let old = json!({"Resources": {
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBName": "app", "DBInstanceClass": "db.t3.micro"}},
        "Logs": {"Type": "AWS::S3::Bucket"},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": []}}
    }});
    let new = json!({"Resources": {
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBName": "omc", "DBInstanceClass": "db.t3.small"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p"}]}},
        "Topic": {"Type": "AWS::SNS::Topic"}
    }, "Outputs": {"Url": {"Value": "x"}}});
    let d = diff::diff_templates(&old, &new, Some(lookup));
    let db = d.resources.iter().find(|r| r.logical_id == "Db").unwrap();
    assert_eq!(db.impact, Impact::Replace);
    assert!(db.loses_data());
    let logs = d.resources.iter().find(|r| r.logical_id == "Logs").unwrap();
    assert_eq!(logs.kind, ChangeKind::Removed);
    assert!(logs.loses_data());
    assert!(d.broadens_access());
    assert_eq!(d.other, [("Outputs/Url".to_owned(), ChangeKind::Added)]);
    let text = diff::render("Data", &d, Style { color: false });
    assert_eq!(
        text,
        "Stack Data\n\
         [~] AWS::RDS::DBInstance Db  (replaces the resource; STATEFUL RESOURCE REPLACED: its data is lost unless it is retained)\n\
         \x20   [~] DBInstanceClass: \"db.t3.micro\" -> \"db.t3.small\"\n\
         \x20   [~] DBName: \"app\" -> \"omc\"  replaces\n\
         [-] AWS::S3::Bucket Logs  (STATEFUL RESOURCE REMOVED: its data is deleted unless it is retained)\n\
         [~] AWS::IAM::Role Role  (may replace the resource (type unknown); security change)\n\
         \x20   [~] Policies: [] -> [{\"PolicyName\":\"p\"}]\n\
         [+] AWS::SNS::Topic Topic\n\
         [+] Outputs/Url\n"
    );
    assert_eq!(
        diff::render(
            "Same",
            &diff::diff_templates(&new, &new, None),
            Style { color: false }
        ),
        "Stack Same\nThere were no differences\n"
    );
}

#[test]
fn a_panicking_stack_task_fails_its_stack_and_the_run_ends() {
    // Stands for any bug that panics inside a stack's task: the run must not hang. Every
    // stack exists, so the redeploy reads templates; the first read (Network's, at
    // concurrency 1) panics.
    let planned = stacks(&app(1));
    let api = Arc::new(FakeApi::new());
    assert!(deploy(&api, settings(), &planned).is_success());
    api.panic_on("get_template");
    let summary = deploy(
        &api,
        Settings {
            concurrency: 1,
            ..settings()
        },
        &stacks(&app(2)),
    );
    let f = failure(&summary, "Network");
    assert!(
        f.summary.starts_with(
            "internal error: the stack's task panicked (scripted panic in get_template)"
        ),
        "{f}"
    );
    assert_eq!(f.stack, "Network");
    // The stacks that need it are skipped, the others carry on, and the run ends.
    assert_eq!(
        outcome(&summary, "Data"),
        &Outcome::Skipped {
            reason: "Network did not succeed".into()
        }
    );
    assert_eq!(
        outcome(&summary, "Services"),
        &Outcome::Skipped {
            reason: "Data did not succeed".into()
        }
    );
    assert!(matches!(
        outcome(&summary, "Audit"),
        Outcome::Unchanged { .. }
    ));
}

#[test]
fn a_stack_deleted_while_it_deploys_is_a_failure() {
    // Stands for another person or pipeline deleting the stack meanwhile.
    let api = Arc::new(FakeApi::new());
    assert!(deploy(&api, settings(), &stacks(&app(1))).is_success());
    api.vanish_during_operation("Services");
    let summary = deploy(&api, settings(), &stacks(&app(2)));
    let f = failure(&summary, "Services");
    assert_eq!(
        f.summary,
        "Services was deleted while it was being deployed (by another deploy or a person?); nothing of it remains"
    );
    assert!(matches!(
        outcome(&summary, "Network"),
        Outcome::Unchanged { .. }
    ));
}

#[test]
fn following_survives_transient_errors_and_says_when_it_loses_track() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let reset = ApiError::new(ApiErrorKind::Connection, "connection reset");
    // Five failed reads of the events while the stack deploys: retried, then it carries on.
    api.fail_next("stack_events", &reset, 5);
    let summary = deploy(&api, settings(), &planned[..1]);
    assert!(
        matches!(
            outcome(&summary, "Network"),
            Outcome::Deployed { created: true, .. }
        ),
        "{summary:?}"
    );
    // An error that retrying cannot fix (the session expired mid-deploy): the end is
    // unknown, not failed, and CloudFormation goes on.
    let api = Arc::new(FakeApi::new());
    api.fail_next(
        "stack_events",
        &ApiError::new(ApiErrorKind::Credentials, "the credentials have expired"),
        1,
    );
    let summary = deploy(&api, settings(), &planned[..1]);
    let Outcome::Unknown { status, reason } = outcome(&summary, "Network") else {
        panic!("{summary:?}")
    };
    assert_eq!(status, "IN_PROGRESS");
    assert!(
        reason.starts_with("lost track of Network while CloudFormation was at IN_PROGRESS (the credentials have expired)"),
        "{reason}"
    );
    assert!(!summary.is_success());
    assert_eq!(api.statuses()["Network"], "CREATE_IN_PROGRESS");
}

/// Network with an ECS service, as the failure Fargate users meet most.
fn ecs_app() -> App {
    let app = App::new();
    let stack = Stack::new(&app, "Web", StackProps::default()).unwrap();
    stack
        .child("Api")
        .unwrap()
        .add(
            "Service",
            RawResource::new("AWS::ECS::Service").property("DesiredCount", 1),
        )
        .unwrap();
    stack
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    app
}

#[test]
fn a_failed_ecs_service_says_why_its_tasks_stopped() {
    // ECS tasks that stopped cannot be produced on a local endpoint: the fake stands in.
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&ecs_app());
    let service = planned[0]
        .template
        .split('"')
        .find(|k| k.starts_with("ApiService"))
        .unwrap()
        .to_owned();
    api.fail_resource(
        &service,
        "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.\"",
    );
    let task = |id: &str, at: i64, reason: &str, containers: Vec<StoppedContainer>| StoppedTask {
        arn: format!("arn:aws:ecs:us-east-1:123456789012:task/fake-cluster/{id}"),
        stopped_at_millis: at,
        stop_code: Some("TaskFailedToStart".into()),
        stopped_reason: Some(reason.into()),
        containers,
    };
    api.set_stopped_tasks(
        &service,
        vec![
            task("old", 1_000, "Scaling activity initiated by deployment", vec![]),
            task(
                "pull",
                3_000,
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.2.3: not found",
                vec![StoppedContainer {
                    name: "api".into(),
                    exit_code: None,
                    reason: Some("CannotPullContainerError: not found".into()),
                    health: None,
                }],
            ),
            task(
                "exit",
                2_000,
                "Essential container in task exited",
                vec![StoppedContainer {
                    name: "api".into(),
                    exit_code: Some(1),
                    reason: None,
                    health: Some("UNHEALTHY".into()),
                }],
            ),
            task("oldest", 500, "Task stopped by user", vec![]),
        ],
    );
    let summary = deploy(&api, settings(), &planned);
    let f = failure(&summary, "Web");
    let text = f.to_string();
    let block: Vec<&str> = text.lines().collect();
    assert_eq!(
        block,
        [
            "the create of Web failed",
            "stack:        Web",
            "final status: ROLLBACK_COMPLETE (the next deploy deletes it and creates it again)",
            &format!(
                "stack reason: The following resource(s) failed to create: [{service}]. Rollback requested by user."
            ),
            "failed resources: 2",
            &format!(
                "1. CREATE_FAILED  AWS::ECS::Service  {service}  (Web/Api/Service)  <- root cause"
            ),
            "   Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.\"",
            "   stopped task pull at 00:00:03 UTC (TaskFailedToStart): CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.2.3: not found",
            "     container api: CannotPullContainerError: not found",
            "   stopped task exit at 00:00:02 UTC (TaskFailedToStart): Essential container in task exited",
            "     container api: exit code 1; health check UNHEALTHY",
            "   stopped task old at 00:00:01 UTC (TaskFailedToStart): Scaling activity initiated by deployment",
            "2. CREATE_FAILED  AWS::SNS::Topic  Topic  (Web/Topic)",
            "   Resource creation cancelled",
        ]
    );
    // The service's cluster comes from its ARN.
    assert_eq!(api.count("stopped_tasks", &service), 1);
}

#[test]
fn a_stack_reason_is_the_root_cause_when_no_resource_failed() {
    // CloudFormation refuses to delete a stack whose export another stack imports, with a
    // reason of the stack's own. LocalStack deletes it regardless: the fake stands in.
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned).is_success());
    let reason = "Export Network:ExportsOutputRefVpc8378EB38272D6E3A cannot be deleted as it is in use by Data";
    api.fail_delete("Network", reason);
    let (destroyer, _) = engine(&api, settings());
    let network = plan(
        &app(1).synth_unchecked().unwrap(),
        &["Network".into()],
        true,
        true,
    )
    .unwrap();
    let summary = block(destroyer.destroy(&network, std::future::pending())).unwrap();
    let f = failure(&summary, "Network");
    assert_eq!(f.root_cause().as_deref(), Some(reason));
    let text = f.to_string();
    assert!(text.starts_with(&format!(
        "the delete of Network failed\nstack:        Network\nfinal status: DELETE_FAILED\nstack reason: {reason}\nfailed resources: none (the stack reason above is the cause)\nNetwork is DELETE_FAILED"
    )), "{text}");
}

#[test]
fn termination_protection_follows_the_stack_when_update_stack_has_nothing_to_do() {
    // With a hidden (NoEcho) value given on every run, the engine cannot tell that nothing
    // changed; UpdateStack says so. The protection flag is applied all the same. (The
    // LocalStack tests cover the change-set paths; this one needs a NoEcho fixture and the
    // direct method's "No updates" answer.)
    let app = App::new();
    let stack = Stack::new(&app, "Db", StackProps::default()).unwrap();
    let password = stack
        .add_parameter(
            "Password",
            ParameterProps {
                no_echo: true,
                ..ParameterProps::default()
            },
        )
        .unwrap();
    stack
        .add(
            "Secret",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", password.value()),
        )
        .unwrap();
    let mut planned = stacks(&app);
    let direct = || Settings {
        method: Method::Direct,
        parameters: vec!["Password=hunter2".parse().unwrap()],
        ..settings()
    };
    let api = Arc::new(FakeApi::new());
    assert!(deploy(&api, direct(), &planned).is_success());
    assert_eq!(api.termination_protection("Db"), Some(false));
    planned[0].termination_protection = true;
    let (engine, reporter) = engine(&api, direct());
    let summary = block(engine.deploy(&planned, std::future::pending())).unwrap();
    assert!(
        matches!(outcome(&summary, "Db"), Outcome::Unchanged { .. }),
        "{summary:?}"
    );
    assert_eq!(api.count("update_stack", "Db"), 1);
    assert_eq!(api.termination_protection("Db"), Some(true));
    assert!(
        reporter
            .lines()
            .contains(&"Db: termination protection turned on".to_owned()),
        "{:#?}",
        reporter.lines()
    );
    // --no-execute says what it would do and does nothing.
    planned[0].termination_protection = false;
    let summary = deploy(
        &api,
        Settings {
            execute: false,
            ..settings()
        },
        &planned,
    );
    assert!(summary.is_success(), "{summary:?}");
    assert_eq!(api.termination_protection("Db"), Some(true));
}

#[test]
fn the_stacks_execution_role_reaches_every_operation_and_the_manifest() {
    // A stack with an execution role: CloudFormation changes its resources with that role, on
    // the change-set and the direct paths alike; a stack without one sends none.
    let app = App::new();
    let roled = Stack::new(&app, "Roled", StackProps::default()).unwrap();
    roled
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    let role = omc_cdk::arn::RoleArn::new("arn:aws:iam::123456789012:role/Omc-cfn-exec").unwrap();
    roled.set_execution_role(&role).unwrap();
    let plain = Stack::new(&app, "Plain", StackProps::default()).unwrap();
    plain
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    let synthesis = app.synth_unchecked().unwrap();
    assert_eq!(
        synthesis.stack("Roled").unwrap().execution_role(),
        Some("arn:aws:iam::123456789012:role/Omc-cfn-exec")
    );
    let dir = tempfile::tempdir().unwrap();
    synthesis.write(dir.path()).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    let entries = manifest["stacks"].as_array().unwrap();
    let entry = |name: &str| entries.iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!(
        entry("Roled")["executionRoleArn"],
        "arn:aws:iam::123456789012:role/Omc-cfn-exec"
    );
    assert!(entry("Plain").get("executionRoleArn").is_none());

    let planned = stacks(&app);
    for method in [Method::ChangeSet, Method::Direct] {
        let api = Arc::new(FakeApi::new());
        let summary = deploy(
            &api,
            Settings {
                method,
                ..settings()
            },
            &planned,
        );
        assert!(summary.is_success(), "{summary:?}");
        assert_eq!(
            api.role_arn("Roled").as_deref(),
            Some("arn:aws:iam::123456789012:role/Omc-cfn-exec"),
            "{method:?}"
        );
        assert_eq!(api.role_arn("Plain"), None, "{method:?}");
    }

    // A role created in the same app is a token: deploy could not pass it.
    let role_resource = roled
        .add("Exec", RawResource::new("AWS::IAM::Role"))
        .unwrap();
    let token = omc_cdk::arn::RoleArn::new(role_resource.get_att::<String>("Arn")).unwrap();
    let err = plain.set_execution_role(&token).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Plain: the execution role must be a literal role ARN"),
        "{err}"
    );
}

#[test]
fn parameters_without_a_value_stop_the_run_before_anything_changes() {
    // Network has nothing to ask; Services has a tag without a default. Without the tag,
    // nothing is created (not even Network, which comes first), and every missing parameter
    // is named.
    let app = App::new();
    let network = Stack::new(&app, "Network", StackProps::default()).unwrap();
    network
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    let services = Stack::new(&app, "Services", StackProps::default()).unwrap();
    for name in ["BackendImageTag", "FrontendImageTag"] {
        let tag = services
            .add_parameter(name, ParameterProps::default())
            .unwrap();
        services
            .add(
                &format!("{name}Value"),
                RawResource::new("AWS::SSM::Parameter")
                    .property("Type", "String")
                    .property("Value", tag.value()),
            )
            .unwrap();
    }
    services.add_dependency(&network, "order").unwrap();
    let planned = stacks(&app);
    let api = Arc::new(FakeApi::new());
    let (first, _) = engine(&api, settings());
    let refused = block(first.deploy(&planned, std::future::pending()));
    let Err(RunError::Parameters(missing)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        missing,
        [
            "Services: parameter BackendImageTag has no default and no deployed value; pass --parameters Services:BackendImageTag=VALUE",
            "Services: parameter FrontendImageTag has no default and no deployed value; pass --parameters Services:FrontendImageTag=VALUE",
        ]
    );
    assert_eq!(api.count_calls("create_change_set"), 0);
    assert_eq!(api.statuses(), BTreeMap::new());

    // Given once, kept by the next deploy that does not name them.
    let given = || Settings {
        parameters: vec![
            "BackendImageTag=1a2b3c4".parse().unwrap(),
            "FrontendImageTag=1a2b3c4".parse().unwrap(),
        ],
        ..settings()
    };
    assert!(deploy(&api, given(), &planned).is_success());
    assert!(deploy(&api, settings(), &planned).is_success());
    assert_eq!(api.parameters("Services")["BackendImageTag"], "1a2b3c4");
    // A stack left ROLLBACK_COMPLETE is created again: its values do not count.
    api.set_status("Services", "ROLLBACK_COMPLETE");
    let (rolled_back, _) = engine(&api, settings());
    let refused = block(rolled_back.deploy(&planned, std::future::pending()));
    assert!(
        matches!(&refused, Err(RunError::Parameters(missing)) if missing.len() == 2),
        "{refused:?}"
    );
    assert_eq!(api.statuses()["Services"], "ROLLBACK_COMPLETE");
    api.set_status("Services", "UPDATE_COMPLETE");
    // --reset-parameters has no default to fall back to: refused before anything changes.
    let (reset, _) = engine(
        &api,
        Settings {
            reset_parameters: true,
            ..settings()
        },
    );
    let refused = block(reset.deploy(&planned, std::future::pending()));
    let Err(RunError::Parameters(missing)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        missing[0],
        "Services: parameter BackendImageTag has no default (--reset-parameters drops the deployed value); pass --parameters Services:BackendImageTag=VALUE"
    );
}

#[test]
fn outputs_missing_right_after_completion_are_read_again() {
    // LocalStack has reported a stack complete before its outputs: the engine reads it again
    // while an output the template declares is missing, instead of reporting none.
    let app = App::new();
    let stack = Stack::new(&app, "Network", StackProps::default()).unwrap();
    stack
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    stack
        .add_output("VpcId", "vpc-0123", OutputProps::default())
        .unwrap();
    let planned = stacks(&app);
    let api = Arc::new(FakeApi::new());
    api.lag_outputs("Network", 2);
    let summary = deploy(&api, settings(), &planned);
    let Outcome::Deployed { outputs, .. } = outcome(&summary, "Network") else {
        panic!("{summary:?}")
    };
    assert_eq!(
        outputs,
        &BTreeMap::from([("VpcId".to_owned(), "vpc-0123".to_owned())])
    );

    // An endpoint that never shows them: the deploy still succeeds, without them.
    let api = Arc::new(FakeApi::new());
    api.lag_outputs("Network", 100);
    let summary = deploy(&api, settings(), &planned);
    let Outcome::Deployed { outputs, .. } = outcome(&summary, "Network") else {
        panic!("{summary:?}")
    };
    assert!(outputs.is_empty(), "{outputs:?}");
}
