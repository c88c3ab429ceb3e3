// `AWS::EC2::VPC` has no `Arn` attribute, so its handle has no accessor for one.
use omc_cdk::{App, Stack, StackProps};
use omc_cfn::ec2;

fn main() -> omc_cdk::Result<()> {
    let app = App::new();
    let stack = Stack::new(&app, "Net", StackProps::default())?;
    let vpc = stack.add("Vpc", ec2::Vpc::new())?;
    let _ok = vpc.attr_vpc_id();
    let _arn = vpc.attr_arn();
    Ok(())
}
