//! `<Prefix>-Network`: the VPC.

use omc_cdk::{App, Result};
use omc_constructs::{FlowLogTraffic, SubnetGroup, SubnetKind, Vpc, VpcProps};

use crate::config::Config;

/// The subnet group of the load balancer and the NAT gateways.
pub(crate) const PUBLIC: &str = "Public";
/// The subnet group of the ECS tasks.
pub(crate) const APP: &str = "App";
/// The subnet group of PostgreSQL and Redis.
pub(crate) const DATABASE: &str = "Database";

/// The network stack: a VPC across two zones with public subnets (load balancer, NAT),
/// private application subnets (ECS tasks, routed through NAT) and private database subnets
/// (RDS, Redis; no route out), an S3 gateway endpoint and flow logs of rejected traffic.
pub(crate) fn network(app: &App, config: &Config) -> Result<Vpc> {
    let stack = crate::stack(app, config, "Network", "VPC, subnets, NAT")?;
    Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            cidr: config.vpc_cidr.clone(),
            max_azs: 2,
            nat_gateways: config.nat_gateways,
            subnets: vec![
                SubnetGroup::new(PUBLIC, SubnetKind::Public, 24),
                SubnetGroup::new(APP, SubnetKind::PrivateWithEgress, 20),
                SubnetGroup::new(DATABASE, SubnetKind::Isolated, 24),
            ],
            flow_logs: Some(FlowLogTraffic::Reject),
            ..VpcProps::default()
        },
    )
}
