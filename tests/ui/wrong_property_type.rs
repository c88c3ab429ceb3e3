// `CidrBlock` is a string: a number does not fit, neither does a list intrinsic.
use omc_cfn::ec2;

fn main() {
    let _vpc = ec2::Vpc {
        cidr_block: Some(16.into()),
        ..ec2::Vpc::new()
    };
    let _other = ec2::Vpc {
        cidr_block: Some(omc_cdk::fns::get_azs("")),
        ..ec2::Vpc::new()
    };
}
