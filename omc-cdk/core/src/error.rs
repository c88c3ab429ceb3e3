//! The crate's error type and the problems that synthesis reports.

use std::fmt;
use std::path::PathBuf;

/// `Result` with omc-cdk's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or synthesizing an app.
///
/// Errors found while building (a duplicate construct id, an invalid name) are returned at once by
/// the call that caused them. Errors that need the whole app (references, cycles, limits) are
/// collected by synthesis and returned together as [`Error::Synthesis`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A construct id is empty or contains the path separator.
    #[error("{path}: construct id {id:?} is invalid: {reason}")]
    InvalidConstructId {
        /// Path of the scope the construct was added to.
        path: String,
        /// The rejected id.
        id: String,
        /// Why it was rejected and how to fix it.
        reason: String,
    },
    /// Two constructs in the same scope have the same id.
    #[error(
        "{path}: a construct with id {id:?} already exists in this scope; give the new construct a different id"
    )]
    DuplicateConstructId {
        /// Full path of the construct that already exists.
        path: String,
        /// The repeated id.
        id: String,
    },
    /// Two elements of one stack would get the same logical id.
    #[error(
        "{path}: logical id {logical_id:?} is already used by {existing}; give one of them a different construct id or override its logical id"
    )]
    DuplicateLogicalId {
        /// Full path of the element being added.
        path: String,
        /// The logical id both would get.
        logical_id: String,
        /// Full path of the element that already has it.
        existing: String,
    },
    /// A logical id (derived or overridden) is not valid in CloudFormation.
    #[error("{path}: logical id {logical_id:?} is invalid: {reason}")]
    InvalidLogicalId {
        /// Full path of the element.
        path: String,
        /// The rejected logical id.
        logical_id: String,
        /// Why it was rejected and how to fix it.
        reason: String,
    },
    /// A stack name breaks CloudFormation's rules.
    #[error("stack name {name:?} is invalid: {reason}")]
    InvalidStackName {
        /// The rejected name.
        name: String,
        /// Why it was rejected and how to fix it.
        reason: String,
    },
    /// Two stacks of one app have the same name.
    #[error(
        "stack name {name:?} is already used by another stack of this app; stack names must be unique"
    )]
    DuplicateStackName {
        /// The repeated name.
        name: String,
    },
    /// A name of a template element (output, parameter, condition, mapping) is invalid.
    #[error("{stack}: {kind} name {name:?} is invalid: {reason}")]
    InvalidName {
        /// The stack the element belongs to.
        stack: String,
        /// `output`, `parameter`, `condition` or `mapping`.
        kind: &'static str,
        /// The rejected name.
        name: String,
        /// Why it was rejected and how to fix it.
        reason: String,
    },
    /// Two template elements of the same kind share a name.
    #[error("{stack}: {kind} {name:?} is already defined in this stack; use a different name")]
    DuplicateName {
        /// The stack the element belongs to.
        stack: String,
        /// `output`, `parameter`, `condition` or `mapping`.
        kind: &'static str,
        /// The repeated name.
        name: String,
    },
    /// A value given to a builder call is invalid (construct props are
    /// [`Error::InvalidProp`]).
    #[error("{path}: {message}")]
    InvalidValue {
        /// Where the value was given: a construct path or a stack element.
        path: String,
        /// What is wrong, with the bad value and how to fix it.
        message: String,
    },
    /// A construct refused the value of one of its props (or of an attributes struct such as
    /// `VpcAttributes`, or an argument of one of its methods, such as the `key` of
    /// `Secret::field`). Construct libraries, ours or a user's, return it for every prop they
    /// validate, so a caller can match on the field:
    ///
    /// ```
    /// # use omc_cdk_core::Error;
    /// # let err = Error::InvalidProp {
    /// #     path: "Network/Vpc".into(),
    /// #     field: "max_azs",
    /// #     value: "7".into(),
    /// #     reason: "max_azs is 7; a VPC spans 1 to 6 availability zones".into(),
    /// # };
    /// assert!(matches!(&err, Error::InvalidProp { field: "max_azs", value, .. } if value == "7"));
    /// assert_eq!(err.to_string(), "Network/Vpc: max_azs is 7; a VPC spans 1 to 6 availability zones");
    /// ```
    #[error("{path}: {reason}")]
    InvalidProp {
        /// The construct's path, such as `Network/Vpc`.
        path: String,
        /// The prop, as the props struct names it: `max_azs`, `cidr`, or a field of an element
        /// of a list prop, such as `subnets.mask` or `containers.port` (the reason names the
        /// element). When a failure is about two props together, the one the fix is most
        /// likely on; the reason names both.
        field: &'static str,
        /// The refused value, as the user wrote it: a string or number as it is (`7`,
        /// `10.0.0.0/33`), anything else in its `Debug` form (`Isolated`).
        value: String,
        /// What is wrong and what is valid: the whole message users read.
        reason: String,
    },
    /// A schedule expression given to a construct is not one AWS accepts.
    #[error("{path}: schedule {expression}: {source}")]
    InvalidSchedule {
        /// The construct's path.
        path: String,
        /// The expression, as given (`cron(0 3 * * ? *)`).
        expression: String,
        /// Which field of the expression is wrong, the bad value and what is valid.
        #[source]
        source: omc_cdk_template::schedule::ScheduleError,
    },
    /// A construct's props, or a call on a construct, are valid on their own but not with the
    /// app around them: the stack's environment (access logs need a region), the VPC (an
    /// imported VPC without its range, subnets in one availability zone), or another construct
    /// (a load balancer that already has a default route, connections without a default port).
    /// No single prop is wrong; the reason names both sides and how to fix it.
    #[error("{path}: {reason}")]
    Conflict {
        /// The construct's path.
        path: String,
        /// What conflicts with what, and how to fix it: the whole message users read.
        reason: String,
    },
    /// A literal ARN does not have the shape of the kind of ARN a prop takes
    /// ([`crate::arn`]).
    #[error("{arn:?} is not a valid {kind} ARN: it {reason}; give one such as {example:?}")]
    InvalidArn {
        /// What the ARN should name, such as `ACM certificate`.
        kind: &'static str,
        /// The refused text.
        arn: String,
        /// What is wrong with it.
        reason: String,
        /// An ARN of the right shape.
        example: &'static str,
    },
    /// Synthesis found problems; all of them are listed.
    #[error("{}", ProblemList(.0))]
    Synthesis(Vec<Problem>),
    /// Writing the synthesis output failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The app's check rules found errors (a finding of error severity that no suppression
    /// covers): every finding is in the report, and the synthesis is kept for tools that show
    /// or compare it anyway.
    #[error("{}", checks_failed(.0))]
    Checks(Box<ChecksFailed>),
}

