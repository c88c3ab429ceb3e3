//! The OMC platform's infrastructure as omc-cdk apps.
//!
//! - `staging` and `production` ([`platform`]): per environment, the stacks
//!   `<Prefix>-Network` (VPC, and the key that encrypts every log of the environment), `<Prefix>-Data` (PostgreSQL, Redis, the agents' file system),
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
mod delivery;
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
    let data = data::data(&app, config, &network.vpc)?;
    let registry = delivery::registry(&app, config)?;
    let services = services::services(&app, config, &network, &data, &registry)?;
    let (monitoring_stack, monitoring) = monitoring::monitoring(&app, config, &data, &services)?;
    if config.security_baseline {
        security::security(&app, config, &monitoring, &network.logs_key)?;
    }
    // One synthesis of everything so far serves the budget's estimate and the execution
    // role's services (synthesis is most of the time an app takes to build).
    let synthesis = app.synth_unchecked()?;
    monitoring::budget(config, &synthesis, &monitoring_stack, &monitoring)?;
    // The budget came after the synthesis: its service joins the execution role's.
    delivery::delivery(&app, config, &synthesis, &["AWS::Budgets::Budget"])?;
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

/// The apps, by the name of their binary.
pub const APPS: [&str; 3] = ["staging", "production", "ci"];

/// The environment variable whose account replaces the configured account of every stack:
/// for a sandbox account, or a local endpoint (LocalStack's account is `000000000000`).
pub const ACCOUNT_VARIABLE: &str = "OMC_ACCOUNT";

/// The account `OMC_ACCOUNT` names, when it is set (and not empty).
pub fn account_override() -> Result<Option<String>> {
    let Some(value) = std::env::var_os(ACCOUNT_VARIABLE) else {
        return Ok(None);
    };
    let value = value.to_string_lossy().into_owned();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(omc_cdk::Error::InvalidValue {
            path: ACCOUNT_VARIABLE.to_owned(),
            message: format!(
                "{value:?} is not an AWS account id; give the 12 digits of the account to deploy to (LocalStack's is 000000000000), or unset it to use the configured accounts"
            ),
        });
    }
    Ok(Some(value))
}

/// An app as its binary runs it (`cargo run -p apps --bin <name>`): `name` is one of
/// [`APPS`], and `OMC_ACCOUNT`, when set, replaces the configured account of every stack.
pub fn from_env(name: &str) -> Result<App> {
    let account = account_override()?;
    let account = account.as_deref();
    match name {
        "staging" => platform(&Config::staging().in_account(account), "staging"),
        "production" => platform(&Config::production().in_account(account), "production"),
        "ci" => ci::ci(&CiConfig::omc_test().in_account(account)),
        other => Err(omc_cdk::Error::InvalidValue {
            path: other.to_owned(),
            message: format!("no app named {other:?}; the apps are {}", APPS.join(", ")),
        }),
    }
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

/// A monthly budget for what a synthesis deploys: its `cost` estimate (default usage
/// assumptions, each stack priced in its own region) plus `margin_percent`, rounded up to $10.
pub fn budget_limit(synthesis: &omc_cdk::Synthesis, margin_percent: u32) -> Result<u32> {
    let estimate = omc_cdk::cost::estimate_synthesis(
        synthesis,
        None,
        None,
        &omc_cdk::cost::Assumptions::default(),
    )
    .map_err(|err| omc_cdk::Error::InvalidValue {
        path: "Budget".to_owned(),
        message: format!("cannot estimate the monthly cost for the budget: {err}"),
    })?;
    let with_margin = estimate.monthly() * (1.0 + f64::from(margin_percent) / 100.0);
    let tens = (with_margin / 10.0).ceil().max(1.0);
    // At most a few thousand dollars a month: the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(tens as u32 * 10)
}

/// Days the server access logs of the environment's buckets are kept: a year in production
/// (with protected data), 90 days elsewhere.
pub(crate) fn access_log_days(config: &Config) -> u32 {
    if config.protect_data { 365 } else { 90 }
}

/// The removal policy of stateful resources.
pub(crate) fn data_removal_policy(config: &Config) -> omc_cdk::RemovalPolicy {
    if config.protect_data {
        omc_cdk::RemovalPolicy::Snapshot
    } else {
        omc_cdk::RemovalPolicy::Destroy
    }
}
