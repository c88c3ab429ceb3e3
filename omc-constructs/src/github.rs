//! Deploying from GitHub Actions without long-lived keys: the account's OIDC provider for
//! GitHub's tokens, roles that trust exactly the named workflows of one repository, and the
//! two roles a CI deploy needs (a deploy role for the workflow, an execution role for
//! CloudFormation), split the way AWS CDK's bootstrap splits them.

use omc_cdk::{Node, Result, Scope, TypedResource, Value};
use omc_cfn::iam;

use crate::iam::{Effect, PolicyStatement, Principal, Role, RoleProps};
use crate::util::{self, node};

/// The host of GitHub Actions' OIDC tokens (their issuer is `https://` and this).
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";

/// The audience GitHub's `aws-actions/configure-aws-credentials` asks for.
const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// How the OIDC provider is created.
#[derive(Clone, Debug, Default)]
pub struct GitHubOidcProviderProps {
    /// Certificate thumbprints. Default: none: IAM trusts GitHub's certificate through its own
    /// library of root certificate authorities and no longer uses thumbprints for this
    /// provider, and CloudFormation's schema does not require the property.
    pub thumbprints: Vec<String>,
}

/// The account's IAM OIDC identity provider for GitHub Actions
/// (`https://token.actions.githubusercontent.com`, audience `sts.amazonaws.com`). An account
/// has one provider per URL: create it in one stack of each account, and elsewhere use
/// [`GitHubOidcProvider::existing`].
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{GitHubOidcProvider, GitHubOidcProviderProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Delivery", StackProps::default())?;
/// GitHubOidcProvider::new(&stack, "GitHub", GitHubOidcProviderProps::default())?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::IAM::OIDCProvider", json!({
///     "Url": "https://token.actions.githubusercontent.com",
///     "ClientIdList": ["sts.amazonaws.com"],
/// }))?;
/// let existing = GitHubOidcProvider::existing(&stack, "123456789012")?;
/// assert_eq!(
///     existing.provider_arn().as_literal().map(String::as_str),
///     Some("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct GitHubOidcProvider {
    arn: Value<String>,
    resource: Option<iam::OidcProviderHandle>,
    /// Where the construct created its resources.
    scope: Scope,
}

impl GitHubOidcProvider {
    /// Creates the provider.
    pub fn new(
        scope: &Scope,
        id: &str,
        props: GitHubOidcProviderProps,
    ) -> Result<GitHubOidcProvider> {
        for thumbprint in &props.thumbprints {
            if thumbprint.len() != 40 || !thumbprint.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(util::invalid_prop(
                    util::path(scope, id),
                    "thumbprints",
                    thumbprint,
                    format!(
                        "thumbprint {thumbprint:?} is not a SHA-1 fingerprint of 40 hexadecimal digits"
                    ),
                ));
            }
        }
        let scope = scope.child(id)?;
        let resource = scope.add(
            "Resource",
            iam::OidcProvider {
                url: Some(format!("https://{GITHUB_OIDC_HOST}").into()),
                client_id_list: Some(vec![Value::from(STS_AUDIENCE)].into()),
                thumbprint_list: (!props.thumbprints.is_empty()).then(|| {
                    props
                        .thumbprints
                        .into_iter()
                        .map(Value::from)
                        .collect::<Vec<_>>()
                        .into()
                }),
                ..iam::OidcProvider::new()
            },
        )?;
        Ok(GitHubOidcProvider {
            arn: resource.attr_arn(),
            resource: Some(resource),
            scope,
        })
    }

    /// The provider that already exists in `account` (12 digits): its ARN,
    /// `arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com`; nothing is
    /// added.
    pub fn existing(scope: &Scope, account: &str) -> Result<GitHubOidcProvider> {
        crate::ecr::check_account(&scope.node_path(), "account", account)?;
        Ok(GitHubOidcProvider {
            arn: Value::Lit(format!(
                "arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"
            )),
            resource: None,
            scope: scope.clone(),
        })
    }

    /// The provider that already exists in the account the stack is deployed to (for stacks
    /// without a literal account); nothing is added.
    pub fn existing_in_stack_account(scope: &Scope) -> GitHubOidcProvider {
        GitHubOidcProvider {
            arn: util::arn(
                "iam",
                false,
                true,
                &format!("oidc-provider/{GITHUB_OIDC_HOST}"),
            ),
            resource: None,
            scope: scope.clone(),
        }
    }

    /// The provider's ARN.
    pub fn provider_arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// The provider's resource (`None` for an existing provider).
    pub fn resource(&self) -> Option<&omc_cdk::Resource> {
        self.resource.as_ref().map(TypedResource::as_resource)
    }
}

