//! Literal property values are checked against the value constraints of their type's schema
//! (allowed values, patterns, minimums and maximums, lengths), and tags against AWS's limits;
//! every problem is reported at once, with the construct path, the property, the bad value and
//! what is allowed.
#![allow(clippy::panic, clippy::unwrap_used)]

use omc_cdk::{
    App, Error, ParameterProps, ParameterType, Problem, ProblemKind, RawResource, Stack,
    StackProps, TagFormat,
};
use serde_json::json;

/// A registry of five types with the real constraints that `omc-cfn` carries (generated from
/// the pinned registry schemas), as `omc_cfn::schema::find` gives them.
fn schemas(type_name: &str) -> Option<&'static omc_cdk::schema::ResourceSchema> {
    static REGISTRY: std::sync::OnceLock<Vec<omc_cdk::schema::ResourceSchema>> =
        std::sync::OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut registry = omc_cdk::schema::parse_registry(
                "AWS::Amplify::App\tTags:S\tName:r,Tags:\tAppId,Arn\n\
                 AWS::CloudWatch::Alarm\tTags:S\tComparisonOperator:,Dimensions:,EvaluationPeriods:,MetricName:,Namespace:,Period:,Tags:,Threshold:\tArn\n\
                 AWS::EC2::VPC\tTags:S\tCidrBlock:A,InstanceTenancy:C,Tags:\tCidrBlock,VpcId\n\
                 AWS::S3::Bucket\tTags:S\tBucketName:A,Tags:\tArn\n\
                 AWS::SSM::Parameter\tTags:M\tName:A,Tags:,Type:r,Value:r\tType,Value\n",
            )
            .unwrap();
            omc_cdk::schema::attach_constraints(
                &mut registry,
                include_str!("../../cfn/bindings/src/constraints.txt"),
            );
            registry
        })
        .iter()
        .find(|s| s.type_name == type_name)
}

fn app() -> (App, Stack) {
    let app = App::new().with_schemas(schemas);
    let stack = Stack::new(&app, "Ops", StackProps::default()).unwrap();
    (app, stack)
}

fn problems(app: &App) -> Vec<Problem> {
    match app.synth_unchecked() {
        Err(Error::Synthesis(problems)) => problems,
        Err(other) => panic!("expected synthesis problems, got {other}"),
        Ok(_) => panic!("expected synthesis to fail"),
    }
}

fn vpc() -> RawResource {
    RawResource::new("AWS::EC2::VPC")
        .property("CidrBlock", "10.0.0.0/16")
        .tags(TagFormat::KeyValueList("Tags".into()))
}

fn alarm() -> RawResource {
    RawResource::new("AWS::CloudWatch::Alarm")
        .property("ComparisonOperator", "GreaterThanThreshold")
        .property("EvaluationPeriods", 1)
        .property("MetricName", "Errors")
        .property("Namespace", "Omc")
        .property("Threshold", 1)
        .property("Period", 60)
}

fn only(app: &App) -> Problem {
    let problems = problems(app);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems.into_iter().next().unwrap()
}

#[test]
fn a_value_the_schema_does_not_allow() {
    let (app, stack) = app();
    stack
        .child("Network")
        .unwrap()
        .add("Vpc", vpc().property("InstanceTenancy", "shared"))
        .unwrap();
    let problem = only(&app);
    assert_eq!(problem.kind, ProblemKind::ValueNotAllowed);
    assert_eq!(
        problem.to_string(),
        r#"Ops/Network/Vpc (Properties.InstanceTenancy): InstanceTenancy is "shared"; AWS::EC2::VPC allows one of dedicated, default, host"#
    );
}

#[test]
fn a_string_that_does_not_match_the_pattern() {
    let (app, stack) = app();
    stack
        .add(
            "Bucket",
            RawResource::new("AWS::S3::Bucket").property("BucketName", "Omc-Reports"),
        )
        .unwrap();
    let problem = only(&app);
    assert_eq!(problem.kind, ProblemKind::PatternMismatch);
    assert_eq!(
        problem.to_string(),
        r#"Ops/Bucket (Properties.BucketName): BucketName is "Omc-Reports"; AWS::S3::Bucket allows only values that match ^([a-z0-9][a-z0-9.-]*[a-z0-9])?$"#
    );
}

#[test]
fn a_number_out_of_range() {
    let (app, stack) = app();
    stack.add("Alarm", alarm().property("Period", -60)).unwrap();
    let problem = only(&app);
    assert_eq!(problem.kind, ProblemKind::OutOfRange);
    assert_eq!(
        problem.to_string(),
        "Ops/Alarm (Properties.Period): Period is -60; AWS::CloudWatch::Alarm allows at least 1"
    );
}

#[test]
fn a_string_too_long_and_a_nested_one_too_short() {
    let (app, stack) = app();
    stack
        .add(
            "Bucket",
            RawResource::new("AWS::S3::Bucket").property("BucketName", "a".repeat(64)),
        )
        .unwrap();
    stack
        .add(
            "Alarm",
            alarm().property("Dimensions", json!([{"Name": "", "Value": "x"}])),
        )
        .unwrap();
    let problems = problems(&app);
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            r#"Ops/Bucket (Properties.BucketName): BucketName is "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" (64 characters); AWS::S3::Bucket allows at most 63 characters"#,
            r#"Ops/Alarm (Properties.Dimensions[0].Name): Name is "" (0 characters); AWS::CloudWatch::Alarm allows 1 to 255 characters"#,
        ]
    );
    assert!(
        problems
            .iter()
            .all(|p| p.kind == ProblemKind::InvalidLength)
    );
}

