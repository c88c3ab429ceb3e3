//! End-to-end test support for omc-cdk: the fixture apps every end-to-end test synthesizes, and
//! the pinned external tools (cfn-lint) they run.
//!
//! Every fixture's templates are snapshotted under `snapshots/` and linted with cfn-lint, so
//! adding a fixture here is enough to put its output under both checks.

pub mod constructs;
pub mod endpoints;
pub mod typed;

/// The README's examples compile.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

use std::path::{Path, PathBuf};

use omc_cdk::{
    App, AppSettings, CrossStackReferences, Environment, OutputProps, ParameterProps,
    ParameterType, RawResource, RemovalPolicy, Result, Stack, StackProps, TagFormat, Value, aws,
    fns,
};
use serde_json::json;

/// A named app that the end-to-end tests synthesize.
pub struct Fixture {
    /// The fixture's name, used in snapshot names.
    pub name: &'static str,
    /// Builds the app.
    pub build: fn() -> Result<App>,
}

/// Every fixture app.
pub const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "staging",
        build: apps::staging,
    },
    Fixture {
        name: "production",
        build: apps::production,
    },
    Fixture {
        name: "ci",
        build: apps::ci,
    },
    Fixture {
        name: "showcase",
        build: showcase,
    },
    Fixture {
        name: "weak-references",
        build: weak_references,
    },
    Fixture {
        name: "typed-resources",
        build: typed::typed_resources,
    },
    Fixture {
        name: "constructs",
        build: constructs::constructs,
    },
    Fixture {
        name: "constructs-defaults",
        build: constructs::constructs_defaults,
    },
    Fixture {
        name: "localstack-v1",
        build: || localstack_app("v1"),
    },
    Fixture {
        name: "localstack-v2",
        build: || localstack_app("v2"),
    },
    Fixture {
        name: "localstack-broken",
        build: || localstack_app("broken"),
    },
    // The toolkit stack `bootstrap` deploys: locked and linted like the apps.
    Fixture {
        name: "toolkit",
        build: || {
            omc_cdk::deploy::toolkit_app(omc_cdk::deploy::engine::TOOLKIT_STACK, None)
                .map(App::from)
        },
    },
];

/// The fixture with this name; `synthetic-<N>` is a synthetic app of about N resources and
/// `independent-<N>` an app of N stacks that do not depend on each other.
pub fn fixture(name: &str) -> Option<Result<App>> {
    if let Some(n) = name.strip_prefix("synthetic-") {
        return n.parse().ok().map(omc_cdk::testing::synthetic_app);
    }
    if let Some(n) = name.strip_prefix("independent-") {
        return n.parse().ok().map(independent_app);
    }
    if let Some(n) = name.strip_prefix("priced-") {
        return n.parse().ok().map(priced_app);
    }
    if name == "localstack-v3" {
        return Some(localstack_app("v3"));
    }
    FIXTURES
        .iter()
        .find(|f| f.name == name)
        .map(|f| (f.build)())
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The version of a Python tool pinned in `tools/requirements.txt`.
pub fn pinned_version(package: &str) -> Option<String> {
    let text = std::fs::read_to_string(workspace_root().join("tools/requirements.txt")).ok()?;
    text.lines().find_map(|line| {
        let (name, version) = line.split_once("==")?;
        (name.trim().eq_ignore_ascii_case(package)).then(|| version.trim().to_owned())
    })
}

/// The `cfn-lint` to run: `$OMC_CFN_LINT`, the project's tool environment (`.tools/venv`),
/// or the one on `PATH`.
pub fn cfn_lint() -> PathBuf {
    if let Some(path) = std::env::var_os("OMC_CFN_LINT") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".tools/venv/bin/cfn-lint");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("cfn-lint")
}

/// The `checkov` to run: `$OMC_CHECKOV`, the project's checkov environment (`.tools/checkov`,
/// which `scripts/test` installs from `tools/checkov-requirements.txt`), or the one on `PATH`.
pub fn checkov() -> PathBuf {
    if let Some(path) = std::env::var_os("OMC_CHECKOV") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".tools/checkov/bin/checkov");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("checkov")
}

/// The version pinned in `tools/checkov-requirements.txt`.
pub fn pinned_checkov_version() -> Option<String> {
    let text =
        std::fs::read_to_string(workspace_root().join("tools/checkov-requirements.txt")).ok()?;
    text.lines().find_map(|line| {
        let (name, version) = line.split_once("==")?;
        (name.trim() == "checkov").then(|| version.trim().to_owned())
    })
}

