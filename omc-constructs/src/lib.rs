//! High-level constructs for omc-cdk: each turns a few lines of intent into the resources a
//! careful engineer would write by hand.
//!
//! The constructs (`Vpc`, `Rds`, `Redis`, `FargateService`, ...) are built on the typed resource layer;
//! until they land, this crate re-exports the core so apps depend on one crate.

pub use omc_cdk as core;
