//! Deploying: `deploy`, `diff`, `destroy` and `bootstrap` through CloudFormation change sets
//! (feature `deploy`).
//!
//! The engine ([`engine::Engine`]) talks to CloudFormation through [`api::CloudFormationApi`]:
//! the AWS SDK in real runs ([`sdk::SdkApi`]), a scripted fake in tests
//! ([`fake::FakeApi`], feature `testing`).

pub mod api;
pub mod cli;
pub use omc_cdk_template::diff;
pub mod engine;
#[cfg(feature = "testing")]
pub mod fake;
pub mod operation;
pub mod outputs;
pub mod params;
pub mod report;
pub mod retry;
pub mod sdk;
