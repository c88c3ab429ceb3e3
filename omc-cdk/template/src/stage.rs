//! The stage a stack runs in.

/// Where a stack runs. Rules may be stricter in production (the checks' levels may differ by stage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Development and test environments, sandboxes.
    Development,
    /// A pre-production environment shaped like production, smaller.
    Staging,
    /// Production: the strictest checks. Stacks without a stage are checked as production.
    #[default]
    Production,
}

impl Stage {
    /// The lower-case name: `development`, `staging`, `production`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Development => "development",
            Stage::Staging => "staging",
            Stage::Production => "production",
        }
    }

    /// Every stage, least strict first.
    pub const ALL: [Stage; 3] = [Stage::Development, Stage::Staging, Stage::Production];
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
