//! Synthesis behaviour through the public API: rendering, references, tags, overrides, output.
#![allow(clippy::panic, clippy::unwrap_used)]

use omc_cdk::assertions::{Match, Template};
use omc_cdk::{
    App, AppSettings, DeletionPolicy, Node, OutputProps, ParameterProps, ParameterType,
    PathMetadata, RawResource, RemovalPolicy, Stack, StackProps, TagFormat, Value, aws, fns,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn tagged(type_name: &str) -> RawResource {
    RawResource::new(type_name).tags(TagFormat::KeyValueList("Tags".into()))
}

#[test]
fn every_intrinsic_renders_as_cloudformation_expects() -> TestResult {
    let app = App::new();
    let stack = Stack::new(&app, "Fns", StackProps::default())?;
    let stage = stack.add_parameter(
        "Stage",
        ParameterProps {
            allowed_values: vec!["staging".into(), "production".into()],
            default: Some("staging".into()),
            ..ParameterProps::default()
        },
    )?;
    let subnets = stack.add_parameter(
        "Subnets",
        ParameterProps::new(ParameterType::Aws("List<AWS::EC2::Subnet::Id>".into())),
    )?;
    let is_prod = stack.add_condition("IsProd", fns::equals(stage.value(), "production"))?;
    let is_eu = stack.add_condition("IsEu", fns::equals(aws::region(), "eu-west-1"))?;
    stack.add_condition(
        "ProdOutsideEu",
        fns::and([fns::condition(&is_prod), fns::not(fns::condition(&is_eu))]),
    )?;
    stack.add_condition(
        "Either",
        fns::or([fns::condition(&is_prod), fns::condition(&is_eu)]),
    )?;
    let sizes = stack.add_mapping(
        "Sizes",
        json!({"staging": {"Count": 1}, "production": {"Count": 3}}),
    )?;
    let vpc = stack.add(
        "Vpc",
        RawResource::new("AWS::EC2::VPC").property("CidrBlock", "10.0.0.0/16"),
    )?;
    stack.add(
        "Thing",
        RawResource::new("AWS::Test::Thing")
            .property("Join", fns::join(",", ["a", "b"]))
            .property("Select", fns::select(1, fns::get_azs(aws::region())))
            .property("Split", fns::split(",", "a,b"))
            .property("AzsHere", fns::get_azs(""))
            .property("Import", fns::import_value("shared:vpc"))
            .property(
                "If",
                fns::if_(&is_prod, Value::from("big"), aws::no_value()),
            )
            .property(
                "Base64",
                fns::base64(fns::sub("#!/bin/sh\necho ${AWS::StackName}")),
            )
            .property(
                "Cidr",
                fns::select(0, fns::cidr(vpc.get_att::<String>("CidrBlock"), 4, 8)),
            )
            .property("FindInMap", sizes.find::<i64>(stage.value(), "Count"))
            .property(
                "Sub",
                fns::sub_with(
                    "${Vpc}-${Name}",
                    [("Vpc", vpc.reference()), ("Name", stage.value())],
                ),
            )
            .property("List", subnets.value_as_list())
            .property(
                "Pseudo",
                vec![
                    aws::account_id(),
                    aws::partition(),
                    aws::stack_id(),
                    aws::url_suffix(),
                ],
            ),
    )?;
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::Test::Thing",
        json!({
            "Join": {"Fn::Join": [",", ["a", "b"]]},
            "Select": {"Fn::Select": [1, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]},
            "Split": {"Fn::Split": [",", "a,b"]},
            "AzsHere": {"Fn::GetAZs": ""},
            "Import": {"Fn::ImportValue": "shared:vpc"},
            "If": {"Fn::If": ["IsProd", "big", {"Ref": "AWS::NoValue"}]},
            "Base64": {"Fn::Base64": {"Fn::Sub": "#!/bin/sh\necho ${AWS::StackName}"}},
            "Cidr": {"Fn::Select": [0, {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 4, 8]}]},
            "FindInMap": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Count"]},
            "Sub": {"Fn::Sub": ["${Vpc}-${Name}", {"Vpc": {"Ref": "Vpc"}, "Name": {"Ref": "Stage"}}]},
            "List": {"Ref": "Subnets"},
            "Pseudo": [{"Ref": "AWS::AccountId"}, {"Ref": "AWS::Partition"}, {"Ref": "AWS::StackId"}, {"Ref": "AWS::URLSuffix"}]
        }),
    )?;
    t.has_condition(
        "IsProd",
        json!({"Fn::Equals": [{"Ref": "Stage"}, "production"]}),
    )?;
    t.has_condition(
        "ProdOutsideEu",
        json!({"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "IsEu"}]}]}),
    )?;
    t.has_condition(
        "Either",
        json!({"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsEu"}]}),
    )?;
    t.has_parameter(
        "Stage",
        json!({"Type": "String", "Default": "staging", "AllowedValues": ["staging", "production"]}),
    )?;
    t.has_parameter("Subnets", json!({"Type": "List<AWS::EC2::Subnet::Id>"}))?;
    t.has_mapping("Sizes", json!({"production": {"Count": 3}}))?;
    Ok(())
}