/// An app that uses every template feature the core renders (parameters, conditions,
/// mappings, every intrinsic, list attributes across stacks, overrides, policies), so cfn-lint
/// checks that each renders the way CloudFormation accepts.
pub fn showcase() -> Result<App> {
    let app = App::new().named("showcase", env!("CARGO_PKG_VERSION"));
    let mut tags = std::collections::BTreeMap::new();
    tags.insert("Project".to_owned(), "showcase".to_owned());

    let network = Stack::new(
        &app,
        "Showcase-Network",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            description: Some("A VPC whose list attribute crosses stacks".into()),
            tags: tags.clone(),
            ..StackProps::default()
        },
    )?;
    let vpc = network.child("Vpc")?.add(
        "Resource",
        RawResource::new("AWS::EC2::VPC")
            .property("CidrBlock", "10.20.0.0/16")
            .tags(TagFormat::KeyValueList("Tags".into())),
    )?;
    vpc.suppress(
        "vpc-flow-logs",
        "the showcase exercises template features for cfn-lint and is never deployed; its VPC carries no traffic",
    )?;

    let config = Stack::new(
        &app,
        "Showcase-Config",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            description: Some("Parameters, conditions, mappings and intrinsics".into()),
            tags,
            termination_protection: false,
            stage: None,
        },
    )?;
    let stage = config.add_parameter(
        "Stage",
        ParameterProps {
            allowed_values: vec!["staging".into(), "production".into()],
            default: Some("staging".into()),
            description: Some("Which environment this is".into()),
            ..ParameterProps::default()
        },
    )?;
    let retention = config.add_parameter(
        "RetentionDays",
        ParameterProps {
            parameter_type: ParameterType::Number,
            default: Some("30".into()),
            min_value: Some(1.0),
            max_value: Some(3653.0),
            ..ParameterProps::default()
        },
    )?;
    let is_production =
        config.add_condition("IsProduction", fns::equals(stage.value(), "production"))?;
    let in_eu = config.add_condition("InEurope", fns::equals(aws::region(), "eu-west-1"))?;
    let both = config.add_condition(
        "ProductionInEurope",
        fns::and([fns::condition(&is_production), fns::condition(&in_eu)]),
    )?;
    let sizes = config.add_mapping(
        "Sizes",
        json!({
            "staging": {"Shards": "1"},
            "production": {"Shards": "3"}
        }),
    )?;
    let logs = config.child("Logs")?.add(
        "Resource",
        RawResource::new("AWS::Logs::LogGroup")
            .property("RetentionInDays", retention.value_as_number())
            .property("LogGroupName", fns::sub("/showcase/${AWS::StackName}")),
    )?;
    logs.apply_removal_policy(RemovalPolicy::Retain);
    logs.suppress(
        "logs-kms-key",
        "the showcase exercises template features for cfn-lint and is never deployed; its log group receives no events",
    )?;
    let topic = config.child("Alerts")?.add(
        "Resource",
        RawResource::new("AWS::SNS::Topic")
            .property("KmsMasterKeyId", "alias/aws/sns")
            .property(
                "DisplayName",
                fns::if_(&is_production, Value::from("OMC alerts"), aws::no_value()),
            )
            .tags(TagFormat::KeyValueList("Tags".into())),
    )?;
    let zones = fns::get_azs(aws::region());
    config.child("Settings")?.add(
        "Resource",
        RawResource::new("AWS::SSM::Parameter")
            .property("Type", "String")
            .property(
                "Value",
                fns::join(
                    "|",
                    vec![
                        fns::select(0, zones),
                        sizes.find::<String>(stage.value(), "Shards"),
                        fns::base64(fns::sub_with(
                            "${Stage}-${Logs}-${AWS::AccountId}-${!Literal}",
                            [("Stage", stage.value()), ("Logs", logs.reference())],
                        )),
                        fns::select(1, fns::split(",", "a,b,c")),
                        fns::select(0, fns::cidr("10.20.0.0/16", 4, 8)),
                        fns::join(",", vpc.get_att_list("CidrBlockAssociations")),
                        fns::if_(&both, Value::from("eu-prod"), Value::from("other")),
                        topic.get_att::<String>("TopicName"),
                    ],
                ),
            )
            .tags(TagFormat::Map("Tags".into())),
    )?;
    let queue = config.child("Queue")?.add(
        "Resource",
        RawResource::new("AWS::SQS::Queue")
            .property("VisibilityTimeout", 30)
            .property("MessageRetentionPeriod", 1_209_600)
            .tags(TagFormat::KeyValueList("Tags".into())),
    )?;
    queue.add_property_override("SqsManagedSseEnabled", true);
    queue.add_property_deletion_override("MessageRetentionPeriod");
    queue.add_depends_on(&topic)?;
    config.add_output(
        "AlertsTopic",
        topic.reference(),
        OutputProps {
            description: Some("Where alarms go".into()),
            export_name: Some(fns::sub("${AWS::StackName}-alerts")),
            condition: Some(is_production.clone()),
        },
    )?;
    Ok(app)
}

/// Two stacks in different regions of one account, joined by a weak reference
/// (`Fn::GetStackOutput`) instead of an export.
pub fn weak_references() -> Result<App> {
    let app = App::with_settings(AppSettings {
        cross_stack_references: CrossStackReferences::Weak,
        ..AppSettings::default()
    })
    .named("weak-references", env!("CARGO_PKG_VERSION"));
    let shared = Stack::new(
        &app,
        "Weak-Shared",
        StackProps {
            env: Some(Environment::region("us-east-1")),
            ..StackProps::default()
        },
    )?;
    let topic = shared.add(
        "Topic",
        RawResource::new("AWS::SNS::Topic").property("KmsMasterKeyId", "alias/aws/sns"),
    )?;
    let consumer = Stack::new(
        &app,
        "Weak-Consumer",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )?;
    consumer.add(
        "TopicArn",
        RawResource::new("AWS::SSM::Parameter")
            .property("Type", "String")
            .property("Value", topic.reference()),
    )?;
    Ok(app)
}

