// Network ids are made by the construct that owns the resource (or checked by
// `from_attributes`), and ARN props take typed ARNs: plain strings do not convert.
use omc_cdk::{App, Stack, StackProps};
use omc_constructs::{ApplicationLoadBalancerProps, SecurityGroupId, Vpc, VpcId, VpcProps};

fn main() -> omc_cdk::Result<()> {
    let app = App::new();
    let stack = Stack::new(&app, "Net", StackProps::default())?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let _id = VpcId::from("vpc-0123456789abcdef0");
    let _group: SecurityGroupId = "sg-0123456789abcdef0".into();
    let _props = ApplicationLoadBalancerProps {
        certificate_arn: Some("arn:aws:acm:eu-west-1:123456789012:certificate/abc".into()),
        ..ApplicationLoadBalancerProps::new(&vpc)
    };
    Ok(())
}