#[test]
fn cross_stack_references_export_once_and_import() -> TestResult {
    let app = App::new();
    let network = Stack::new(&app, "Network", StackProps::default())?;
    let vpc = network.child("Vpc")?.add(
        "Resource",
        RawResource::new("AWS::EC2::VPC").property("CidrBlock", "10.0.0.0/16"),
    )?;
    let data = Stack::new(&app, "Data", StackProps::default())?;
    for id in ["A", "B"] {
        data.add(
            id,
            RawResource::new("AWS::EC2::SecurityGroup")
                .property("GroupDescription", id)
                .property("VpcId", vpc.reference())
                .property("Ipv6", fns::select(0, vpc.get_att_list("Ipv6CidrBlocks"))),
        )?;
    }
    let synthesis = app.synth_unchecked()?;
    let names: Vec<&str> = synthesis
        .stacks()
        .iter()
        .map(omc_cdk::SynthesizedStack::name)
        .collect();
    assert_eq!(names, ["Network", "Data"]);
    assert_eq!(synthesis.stack("Data").unwrap().dependencies(), ["Network"]);

    let net = Template::from_synthesized(synthesis.stack("Network").unwrap());
    let outputs = net.find_outputs("*", json!({}));
    assert_eq!(
        outputs.len(),
        2,
        "one export per distinct value: {outputs:?}"
    );
    net.has_output(
        "ExportsOutputRefVpc8378EB38272D6E3A",
        json!({"Value": {"Ref": "Vpc8378EB38"}, "Export": {"Name": "Network:ExportsOutputRefVpc8378EB38272D6E3A"}}),
    )?;
    // List attributes travel joined and are split on import.
    net.has_output(
        "*",
        json!({"Value": {"Fn::Join": ["||", {"Fn::GetAtt": ["Vpc8378EB38", "Ipv6CidrBlocks"]}]}}),
    )?;

    let data = Template::from_synthesized(synthesis.stack("Data").unwrap());
    data.all_resources_properties(
        "AWS::EC2::SecurityGroup",
        json!({"VpcId": {"Fn::ImportValue": "Network:ExportsOutputRefVpc8378EB38272D6E3A"}}),
    )?;
    let ipv6 = &data.resources("AWS::EC2::SecurityGroup")[0].1["Properties"]["Ipv6"];
    let name = ipv6["Fn::Select"][1]["Fn::Split"][1]["Fn::ImportValue"]
        .as_str()
        .unwrap();
    // As AWS CDK names it: the id comes from the reference, not from the joined value.
    assert_eq!(
        name,
        "Network:ExportsOutputFnGetAttVpc8378EB38Ipv6CidrBlocks347397E4"
    );
    Ok(())
}

#[test]
fn parameters_and_depends_on_across_stacks() -> TestResult {
    let app = App::new();
    let config = Stack::new(&app, "Config", StackProps::default())?;
    let tag = config.add_parameter(
        "ImageTag",
        ParameterProps {
            default: Some("latest".into()),
            ..ParameterProps::default()
        },
    )?;
    let marker = config.add("Marker", RawResource::new("AWS::SNS::Topic"))?;
    let services = Stack::new(&app, "Services", StackProps::default())?;
    let p = services.add(
        "Image",
        RawResource::new("AWS::SSM::Parameter")
            .property("Type", "String")
            .property("Value", tag.value()),
    )?;
    p.add_depends_on(&marker)?;
    let synthesis = app.synth_unchecked()?;
    assert_eq!(
        synthesis.stack("Services").unwrap().dependencies(),
        ["Config"]
    );
    let services = Template::from_synthesized(synthesis.stack("Services").unwrap());
    services.has_resource(
        "AWS::SSM::Parameter",
        Match::object_like([
            ("Properties", Match::from(json!({"Value": {"Fn::ImportValue": "Config:ExportsOutputRefImageTag15EC23CF"}}))),
            ("DependsOn", Match::absent()),
        ]),
    )?;
    Ok(())
}

