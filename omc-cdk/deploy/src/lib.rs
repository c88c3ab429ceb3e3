//! Deploying stacks through CloudFormation (crate `omc-cdk-deploy`, re-exported as
//! `omc_cdk::deploy` with the `deploy` feature): change sets, the account guard, live
//! progress, failure reports, and destroy.
//!
//! The engine ([`engine::Engine`]) talks to CloudFormation through [`api::CloudFormationApi`]:
//! the AWS SDK in real runs ([`sdk::SdkApi`]), a scripted fake in tests ([`fake::FakeApi`],
//! feature `testing`). [`plan`] turns a synthesis into the stacks it works on; the command
//! line (crate `omc-cdk-cli`) prints what it reports.

pub mod api;
pub use omc_cdk_template::diff;
pub mod engine;
#[cfg(feature = "testing")]
pub mod fake;
pub mod operation;
pub mod outputs;
pub mod params;
mod plan;
pub mod report;
pub mod retry;
pub mod sdk;
pub mod time;

pub use plan::{Extend, plan, planned, select, toolkit_app};