impl omc_cdk::Construct for GitHubOidcProvider {
    fn node(&self) -> &Scope {
        &self.scope
    }
}

/// Which GitHub Actions jobs of a repository may assume a role: the token's `sub` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitHubSubject {
    /// Jobs on a branch (`repo:<owner>/<name>:ref:refs/heads/<name>`), such as `main`. A
    /// pattern with `*` (such as `release/*`) is matched with `StringLike`. Jobs that use a
    /// deployment environment carry the environment instead: use
    /// [`GitHubSubject::Environment`] for them.
    Branch(String),
    /// Jobs on a tag (`repo:<owner>/<name>:ref:refs/tags/<pattern>`), such as `v*`.
    Tag(String),
    /// Jobs that use a deployment environment (`repo:<owner>/<name>:environment:<name>`):
    /// GitHub puts the environment in `sub` whatever the branch, and only runs the job once
    /// the environment's protection rules (required reviewers, allowed branches) pass, which
    /// is how a protected environment with manual approval gates production.
    Environment(String),
    /// Jobs of pull requests (`repo:<owner>/<name>:pull_request`), including pull requests
    /// from forks when the workflow runs for them: give such a role read-only permissions.
    PullRequest,
}

impl GitHubSubject {
    fn claim(&self, repository: &str) -> String {
        match self {
            GitHubSubject::Branch(name) => format!("repo:{repository}:ref:refs/heads/{name}"),
            GitHubSubject::Tag(pattern) => format!("repo:{repository}:ref:refs/tags/{pattern}"),
            GitHubSubject::Environment(name) => format!("repo:{repository}:environment:{name}"),
            GitHubSubject::PullRequest => format!("repo:{repository}:pull_request"),
        }
    }

    /// The kind and the pattern, for messages.
    fn parts(&self) -> Option<(&'static str, &str)> {
        match self {
            GitHubSubject::Branch(name) => Some(("branch", name)),
            GitHubSubject::Tag(pattern) => Some(("tag", pattern)),
            GitHubSubject::Environment(name) => Some(("environment", name)),
            GitHubSubject::PullRequest => None,
        }
    }
}