#[test]
fn explicit_stack_dependencies_order_deployment() -> TestResult {
    let app = App::new();
    let late = Stack::new(&app, "Late", StackProps::default())?;
    let early = Stack::new(&app, "Early", StackProps::default())?;
    late.add("T", RawResource::new("AWS::SNS::Topic"))?;
    early.add("T", RawResource::new("AWS::SNS::Topic"))?;
    late.add_dependency(&early, "the topic must exist first")?;
    let synthesis = app.synth_unchecked()?;
    let names: Vec<&str> = synthesis
        .stacks()
        .iter()
        .map(omc_cdk::SynthesizedStack::name)
        .collect();
    assert_eq!(names, ["Early", "Late"]);
    assert!(late.add_dependency(&late, "").is_err());
    Ok(())
}

#[test]
fn stack_tags_apply_to_taggable_resources_and_own_tags_win() -> TestResult {
    let app = App::new();
    let mut props = StackProps::default();
    props.tags.insert("Team".into(), "platform".into());
    props.tags.insert("Env".into(), "staging".into());
    let stack = Stack::new(&app, "Tags", props)?;
    stack.add(
        "Own",
        tagged("AWS::EC2::VPC").property(
            "Tags",
            vec![
                json!({"Key": "Team", "Value": "data"}),
                json!({"Key": "Name", "Value": "own"}),
            ],
        ),
    )?;
    stack.add(
        "Plain",
        tagged("AWS::EC2::VPC").property("CidrBlock", "10.0.0.0/16"),
    )?;
    stack.add(
        "Untaggable",
        RawResource::new("AWS::EC2::VPCGatewayAttachment"),
    )?;
    stack.add(
        "Map",
        RawResource::new("AWS::SSM::Parameter")
            .tags(TagFormat::Map("Tags".into()))
            .property("Tags", json!({"Env": "mine"})),
    )?;
    stack.add(
        "Asg",
        RawResource::new("AWS::AutoScaling::AutoScalingGroup")
            .tags(TagFormat::AutoScalingGroup("Tags".into())),
    )?;
    let t = Template::from_stack(&stack)?;
    let resource = |id: &str| t.resource(id).cloned().unwrap();
    assert_eq!(
        resource("Own")["Properties"]["Tags"],
        json!([
            {"Key": "Env", "Value": "staging"},
            {"Key": "Name", "Value": "own"},
            {"Key": "Team", "Value": "data"}
        ])
    );
    assert_eq!(
        resource("Plain")["Properties"],
        json!({"CidrBlock": "10.0.0.0/16", "Tags": [{"Key": "Env", "Value": "staging"}, {"Key": "Team", "Value": "platform"}]})
    );
    assert_eq!(resource("Untaggable").get("Properties"), None);
    assert_eq!(
        resource("Map")["Properties"]["Tags"],
        json!({"Env": "mine", "Team": "platform"})
    );
    assert_eq!(
        resource("Asg")["Properties"]["Tags"][0],
        json!({"Key": "Env", "Value": "staging", "PropagateAtLaunch": true})
    );
    Ok(())
}

#[test]
fn escape_hatch_overrides_set_and_remove_paths() -> TestResult {
    let app = App::new();
    let stack = Stack::new(&app, "Hatch", StackProps::default())?;
    let topic = stack.add("Topic", RawResource::new("AWS::SNS::Topic"))?;
    let bucket = stack.add(
        "Bucket",
        RawResource::new("AWS::S3::Bucket")
            .property("BucketName", "b")
            .property("LifecycleConfiguration", json!({"Rules": [{"Id": "old", "Status": "Enabled"}, {"Id": "two", "Status": "Enabled"}]})),
    )?;
    bucket.add_property_override("VersioningConfiguration.Status", "Enabled");
    bucket.add_property_override("LifecycleConfiguration.Rules.0.Id", "expire");
    bucket.add_property_deletion_override("LifecycleConfiguration.Rules.1");
    bucket.add_property_deletion_override("BucketName");
    bucket.add_override("Metadata.cfn\\.note", "dotted key");
    bucket.add_property_override(
        "NotificationConfiguration.TopicConfigurations",
        vec![json!({"Event": "s3:ObjectCreated:*"})],
    );
    bucket.add_property_override(
        "NotificationConfiguration.TopicConfigurations.0.Topic",
        topic.reference(),
    );
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        t.resource("Bucket").unwrap(),
        &json!({
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Enabled"}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "NotificationConfiguration": {"TopicConfigurations": [{"Event": "s3:ObjectCreated:*", "Topic": {"Ref": "Topic"}}]}
            },
            "Metadata": {"aws:cdk:path": "Hatch/Bucket", "cfn.note": "dotted key"}
        })
    );
    // An override into a list index that does not exist is an error, not a silent no-op.
    bucket.add_property_override("LifecycleConfiguration.Rules.5.Id", "x");
    let err = app.synth_unchecked().unwrap_err();
    assert!(
        err.to_string().contains(
            "override path component \"5\" is not an index of the list here (it has 1 items)"
        ),
        "{err}"
    );
    Ok(())
}

