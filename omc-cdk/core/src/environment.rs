//! Where a stack deploys: account and region.

/// Where a stack is deployed. A stack without an environment is environment-agnostic: account
/// and region come from the credentials used to deploy it, and constructs use `AWS::AccountId`
/// and `AWS::Region`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// The 12-digit account id. Default: the deploying account.
    pub account: Option<String>,
    /// The region, such as `eu-west-1`. Default: the deploying region.
    pub region: Option<String>,
}

impl Environment {
    /// An environment with both account and region.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Environment {
        Environment {
            account: Some(account.into()),
            region: Some(region.into()),
        }
    }

    /// An environment with only a region; the account is the deploying one.
    pub fn region(region: impl Into<String>) -> Environment {
        Environment {
            account: None,
            region: Some(region.into()),
        }
    }
}
