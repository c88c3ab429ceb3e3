// A subnet needs its VPC: `Subnet` has no `Default`, only `Subnet::new(vpc_id)`.
use omc_cfn::ec2;

fn main() {
    let _subnet = ec2::Subnet {
        cidr_block: Some("10.0.0.0/24".into()),
        ..Default::default()
    };
}