/// Checks a repository `owner/name` and the subjects; returns the trust condition.
fn trust_condition(path: &str, repository: &str, subjects: &[GitHubSubject]) -> Result<Node> {
    if repository.contains(['*', '?']) {
        return Err(util::invalid_prop(
            path,
            "repository",
            repository,
            format!(
                "repository {repository:?} has a wildcard, which would trust every repository it matches, including other people's; name one repository as \"owner/name\""
            ),
        ));
    }
    let shape_ok = repository.split_once('/').is_some_and(|(owner, name)| {
        (1..=39).contains(&owner.len())
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && (1..=100).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !shape_ok {
        return Err(util::invalid_prop(
            path,
            "repository",
            repository,
            format!(
                "repository {repository:?} is not \"owner/name\" (letters, digits and '-' for the owner; letters, digits, '-', '_' and '.' for the name), such as \"omc/omc\""
            ),
        ));
    }
    if subjects.is_empty() {
        return Err(util::invalid_prop(
            path,
            "subjects",
            "[]",
            format!(
                "subjects is empty: a trust policy without a `sub` condition would trust every repository's workflows; list the branches, tags or environments of {repository} that may assume the role"
            ),
        ));
    }
    for subject in subjects {
        let Some((kind, pattern)) = subject.parts() else {
            continue;
        };
        if pattern.is_empty() || pattern.chars().all(|c| matches!(c, '*' | '?' | '/')) {
            return Err(util::invalid_prop(
                path,
                "subjects",
                format!("{subject:?}"),
                format!(
                    "{kind} {pattern:?} would trust any {kind} of {repository}, including ones anyone who can push creates; name the {kind}, such as {:?}",
                    match subject {
                        GitHubSubject::Tag(_) => "v*",
                        GitHubSubject::Environment(_) => "production",
                        _ => "main",
                    }
                ),
            ));
        }
        if pattern.chars().any(|c| c.is_whitespace() || c == ':') {
            return Err(util::invalid_prop(
                path,
                "subjects",
                format!("{subject:?}"),
                format!(
                    "{kind} {pattern:?} contains a space or ':', which GitHub's {kind} names cannot"
                ),
            ));
        }
    }
    let claims: Vec<String> = subjects.iter().map(|s| s.claim(repository)).collect();
    let mut unique: Vec<String> = Vec::new();
    for claim in claims {
        if !unique.contains(&claim) {
            unique.push(claim);
        }
    }
    // One operator for every subject, so they are alternatives: the same key under
    // StringEquals and StringLike would have to match both.
    let like = unique.iter().any(|c| c.contains(['*', '?']));
    let sub = if unique.len() == 1 {
        node(unique[0].as_str())
    } else {
        Node::List(unique.iter().map(|c| node(c.as_str())).collect())
    };
    let aud = Node::map([(format!("{GITHUB_OIDC_HOST}:aud"), node(STS_AUDIENCE))]);
    let sub_key = format!("{GITHUB_OIDC_HOST}:sub");
    Ok(if like {
        Node::map([
            ("StringEquals", aud),
            ("StringLike", Node::map([(sub_key, sub)])),
        ])
    } else {
        let mut both = aud;
        if let Node::Map(map) = &mut both {
            map.insert(sub_key, sub);
        }
        Node::map([("StringEquals", both)])
    })
}

/// How a GitHub Actions role is created.
#[derive(Clone, Debug)]
pub struct GitHubActionsRoleProps<'a> {
    /// The account's GitHub OIDC provider.
    pub provider: &'a GitHubOidcProvider,
    /// The repository whose workflows may assume the role, `owner/name` (no wildcards).
    pub repository: String,
    /// Which jobs of the repository (at least one). Required.
    pub subjects: Vec<GitHubSubject>,
    /// The role's name. Default: generated by CloudFormation.
    pub role_name: Option<String>,
    /// The longest session, in hours (1 to 12). Default: 1 (a workflow step that needs longer
    /// assumes the role again).
    pub max_session_hours: Option<u32>,
    /// What the role is for. Default: `GitHub Actions: <repository> (<subjects>)`.
    pub description: Option<String>,
}

impl<'a> GitHubActionsRoleProps<'a> {
    /// A role for the `subjects` of `repository`, with the defaults.
    pub fn new(
        provider: &'a GitHubOidcProvider,
        repository: impl Into<String>,
        subjects: Vec<GitHubSubject>,
    ) -> GitHubActionsRoleProps<'a> {
        GitHubActionsRoleProps {
            provider,
            repository: repository.into(),
            subjects,
            role_name: None,
            max_session_hours: None,
            description: None,
        }
    }
}

