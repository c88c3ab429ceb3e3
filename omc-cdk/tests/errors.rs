//! Bad input gets a clear error naming the construct path, the bad value and the fix.
#![allow(clippy::panic, clippy::unwrap_used)]

use omc_cdk::{
    App, AppSettings, CrossStackReferences, Environment, Error, OutputProps, ParameterProps,
    ProblemKind, RawResource, Stack, StackProps, fns,
};

fn bucket() -> RawResource {
    RawResource::new("AWS::S3::Bucket")
}

fn synth_problems(app: &App) -> Vec<omc_cdk::Problem> {
    match app.synth_unchecked() {
        Err(Error::Synthesis(problems)) => problems,
        Err(other) => panic!("expected synthesis problems, got {other}"),
        Ok(_) => panic!("expected synthesis to fail"),
    }
}

#[test]
fn duplicate_construct_id() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    stack.child("Db").unwrap();
    let err = stack.child("Db").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data/Db: a construct with id \"Db\" already exists in this scope; give the new construct a different id"
    );
    let scope = stack.child("Cache").unwrap();
    scope.add("Resource", bucket()).unwrap();
    let err = scope.add("Resource", bucket()).unwrap_err();
    assert!(matches!(err, Error::DuplicateConstructId { .. }));
    assert!(
        err.to_string().starts_with("Data/Cache/Resource: "),
        "{err}"
    );
}

#[test]
fn duplicate_logical_id_names_both_paths() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let a = stack.add("A", bucket()).unwrap();
    let b = stack.add("B", bucket()).unwrap();
    a.override_logical_id("Shared").unwrap();
    let err = b.override_logical_id("Shared").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data/B: logical id \"Shared\" is already used by Data/A; give one of them a different construct id or override its logical id"
    );
    // Non-alphanumeric characters vanish from derived ids, so "A-1" and "A1" collide.
    stack.add("A1", bucket()).unwrap();
    let err = stack.add("A-1", bucket()).unwrap_err();
    assert!(
        err.to_string()
            .contains("Data/A-1: logical id \"A1\" is already used by Data/A1"),
        "{err}"
    );
}

#[test]
fn invalid_logical_ids_say_why() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let r = stack.add("Db", bucket()).unwrap();
    let err = r.override_logical_id("my-db").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data/Db: logical id \"my-db\" is invalid: '-' is not allowed; logical ids contain only ASCII letters and digits"
    );
    let err = stack.add("..", bucket()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Data/..: logical id \"\" is invalid: it is empty"),
        "{err}"
    );
    let err = stack.child("a/b").unwrap_err();
    assert!(
        err.to_string().contains("'/' separates path components"),
        "{err}"
    );
}

#[test]
fn stack_names_follow_cloudformation_rules() {
    let app = App::new();
    let err = Stack::new(&app, "omc_staging", StackProps::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack name \"omc_staging\" is invalid: '_' is not allowed; use only ASCII letters, digits and hyphens (for example \"omc-staging\")"
    );
    let long = "a".repeat(129);
    let err = Stack::new(&app, &long, StackProps::default()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("is invalid: it has 129 characters; CloudFormation allows at most 128"),
        "{err}"
    );
    assert!(Stack::new(&app, &"a".repeat(128), StackProps::default()).is_ok());
}

#[test]
fn two_stacks_with_the_same_name() {
    let app = App::new();
    Stack::new(&app, "Data", StackProps::default()).unwrap();
    let err = Stack::new(&app, "Data", StackProps::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack name \"Data\" is already used by another stack of this app; stack names must be unique"
    );
}

#[test]
fn reference_to_a_stack_outside_the_app() {
    let other_app = App::new();
    let outside = Stack::new(&other_app, "Shared", StackProps::default()).unwrap();
    let topic = outside
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();

    let app = App::new();
    let stack = Stack::new(&app, "Services", StackProps::default()).unwrap();
    stack
        .add(
            "Sub",
            RawResource::new("AWS::SNS::Subscription")
                .property("TopicArn", topic.reference())
                .property("Protocol", "email")
                .property("Endpoint", "ops@example.com"),
        )
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::StackNotInApp);
    assert_eq!(
        problems[0].to_string(),
        "Services/Sub (Properties.TopicArn): uses Shared/Topic, but stack \"Shared\" is not part of this app; create that stack in this app (Stack::new(&app, ..)) or pass a plain value instead"
    );
}

