// A typed handle does not dereference to the untyped `Resource`: it has no `get_att`, so an
// attribute its type lacks cannot be asked for by name (`as_resource()` is the explicit escape
// hatch, checked against the schema at synthesis).
use omc_cdk::{App, Stack, StackProps, TypedResource};
use omc_cfn::ec2;

fn main() -> omc_cdk::Result<()> {
    let app = App::new();
    let stack = Stack::new(&app, "Net", StackProps::default())?;
    let vpc = stack.add("Vpc", ec2::Vpc::new())?;
    vpc.apply_removal_policy(omc_cdk::RemovalPolicy::Retain);
    let _escape = vpc.as_resource().get_att::<String>("CidrBlock");
    let _arn = vpc.get_att::<String>("Arn");
    Ok(())
}