/// A role that GitHub Actions jobs of one repository assume with their OIDC token
/// (`sts:AssumeRoleWithWebIdentity`): the trust policy requires the audience
/// `sts.amazonaws.com` and a `sub` of the listed branches, tags, environments or pull requests
/// (`StringEquals`; `StringLike` only when a pattern has `*` or `?`). It has no permissions
/// until statements or grants add them.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{
///     EcrRepository, EcrRepositoryProps, GitHubActionsRole, GitHubActionsRoleProps,
///     GitHubOidcProvider, GitHubSubject,
/// };
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Delivery", StackProps::default())?;
/// let provider = GitHubOidcProvider::existing(&stack, "123456789012")?;
/// let publisher = GitHubActionsRole::new(&stack, "ImagePublisher", GitHubActionsRoleProps::new(
///     &provider, "omc/omc", vec![GitHubSubject::Branch("main".into())],
/// ))?;
/// let repo = EcrRepository::new(&stack, "Backend", EcrRepositoryProps::new("omc-backend"))?;
/// repo.grant_push(publisher.role());
/// Template::from_stack(&stack)?.has_resource_properties("AWS::IAM::Role", json!({
///     "AssumeRolePolicyDocument": {"Statement": [{"Condition": {"StringEquals": {
///         "token.actions.githubusercontent.com:sub": "repo:omc/omc:ref:refs/heads/main"
///     }}}]}
/// }))?;
/// app.synth()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct GitHubActionsRole {
    role: Role,
}

impl GitHubActionsRole {
    /// Creates the role.
    pub fn new(
        scope: &Scope,
        id: &str,
        props: GitHubActionsRoleProps<'_>,
    ) -> Result<GitHubActionsRole> {
        let path = util::path(scope, id);
        let condition = trust_condition(&path, &props.repository, &props.subjects)?;
        let description = props.description.unwrap_or_else(|| {
            let subjects: Vec<String> = props
                .subjects
                .iter()
                .map(|s| match s.parts() {
                    Some((kind, pattern)) => format!("{kind} {pattern}"),
                    None => "pull requests".to_owned(),
                })
                .collect();
            format!(
                "GitHub Actions: {} ({})",
                props.repository,
                subjects.join(", ")
            )
            .chars()
            .take(1000)
            .collect()
        });
        let role = Role::new(
            scope,
            id,
            RoleProps {
                description: Some(description),
                role_name: props.role_name,
                max_session_hours: props.max_session_hours,
                ..RoleProps::new(Principal::WebIdentity {
                    provider_arn: props.provider.provider_arn(),
                    condition,
                })
            },
        )?;
        Ok(GitHubActionsRole { role })
    }

    /// The underlying role (for grants such as [`EcrRepository::grant_push`]).
    ///
    /// [`EcrRepository::grant_push`]: crate::EcrRepository::grant_push
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The role's ARN (what the workflow's `role-to-assume` names).
    pub fn role_arn(&self) -> Value<String> {
        self.role.role_arn()
    }

    /// Adds a statement to the role's inline policy.
    pub fn add_to_policy(&self, statement: PolicyStatement) {
        self.role.add_to_policy(statement);
    }
}

impl omc_cdk::Construct for GitHubActionsRole {
    fn node(&self) -> &Scope {
        omc_cdk::Construct::node(&self.role)
    }
}

/// The CloudFormation actions omc-cdk's `deploy` calls on the stacks it deploys (see
/// `omc-cdk/deploy/src/sdk.rs`); not `DeleteStack`.
const DEPLOY_STACK_ACTIONS: [&str; 10] = [
    "cloudformation:CreateChangeSet",
    "cloudformation:CreateStack",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
    "cloudformation:UpdateStack",
    "cloudformation:UpdateTerminationProtection",
];

/// The writes among [`DEPLOY_STACK_ACTIONS`], denied on the excluded stacks.
const STACK_WRITE_ACTIONS: [&str; 6] = [
    "cloudformation:CreateChangeSet",
    "cloudformation:CreateStack",
    "cloudformation:DeleteChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:UpdateStack",
    "cloudformation:UpdateTerminationProtection",
];

