//! Monthly cost estimates: the crate `omc-cdk-cost`, and the helpers that price a synthesis.
//!
//! ```
//! use omc_cdk::{App, Environment, RawResource, Stack, StackProps, cost};
//! let app = App::new();
//! let stack = Stack::new(&app, "Net", StackProps {
//!     env: Some(Environment::region("us-east-1")),
//!     ..StackProps::default()
//! })?;
//! stack.child("Nat")?.add("Resource", RawResource::new("AWS::EC2::NatGateway"))?;
//! let estimate = cost::estimate_synthesis(&app.synth()?, None, None, &cost::Assumptions::default())
//!     .map_err(omc_cdk::Error::Cost)?;
//! // 730 hours at $0.045, and 10 GB processed at $0.045.
//! assert!((estimate.monthly() - 33.30).abs() < 0.01);
//! # Ok::<(), omc_cdk::Error>(())
//! ```

pub use omc_cdk_cost::*;

use crate::synth::{Synthesis, SynthesizedStack};
use omc_cdk_template::StackInput;

/// Estimates a synthesis: each stack priced in `region` when given, else in its own
/// environment's region (an environment-agnostic stack then needs `region`), with the table
/// `prices` when given, else the built-in table of the region.
pub fn estimate_synthesis(
    synthesis: &Synthesis,
    region: Option<&str>,
    prices: Option<&PriceTable>,
    assumptions: &Assumptions,
) -> Result<Estimate, CostError> {
    let stacks: Vec<&SynthesizedStack> = synthesis.stacks().iter().collect();
    estimate_stacks(&stacks, region, prices, assumptions)
}

/// [`estimate_synthesis`] for some stacks of a synthesis.
pub fn estimate_stacks(
    stacks: &[&SynthesizedStack],
    region: Option<&str>,
    prices: Option<&PriceTable>,
    assumptions: &Assumptions,
) -> Result<Estimate, CostError> {
    let regions: Vec<Option<String>> = stacks
        .iter()
        .map(|s| s.env().and_then(|e| e.region.clone()))
        .collect();
    let inputs: Vec<(StackInput<'_>, Option<&str>)> = stacks
        .iter()
        .zip(&regions)
        .map(|(s, own)| {
            (
                StackInput {
                    name: s.name(),
                    template: s.json(),
                    stage: s.stage(),
                    paths: Some(s.paths()),
                },
                own.as_deref(),
            )
        })
        .collect();
    estimate_in_regions(&inputs, region, prices, assumptions)
}
