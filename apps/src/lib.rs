//! The OMC platform's infrastructure as omc-cdk apps.
//!
//! - `staging` and `production` ([`platform`]): per environment, the stacks
//!   `<Prefix>-Network` (VPC), `<Prefix>-Data` (PostgreSQL, Redis, the agents' file system),
//!   `<Prefix>-Services` (the ECS cluster, the load balancer, the backend, the frontend, the
//!   collectors and the agents), `<Prefix>-Monitoring` (alarms and a dashboard) and
//!   `<Prefix>-Security` (CloudTrail, GuardDuty, AWS Config), wired with cross-stack
//!   references.
//! - `ci` ([`ci`]): the `OMC-test` EKS cluster of scale-to-zero GitHub Actions runners. It runs
//!   no application workloads: applications run on ECS.
//!
//! `cargo run -p apps --bin staging -- synth` writes the staging templates to `omc.out/`.
//! `docs/architecture.md` explains the stacks and the decisions behind them.

pub mod config;

mod ci;
mod data;
mod monitoring;
mod network;
mod security;
mod services;

use omc_cdk::{App, Result, Stack, StackProps};

pub use config::{CiConfig, Config, Stage};

/// The app of an environment.
pub fn platform(config: &Config, name: &str) -> Result<App> {
    let app = App::new()
        .named(name, env!("CARGO_PKG_VERSION"))
        .with_schemas(omc_constructs::cfn::schema::find)
        .with_stage(config.stage.check_stage());
    let network = network::network(&app, config)?;
    let data = data::data(&app, config, &network)?;
    let services = services::services(&app, config, &network, &data)?;
    monitoring::monitoring(&app, config, &data, &services)?;
    if config.security_baseline {
        security::security(&app, config)?;
    }
    Ok(app)
}

/// The staging app.
pub fn staging() -> Result<App> {
    platform(&Config::staging(), "staging")
}

/// The production app.
pub fn production() -> Result<App> {
    platform(&Config::production(), "production")
}

/// The CI runner cluster app.
pub fn ci() -> Result<App> {
    ci::ci(&CiConfig::omc_test())
}

/// A stack of an environment, named `<Prefix>-<part>`.
pub(crate) fn stack(app: &App, config: &Config, part: &str, description: &str) -> Result<Stack> {
    Stack::new(
        app,
        &config.stack_name(part),
        StackProps {
            env: Some(config.env.clone()),
            description: Some(format!("OMC {}: {description}", config.stage.name())),
            tags: config.tags.clone(),
            termination_protection: config.protect_data,
            stage: None,
        },
    )
}

/// The removal policy of stateful resources.
pub(crate) fn data_removal_policy(config: &Config) -> omc_cdk::RemovalPolicy {
    if config.protect_data {
        omc_cdk::RemovalPolicy::Snapshot
    } else {
        omc_cdk::RemovalPolicy::Destroy
    }
}