#[test]
fn the_501st_resource() {
    let app = App::new();
    let stack = Stack::new(&app, "Big", StackProps::default()).unwrap();
    for i in 0..501 {
        stack
            .add(&format!("Topic{i}"), RawResource::new("AWS::SNS::Topic"))
            .unwrap();
    }
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "Big: the stack has 501 resources; CloudFormation allows at most 500; split the stack: move some constructs into another Stack of the app"
    );
}

#[test]
fn depends_on_cycle() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let a = stack.add("A", bucket()).unwrap();
    let b = stack.add("B", bucket()).unwrap();
    a.add_depends_on(&b).unwrap();
    b.add_depends_on(&a).unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::DependencyCycle);
    assert_eq!(
        problems[0].to_string(),
        "Data/A: resources depend on each other in a cycle: A -> B -> A. A (Data/A) uses B through DependsOn at DependsOn[0]; B (Data/B) uses A through DependsOn at DependsOn[0]; CloudFormation cannot order them: remove one of these references or DependsOn"
    );
}

#[test]
fn reference_cycle_through_properties() {
    let app = App::new();
    let stack = Stack::new(&app, "Net", StackProps::default()).unwrap();
    let a = stack
        .add(
            "A",
            RawResource::new("AWS::EC2::SecurityGroup").property("GroupDescription", "a"),
        )
        .unwrap();
    let b = stack
        .add(
            "B",
            RawResource::new("AWS::EC2::SecurityGroup")
                .property("GroupDescription", "b")
                .property("Tags", vec![serde_json::json!({"Key": "peer"})]),
        )
        .unwrap();
    a.add_property_override("VpcId", b.get_att::<String>("GroupId"));
    b.add_property_override("VpcId", a.reference());
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let text = problems[0].to_string();
    assert!(text.contains("cycle: A -> B -> A"), "{text}");
    assert!(
        text.contains("A (Net/A) uses B through Fn::GetAtt at Properties.VpcId"),
        "{text}"
    );
    assert!(
        text.contains("B (Net/B) uses A through Ref at Properties.VpcId"),
        "{text}"
    );
}

#[test]
fn cross_stack_cycle_names_stacks_and_the_references() {
    let app = App::new();
    let data = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let services = Stack::new(&app, "Services", StackProps::default()).unwrap();
    let db_sg = data
        .add(
            "DbSg",
            RawResource::new("AWS::EC2::SecurityGroup").property("GroupDescription", "db"),
        )
        .unwrap();
    let app_sg = services
        .add(
            "AppSg",
            RawResource::new("AWS::EC2::SecurityGroup")
                .property("GroupDescription", "app")
                .property("VpcId", db_sg.get_att::<String>("VpcId")),
        )
        .unwrap();
    data.add(
        "Ingress",
        RawResource::new("AWS::EC2::SecurityGroupIngress")
            .property("GroupId", db_sg.get_att::<String>("GroupId"))
            .property("SourceSecurityGroupId", app_sg.get_att::<String>("GroupId"))
            .property("IpProtocol", "tcp")
            .property("FromPort", 5432)
            .property("ToPort", 5432),
    )
    .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::StackCycle);
    assert_eq!(
        problems[0].to_string(),
        "Data: stacks depend on each other in a cycle: Data -> Services -> Data. \
Data depends on Services because Data/Ingress (Properties.SourceSecurityGroupId) uses Services/AppSg.GroupId; \
Services depends on Data because Services/AppSg (Properties.VpcId) uses Data/DbSg.VpcId; \
no deploy order exists: move the shared resources into one stack or pass the value in one direction only"
    );
}