#[test]
fn more_than_50_tags_counting_the_stacks() {
    let (app, stack) = app();
    for i in 0..10 {
        stack.add_tag(&format!("stack-{i}"), "x").unwrap();
    }
    let own: Vec<serde_json::Value> = (0..41)
        .map(|i| json!({"Key": format!("own-{i}"), "Value": "x"}))
        .collect();
    stack
        .add("Vpc", vpc().property("Tags", serde_json::Value::Array(own)))
        .unwrap();
    let problem = only(&app);
    assert_eq!(problem.kind, ProblemKind::Limit);
    assert_eq!(
        problem.to_string(),
        "Ops/Vpc (Properties.Tags): the resource has 51 tags (its own and those of its scopes and stack); AWS allows at most 50 on a resource: remove some"
    );
}

#[test]
fn a_tag_key_with_the_reserved_prefix() {
    let (app, stack) = app();
    stack
        .add(
            "Vpc",
            vpc().property("Tags", json!([{"Key": "AWS:team", "Value": "x"}])),
        )
        .unwrap();
    stack
        .add(
            "Param",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", "v")
                .property("Tags", json!({"aws:owner": "me"}))
                .tags(TagFormat::Map("Tags".into())),
        )
        .unwrap();
    // Amplify's schema refuses the prefix with a pattern (^(?!aws:)...): reported once.
    stack
        .add(
            "Amplify",
            RawResource::new("AWS::Amplify::App")
                .property("Name", "web")
                .property("Tags", json!([{"Key": "aws:app", "Value": "x"}]))
                .tags(TagFormat::KeyValueList("Tags".into())),
        )
        .unwrap();
    let shown: Vec<String> = problems(&app).iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            r#"Ops/Vpc (Properties.Tags[0].Key): tag key "AWS:team" uses the reserved prefix "aws:"; choose another key"#,
            r#"Ops/Param (Properties.Tags.aws:owner): tag key "aws:owner" uses the reserved prefix "aws:"; choose another key"#,
            r#"Ops/Amplify (Properties.Tags[0].Key): tag key "aws:app" uses the reserved prefix "aws:"; choose another key"#,
        ]
    );
}

#[test]
fn every_problem_at_once_and_intrinsics_are_skipped() {
    let (app, stack) = app();
    let period = stack
        .add_parameter("Period", ParameterProps::new(ParameterType::Number))
        .unwrap();
    stack
        .add("Vpc", vpc().property("InstanceTenancy", "shared"))
        .unwrap();
    stack
        .add(
            "Alarm",
            alarm()
                .property("Period", period.value_as_number())
                .property("ComparisonOperator", "Above")
                .property("EvaluationPeriods", 0),
        )
        .unwrap();
    stack
        .add(
            "Bucket",
            RawResource::new("AWS::S3::Bucket").property("BucketName", "Reports"),
        )
        .unwrap();
    let err = app.synth_unchecked().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"synthesis found 4 problems:
  - Ops/Vpc (Properties.InstanceTenancy): InstanceTenancy is "shared"; AWS::EC2::VPC allows one of dedicated, default, host
  - Ops/Alarm (Properties.ComparisonOperator): ComparisonOperator is "Above"; AWS::CloudWatch::Alarm allows one of GreaterThanOrEqualToThreshold, GreaterThanThreshold, GreaterThanUpperThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, LessThanOrEqualToThreshold, LessThanThreshold
  - Ops/Alarm (Properties.EvaluationPeriods): EvaluationPeriods is 0; AWS::CloudWatch::Alarm allows at least 1
  - Ops/Bucket (Properties.BucketName): BucketName is "Reports"; AWS::S3::Bucket allows only values that match ^([a-z0-9][a-z0-9.-]*[a-z0-9])?$"#
    );
}

#[test]
fn valid_values_pass() {
    let (app, stack) = app();
    stack
        .add("Vpc", vpc().property("InstanceTenancy", "dedicated"))
        .unwrap();
    stack.add("Alarm", alarm()).unwrap();
    stack
        .add(
            "Bucket",
            RawResource::new("AWS::S3::Bucket").property("BucketName", "omc-reports.2026"),
        )
        .unwrap();
    app.synth_unchecked().unwrap();
}

#[test]
fn overrides_are_checked_and_conditional_values_skipped() {
    let (app, stack) = app();
    let vpc = stack.add("Vpc", vpc()).unwrap();
    vpc.add_property_override("InstanceTenancy", "Dedicated");
    stack
        .add(
            "Alarm",
            alarm().property(
                "Period",
                json!({"Fn::If": ["Never", -1, {"Ref": "AWS::NoValue"}]}),
            ),
        )
        .unwrap();
    stack
        .add_condition(
            "Never",
            omc_cdk::fns::equals(omc_cdk::aws::region(), "nowhere"),
        )
        .unwrap();
    let problem = only(&app);
    assert_eq!(
        problem.to_string(),
        r#"Ops/Vpc (Properties.InstanceTenancy): InstanceTenancy is "Dedicated"; AWS::EC2::VPC allows one of dedicated, default, host"#
    );
}

#[test]
fn a_property_can_be_left_unchecked_with_a_reason() {
    let (app, stack) = app();
    let vpc = stack
        .add("Vpc", vpc().property("InstanceTenancy", "shared"))
        .unwrap();
    let alarm = stack
        .add(
            "Alarm",
            alarm().property("Dimensions", json!([{"Name": "", "Value": "x"}])),
        )
        .unwrap();
    vpc.skip_schema_constraints("InstanceTenancy", "newer than the pinned schemas")
        .unwrap();
    alarm
        .skip_schema_constraints(
            "Properties.Dimensions",
            "an empty dimension name is fine here",
        )
        .unwrap();
    app.synth_unchecked().unwrap();
    let err = vpc
        .skip_schema_constraints("InstanceTenancy", " ")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Ops/Vpc: the reason is empty; say why the schema's constraint does not apply"
    );
}