/// AWS managed policies that make a role an administrator of the account or of IAM: the
/// execution role may not attach them.
const ADMIN_POLICIES: [&str; 4] = [
    "AdministratorAccess",
    "IAMFullAccess",
    "PowerUserAccess",
    "job-function/SystemAdministrator",
];

/// IAM actions CloudFormation calls to manage roles, their policies, managed policies and
/// instance profiles.
const IAM_READ_ACTIONS: [&str; 9] = [
    "iam:GetInstanceProfile",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListPolicyVersions",
    "iam:ListRolePolicies",
];

/// The IAM writes CloudFormation calls for roles, policies and instance profiles.
const IAM_WRITE_ACTIONS: [&str; 23] = [
    "iam:AddRoleToInstanceProfile",
    "iam:AttachRolePolicy",
    "iam:CreateInstanceProfile",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:DeleteInstanceProfile",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
    "iam:TagPolicy",
    "iam:TagRole",
    "iam:UntagInstanceProfile",
    "iam:UntagPolicy",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
];

/// How the deploy roles are created.
#[derive(Clone, Debug)]
pub struct DeployRolesProps<'a> {
    /// The account's GitHub OIDC provider.
    pub provider: &'a GitHubOidcProvider,
    /// The repository whose workflows deploy, `owner/name`.
    pub repository: String,
    /// Which jobs may deploy, such as `[GitHubSubject::Environment("staging".into())]`.
    pub subjects: Vec<GitHubSubject>,
    /// The prefix of the stacks the deploy role may deploy, such as `OmcStaging`: stacks are
    /// `<prefix>-<part>`, and CloudFormation names the roles it creates
    /// `<stack>-<logical id>-<suffix>`, so the execution role's IAM permissions are limited to
    /// names that start with `<prefix>-`. Letters, digits and `-`, starting with a letter.
    pub stack_prefix: String,
    /// Stacks under the prefix the deploy role may not change (an explicit `Deny`), such as
    /// the stack that holds these roles, so CI cannot widen its own access. Default: none.
    pub excluded_stacks: Vec<String>,
    /// The toolkit stack `bootstrap` created, whose `BucketName` output `deploy` reads.
    /// Default: `OmcCdkToolkit`.
    pub toolkit_stack_name: String,
    /// The ARN of the toolkit bucket large templates go through (`deploy` writes
    /// `omc-cdk/<stack>/<sha256>.json` there, and CloudFormation reads it as the caller).
    pub template_bucket_arn: Value<String>,
    /// The services whose resources the stacks create (`ec2`, `ecs`, `rds`, `logs`, ...):
    /// CloudFormation's execution role may do everything in them (`<service>:*`). Not `iam`
    /// (IAM is granted separately, limited to the prefix) and not `*`. Required.
    pub execution_services: Vec<String>,
    /// The deploy role's name. Default: generated by CloudFormation.
    pub deploy_role_name: Option<String>,
    /// The deploy role's longest session, in hours (1 to 12). Default: 1.
    pub max_session_hours: Option<u32>,
}

impl<'a> DeployRolesProps<'a> {
    /// Deploy roles for the stacks `<stack_prefix>-*`, with the defaults.
    pub fn new(
        provider: &'a GitHubOidcProvider,
        repository: impl Into<String>,
        subjects: Vec<GitHubSubject>,
        stack_prefix: impl Into<String>,
        template_bucket_arn: impl Into<Value<String>>,
        execution_services: Vec<String>,
    ) -> DeployRolesProps<'a> {
        DeployRolesProps {
            provider,
            repository: repository.into(),
            subjects,
            stack_prefix: stack_prefix.into(),
            excluded_stacks: Vec::new(),
            toolkit_stack_name: "OmcCdkToolkit".into(),
            template_bucket_arn: template_bucket_arn.into(),
            execution_services,
            deploy_role_name: None,
            max_session_hours: None,
        }
    }
}

