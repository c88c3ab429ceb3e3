//! What happens to a resource's physical resource when it is deleted or replaced.

/// What happens to a resource's physical resource when it leaves the template
/// (`DeletionPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete it (CloudFormation's default for most types).
    Delete,
    /// Keep it.
    Retain,
    /// Keep it, except when the stack's creation fails and rolls back.
    RetainExceptOnCreate,
    /// Take a final snapshot, then delete it (databases, volumes, caches).
    Snapshot,
}

impl DeletionPolicy {
    /// The name used in templates.
    pub fn name(self) -> &'static str {
        match self {
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Retain => "Retain",
            DeletionPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
            DeletionPolicy::Snapshot => "Snapshot",
        }
    }
}

/// What happens to the old physical resource when an update replaces it
/// (`UpdateReplacePolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateReplacePolicy {
    /// Delete it.
    Delete,
    /// Keep it.
    Retain,
    /// Take a snapshot, then delete it.
    Snapshot,
}

impl UpdateReplacePolicy {
    /// The name used in templates.
    pub fn name(self) -> &'static str {
        match self {
            UpdateReplacePolicy::Delete => "Delete",
            UpdateReplacePolicy::Retain => "Retain",
            UpdateReplacePolicy::Snapshot => "Snapshot",
        }
    }
}

/// Both policies at once, as CDK's `applyRemovalPolicy` sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalPolicy {
    /// `Delete` / `Delete`.
    Destroy,
    /// `Retain` / `Retain`.
    Retain,
    /// `Snapshot` / `Snapshot`.
    Snapshot,
    /// `RetainExceptOnCreate` / `Retain`.
    RetainExceptOnCreate,
}
