//! The deploy engine against the scripted fake of the CloudFormation API: the behaviour no
//! local endpoint produces on demand (throttling, dropped connections, stuck stacks, resources
//! that fail), and the engine's own logic (ordering, skipping, approvals, parameters).
//! The flows that a local endpoint can show are also tested end to end against moto and
//! LocalStack in the `omc-tests` crate.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omc_cdk::deploy::api::{ApiError, ApiErrorKind};
use omc_cdk::deploy::cli::plan;
use omc_cdk::deploy::diff::{self, ChangeKind, Impact, Style};
use omc_cdk::deploy::engine::{
    Approval, Approver, Engine, Method, Outcome, ParameterOverride, PlannedStack, RunSummary,
    Settings, capabilities, check_parameters,
};
use omc_cdk::deploy::fake::FakeApi;
use omc_cdk::deploy::report::RecordingReporter;
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
    plan(&app.synth().unwrap(), &[], false, false).unwrap()
}

fn settings() -> Settings {
    Settings {
        yes: true,
        poll_interval: Duration::ZERO,
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
    block(engine.deploy(stacks, std::future::pending()))
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
fn first_deploy_creates_every_stack_in_dependency_order() {
    let api = Arc::new(FakeApi::new());
    let summary = deploy(&api, settings(), &stacks(&app(1)));
    assert!(summary.is_success(), "{summary:?}");
    for stack in ["Network", "Data", "Services", "Audit"] {
        assert!(
            matches!(
                outcome(&summary, stack),
                Outcome::Deployed { created: true, .. }
            ),
            "{stack}: {:?}",
            outcome(&summary, stack)
        );
    }
    assert_eq!(
        outcome(&summary, "Services").outputs().unwrap()["TopicName"],
        "orders"
    );
    // A stack starts only after the stacks it needs are complete.
    let executed: Vec<String> = api
        .calls()
        .into_iter()
        .filter(|(c, _)| c == "executed")
        .map(|(_, s)| s)
        .collect();
    let position = |s: &str| executed.iter().position(|e| e == s).unwrap();
    assert!(position("Network") < position("Data"));
    assert!(position("Data") < position("Services"));
    assert_eq!(
        api.statuses().values().collect::<Vec<_>>(),
        ["CREATE_COMPLETE"; 4]
    );
}

#[test]
fn a_redeploy_without_changes_makes_two_calls_per_stack() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned).is_success());
    api.reset_calls();
    let summary = deploy(&api, settings(), &planned);
    assert!(summary.is_success());
    for stack in ["Network", "Data", "Services", "Audit"] {
        assert!(matches!(
            outcome(&summary, stack),
            Outcome::Unchanged { .. }
        ));
        let calls: Vec<String> = api
            .calls()
            .into_iter()
            .filter(|(_, s)| s == stack)
            .map(|(c, _)| c)
            .collect();
        assert_eq!(calls, ["describe_stack", "get_template"], "{stack}");
    }
    assert_eq!(api.count("create_change_set", "Services"), 0);
}

#[test]
fn an_update_adds_modifies_and_removes_and_summarizes_it() {
    let api = Arc::new(FakeApi::new());
    assert!(deploy(&api, settings(), &stacks(&app(1))).is_success());
    let (engine, reporter) = engine(&api, settings());
    let summary = block(engine.deploy(&stacks(&app(3)), std::future::pending()));
    assert!(summary.is_success(), "{summary:?}");
    assert!(matches!(
        outcome(&summary, "Services"),
        Outcome::Deployed { created: false, .. }
    ));
    assert!(matches!(
        outcome(&summary, "Network"),
        Outcome::Unchanged { .. }
    ));
    let lines = reporter.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Services: change set: 1 to add, 1 to modify, 1 to remove")),
        "{lines:#?}"
    );
    let template = api.template("Services").unwrap();
    assert!(template.contains("AWS::SQS::Queue") && !template.contains("SecurityGroupIngress"));
}

