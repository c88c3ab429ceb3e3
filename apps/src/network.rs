//! `<Prefix>-Network`: the VPC, and the environment's key for logs.

use omc_cdk::{App, Result};
use omc_constructs::{FlowLogTraffic, Key, KeyProps, SubnetGroup, SubnetKind, Vpc, VpcProps};

use crate::config::Config;

/// The subnet group of the load balancer and the NAT gateways.
pub(crate) const PUBLIC: &str = "Public";
/// The subnet group of the ECS tasks.
pub(crate) const APP: &str = "App";
/// The subnet group of PostgreSQL and Redis.
pub(crate) const DATABASE: &str = "Database";

/// The network stack's handles.
pub(crate) struct Network {
    pub(crate) vpc: Vpc,
    /// The environment's key for logs: every log group (flow logs, the services' and the
    /// scheduled tasks' container logs, WAF's) and the CloudTrail trail are encrypted with it.
    pub(crate) logs_key: Key,
}

/// The network stack: a VPC across two zones with public subnets (load balancer, NAT),
/// private application subnets (ECS tasks, routed through NAT) and private database subnets
/// (RDS, Redis; no route out), an S3 gateway endpoint and flow logs of rejected traffic; and
/// `LogsKey` (`alias/omc-<stage>/logs`), the customer-managed key of every log of the
/// environment. It lives here, in the first stack, so that every other stack can use it (the
/// log groups' `KmsKeyId` is a cross-stack reference; each log group's use adds nothing to the
/// key policy after the first: CloudWatch Logs is allowed once, for any log group of the
/// account and region).
pub(crate) fn network(app: &App, config: &Config) -> Result<Network> {
    let stack = crate::stack(
        app,
        config,
        "Network",
        "VPC, subnets, NAT, the key for logs",
    )?;
    let logs_key = Key::new(
        &stack,
        "LogsKey",
        KeyProps {
            description: Some(format!(
                "OMC {}: encrypts the environment's CloudWatch log groups and CloudTrail log files",
                config.stage.name()
            )),
            alias: Some(format!("alias/omc-{}/logs", config.stage.name())),
            ..KeyProps::default()
        },
    )?;
    let vpc = Vpc::new(
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
            flow_log_key: Some(logs_key.clone()),
            ..VpcProps::default()
        },
    )?;
    Ok(Network { vpc, logs_key })
}
