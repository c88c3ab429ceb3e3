//! What every construct is: a node of the construct tree, with a path, where suppressions,
//! tags and metadata apply to everything the construct created.

use crate::error::Result;
use crate::resource::Resource;
use crate::tree::{Scope, Stack};
use crate::value::IntoNode;

/// A construct: a [`Scope`] of the tree that created resources. Stacks, scopes, resources and
/// the constructs of `omc-constructs` implement it, and so should a library's own constructs
/// (usually by keeping the scope they created with `scope.child(id)?`).
///
/// ```
/// use omc_cdk::{App, Construct, Stack, StackProps, RawResource, Scope};
///
/// /// A construct of one's own: two queues.
/// struct Pipeline { scope: Scope }
/// impl Construct for Pipeline {
///     fn node(&self) -> &Scope { &self.scope }
/// }
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Jobs", StackProps::default())?;
/// let scope = stack.child("Pipeline")?;
/// scope.add("In", RawResource::new("AWS::SQS::Queue"))?;
/// let pipeline = Pipeline { scope };
/// assert_eq!(pipeline.path(), "Jobs/Pipeline");
/// pipeline.add_tag("team", "jobs")?;
/// pipeline.add_metadata("owner", "jobs-team")?;
/// pipeline.suppress("sqs-queue-encrypted", "The queue holds only public job ids")?;
/// # Ok::<(), omc_cdk::Error>(())
/// ```
pub trait Construct {
    /// The construct's scope: its path, and where everything it created lives
    /// (`node().find(id)` reaches a part).
    fn node(&self) -> &Scope;

    /// The full construct path, such as `Data/Database`.
    fn path(&self) -> String {
        self.node().node_path()
    }

    /// Suppresses findings of the check `rule` for everything the construct created, with a
    /// reason; see [`Scope::suppress`].
    fn suppress(&self, rule: &str, reason: &str) -> Result<()> {
        self.node().suppress(rule, reason)
    }

    /// Tags every resource the construct created that takes tags; see [`Scope::add_tag`].
    fn add_tag(&self, key: &str, value: &str) -> Result<()> {
        self.node().add_tag(key, value)
    }

    /// Adds an entry to the `Metadata` of every resource the construct created; see
    /// [`Scope::add_metadata`].
    fn add_metadata(&self, key: &str, value: impl IntoNode) -> Result<()>
    where
        Self: Sized,
    {
        self.node().add_metadata(key, value)
    }
}

impl Construct for Scope {
    fn node(&self) -> &Scope {
        self
    }
}

impl Construct for Stack {
    fn node(&self) -> &Scope {
        self
    }

    /// A stack's tags tag the stack too ([`Stack::add_tag`]), not only its resources.
    fn add_tag(&self, key: &str, value: &str) -> Result<()> {
        Stack::add_tag(self, key, value)
    }
}

impl Construct for Resource {
    fn node(&self) -> &Scope {
        self.scope()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::StackProps;
    use crate::tree::App;

    #[test]
    fn a_stack_tagged_as_a_construct_is_tagged_itself() {
        let app = App::new();
        let stack = Stack::new(&app, "Tagged", StackProps::default()).unwrap();
        let construct: &dyn Construct = &stack;
        construct.add_tag("team", "platform").unwrap();
        assert_eq!(
            stack.tags().get("team").map(String::as_str),
            Some("platform")
        );
    }
}