impl From<crate::synthesis::WriteError> for Error {
    fn from(e: crate::synthesis::WriteError) -> Error {
        Error::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// What [`Error::Checks`] carries.
pub struct ChecksFailed {
    /// Every finding and suppression.
    pub report: crate::check::Report,
    /// The templates, synthesized and validated.
    pub synthesis: crate::Synthesis,
}

impl fmt::Debug for ChecksFailed {
    // Short: a program whose `main` returns the error prints this. `Display` has the whole
    // findings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChecksFailed")
            .field("errors", &self.report.errors())
            .field(
                "findings",
                &self
                    .report
                    .active()
                    .map(|finding| format!("{} at {}", finding.rule, finding.path))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The findings of a failed check, as `synth` prints them.
fn checks_failed(failed: &ChecksFailed) -> String {
    let report = &failed.report;
    let suppressed = report.findings().len() - report.active().count();
    format!(
        "{}checks: {} error{}, {} warning{}, {suppressed} suppressed; fix each error, or suppress it with a reason (`Scope::suppress`)",
        report.render_findings(),
        report.errors(),
        if report.errors() == 1 { "" } else { "s" },
        report.warnings(),
        if report.warnings() == 1 { "" } else { "s" },
    )
}

impl Error {
    /// The problems of an [`Error::Synthesis`], or an empty slice for any other error.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Synthesis(problems) => problems,
            _ => &[],
        }
    }
}

/// One problem found by synthesis: where it is, what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The full construct path of the element (`Data/Db/Resource`) or, for template sections,
    /// `Stack/Outputs/Name`, `Stack/Parameters/Name`, ... For problems of a whole stack, the
    /// stack name.
    pub path: String,
    /// Where inside the element, for example `Properties.Tags[0].Value`; empty when the problem
    /// is about the element itself.
    pub property: String,
    /// What is wrong, naming the bad value, and how to fix it.
    pub message: String,
    /// The kind of problem, for programs that react to specific problems.
    pub kind: ProblemKind,
}

/// The kind of a [`Problem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A `Ref`, `Fn::GetAtt` or `DependsOn` names something the stack does not have.
    MissingReference,
    /// An `Fn::GetAtt` (or an `Fn::Sub` variable `${Resource.Attribute}`) reads an attribute
    /// the resource's type does not have, by the type's CloudFormation schema. Checked when
    /// the schema is known: typed resources carry it, and [`crate::App::with_schemas`] gives it
    /// for raw ones; custom resources and types the registry does not know are not checked.
    UnknownAttribute,
    /// An `Fn::Sub` template uses a variable nobody defines.
    UndefinedSubVariable,
    /// An `Fn::If` or `Condition` names a condition the stack does not have.
    MissingCondition,
    /// An `Fn::FindInMap` names a mapping or key the stack does not have.
    MissingMappingKey,
    /// Resources of one stack depend on each other in a cycle.
    DependencyCycle,
    /// Stacks depend on each other in a cycle.
    StackCycle,
    /// A value of a stack that is not part of the app is used.
    StackNotInApp,
    /// A value is used across environments (accounts or regions) where that cannot work.
    CrossEnvironment,
    /// A condition or mapping of one stack is used in another.
    CrossStackElement,
    /// A resource that exists only under a condition is used where the condition may not hold.
    ConditionMismatch,
    /// A CloudFormation limit is exceeded.
    Limit,
    /// Two elements would render under the same name.
    Duplicate,
    /// A value cannot be rendered as CloudFormation accepts it.
    InvalidValue,
    /// A literal property value is not one of the values its type's schema allows (an
    /// `InstanceTenancy` of `shared`). The schema constraints are checked when the schema is
    /// known (as for [`ProblemKind::UnknownAttribute`]), on literal values only: intrinsic
    /// functions and parameters are skipped.
    ValueNotAllowed,
    /// A literal string does not match the pattern its type's schema gives (a bucket name
    /// with capitals).
    PatternMismatch,
    /// A literal number is below the minimum or above the maximum its type's schema gives (an
    /// alarm `Period` of -60).
    OutOfRange,
    /// A literal string is shorter or longer than its type's schema allows, or a literal list
    /// has fewer or more items.
    InvalidLength,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.property.is_empty() {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(f, "{} ({}): {}", self.path, self.property, self.message)
        }
    }
}

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "synthesis found {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthesis_error_lists_every_problem() {
        let err = Error::Synthesis(vec![
            Problem {
                path: "Data/Db/Resource".into(),
                property: "Properties.Port".into(),
                message: "bad".into(),
                kind: ProblemKind::InvalidValue,
            },
            Problem {
                path: "Data".into(),
                property: String::new(),
                message: "too many".into(),
                kind: ProblemKind::Limit,
            },
        ]);
        assert_eq!(
            err.to_string(),
            "synthesis found 2 problems:\n  - Data/Db/Resource (Properties.Port): bad\n  - Data: too many"
        );
        assert_eq!(err.problems().len(), 2);
    }
}