#[test]
fn sub_with_an_undefined_variable() {
    let app = App::new();
    let stack = Stack::new(&app, "Services", StackProps::default()).unwrap();
    let bucket = stack.add("Logs", bucket()).unwrap();
    stack
        .add(
            "Param",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property(
                    "Value",
                    fns::sub_with(
                        "${Bucket}/${Prefix}/${AWS::Region}/${Logs}/${!Literal}",
                        [("Bucket", bucket.reference())],
                    ),
                ),
        )
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::UndefinedSubVariable);
    assert_eq!(
        problems[0].to_string(),
        "Services/Param (Properties.Value.Fn::Sub): Fn::Sub variable ${Prefix} is not defined: it is not in the variable map, and it is not a pseudo parameter, parameter or resource of stack Services; add it to the map (fns::sub_with) or write ${!Prefix} for a literal"
    );
}

#[test]
fn output_names_must_be_alphanumeric() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let err = stack
        .add_output("db-endpoint", "x", OutputProps::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data: output name \"db-endpoint\" is invalid: '-' is not allowed; logical ids contain only ASCII letters and digits"
    );
    stack
        .add_output("Endpoint", "x", OutputProps::default())
        .unwrap();
    let err = stack
        .add_output("Endpoint", "y", OutputProps::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data: output \"Endpoint\" is already defined in this stack; use a different name"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let a = stack.add("A", bucket()).unwrap();
    a.add_property_override("BucketName", fns::sub("${Missing}"));
    a.add_property_override(
        "Other",
        omc_cdk::Value::<String>::Fn(omc_cdk::Expr::from_intrinsic_unchecked(
            omc_cdk::Intrinsic::Ref(omc_cdk::RefTarget::LogicalId("Nowhere".into())),
        )),
    );
    stack
        .add_output("Out", fns::sub("${AlsoMissing}"), OutputProps::default())
        .unwrap();
    let problems = synth_problems(&app);
    let kinds: Vec<ProblemKind> = problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ProblemKind::UndefinedSubVariable,
            ProblemKind::MissingReference,
            ProblemKind::UndefinedSubVariable
        ],
        "{problems:?}"
    );
    assert!(problems[1].to_string().starts_with(
        "Data/A (Properties.Other.Ref): Ref to \"Nowhere\", which is neither a resource nor a parameter of stack Data"
    ));
    assert_eq!(problems[2].path, "Data/Outputs/Out");
}

#[test]
fn conditions_and_mappings_must_exist_and_stay_in_their_stack() {
    let app = App::new();
    let a = Stack::new(&app, "A", StackProps::default()).unwrap();
    let b = Stack::new(&app, "B", StackProps::default()).unwrap();
    let stage = a.add_parameter("Stage", ParameterProps::default()).unwrap();
    let is_prod = a
        .add_condition("IsProd", fns::equals(stage.value(), "prod"))
        .unwrap();
    let sizes = a
        .add_mapping(
            "Sizes",
            serde_json::json!({"prod": {"Class": "db.m7g.large"}}),
        )
        .unwrap();
    b.add(
        "Db",
        RawResource::new("AWS::SNS::Topic")
            .property("DisplayName", fns::if_::<String>(&is_prod, "a", "b"))
            .property("TopicName", sizes.find::<String>("prod", "Class")),
    )
    .unwrap();
    a.add(
        "Ok",
        RawResource::new("AWS::SNS::Topic")
            .property("TopicName", sizes.find::<String>("staging", "Class")),
    )
    .unwrap();
    let problems = synth_problems(&app);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert_eq!(
        text[0],
        "B/Db (Properties.DisplayName): condition \"IsProd\" belongs to stack A; a condition can only be used in its own stack, so define it in this stack too"
    );
    assert!(
        text[1].starts_with("B/Db (Properties.TopicName): mapping \"Sizes\" belongs to stack A"),
        "{}",
        text[1]
    );
    assert_eq!(
        text[2],
        "A/Ok (Properties.TopicName.Fn::FindInMap): mapping \"Sizes\" has no key \"staging\"; its keys are \"prod\""
    );
    let err = b
        .add("Other", RawResource::new("AWS::SNS::Topic"))
        .unwrap()
        .set_condition(&is_prod)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("condition \"IsProd\" belongs to stack A"),
        "{err}"
    );
}