#[test]
fn a_failed_create_reports_the_root_cause_skips_dependents_and_recovers() {
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
    api.fail_resource(&db_sg, "The vpc ID 'vpc-123' does not exist");
    let summary = deploy(&api, settings(), &planned);
    assert!(!summary.is_success());
    let Outcome::Failed { reason } = outcome(&summary, "Data") else {
        panic!("{summary:?}");
    };
    assert!(
        reason.starts_with(&format!(
            "CREATE_FAILED {db_sg} (AWS::EC2::SecurityGroup): The vpc ID 'vpc-123' does not exist\nstack status: ROLLBACK_COMPLETE"
        )),
        "{reason}"
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

    // The next deploy deletes the rolled-back stack and creates it again.
    api.clear_failures();
    let (engine, reporter) = engine(&api, settings());
    let summary = block(engine.deploy(&planned, std::future::pending()));
    assert!(summary.is_success(), "{summary:?}");
    assert!(matches!(
        outcome(&summary, "Data"),
        Outcome::Deployed { created: true, .. }
    ));
    assert!(
        reporter
            .lines()
            .iter()
            .any(|l| l.contains("ROLLBACK_COMPLETE after a failed create: deleting it"))
    );
}

#[test]
fn no_execute_creates_change_sets_only() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let summary = deploy(
        &api,
        Settings {
            execute: false,
            ..settings()
        },
        &planned[..1],
    );
    assert!(matches!(
        outcome(&summary, "Network"),
        Outcome::ChangeSetCreated { .. }
    ));
    assert_eq!(api.statuses()["Network"], "REVIEW_IN_PROGRESS");
    assert_eq!(api.count("executed", "Network"), 0);
    // A later deploy creates the stack from there.
    let summary = deploy(&api, settings(), &planned[..1]);
    assert!(
        matches!(
            outcome(&summary, "Network"),
            Outcome::Deployed { created: true, .. }
        ),
        "{summary:?}"
    );
}

#[test]
fn transient_errors_are_retried_where_safe_and_reported_otherwise() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    let throttled = ApiError {
        kind: ApiErrorKind::Throttling,
        code: Some("Throttling".into()),
        message: "Rate exceeded".into(),
    };
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
            "cannot reach the CloudFormation endpoint (connection reset)",
        ),
        1,
    );
    let summary = deploy(&api, settings(), &planned[..1]);
    assert_eq!(
        outcome(&summary, "Network"),
        &Outcome::Failed {
            reason: "cannot reach the CloudFormation endpoint (connection reset)".into()
        }
    );
    assert_eq!(
        api.count("execute_change_set", summary.results[0].stack.as_str()),
        0
    );

    // Missing credentials: one clear line.
    let api = Arc::new(FakeApi::new());
    api.fail_next(
        "describe_stack",
        &ApiError::new(
            ApiErrorKind::Credentials,
            "no usable AWS credentials (no providers in chain provided credentials); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        ),
        1,
    );
    let summary = deploy(&api, settings(), &planned[..1]);
    let Outcome::Failed { reason } = outcome(&summary, "Network") else {
        panic!()
    };
    assert!(reason.starts_with("no usable AWS credentials"), "{reason}");
    assert_eq!(reason.lines().count(), 1);
}