/// Whether `name` is a CloudFormation stack name: a letter, then letters, digits and `-`, at
/// most 128 characters.
fn stack_name_ok(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The two roles a CI deploy needs, with least privilege, split the way AWS CDK's bootstrap
/// splits them:
///
/// - the **deploy role**, a [`GitHubActionsRole`] the workflow assumes: it may create, change
///   and execute change sets of the stacks `<prefix>-*` (not delete them; not the excluded
///   stacks, which an explicit `Deny` protects), read the toolkit stack, put and read templates
///   in the toolkit bucket, pass the execution role (only it, only to CloudFormation), and read
///   ECS tasks to explain failed deployments. It cannot create resources itself.
/// - the **CloudFormation execution role** (`<prefix>-cfn-exec`, trusted by
///   `cloudformation.amazonaws.com` only), which CloudFormation uses to create the stacks'
///   resources: everything in the `execution_services`, and IAM only on roles, policies and
///   instance profiles named `<prefix>-*` (what CloudFormation generates for these stacks),
///   except the two deploy roles themselves.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps};
/// use omc_constructs::{DeployRoles, DeployRolesProps, GitHubOidcProvider, GitHubSubject};
///
/// let app = App::new();
/// let stack = Stack::new(&app, "OmcStaging-Delivery", StackProps::default())?;
/// let provider = GitHubOidcProvider::existing(&stack, "210987654321")?;
/// let roles = DeployRoles::new(&stack, "Deploy", DeployRolesProps {
///     excluded_stacks: vec!["OmcStaging-Delivery".into()],
///     ..DeployRolesProps::new(
///         &provider,
///         "omc/omc",
///         vec![GitHubSubject::Environment("staging".into())],
///         "OmcStaging",
///         "arn:aws:s3:::omc-cdk-toolkit-210987654321",
///         vec!["ec2".into(), "ecs".into(), "logs".into()],
///     )
/// })?;
/// assert_eq!(roles.execution_role_name(), "OmcStaging-cfn-exec");
/// app.synth()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct DeployRoles {
    deploy: GitHubActionsRole,
    execution: Role,
    execution_role_name: String,
    /// Where the construct created its resources.
    scope: Scope,
}