#[test]
fn cross_environment_references_are_refused() {
    let app = App::new();
    let eu = Stack::new(
        &app,
        "Eu",
        StackProps {
            env: Some(Environment::new("111111111111", "eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let us = Stack::new(
        &app,
        "Us",
        StackProps {
            env: Some(Environment::new("111111111111", "us-east-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let topic = eu
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    us.add(
        "Sub",
        RawResource::new("AWS::SSM::Parameter")
            .property("Type", "String")
            .property("Value", topic.reference()),
    )
    .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::CrossEnvironment);
    assert!(
        problems[0]
            .message
            .contains("exports only work within one account and region"),
        "{}",
        problems[0]
    );

    // Weak references work across regions of one account.
    let app = App::with_settings(AppSettings {
        cross_stack_references: CrossStackReferences::Weak,
        ..AppSettings::default()
    });
    let eu = Stack::new(
        &app,
        "Eu",
        StackProps {
            env: Some(Environment::new("111111111111", "eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let us = Stack::new(
        &app,
        "Us",
        StackProps {
            env: Some(Environment::new("111111111111", "us-east-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let topic = eu
        .add("Topic", RawResource::new("AWS::SNS::Topic"))
        .unwrap();
    us.add(
        "Sub",
        RawResource::new("AWS::SSM::Parameter")
            .property("Type", "String")
            .property("Value", topic.reference()),
    )
    .unwrap();
    let synthesis = app.synth_unchecked().unwrap();
    let us = synthesis.stack("Us").unwrap().template_json();
    assert_eq!(
        us["Resources"]["Sub"]["Properties"]["Value"],
        serde_json::json!({"Fn::GetStackOutput": {"StackName": "Eu", "OutputName": "ExportsOutputRefTopicA7DE468A", "Region": "eu-west-1"}})
    );
}

#[test]
fn bad_environment_parameter_and_tag_values() {
    let app = App::new();
    let err = Stack::new(
        &app,
        "Data",
        StackProps {
            env: Some(Environment::new("1234", "eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("account \"1234\" is not an AWS account id"),
        "{err}"
    );
    let err = Stack::new(
        &app,
        "Data",
        StackProps {
            env: Some(Environment::region("Europe")),
            ..StackProps::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("region \"Europe\" is not a region name"),
        "{err}"
    );
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let err = stack
        .add_parameter(
            "Size",
            ParameterProps {
                default: Some("huge".into()),
                allowed_values: vec!["small".into(), "large".into()],
                ..ParameterProps::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data/Parameters/Size: default \"huge\" is not one of the allowed values [\"small\", \"large\"]; change the default or allow it"
    );
    let err = stack.add_tag("aws:owner", "me").unwrap_err();
    assert!(err.to_string().contains("reserved prefix"), "{err}");
    let err = stack
        .add("Thing", RawResource::new("S3 Bucket"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is not a CloudFormation type name"),
        "{err}"
    );
    let err = stack
        .add_mapping("M", serde_json::json!({"k": {"v": {"nested": 1}}}))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("mapping values are strings, numbers, booleans or lists"),
        "{err}"
    );
}

#[test]
fn parameters_and_resources_share_the_ref_namespace() {
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    stack.add("Port", bucket()).unwrap();
    let err = stack
        .add_parameter("Port", ParameterProps::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Data/Port (parameter): logical id \"Port\" is already used by Data/Port; give one of them a different construct id or override its logical id"
    );
}

#[test]
fn empty_stacks_are_refused() {
    let app = App::new();
    Stack::new(&app, "Empty", StackProps::default()).unwrap();
    let problems = synth_problems(&app);
    assert_eq!(
        problems[0].to_string(),
        "Empty: the stack has no resources; CloudFormation needs at least one, so add a resource or remove the stack"
    );
}

// Found in review of the core.

#[test]
fn list_parameters_cross_stacks_joined() {
    let app = App::new();
    let a = Stack::new(&app, "A", StackProps::default()).unwrap();
    let subnets = a
        .add_parameter(
            "Subnets",
            ParameterProps::new(omc_cdk::ParameterType::CommaDelimitedList),
        )
        .unwrap();
    a.add("T", RawResource::new("AWS::SNS::Topic")).unwrap();
    let b = Stack::new(&app, "B", StackProps::default()).unwrap();
    b.add(
        "Group",
        RawResource::new("AWS::RDS::DBSubnetGroup")
            .property("DBSubnetGroupDescription", "db")
            .property("SubnetIds", subnets.value_as_list()),
    )
    .unwrap();
    let synthesis = app.synth_unchecked().unwrap();
    let a = synthesis.stack("A").unwrap().template_json();
    assert_eq!(
        a["Outputs"]["ExportsOutputRefSubnets8D59D325"]["Value"],
        serde_json::json!({"Fn::Join": ["||", {"Ref": "Subnets"}]})
    );
    let b = synthesis.stack("B").unwrap().template_json();
    assert_eq!(
        b["Resources"]["Group"]["Properties"]["SubnetIds"],
        serde_json::json!({"Fn::Split": ["||", {"Fn::ImportValue": "A:ExportsOutputRefSubnets8D59D325"}]})
    );
}

#[test]
fn outputs_may_use_handles_of_their_own_stack_in_conversions() {
    // A conversion that reads the stack while the output is added must not panic.
    struct Bucket(omc_cdk::Resource);
    impl From<&Bucket> for omc_cdk::Value<String> {
        fn from(b: &Bucket) -> Self {
            omc_cdk::Value::from(b.0.logical_id())
        }
    }
    let app = App::new();
    let stack = Stack::new(&app, "S", StackProps::default()).unwrap();
    let bucket = Bucket(stack.add("B", bucket()).unwrap());
    stack
        .add_output("Name", &bucket, OutputProps::default())
        .unwrap();
    let t = app
        .synth_unchecked()
        .unwrap()
        .stack("S")
        .unwrap()
        .template_json();
    assert_eq!(t["Outputs"]["Name"]["Value"], "B");
}

#[test]
fn export_names_cannot_depend_on_resources() {
    let app = App::new();
    let stack = Stack::new(&app, "S", StackProps::default()).unwrap();
    let b = stack.add("B", bucket()).unwrap();
    stack
        .add_output(
            "Out",
            "x",
            OutputProps {
                export_name: Some(b.reference()),
                ..OutputProps::default()
            },
        )
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "S/Outputs/Out (Export.Name.Ref): an export name cannot depend on resource \"B\"; use literals, parameters and pseudo parameters"
    );
}

#[test]
fn conditions_only_use_functions_cloudformation_allows_there() {
    let app = App::new();
    let stack = Stack::new(&app, "S", StackProps::default()).unwrap();
    stack.add("B", bucket()).unwrap();
    stack
        .add_condition("Imported", fns::equals(fns::import_value("shared"), "x"))
        .unwrap();
    stack
        .add_condition("Attr", fns::equals(fns::sub("${B.Arn}"), "x"))
        .unwrap();
    let problems = synth_problems(&app);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(
        text[0].starts_with("S/Conditions/Imported (Fn::Equals[0].Fn::ImportValue): Fn::ImportValue cannot be used in a condition"),
        "{}",
        text[0]
    );
    assert_eq!(
        text[1],
        "S/Conditions/Attr (Fn::Equals[0].Fn::Sub): ${B.Arn} reads an attribute of a resource, which a condition cannot do"
    );
}

#[test]
fn conditional_resources_are_used_only_under_their_condition() {
    let app = App::new();
    let stack = Stack::new(&app, "S", StackProps::default()).unwrap();
    let stage = stack
        .add_parameter("Stage", ParameterProps::default())
        .unwrap();
    let prod = stack
        .add_condition("IsProd", fns::equals(stage.value(), "prod"))
        .unwrap();
    let eu = stack
        .add_condition("InEu", fns::equals(omc_cdk::aws::region(), "eu-west-1"))
        .unwrap();
    let both = stack
        .add_condition(
            "ProdInEu",
            fns::and([fns::condition(&prod), fns::condition(&eu)]),
        )
        .unwrap();
    let backup = stack.add("Backup", bucket()).unwrap();
    backup.set_condition(&prod).unwrap();
    // Fine: the same condition, an Fn::And that includes it, the true branch of Fn::If.
    let same = stack
        .add("Same", bucket().property("Name", backup.reference()))
        .unwrap();
    same.set_condition(&prod).unwrap();
    let implied = stack
        .add("Implied", bucket().property("Name", backup.reference()))
        .unwrap();
    implied.set_condition(&both).unwrap();
    stack
        .add(
            "Branch",
            bucket().property(
                "Name",
                fns::if_(&prod, backup.reference(), omc_cdk::aws::no_value()),
            ),
        )
        .unwrap();
    // Not fine: unconditional use, the false branch, an unconditional output.
    stack
        .add("Always", bucket().property("Name", backup.reference()))
        .unwrap();
    stack
        .add(
            "Wrong",
            bucket().property(
                "Name",
                fns::if_(&prod, omc_cdk::aws::no_value(), backup.reference()),
            ),
        )
        .unwrap();
    stack
        .add_output("BackupName", backup.reference(), OutputProps::default())
        .unwrap();
    let problems = synth_problems(&app);
    let paths: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.property.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("S/Always", "Properties.Name.Ref"),
            ("S/Wrong", "Properties.Name.Fn::If[2].Ref"),
            ("S/Outputs/BackupName", "Value.Ref"),
        ]
    );
    assert!(
        problems
            .iter()
            .all(|p| p.kind == ProblemKind::ConditionMismatch)
    );
    assert!(
        problems[0]
            .message
            .starts_with("uses \"Backup\", which exists only when condition \"IsProd\" holds"),
        "{}",
        problems[0]
    );

    // Another stack cannot import a conditional resource.
    let other = Stack::new(&app, "T", StackProps::default()).unwrap();
    other
        .add("Copy", bucket().property("Name", backup.reference()))
        .unwrap();
    let problems = synth_problems(&app);
    assert!(
        problems
            .iter()
            .any(|p| p.path == "T/Copy" && p.message.contains("another stack cannot import it")),
        "{problems:?}"
    );
}

#[test]
fn stack_tags_merge_into_tags_chosen_by_fn_if_and_refuse_other_intrinsics() {
    let app = App::new();
    let mut props = StackProps::default();
    props.tags.insert("Team".into(), "core".into());
    let stack = Stack::new(&app, "S", props).unwrap();
    let stage = stack
        .add_parameter("Stage", ParameterProps::default())
        .unwrap();
    let prod = stack
        .add_condition("IsProd", fns::equals(stage.value(), "prod"))
        .unwrap();
    let chosen: omc_cdk::List<omc_cdk::Tag> = fns::if_(
        &prod,
        omc_cdk::List::<omc_cdk::Tag>::from(vec![omc_cdk::Tag::new("Tier", "gold")]),
        omc_cdk::aws::no_value(),
    );
    stack
        .add(
            "Q",
            RawResource::new("AWS::SQS::Queue")
                .tags(omc_cdk::TagFormat::KeyValueList("Tags".into()))
                .property("Tags", chosen),
        )
        .unwrap();
    let t = app
        .synth_unchecked()
        .unwrap()
        .stack("S")
        .unwrap()
        .template_json();
    assert_eq!(
        t["Resources"]["Q"]["Properties"]["Tags"],
        serde_json::json!({"Fn::If": [
            "IsProd",
            [{"Key": "Team", "Value": "core"}, {"Key": "Tier", "Value": "gold"}],
            [{"Key": "Team", "Value": "core"}]
        ]})
    );
    stack
        .add(
            "R",
            RawResource::new("AWS::SQS::Queue")
                .tags(omc_cdk::TagFormat::KeyValueList("Tags".into()))
                .property("Tags", fns::split(",", "a,b")),
        )
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().starts_with("S/R (Properties.Tags): the resource's tags are an intrinsic function, so the stack's tags cannot be merged"),
        "{}",
        problems[0]
    );
}

#[test]
fn parameter_constraints_must_be_finite() {
    let app = App::new();
    let stack = Stack::new(&app, "S", StackProps::default()).unwrap();
    let err = stack
        .add_parameter(
            "N",
            ParameterProps {
                parameter_type: omc_cdk::ParameterType::Number,
                min_value: Some(f64::NAN),
                ..ParameterProps::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "S/Parameters/N: min_value and max_value must be finite numbers, not NaN"
    );
    let count = stack
        .add_parameter("Count", ParameterProps::new(omc_cdk::ParameterType::Number))
        .unwrap();
    let _: omc_cdk::Value<String> = fns::select(count.value_as_integer(), ["a", "b"]);
}

#[test]
fn export_names_are_unique_per_environment() {
    let app = App::new();
    for (name, region) in [("East", "us-east-1"), ("West", "eu-west-1")] {
        let stack = Stack::new(
            &app,
            name,
            StackProps {
                env: Some(Environment::region(region)),
                ..StackProps::default()
            },
        )
        .unwrap();
        stack.add("B", bucket()).unwrap();
        stack
            .add_output(
                "Out",
                "x",
                OutputProps {
                    export_name: Some("shared-name".into()),
                    ..OutputProps::default()
                },
            )
            .unwrap();
    }
    assert!(app.synth_unchecked().is_ok());
    let again = Stack::new(
        &app,
        "East2",
        StackProps {
            env: Some(Environment::region("us-east-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    again.add("B", bucket()).unwrap();
    again
        .add_output(
            "Out",
            "y",
            OutputProps {
                export_name: Some("shared-name".into()),
                ..OutputProps::default()
            },
        )
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(
        problems[0].to_string(),
        "East2/Outputs/Out (Export.Name): export name \"shared-name\" is also exported by East/Outputs/Out; export names must be unique in an account and region"
    );
}

#[test]
fn environment_agnostic_stacks_cannot_import_from_a_fixed_environment() {
    let app = App::new();
    let fixed = Stack::new(
        &app,
        "Fixed",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let topic = fixed.add("T", RawResource::new("AWS::SNS::Topic")).unwrap();
    let agnostic = Stack::new(&app, "Agnostic", StackProps::default()).unwrap();
    agnostic
        .add("C", bucket().property("Name", topic.reference()))
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::CrossEnvironment);
    assert!(
        problems[0]
            .message
            .contains("which is deployed to account (any) in region eu-west-1, while this stack is deployed to account (any) in region (any)"),
        "{}",
        problems[0]
    );
}

/// A schema registry of three types, as `omc_cfn::schema::find` gives the real one.
fn schemas(type_name: &str) -> Option<&'static omc_cdk::schema::ResourceSchema> {
    static REGISTRY: std::sync::OnceLock<Vec<omc_cdk::schema::ResourceSchema>> =
        std::sync::OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            omc_cdk::schema::parse_registry(
                "AWS::CloudFormation::Stack\t\tTemplateURL:r\tOutputs,StackId\n\
                 AWS::EC2::VPC\tTags:S\tCidrBlock:A\tCidrBlock,VpcId\n\
                 AWS::RDS::DBInstance\t\tEngine:A\tEndpoint.Address,Endpoint.Port\n",
            )
            .unwrap()
        })
        .iter()
        .find(|s| s.type_name == type_name)
}

fn parameter(value: omc_cdk::Value<String>) -> RawResource {
    RawResource::new("AWS::SSM::Parameter")
        .property("Type", "String")
        .property("Value", value)
}

#[test]
fn get_att_of_an_attribute_the_type_does_not_have() {
    let app = App::new().with_schemas(schemas);
    let stack = Stack::new(&app, "Net", StackProps::default()).unwrap();
    let vpc = stack
        .add(
            "Vpc",
            RawResource::new("AWS::EC2::VPC").property("CidrBlock", "10.0.0.0/16"),
        )
        .unwrap();
    stack
        .add("Ok", parameter(vpc.get_att::<String>("VpcId")))
        .unwrap();
    stack
        .add("Bad", parameter(vpc.get_att::<String>("Arn")))
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::UnknownAttribute);
    assert_eq!(
        problems[0].to_string(),
        "Net/Bad (Properties.Value.Fn::GetAtt): Fn::GetAtt \"Arn\" of Net/Vpc: type AWS::EC2::VPC has no attribute \"Arn\"; its attributes are CidrBlock, VpcId; use one of them (a typed handle has an `attr_*` accessor for each)"
    );
}

#[test]
fn nested_attributes_sub_variables_and_open_attributes() {
    let app = App::new().with_schemas(schemas);
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let db = stack
        .add(
            "Db",
            RawResource::new("AWS::RDS::DBInstance").property("Engine", "postgres"),
        )
        .unwrap();
    let nested = stack
        .add(
            "Nested",
            RawResource::new("AWS::CloudFormation::Stack").property("TemplateURL", "https://x"),
        )
        .unwrap();
    // Listed nested attributes, a nested stack's outputs, custom resources and types the
    // registry does not know are accepted.
    stack
        .add("Address", parameter(db.get_att("Endpoint.Address")))
        .unwrap();
    stack
        .add("Output", parameter(nested.get_att("Outputs.BucketName")))
        .unwrap();
    let custom = stack
        .add("Custom", RawResource::new("Custom::Thing"))
        .unwrap();
    stack
        .add("FromCustom", parameter(custom.get_att("Anything")))
        .unwrap();
    let unknown = stack
        .add("Other", RawResource::new("AWS::New::Thing"))
        .unwrap();
    stack
        .add("FromOther", parameter(unknown.get_att("Whatever")))
        .unwrap();
    assert!(app.synth_unchecked().is_ok());

    // An attribute the schema does not list, as a GetAtt and as an Fn::Sub variable.
    stack
        .add("Host", parameter(db.get_att("Endpoint.Host")))
        .unwrap();
    let db_id = db.logical_id();
    stack
        .add(
            "Url",
            parameter(fns::sub(format!("postgres://${{{db_id}.Endpoint.Nope}}"))),
        )
        .unwrap();
    let problems = synth_problems(&app);
    let found: Vec<(&str, ProblemKind)> =
        problems.iter().map(|p| (p.path.as_str(), p.kind)).collect();
    assert_eq!(
        found,
        [
            ("Data/Host", ProblemKind::UnknownAttribute),
            ("Data/Url", ProblemKind::UnknownAttribute)
        ],
        "{problems:?}"
    );
    assert!(
        problems[1]
            .message
            .contains("type AWS::RDS::DBInstance has no attribute \"Endpoint.Nope\"; its attributes are Endpoint.Address, Endpoint.Port"),
        "{}",
        problems[1].message
    );
}

#[test]
fn without_a_schema_attributes_of_raw_resources_are_not_checked() {
    let app = App::new();
    let stack = Stack::new(&app, "Net", StackProps::default()).unwrap();
    let vpc = stack.add("Vpc", RawResource::new("AWS::EC2::VPC")).unwrap();
    stack
        .add("Bad", parameter(vpc.get_att::<String>("Arn")))
        .unwrap();
    assert!(app.synth_unchecked().is_ok());
}

#[test]
fn cross_stack_get_att_of_an_unknown_attribute_names_the_consumer_and_exports_nothing() {
    let app = App::new().with_schemas(schemas);
    let network = Stack::new(&app, "Network", StackProps::default()).unwrap();
    let vpc = network
        .add("Vpc", RawResource::new("AWS::EC2::VPC"))
        .unwrap();
    let data = Stack::new(&app, "Data", StackProps::default()).unwrap();
    data.add("Bad", parameter(vpc.get_att::<String>("Arn")))
        .unwrap();
    let problems = synth_problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::UnknownAttribute);
    assert_eq!(problems[0].path, "Data/Bad");
    assert!(
        problems[0].message.starts_with(
            "Fn::GetAtt \"Arn\" of Network/Vpc: type AWS::EC2::VPC has no attribute \"Arn\""
        ),
        "{}",
        problems[0].message
    );
}