/// The deploy tests' app on LocalStack: `Local-Network` exports a VPC id that `Local-Service`
/// imports; `variant` "v1", "v2" (the security group replaced, `Local-Service` under
/// termination protection, and `Local-Broken` fixed), "v3" (v2 without the protection) or
/// "broken" (`Local-Broken` has a subnet outside the VPC's range, so its create fails).
pub fn localstack_app(variant: &str) -> Result<App> {
    let app = App::new()
        .named("localstack", env!("CARGO_PKG_VERSION"))
        .with_schemas(omc_cfn::schema::find);
    let props = || StackProps {
        env: Some(Environment::region("us-east-1")),
        ..StackProps::default()
    };
    let v2 = matches!(variant, "v2" | "v3");
    let network = Stack::new(&app, "Local-Network", props())?;
    let vpc = network.add(
        "Vpc",
        RawResource::new("AWS::EC2::VPC")
            .property("CidrBlock", "10.30.0.0/16")
            .tags(TagFormat::KeyValueList("Tags".into())),
    )?;
    vpc.suppress(
        "vpc-flow-logs",
        "a fixture of the deploy engine's LocalStack tests; the VPC carries no traffic to record",
    )?;
    network.add_output("VpcId", vpc.reference(), OutputProps::default())?;
    let service = Stack::new(
        &app,
        "Local-Service",
        StackProps {
            termination_protection: variant == "v2",
            ..props()
        },
    )?;
    let group = service.add(
        "Group",
        RawResource::new("AWS::EC2::SecurityGroup")
            .property(
                "GroupDescription",
                if v2 { "service v2" } else { "service v1" },
            )
            .property("VpcId", vpc.reference()),
    )?;
    service.add(
        "Alerts",
        RawResource::new("AWS::SNS::Topic")
            .property("DisplayName", "alerts")
            .property("KmsMasterKeyId", "alias/aws/sns"),
    )?;
    service.add_output(
        "GroupId",
        group.get_att::<String>("GroupId"),
        OutputProps::default(),
    )?;
    if variant != "v1" {
        let broken = Stack::new(&app, "Local-Broken", props())?;
        // A subnet outside its VPC's range fails to create, on AWS and on LocalStack.
        let cidr = if variant == "broken" {
            "10.99.0.0/24"
        } else {
            "10.30.1.0/24"
        };
        broken.add(
            "Subnet",
            RawResource::new("AWS::EC2::Subnet")
                .property("CidrBlock", cidr)
                .property("VpcId", vpc.reference()),
        )?;
        let after = Stack::new(&app, "Local-AfterBroken", props())?;
        after.add_dependency(&broken, "deploys after Local-Broken")?;
        after.add(
            "Topic",
            RawResource::new("AWS::SNS::Topic")
                .property("DisplayName", "after")
                .property("KmsMasterKeyId", "alias/aws/sns"),
        )?;
    }
    Ok(app)
}

/// One stack, `Priced` in us-east-1, with `count` Elastic IPs ($3.65 a month each): what the
/// tests of `cost --diff` against deployed stacks deploy on moto.
pub fn priced_app(count: usize) -> Result<App> {
    let app = App::new()
        .named("priced", env!("CARGO_PKG_VERSION"))
        .with_stage(omc_cdk::Stage::Development);
    let stack = Stack::new(
        &app,
        "Priced",
        StackProps {
            env: Some(Environment::region("us-east-1")),
            ..StackProps::default()
        },
    )?;
    for i in 1..=count {
        stack.add(
            &format!("Address{i}"),
            RawResource::new("AWS::EC2::EIP").property("Domain", "vpc"),
        )?;
    }
    Ok(app)
}

/// `count` stacks that do not depend on each other (`Independent-01`, ...), each with a topic,
/// a queue and a parameter: what deploy runs in parallel (scripts/bench-deploy).
pub fn independent_app(count: usize) -> Result<App> {
    let app = App::new().named("independent", env!("CARGO_PKG_VERSION"));
    for i in 1..=count {
        let stack = Stack::new(&app, &format!("Independent-{i:02}"), StackProps::default())?;
        let topic = stack.add(
            "Topic",
            RawResource::new("AWS::SNS::Topic")
                .property("DisplayName", format!("topic {i}"))
                .property("KmsMasterKeyId", "alias/aws/sns"),
        )?;
        stack.add(
            "Queue",
            RawResource::new("AWS::SQS::Queue")
                .property("VisibilityTimeout", 60)
                .property("KmsMasterKeyId", "alias/aws/sqs"),
        )?;
        stack.add(
            "TopicArn",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", topic.reference()),
        )?;
    }
    Ok(app)
}