impl DeployRoles {
    /// Creates the deploy role and the CloudFormation execution role.
    pub fn new(scope: &Scope, id: &str, props: DeployRolesProps<'_>) -> Result<DeployRoles> {
        let path = util::path(scope, id);
        let prefix = &props.stack_prefix;
        // The longest generated names are cut by CloudFormation; 40 leaves the prefix whole.
        if !stack_name_ok(prefix) || prefix.len() > 40 || prefix.ends_with('-') {
            return Err(util::invalid_prop(
                &path,
                "stack_prefix",
                prefix,
                format!(
                    "stack prefix {prefix:?} must be 1 to 40 letters, digits and '-', starting with a letter and not ending with '-', such as \"OmcStaging\""
                ),
            ));
        }
        for (field, name) in props
            .excluded_stacks
            .iter()
            .map(|n| ("excluded_stacks", n))
            .chain([("toolkit_stack_name", &props.toolkit_stack_name)])
        {
            if !stack_name_ok(name) {
                return Err(util::invalid_prop(
                    &path,
                    field,
                    name,
                    format!(
                        "stack name {name:?} must be 1 to 128 letters, digits and '-', starting with a letter"
                    ),
                ));
            }
        }
        if props.execution_services.is_empty() {
            return Err(util::invalid_prop(
                &path,
                "execution_services",
                "[]",
                "execution_services is empty; list the services whose resources the stacks create, such as \"ec2\", \"ecs\" and \"logs\"",
            ));
        }
        for service in &props.execution_services {
            let reason = if service == "*" {
                Some(format!(
                    "execution service {service:?} would let CloudFormation do anything in the account, and so anyone who can deploy; list the services the stacks use"
                ))
            } else if service == "iam" {
                Some(format!(
                    "execution service {service:?} would let a template create an administrator role and use it; IAM is granted separately, only on roles and policies named \"{prefix}-*\""
                ))
            } else if service.is_empty()
                || !service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                Some(format!(
                    "execution service {service:?} is not a service prefix of IAM actions: lower-case letters, digits and '-', such as \"ec2\" or \"elasticloadbalancing\""
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(util::invalid_prop(
                    &path,
                    "execution_services",
                    service,
                    reason,
                ));
            }
        }
        // The trust policy's checks come before anything is added.
        trust_condition(&path, &props.repository, &props.subjects)?;

        let scope = scope.child(id)?;
        let execution_role_name = format!("{prefix}-cfn-exec");
        // A literal ARN, so the deploy role does not reference the execution role (whose
        // policy references the deploy role).
        let execution_role_literal_arn =
            util::arn("iam", false, true, &format!("role/{execution_role_name}"));
        let deploy = GitHubActionsRole::new(
            &scope,
            "DeployRole",
            GitHubActionsRoleProps {
                provider: props.provider,
                repository: props.repository.clone(),
                subjects: props.subjects.clone(),
                role_name: props.deploy_role_name.clone(),
                max_session_hours: props.max_session_hours,
                description: Some(format!(
                    "GitHub Actions deploys of {} to the stacks {prefix}-*",
                    props.repository
                )),
            },
        )?;
        let stack_arn =
            |name: &str| util::arn("cloudformation", true, true, &format!("stack/{name}/*"));
        deploy.add_to_policy(PolicyStatement::allow(
            DEPLOY_STACK_ACTIONS,
            [stack_arn(&format!("{prefix}-*"))],
        ));
        if !props.excluded_stacks.is_empty() {
            deploy.add_to_policy(PolicyStatement {
                effect: Effect::Deny,
                ..PolicyStatement::allow(
                    STACK_WRITE_ACTIONS,
                    props.excluded_stacks.iter().map(|s| stack_arn(s)),
                )
            });
        }
        deploy.add_to_policy(PolicyStatement::allow(
            ["cloudformation:DescribeStacks"],
            [stack_arn(&props.toolkit_stack_name)],
        ));
        deploy.add_to_policy(PolicyStatement::allow(
            ["s3:GetObject", "s3:PutObject"],
            [match props.template_bucket_arn.as_literal() {
                Some(arn) => Value::Lit(format!("{arn}/omc-cdk/{prefix}-*")),
                None => omc_cdk::fns::join(
                    "",
                    [
                        props.template_bucket_arn.clone(),
                        format!("/omc-cdk/{prefix}-*").into(),
                    ],
                ),
            }],
        ));
        deploy.add_to_policy(
            PolicyStatement::allow(["iam:PassRole"], [execution_role_literal_arn.clone()])
                .with_condition(Node::map([(
                    "StringEquals",
                    Node::map([("iam:PassedToService", node("cloudformation.amazonaws.com"))]),
                )])),
        );
        // Reading stopped tasks: DescribeTasks names tasks of the account and region;
        // ListTasks has no resource form but takes the cluster as a condition.
        deploy.add_to_policy(PolicyStatement::allow(
            ["ecs:DescribeTasks"],
            [util::arn("ecs", true, true, "task/*")],
        ));
        deploy.add_to_policy(
            PolicyStatement::allow(["ecs:ListTasks"], ["*".into()]).with_condition(Node::map([(
                "ArnLike",
                Node::map([(
                    "ecs:cluster",
                    node(util::arn("ecs", true, true, "cluster/*")),
                )]),
            )])),
        );

        let execution = Role::new(
            &scope,
            "ExecutionRole",
            RoleProps {
                description: Some(format!(
                    "CloudFormation creates the resources of the stacks {prefix}-* with this role"
                )),
                role_name: Some(execution_role_name.clone()),
                ..RoleProps::new(Principal::service("cloudformation.amazonaws.com"))
            },
        )?;
        let service_actions: Vec<String> = props
            .execution_services
            .iter()
            .map(|s| format!("{s}:*"))
            .collect();
        execution.add_to_policy(PolicyStatement::allow(
            service_actions.iter().map(String::as_str),
            ["*".into()],
        ));
        let iam_resources = |kinds: &[&str]| -> Vec<Value<String>> {
            kinds
                .iter()
                .map(|kind| util::arn("iam", false, true, &format!("{kind}/{prefix}-*")))
                .collect()
        };
        execution.add_to_policy(PolicyStatement::allow(
            IAM_READ_ACTIONS.into_iter().chain(IAM_WRITE_ACTIONS),
            iam_resources(&["role", "policy", "instance-profile"]),
        ));
        execution.add_to_policy(PolicyStatement::allow(
            ["iam:PassRole"],
            iam_resources(&["role"]),
        ));
        // Services create their service-linked roles on first use (ECS, load balancing, RDS).
        execution.add_to_policy(
            PolicyStatement::allow(
                ["iam:CreateServiceLinkedRole"],
                [util::arn("iam", false, true, "role/aws-service-role/*")],
            )
            .with_condition(Node::map([(
                "StringLike",
                Node::map([("iam:AWSServiceName", node("*.amazonaws.com"))]),
            )])),
        );
        // A template must not widen the deploy roles themselves (an AWS::IAM::RolePolicy on
        // the execution role's name would otherwise be under the prefix).
        execution.add_to_policy(PolicyStatement {
            effect: Effect::Deny,
            ..PolicyStatement::allow(
                IAM_WRITE_ACTIONS,
                [execution_role_literal_arn, deploy.role_arn()],
            )
        });
        // Nor attach AWS's administrator policies to a role of the environment. (This narrows,
        // it does not bound: a role under the prefix may still get broad inline statements;
        // who may deploy is the boundary, see `docs/architecture.md`.)
        execution.add_to_policy(
            PolicyStatement {
                effect: Effect::Deny,
                ..PolicyStatement::allow(["iam:AttachRolePolicy"], ["*".into()])
            }
            .with_condition(Node::map([(
                "ArnLike",
                Node::map([(
                    "iam:PolicyARN",
                    Node::List(
                        ADMIN_POLICIES
                            .iter()
                            .map(|name| node(format!("arn:*:iam::aws:policy/{name}")))
                            .collect(),
                    ),
                )]),
            )])),
        );
        let resource = execution.resource();
        resource.suppress(
            "iam-wildcard-resource-write",
            "CloudFormation's execution role creates resources of the listed services, whose names it generates; only CloudFormation may assume it and only the deploy role may pass it",
        )?;
        resource.suppress(
            "iam-wildcard-action",
            "CloudFormation's execution role manages every kind of resource of the listed services (never iam or *)",
        )?;
        Ok(DeployRoles {
            deploy,
            execution,
            execution_role_name,
            scope,
        })
    }

    /// The deploy role (a [`GitHubActionsRole`]), for more statements.
    pub fn deploy_role(&self) -> &GitHubActionsRole {
        &self.deploy
    }

    /// The deploy role's ARN: the workflow's `role-to-assume`.
    pub fn deploy_role_arn(&self) -> Value<String> {
        self.deploy.role_arn()
    }

    /// The CloudFormation execution role's ARN.
    pub fn execution_role_arn(&self) -> Value<String> {
        self.execution.role_arn()
    }

    /// The CloudFormation execution role's name, `<stack_prefix>-cfn-exec` (fixed, so a deploy
    /// can name it: `arn:aws:iam::<account>:role/<name>`).
    pub fn execution_role_name(&self) -> &str {
        &self.execution_role_name
    }
}

impl omc_cdk::Construct for DeployRoles {
    fn node(&self) -> &Scope {
        &self.scope
    }
}
