//! The CI runner cluster `OMC-test`: scale-to-zero GitHub Actions runners on EKS.
//!
//! This is the only EKS cluster of the platform and it runs no application workloads; the
//! construct has no API for them. Applications run on ECS (`docs/architecture.md`).

use omc_cdk::arn::RoleArn;
use omc_cdk::{App, Result, Stack, StackProps};
use omc_constructs::{
    Budget, BudgetProps, ContainerMode, EksRunnerCluster, EksRunnerClusterProps, Key, KeyProps,
    Monitoring, MonitoringProps, RunnerNodesProps, Vpc, VpcProps,
};

use crate::config::CiConfig;

/// The CI app: one stack with its own VPC, a key for its logs (`alias/omc-ci/logs`: the VPC's
/// flow logs and the control plane's logs are encrypted with it), the runner cluster (1 system node, 0 to 10 runner
/// nodes, Docker-in-Docker runners) and its monitoring (node failures and unschedulable pods
/// mailed to `CiConfig::alarm_email`). Synthesis also writes beside the template the Helm values
/// of cluster-autoscaler, of the Actions Runner Controller and of its runner scale set
/// (`<Stack>.cluster-autoscaler.values.yaml`, `<Stack>.arc-controller.values.yaml`,
/// `<Stack>.runner-scale-set.values.yaml`), each headed by its `helm install` command with the
/// pinned chart version.
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
    let logs_key = Key::new(
        &stack,
        "LogsKey",
        KeyProps {
            description: Some(
                "OMC CI: encrypts the runner cluster's CloudWatch log groups (control plane, VPC flow logs)".into(),
            ),
            alias: Some("alias/omc-ci/logs".into()),
            ..KeyProps::default()
        },
    )?;
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            cidr: config.vpc_cidr.clone(),
            flow_log_key: Some(logs_key.clone()),
            ..VpcProps::default()
        },
    )?;
    let cluster = EksRunnerCluster::new(
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
            // The workflows build images with `docker build`, which Kubernetes mode cannot run.
            // The privileged Docker sidecar is contained by the dedicated, tainted runner nodes
            // (one job each, ephemeral runners); see the construct's module docs.
            container_mode: ContainerMode::Dind,
            log_key: Some(&logs_key),
            ..EksRunnerClusterProps::new(&vpc, config.github_config_url.clone())
        },
    )?;
    let monitoring = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: Some(config.alarm_email.clone()),
            dashboard_name: Some("omc-ci-runners".into()),
            ..MonitoringProps::default()
        },
    )?;
    cluster.add_alarms(&monitoring)?;
    // The account's monthly budget: the runners scale to zero, so spend above the estimate
    // means runners that do not scale down (or a cluster nobody uses).
    let limit = crate::budget_limit(&app.synth_unchecked()?, config.budget_margin_percent)?;
    Budget::new(
        &stack,
        "Budget",
        BudgetProps::new("omc-ci-monthly", limit, &monitoring),
    )?;
    Ok(app)
}