#[test]
fn stuck_stacks_are_explained() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned[..1]).is_success());
    // Stands for an update whose rollback failed on real CloudFormation.
    api.set_status("Network", "UPDATE_ROLLBACK_FAILED");
    let summary = deploy(&api, settings(), &stacks(&app(2))[..1]);
    let Outcome::Failed { reason } = outcome(&summary, "Network") else {
        panic!()
    };
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
    let engine = Engine::new(
        apis,
        Settings {
            yes: false,
            approval: Approval::Broadening,
            ..settings()
        },
        RecordingReporter::new(),
        approver.clone(),
    );
    // Services adds a security group ingress rule: declined, nothing executed.
    let summary = block(engine.deploy(&planned, std::future::pending()));
    assert_eq!(
        outcome(&summary, "Services"),
        &Outcome::Failed {
            reason: "not approved; deleted the change set".into()
        }
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
fn parameters_are_checked_and_passed() {
    let planned = stacks(&app(1));
    let overrides: Vec<ParameterOverride> = vec!["ImageTag=2.0".parse().unwrap()];
    check_parameters(&planned, &overrides).unwrap();
    let err = check_parameters(&planned, &["Missing=1".parse().unwrap()]).unwrap_err();
    assert_eq!(
        err,
        "--parameters Missing: no selected stack declares a parameter \"Missing\""
    );
    assert!("bad".parse::<ParameterOverride>().is_err());
    let api = Arc::new(FakeApi::new());
    let summary = deploy(
        &api,
        Settings {
            parameters: vec!["Services:ImageTag=2.0".parse().unwrap()],
            ..settings()
        },
        &planned,
    );
    assert!(summary.is_success());
    // The same template with another parameter value is a change.
    api.reset_calls();
    let summary = deploy(&api, settings(), &planned);
    assert!(matches!(
        outcome(&summary, "Services"),
        Outcome::Deployed { created: false, .. }
    ));
    assert_eq!(api.count("executed", "Services"), 1);
}

#[test]
fn direct_method_creates_and_updates_without_change_sets() {
    let api = Arc::new(FakeApi::new());
    let summary = deploy(
        &api,
        Settings {
            method: Method::Direct,
            ..settings()
        },
        &stacks(&app(1)),
    );
    assert!(summary.is_success(), "{summary:?}");
    assert_eq!(api.count("create_stack", "Network"), 1);
    assert_eq!(api.count("create_change_set", "Network"), 0);
}

#[test]
fn large_templates_go_through_the_toolkit_bucket() {
    let app = App::new();
    let stack = Stack::new(&app, "Big", StackProps::default()).unwrap();
    for i in 0..300 {
        stack
            .add(
                &format!("Topic{i}"),
                RawResource::new("AWS::SNS::Topic").property("DisplayName", "x".repeat(150)),
            )
            .unwrap();
    }
    let planned = stacks(&app);
    assert!(planned[0].template.len() > 51_200);
    let api = Arc::new(FakeApi::new());
    let summary = deploy(&api, settings(), &planned);
    let Outcome::Failed { reason } = outcome(&summary, "Big") else {
        panic!()
    };
    assert!(
        reason.contains("run `bootstrap` once per account and region, or pass --bucket NAME"),
        "{reason}"
    );
    // Bootstrap, then deploy again.
    let toolkit =
        omc_cdk::deploy::cli::toolkit_app("OmcCdkToolkit", Some("omc-templates")).unwrap();
    let toolkit_stacks = stacks(&toolkit);
    assert!(deploy(&api, settings(), &toolkit_stacks).is_success());
    let summary = deploy(&api, settings(), &planned);
    assert!(summary.is_success(), "{summary:?}");
    let uploads = api.uploads();
    let key = format!("fake-BucketName/omc-cdk/Big/{}.json", planned[0].sha256);
    assert_eq!(uploads.keys().collect::<Vec<_>>(), [&key]);
}

#[test]
fn destroy_goes_in_reverse_order_and_names_what_is_kept() {
    let api = Arc::new(FakeApi::new());
    let planned = stacks(&app(1));
    assert!(deploy(&api, settings(), &planned).is_success());
    api.reset_calls();
    let (destroyer, _) = engine(&api, settings());
    let summary = block(destroyer.destroy(&planned, std::future::pending()));
    assert!(summary.is_success(), "{summary:?}");
    let deleted: Vec<String> = api
        .calls()
        .into_iter()
        .filter(|(c, _)| c == "delete_stack")
        .map(|(_, s)| s.split('/').nth(1).unwrap_or_default().to_owned())
        .collect();
    let position = |s: &str| deleted.iter().position(|e| e == s).unwrap();
    assert!(position("Services") < position("Data"));
    assert!(position("Data") < position("Network"));
    let Outcome::Destroyed { retained } = outcome(&summary, "Data") else {
        panic!()
    };
    assert_eq!(retained.len(), 1);
    assert!(retained[0].starts_with("Files") && retained[0].ends_with("(AWS::S3::Bucket)"));
    assert!(api.statuses().is_empty());
    // Nothing left: destroying again is a no-op.
    let (engine, _) = engine(&api, settings());
    let summary = block(engine.destroy(&planned, std::future::pending()));
    assert!(
        summary
            .results
            .iter()
            .all(|r| r.outcome == Outcome::NotDeployed)
    );
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
