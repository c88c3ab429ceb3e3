//! The core of omc-cdk (crate `omc-cdk-core`; users depend on `omc-cdk`, which re-exports
//! it): values and intrinsics, scopes and logical ids, stacks, stages, synthesis and
//! validation, and the test assertions.
//!
//! A program builds an [`App`] of [`Stack`]s; constructs add resources to stacks; references
//! between resources are typed [`Value`]s, never strings. [`App::synth`] renders every stack to
//! a deterministic CloudFormation template (same program, same bytes) and runs the app's check
//! rules (crate `omc-cdk-check`, below this one).
//!
//! ```
//! use omc_cdk_core::{App, Stack, StackProps, RawResource, TagFormat, fns, aws, Stage};
//!
//! // A development app: its VPC may go without flow logs (production requires them; the
//! // checks run in every synthesis).
//! let app = App::new().with_stage(Stage::Development);
//! let network = Stack::new(&app, "Network", StackProps::default())?;
//! let vpc = network.child("Vpc")?.add(
//!     "Resource",
//!     RawResource::new("AWS::EC2::VPC")
//!         .property("CidrBlock", "10.0.0.0/16")
//!         .tags(TagFormat::KeyValueList("Tags".into())),
//! )?;
//!
//! let data = Stack::new(&app, "Data", StackProps::default())?;
//! data.add("DbSecurityGroup", RawResource::new("AWS::EC2::SecurityGroup")
//!     .property("GroupDescription", "database")
//!     .property("VpcId", vpc.reference()))?;          // a value of another stack
//!
//! let synthesis = app.synth()?;
//! // Network deploys first and exports the VPC id; Data imports it.
//! assert_eq!(synthesis.stacks()[1].dependencies(), ["Network"]);
//! assert!(synthesis.stack("Data").unwrap().template().contains(
//!     r#""Fn::ImportValue": "Network:ExportsOutputRefVpc8378EB38272D6E3A""#));
//! # Ok::<(), omc_cdk_core::Error>(())
//! ```
//!
//! Logical ids follow AWS CDK's scheme ([`id::logical_id_for_path`]), so stacks deployed by CDK
//! keep their resources when they move to omc-cdk.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
pub mod assertions;
pub mod aws;
pub use omc_cdk_check as check;
mod error;
pub mod fns;
pub mod id;
mod resource;
pub mod schema;
mod stack;
mod synth;
#[cfg(feature = "testing")]
pub mod testing;
mod value;

pub use app::{App, AppSettings, CrossStackReferences, PathMetadata};
pub use check::Stage;
pub use error::{ChecksFailed, Error, Problem, ProblemKind, Result};
pub use indexmap::IndexMap;
pub use resource::{
    DeletionPolicy, RawResource, RemovalPolicy, Resource, ResourceDefinition, TagFormat,
    UpdateReplacePolicy,
};
pub use stack::{
    Condition, Environment, Mapping, OutputProps, Parameter, ParameterProps, ParameterType, Scope,
    Stack, StackProps,
};
pub use synth::{
    MAX_INLINE_TEMPLATE_BYTES, MAX_TEMPLATE_BYTES, PATH_METADATA_KEY, Synthesis, SynthesizedStack,
    glob_match, to_pretty_json,
};
pub use value::{
    AnyValue, AttributeType, ConditionExpr, ElementRef, Expr, IntoNode, Intrinsic, Json, List,
    MapValue, Node, Pseudo, RefTarget, ResourceRef, StackRef, Tag, Value,
};
