//! App-wide synthesis settings.

/// App-wide synthesis settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppSettings {
    /// How a value of one stack reaches another. Default: [`CrossStackReferences::Exports`].
    pub cross_stack_references: CrossStackReferences,
    /// Whether each resource's construct path is written into its metadata. Default:
    /// [`PathMetadata::Included`].
    pub path_metadata: PathMetadata,
}

/// The construct path in each resource's `Metadata` (`"aws:cdk:path": "Stack/Db/Resource"`,
/// the key and format AWS CDK writes): what lets `deploy` name the construct behind a failed
/// resource, and what a stack deployed by AWS CDK already carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathMetadata {
    /// Written (AWS CDK's default too).
    #[default]
    Included,
    /// Left out (AWS CDK's `--path-metadata false`): smaller templates, failures named by
    /// logical id only.
    Omitted,
}

/// How references between stacks are rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CrossStackReferences {
    /// The producing stack exports the value (`Outputs.*.Export`) and the consumer imports it
    /// with `Fn::ImportValue`. CloudFormation then refuses to change or delete an export while
    /// it is imported, which protects consumers but can block updates of the producer.
    #[default]
    Exports,
    /// The producing stack outputs the value without exporting it and the consumer reads it
    /// with `Fn::GetStackOutput` (a weak reference): the producer stays free to change, and the
    /// consumer sees the new value on its next deploy. Also works across regions of one account.
    Weak,
}

/// The metadata key of a resource's construct path (AWS CDK's).
pub const PATH_METADATA_KEY: &str = "aws:cdk:path";