#[test]
fn resource_attributes_render() -> TestResult {
    let app = App::new();
    let stack = Stack::new(&app, "Attrs", StackProps::default())?;
    let stage = stack.add_parameter("Stage", ParameterProps::default())?;
    let prod = stack.add_condition("IsProd", fns::equals(stage.value(), "production"))?;
    let topic = stack.add("Topic", RawResource::new("AWS::SNS::Topic"))?;
    let db = stack.add(
        "Db",
        RawResource::new("AWS::RDS::DBInstance").property("DBInstanceClass", "db.t3.micro"),
    )?;
    db.apply_removal_policy(RemovalPolicy::Snapshot);
    db.add_depends_on(&topic)?;
    db.add_depends_on(&topic)?;
    db.set_condition(&prod)?;
    db.add_metadata("Owner", "platform");
    db.set_update_policy(json!({"AutoScalingRollingUpdate": {"MinInstancesInService": 1}}));
    db.set_creation_policy(json!({"ResourceSignal": {"Count": 1}}));
    topic.set_deletion_policy(DeletionPolicy::RetainExceptOnCreate);
    stack.add_output(
        "DbId",
        db.reference(),
        OutputProps {
            description: Some("the database".into()),
            condition: Some(prod.clone()),
            export_name: Some("attrs-db".into()),
        },
    )?;
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        t.resource("Db").unwrap(),
        &json!({
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBInstanceClass": "db.t3.micro"},
            "DependsOn": ["Topic"],
            "Condition": "IsProd",
            "DeletionPolicy": "Snapshot",
            "UpdateReplacePolicy": "Snapshot",
            "UpdatePolicy": {"AutoScalingRollingUpdate": {"MinInstancesInService": 1}},
            "CreationPolicy": {"ResourceSignal": {"Count": 1}},
            "Metadata": {"aws:cdk:path": "Attrs/Db", "Owner": "platform"}
        })
    );
    t.has_resource(
        "AWS::SNS::Topic",
        json!({"DeletionPolicy": "RetainExceptOnCreate"}),
    )?;
    t.has_output("DbId", json!({"Description": "the database", "Value": {"Ref": "Db"}, "Export": {"Name": "attrs-db"}, "Condition": "IsProd"}))?;
    Ok(())
}

#[test]
fn every_resource_names_its_construct_path_unless_turned_off() -> TestResult {
    let build = |settings: AppSettings| -> Result<serde_json::Value, omc_cdk::Error> {
        let app = App::with_settings(settings);
        let stack = Stack::new(&app, "Paths", StackProps::default())?;
        let db = stack.child("Db")?;
        let topic = db.add("Resource", RawResource::new("AWS::SNS::Topic"))?;
        assert_eq!(topic.logical_id(), "Db5D02A0A9");
        let renamed = db.add("Secret", RawResource::new("AWS::SecretsManager::Secret"))?;
        renamed.override_logical_id("LegacySecret")?;
        Ok(app
            .synth_unchecked()?
            .stack("Paths")
            .expect("the stack")
            .json()
            .clone())
    };
    // As AWS CDK writes it: the path of the construct, `Resource` included.
    let t = build(AppSettings::default())?;
    assert_eq!(
        t["Resources"]["Db5D02A0A9"]["Metadata"],
        json!({"aws:cdk:path": "Paths/Db/Resource"})
    );
    assert_eq!(
        t["Resources"]["LegacySecret"]["Metadata"],
        json!({"aws:cdk:path": "Paths/Db/Secret"})
    );
    let t = build(AppSettings {
        path_metadata: PathMetadata::Omitted,
        ..AppSettings::default()
    })?;
    assert!(
        t["Resources"]["Db5D02A0A9"].get("Metadata").is_none(),
        "{t}"
    );
    assert!(
        t["Resources"]["LegacySecret"].get("Metadata").is_none(),
        "{t}"
    );
    Ok(())
}

