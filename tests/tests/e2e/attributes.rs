//! `Fn::GetAtt` of an attribute the type does not have is a synthesis problem, and user text
//! that reaches an `Fn::Sub` stays literal.

use omc_cdk::{App, Error, ProblemKind, RawResource, Stack, StackProps, TypedResource};
use omc_cfn::ec2;

fn problems(app: &App) -> Vec<omc_cdk::Problem> {
    match app.synth_unchecked() {
        Err(Error::Synthesis(problems)) => problems,
        Err(other) => panic!("expected synthesis problems, got {other}"),
        Ok(_) => panic!("expected synthesis to fail"),
    }
}

/// A typed handle has no `get_att` (`tests/ui/untyped_get_att.rs`), but its explicit escape
/// hatch `as_resource()` is the untyped `Resource`, whose `get_att` takes any name: the schema
/// the typed resource carries rejects the name at synthesis, with no `App::with_schemas` needed.
#[test]
fn get_att_through_a_typed_handle_is_checked_against_the_schema() {
    let app = App::new();
    let stack = Stack::new(&app, "Net", StackProps::default()).unwrap();
    let vpc = stack
        .add(
            "Vpc",
            ec2::Vpc {
                cidr_block: Some("10.0.0.0/16".into()),
                ..ec2::Vpc::new()
            },
        )
        .unwrap();
    stack
        .add(
            "Param",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", vpc.as_resource().get_att::<String>("Arn")),
        )
        .unwrap();
    stack
        .add(
            "Fine",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", vpc.attr_vpc_id()),
        )
        .unwrap();
    let problems = problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::UnknownAttribute);
    assert_eq!(p.path, "Net/Param");
    assert!(
        p.message.starts_with(
            "Fn::GetAtt \"Arn\" of Net/Vpc: type AWS::EC2::VPC has no attribute \"Arn\"; its attributes are CidrBlock, CidrBlockAssociations, DefaultNetworkAcl,"
        ),
        "{}",
        p.message
    );
    assert!(p.message.contains(", VpcId;"), "{}", p.message);
}

/// With the registry as the app's lookup, raw resources are checked too.
#[test]
fn raw_resources_are_checked_with_the_registry() {
    let app = App::new().with_schemas(omc_cfn::schema::find);
    let stack = Stack::new(&app, "Data", StackProps::default()).unwrap();
    let db = stack
        .add("Db", RawResource::new("AWS::RDS::DBInstance"))
        .unwrap();
    stack
        .add(
            "Host",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", db.get_att::<String>("Endpoint.Address")),
        )
        .unwrap();
    assert!(app.synth_unchecked().is_ok());
    stack
        .add(
            "Bad",
            RawResource::new("AWS::SSM::Parameter")
                .property("Type", "String")
                .property("Value", db.get_att::<String>("Endpoint.Hostname")),
        )
        .unwrap();
    let problems = problems(&app);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::UnknownAttribute);
    assert_eq!(problems[0].path, "Data/Bad");
}
