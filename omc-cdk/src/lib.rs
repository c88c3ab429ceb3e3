//! omc-cdk: infrastructure as code in Rust, synthesized to AWS CloudFormation.
//!
//! A program builds an [`App`] of [`Stack`]s; constructs add resources to stacks; references
//! between resources are typed [`Value`]s, never strings. [`App::synth`](omc_cdk_core::App::synth) renders every stack to
//! a deterministic CloudFormation template (same program, same bytes) and runs the checks, and
//! `App::run` (feature `cli`) gives the program a command line (`synth`, `check`, `cost`, and
//! with the feature `deploy` `deploy`, `diff`, `destroy`).
//!
//! ```
//! use omc_cdk::{App, Stack, StackProps, RawResource, TagFormat, fns, aws, Stage};
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
//! # Ok::<(), omc_cdk::Error>(())
//! ```
//!
//! Logical ids follow AWS CDK's scheme ([`id::logical_id_for_path`]), so stacks deployed by CDK
//! keep their resources when they move to omc-cdk.
//!
//! # Layers
//!
//! This crate is what users depend on; it re-exports crates that depend on each other one way
//! only, each in a folder of `omc-cdk/`:
//!
//! | crate | folder | what | depends on |
//! |---|---|---|---|
//! | `omc-cdk-template` | `template/` | the read-side model of synthesized templates, template diffs, resource schemas, schedule expressions | |
//! | `omc-cdk-check` | `check/` | the rule engine, the rule pack, reports ([`check`]) | template |
//! | `omc-cdk-core` | `core/` | values, scopes, stacks, synthesis and validation (which runs the checks), assertions | template, check |
//! | `omc-cdk-cost` | `cost/` | monthly cost estimates ([`cost`]) | template, core |
//! | `omc-cdk-deploy` | `deploy/` | the deploy engine (`deploy`, feature `deploy`) | template, core, the AWS SDK |
//! | `omc-cdk-cli` | `cli/` | the command line (feature `cli`) | all of the above, clap |
//!
//! A program that only synthesizes (no features) compiles neither clap nor the AWS SDK.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::ops::Deref;

pub use omc_cdk_core::*;
pub use omc_cdk_cost as cost;
#[cfg(feature = "deploy")]
pub use omc_cdk_deploy as deploy;
pub use omc_cdk_template as template;

#[cfg(feature = "deploy")]
pub use omc_cdk_cli::EXIT_INTERRUPTED;
#[cfg(feature = "cli")]
pub use omc_cdk_cli::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// Fixtures for tests and benchmarks (feature `testing`): the core's, with this crate's [`App`].
#[cfg(feature = "testing")]
pub mod testing {
    pub use omc_cdk_core::testing::*;

    use crate::{App, Result, Stack};

    /// An app with one empty stack, `Test`.
    pub fn stack() -> Result<(App, Stack)> {
        let (app, stack) = omc_cdk_core::testing::stack()?;
        Ok((app.into(), stack))
    }

    /// A synthetic app of about `resources` resources (see the core's `synthetic_app`).
    pub fn synthetic_app(resources: usize) -> Result<App> {
        omc_cdk_core::testing::synthetic_app(resources).map(App::from)
    }
}

/// The stacks of one program: the core's app ([`omc_cdk_core::App`], all of whose methods it
/// has) and, with the feature `cli`, its command line.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, RawResource};
/// let app = App::new();
/// let stack = Stack::new(&app, "Storage", StackProps::default())?;
/// stack.add("Queue", RawResource::new("AWS::SQS::Queue").property("SqsManagedSseEnabled", true))?;
/// assert_eq!(app.synth()?.stacks()[0].name(), "Storage");
/// # Ok::<(), omc_cdk::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct App(omc_cdk_core::App);

impl App {
    /// An empty app with default settings and the built-in check rules.
    pub fn new() -> App {
        App(omc_cdk_core::App::new())
    }

    /// An empty app with the given settings.
    pub fn with_settings(settings: AppSettings) -> App {
        App(omc_cdk_core::App::with_settings(settings))
    }

    /// Names the program for `--help` and `--version`, typically
    /// `.named(env!("CARGO_BIN_NAME"), env!("CARGO_PKG_VERSION"))`.
    #[must_use]
    pub fn named(self, name: impl Into<String>, version: impl Into<String>) -> App {
        App(self.0.named(name, version))
    }

    /// Tells the app where resource schemas are (typically `omc_cfn::schema::find`), so
    /// diffs can tell which changes replace a resource.
    #[must_use]
    pub fn with_schemas(self, lookup: schema::SchemaLookup) -> App {
        App(self.0.with_schemas(lookup))
    }

    /// Sets the stage of the app's stacks (a stack's own [`StackProps::stage`] wins), so the
    /// checks apply the stage's severities.
    #[must_use]
    pub fn with_stage(self, stage: Stage) -> App {
        App(self.0.with_stage(stage))
    }

    /// The core's app.
    pub fn core(&self) -> &omc_cdk_core::App {
        &self.0
    }

    /// Runs the command line of the process: parses `std::env::args`, runs the command, prints
    /// to stdout and stderr, and returns the exit code.
    ///
    /// ```no_run
    /// use std::process::ExitCode;
    /// fn main() -> ExitCode {
    ///     let app = omc_cdk::App::new().named(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    ///     // ... stacks ...
    ///     app.run()
    /// }
    /// ```
    #[cfg(feature = "cli")]
    pub fn run(&self) -> std::process::ExitCode {
        omc_cdk_cli::run(&self.0)
    }

    /// Runs a command line given as arguments (the first is the program name) on the process's
    /// own stdout and stderr, as [`App::run`] does.
    #[cfg(feature = "cli")]
    pub fn run_args<I, T>(&self, args: I) -> std::process::ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        omc_cdk_cli::run_args(&self.0, args)
    }

    /// Runs a command line given as arguments (the first is the program name), writing to the
    /// given streams. Returns the exit code: 0 success, 1 failure, 2 usage error.
    #[cfg(feature = "cli")]
    pub fn run_with<I, T>(
        &self,
        args: I,
        stdout: &mut dyn std::io::Write,
        stderr: &mut dyn std::io::Write,
    ) -> u8
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        omc_cdk_cli::run_with(&self.0, args, stdout, stderr)
    }
}

impl Deref for App {
    type Target = omc_cdk_core::App;

    fn deref(&self) -> &omc_cdk_core::App {
        &self.0
    }
}

impl From<omc_cdk_core::App> for App {
    fn from(app: omc_cdk_core::App) -> App {
        App(app)
    }
}

impl AsRef<omc_cdk_core::App> for App {
    fn as_ref(&self) -> &omc_cdk_core::App {
        &self.0
    }
}