#[test]
fn logical_id_overrides_are_followed_by_references() -> TestResult {
    let app = App::new();
    let stack = Stack::new(&app, "Ids", StackProps::default())?;
    let topic = stack
        .child("Alerts")?
        .add("Resource", RawResource::new("AWS::SNS::Topic"))?;
    assert_eq!(topic.logical_id(), "Alerts91F83244");
    let sub = stack.add(
        "Sub",
        RawResource::new("AWS::SNS::Subscription").property("TopicArn", topic.reference()),
    )?;
    sub.add_depends_on(&topic)?;
    topic.override_logical_id("LegacyAlertsTopic")?;
    let t = Template::from_stack(&stack)?;
    t.has_resource("AWS::SNS::Subscription", json!({"Properties": {"TopicArn": {"Ref": "LegacyAlertsTopic"}}, "DependsOn": ["LegacyAlertsTopic"]}))?;
    assert!(t.resource("Alerts91F83244").is_none());
    Ok(())
}

#[test]
fn update_properties_grows_a_resource() -> TestResult {
    let app = App::new();
    let stack = Stack::new(&app, "Grow", StackProps::default())?;
    let policy = stack.add(
        "Policy",
        RawResource::new("AWS::IAM::ManagedPolicy").property(
            "PolicyDocument",
            json!({"Version": "2012-10-17", "Statement": []}),
        ),
    )?;
    policy.update_properties(|props| {
        if let Some(Node::Map(doc)) = props.get_mut("PolicyDocument")
            && let Some(Node::List(statements)) = doc.get_mut("Statement")
        {
            statements.push(omc_cdk::IntoNode::into_node(
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            ));
        }
    });
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        json!({"PolicyDocument": {"Statement": [{"Action": "s3:GetObject"}]}}),
    )?;
    Ok(())
}

#[test]
fn template_layout_is_conventional_and_deterministic() -> TestResult {
    let build = || -> Result<App, omc_cdk::Error> {
        let app = App::new();
        let stack = Stack::new(
            &app,
            "Layout",
            StackProps {
                description: Some("layout test".into()),
                ..StackProps::default()
            },
        )?;
        stack.add_output("Out", "x", OutputProps::default())?;
        stack.add("T", RawResource::new("AWS::SNS::Topic"))?;
        stack.add_condition("C", fns::equals(aws::region(), "eu-west-1"))?;
        stack.add_mapping("M", json!({"a": {"b": "c"}}))?;
        stack.add_parameter("P", ParameterProps::default())?;
        stack.add_metadata("Note", json!("hello"));
        Ok(app)
    };
    let first = build()?.synth_unchecked()?;
    let second = build()?.synth_unchecked()?;
    let text = first.stacks()[0].template();
    assert_eq!(text, second.stacks()[0].template());
    let keys: Vec<String> = first.stacks()[0]
        .template_json()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "AWSTemplateFormatVersion",
            "Description",
            "Metadata",
            "Parameters",
            "Mappings",
            "Conditions",
            "Resources",
            "Outputs"
        ]
    );
    assert!(text.starts_with("{\n \"AWSTemplateFormatVersion\": \"2010-09-09\",\n \"Description\": \"layout test\",\n"), "{text}");
    assert!(text.ends_with("}\n"));
    Ok(())
}

