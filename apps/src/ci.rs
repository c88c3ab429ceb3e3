//! The CI runner cluster `OMC-test`: scale-to-zero GitHub Actions runners on EKS.
//!
//! This is the only EKS cluster of the platform and it runs no application workloads; the
//! construct has no API for them. Applications run on ECS (`docs/architecture.md`).

use omc_cdk::arn::RoleArn;
use omc_cdk::{App, Result, Stack, StackProps};
use omc_constructs::{EksRunnerCluster, EksRunnerClusterProps, RunnerNodesProps, Vpc, VpcProps};

use crate::config::CiConfig;

/// The CI app: one stack with its own VPC and the runner cluster (1 system node, 0 to 10
/// runner nodes). Synthesis also writes the Helm values of cluster-autoscaler and of the
/// Actions Runner Controller scale set beside the template.
pub(crate) fn ci(config: &CiConfig) -> Result<App> {
    let app = App::new()
        .named("ci", env!("CARGO_PKG_VERSION"))
        .with_schemas(omc_constructs::cfn::schema::find)
        // Long-lived infrastructure every pull request depends on: checked as production.
        .with_stage(omc_cdk::Stage::Production);
    let stack = Stack::new(
        &app,
        &config.stack_name,
        StackProps {
            env: Some(config.env.clone()),
            description: Some("OMC CI: the OMC-test EKS cluster of GitHub Actions runners".into()),
            tags: config.tags.clone(),
            termination_protection: false,
            stage: None,
        },
    )?;
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            cidr: config.vpc_cidr.clone(),
            ..VpcProps::default()
        },
    )?;
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            admin_role_arns: config
                .admin_role_arns
                .iter()
                .map(|arn| RoleArn::new(arn.as_str()))
                .collect::<Result<_>>()?,
            public_access_cidrs: config.api_access_cidrs.clone(),
            runner_nodes: RunnerNodesProps {
                max: config.max_runner_nodes,
                ..RunnerNodesProps::default()
            },
            ..EksRunnerClusterProps::new(&vpc, config.github_config_url.clone())
        },
    )?;
    Ok(app)
}
