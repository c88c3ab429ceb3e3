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

// The modules are layers; each uses only modules of the layers before it (checked by
// `scripts/module-cycles`, which CI runs):
// 1. `value`, `id`, `settings`, `environment`, `policy`, then `aws` and `schema`: values,
//    names and plain declarations;
// 2. `synthesis`: what synthesis produces; `error`: what fails (it may carry a synthesis);
//    `parameter`: stack parameters, checked;
// 3. `tree`: the construct tree's data, which the handles share; `fns` on values and it;
//    `arn`: typed ARNs, checked;
// 4. `stack`: stacks and scopes; `resource`: resources added to a scope;
// 5. `construct`: the trait of everything in the tree; `synth`: from the tree to
//    templates; `app`: synthesizes and checks; `assertions`.
mod app;
pub mod arn;
pub mod assertions;
pub mod aws;
mod construct;
mod environment;
mod error;
pub mod fns;
pub mod id;
mod parameter;
mod policy;
mod resource;
pub mod schema;
mod settings;
mod stack;
mod synth;
mod synthesis;
mod tree;
mod value;
pub use omc_cdk_check as check;
#[cfg(feature = "testing")]
pub mod testing;

pub use check::Stage;
pub use construct::Construct;
pub use environment::Environment;
pub use error::{ChecksFailed, Error, Problem, ProblemKind, Result};
pub use indexmap::IndexMap;
pub use parameter::{ParameterProps, ParameterType};
pub use policy::{DeletionPolicy, RemovalPolicy, UpdateReplacePolicy};
pub use resource::{RawResource, Resource, ResourceDefinition, TypedResource};
pub use schema::TagFormat;
pub use settings::{AppSettings, CrossStackReferences, PATH_METADATA_KEY, PathMetadata};
pub use stack::{Mapping, OutputProps, Parameter, StackProps};
pub use synthesis::{
    MAX_INLINE_TEMPLATE_BYTES, MAX_TEMPLATE_BYTES, Synthesis, SynthesizedStack, WriteError,
    glob_match, to_pretty_json,
};
pub use tree::{App, Condition, Scope, Stack};
pub use value::{
    AnyValue, AttributeType, ConditionExpr, ElementRef, Expr, IntoNode, Intrinsic, Json, List,
    MapValue, Node, Pseudo, RefTarget, ResourceRef, StackRef, Tag, Value,
};