#[test]
fn manifest_records_order_hash_size_and_upload() -> TestResult {
    let app = App::new();
    let small = Stack::new(&app, "Small", StackProps::default())?;
    small.add("T", RawResource::new("AWS::SNS::Topic"))?;
    let big = Stack::new(
        &app,
        "Big",
        StackProps {
            env: Some(omc_cdk::Environment::new("123456789012", "eu-west-1")),
            termination_protection: true,
            ..StackProps::default()
        },
    )?;
    for i in 0..450 {
        big.add(
            &format!("Queue{i}"),
            RawResource::new("AWS::SQS::Queue")
                .property("VisibilityTimeout", 30)
                .property("DelaySeconds", 0),
        )?;
    }
    let synthesis = app.synth_unchecked()?;
    let big_stack = synthesis.stack("Big").unwrap();
    assert!(big_stack.requires_upload(), "size {}", big_stack.size());
    assert!(!synthesis.stack("Small").unwrap().requires_upload());

    let dir = tempfile::tempdir()?;
    let manifest_path = synthesis.write(dir.path())?;
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)?;
    let entry = &manifest["stacks"][1];
    assert_eq!(entry["name"], "Big");
    assert_eq!(entry["template"], "Big.template.json");
    assert_eq!(
        entry["environment"],
        json!({"account": "123456789012", "region": "eu-west-1"})
    );
    assert_eq!(entry["terminationProtection"], true);
    assert_eq!(entry["requiresUpload"], true);
    assert_eq!(entry["resources"], 450);
    let bytes = std::fs::read(dir.path().join("Big.template.json"))?;
    assert_eq!(entry["templateSize"], bytes.len());
    assert_eq!(
        entry["templateSha256"].as_str().unwrap(),
        big_stack.sha256()
    );
    assert_eq!(bytes, big_stack.template().as_bytes());
    assert_eq!(
        manifest["stacks"][0]["environment"],
        serde_json::Value::Null
    );

    // Writing a selection removes templates the previous manifest listed.
    let selection = synthesis.select(&["Sm*".to_owned()])?;
    omc_cdk::Synthesis::write_stacks(&selection, dir.path())?;
    assert!(!dir.path().join("Big.template.json").exists());
    assert!(dir.path().join("Small.template.json").exists());
    let err = synthesis.select(&["Nope".to_owned()]).unwrap_err();
    assert_eq!(
        err,
        "no stack matches \"Nope\"; the stacks of this app are: Small, Big"
    );
    Ok(())
}

#[test]
fn stack_files_are_written_beside_the_template_and_cleaned_up() -> TestResult {
    let app = App::new();
    let stack = Stack::new(&app, "Ci", StackProps::default())?;
    stack.add("T", RawResource::new("AWS::SNS::Topic"))?;
    stack.add_file("runners.values.yaml", "minRunners: 0\n".into())?;
    assert!(
        stack
            .add_file("runners.values.yaml", String::new())
            .is_err()
    );
    assert!(stack.add_file("../escape", String::new()).is_err());
    assert!(stack.contains("T") && !stack.contains("U"));
    assert!(stack.has_file("runners.values.yaml") && !stack.has_file("other.yaml"));
    let dir = tempfile::tempdir()?;
    let synthesis = app.synth_unchecked()?;
    let manifest_path = synthesis.write(dir.path())?;
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Ci.runners.values.yaml"))?,
        "minRunners: 0\n"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest_path)?)?;
    assert_eq!(
        manifest["stacks"][0]["files"],
        json!(["Ci.runners.values.yaml"])
    );
    // A later synthesis without the stack removes its files too.
    omc_cdk::Synthesis::write_stacks(&[], dir.path())?;
    assert!(!dir.path().join("Ci.runners.values.yaml").exists());
    assert!(!dir.path().join("Ci.template.json").exists());
    Ok(())
}

#[test]
fn user_text_in_a_sub_stays_literal() {
    use omc_cdk::{Pseudo, RawResource, Value, fns};
    let app = App::new();
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let bucket = stack
        .add("Bucket", RawResource::new("AWS::S3::Bucket"))
        .unwrap();
    let user_text = "a ${AWS::Region} b ${Foo.Bar} c ${!Already}";
    let value: Value<String> = fns::Sub::new()
        .text("arn:")
        .pseudo(Pseudo::Partition)
        .text(":s3:::")
        .var("Bucket", bucket.reference())
        .text("/")
        .text(user_text)
        .build();
    stack
        .add(
            "Param",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", value),
        )
        .unwrap();
    let synthesis = app.synth_unchecked().unwrap();
    let template: serde_json::Value =
        serde_json::from_str(synthesis.stack("Data").unwrap().template()).unwrap();
    let param = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["Type"] == "AWS::SSM::Parameter")
        .unwrap();
    assert_eq!(
        param["Properties"]["Value"],
        serde_json::json!({"Fn::Sub": [
            "arn:${AWS::Partition}:s3:::${Bucket}/a ${!AWS::Region} b ${!Foo.Bar} c ${!!Already}",
            {"Bucket": {"Ref": "Bucket"}}
        ]})
    );
    assert_eq!(fns::sub_escape("${x} $ {y} ${"), "${!x} $ {y} ${!");
}
