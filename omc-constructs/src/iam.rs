//! IAM roles and policy statements, with grants that add least-privilege statements.

use omc_cdk::{IntoNode, Json, Node, Result, Scope, TypedResource, Value};
use omc_cfn::iam;

use crate::util::{self, node};

/// Whether a statement allows or denies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`
    Allow,
    /// `Deny`
    Deny,
}

/// One statement of an IAM policy.
///
/// ```
/// use omc_constructs::PolicyStatement;
/// let read = PolicyStatement::allow(["s3:GetObject"], ["arn:aws:s3:::logs/*".into()]);
/// # let _ = read;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyStatement {
    /// Allow or deny.
    pub effect: Effect,
    /// The actions, such as `s3:GetObject`.
    pub actions: Vec<String>,
    /// The resources (ARNs).
    pub resources: Vec<Value<String>>,
    /// A `Condition` block, which may contain values such as ARNs. Default: none.
    pub condition: Option<Node>,
}

impl PolicyStatement {
    /// A statement that allows `actions` on `resources`.
    pub fn allow<'s>(
        actions: impl IntoIterator<Item = &'s str>,
        resources: impl IntoIterator<Item = Value<String>>,
    ) -> PolicyStatement {
        PolicyStatement {
            effect: Effect::Allow,
            actions: actions.into_iter().map(str::to_owned).collect(),
            resources: resources.into_iter().collect(),
            condition: None,
        }
    }

    /// The same statement with a `Condition` block (JSON, or a node holding values).
    #[must_use]
    pub fn with_condition(mut self, condition: impl IntoNode) -> PolicyStatement {
        self.condition = Some(condition.into_node());
        self
    }

    pub(crate) fn to_node(&self) -> Node {
        let one_or_many = |items: Vec<Node>| {
            if items.len() == 1 {
                items.into_iter().next().unwrap_or(Node::Null)
            } else {
                Node::List(items)
            }
        };
        let mut entries = vec![
            (
                "Effect",
                node(match self.effect {
                    Effect::Allow => "Allow",
                    Effect::Deny => "Deny",
                }),
            ),
            (
                "Action",
                one_or_many(self.actions.iter().map(|a| node(a.as_str())).collect()),
            ),
            (
                "Resource",
                one_or_many(self.resources.iter().cloned().map(node).collect()),
            ),
        ];
        if let Some(condition) = &self.condition {
            entries.push(("Condition", condition.clone()));
        }
        Node::map(entries)
    }
}

/// A policy document node from statements.
pub(crate) fn document(statements: &[PolicyStatement]) -> Node {
    Node::map([
        ("Version", node("2012-10-17")),
        (
            "Statement",
            Node::List(statements.iter().map(PolicyStatement::to_node).collect()),
        ),
    ])
}

/// Who may assume a role.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// An AWS service, such as `ecs-tasks.amazonaws.com`.
    Service(String),
    /// An AWS service acting for resources of this account only: the trust policy requires
    /// `aws:SourceAccount` to be the stack's account, so another account's schedule, rule or
    /// recorder cannot make the service assume the role (the "confused deputy"). Use it for
    /// services that send `aws:SourceAccount`, such as `scheduler.amazonaws.com`,
    /// `events.amazonaws.com`, `vpc-flow-logs.amazonaws.com` and `config.amazonaws.com`.
    ServiceForAccount(String),
    /// EKS Pod Identity (`pods.eks.amazonaws.com`, which also needs `sts:TagSession`).
    EksPodIdentity,
    /// Holders of tokens of an OIDC identity provider (`sts:AssumeRoleWithWebIdentity`), such
    /// as GitHub Actions jobs, narrowed by a `Condition` block on the token's claims. Prefer
    /// [`GitHubActionsRole`](crate::GitHubActionsRole), which builds and checks the condition.
    WebIdentity {
        /// The `AWS::IAM::OIDCProvider`'s ARN (`Federated`).
        provider_arn: Value<String>,
        /// The `Condition` block, such as `{"StringEquals": {"<issuer>:aud": "sts.amazonaws.com"}}`.
        condition: Node,
    },
}

impl Principal {
    /// An AWS service principal.
    pub fn service(name: impl Into<String>) -> Principal {
        Principal::Service(name.into())
    }

    fn trust_policy(&self) -> Node {
        let json: Json = match self {
            Principal::Service(service) => serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole"
                }]
            }),
            Principal::ServiceForAccount(service) => serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                }]
            }),
            Principal::EksPodIdentity => serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "pods.eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"]
                }]
            }),
            Principal::WebIdentity {
                provider_arn,
                condition,
            } => {
                let statement = Node::map([
                    ("Effect", node("Allow")),
                    (
                        "Principal",
                        Node::map([("Federated", node(provider_arn.clone()))]),
                    ),
                    ("Action", node("sts:AssumeRoleWithWebIdentity")),
                    ("Condition", condition.clone()),
                ]);
                return Node::map([
                    ("Version", node("2012-10-17")),
                    ("Statement", Node::List(vec![statement])),
                ]);
            }
        };
        json.into_node()
    }
}

/// How a role is created.
#[derive(Clone, Debug)]
pub struct RoleProps {
    /// Who may assume the role.
    pub assumed_by: Principal,
    /// What the role is for. Default: none.
    pub description: Option<String>,
    /// Managed policies, by ARN. Default: none (prefer statements scoped to resources).
    pub managed_policy_arns: Vec<omc_cdk::arn::ManagedPolicyArn>,
    /// Statements of the role's inline policy. Default: none; grants add more.
    pub statements: Vec<PolicyStatement>,
    /// The role's name (1 to 64 letters, digits and `+=,.@_-`), for roles other tools name,
    /// such as a CloudFormation execution role. Default: generated by CloudFormation
    /// (`<stack>-<logical id>-<suffix>`), which lets CloudFormation replace the role.
    pub role_name: Option<String>,
    /// The longest session, in hours (1 to 12). Default: IAM's, 1 hour.
    pub max_session_hours: Option<u32>,
}

impl RoleProps {
    /// A role for `assumed_by` with no permissions.
    pub fn new(assumed_by: Principal) -> RoleProps {
        RoleProps {
            assumed_by,
            description: None,
            managed_policy_arns: Vec::new(),
            statements: Vec::new(),
            role_name: None,
            max_session_hours: None,
        }
    }
}

/// An IAM role. Its permissions are one inline policy that grants extend
/// ([`Role::add_to_policy`]), so each role carries exactly what its users were granted.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Role, RoleProps, Principal, PolicyStatement};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Iam", StackProps::default())?;
/// let role = Role::new(&stack, "TaskRole", RoleProps::new(Principal::service("ecs-tasks.amazonaws.com")))?;
/// role.add_to_policy(PolicyStatement::allow(["sqs:SendMessage"], ["arn:aws:sqs:eu-west-1:123456789012:jobs".into()]));
/// Template::from_stack(&stack)?.has_resource_properties("AWS::IAM::Role", json!({
///     "Policies": [{"PolicyName": "default", "PolicyDocument": {"Statement": [{"Action": "sqs:SendMessage"}]}}]
/// }))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Role {
    resource: iam::RoleHandle,
    /// Where the construct created its resources.
    scope: omc_cdk::Scope,
}

impl Role {
    /// Creates a role.
    pub fn new(scope: &Scope, id: &str, props: RoleProps) -> Result<Role> {
        if let Some(description) = &props.description
            && description.chars().count() > 1000
        {
            return Err(util::invalid_prop(
                util::path(scope, id),
                "description",
                description,
                "the description is longer than 1,000 characters",
            ));
        }
        if let Some(name) = &props.role_name {
            let ok = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
            if !ok {
                return Err(util::invalid_prop(
                    util::path(scope, id),
                    "role_name",
                    name,
                    format!(
                        "role name {name:?} must be 1 to 64 letters, digits and '+', '=', ',', '.', '@', '_', '-'"
                    ),
                ));
            }
        }
        if let Some(hours) = props.max_session_hours
            && !(1..=12).contains(&hours)
        {
            return Err(util::invalid_prop(
                util::path(scope, id),
                "max_session_hours",
                hours,
                format!("max_session_hours is {hours}; IAM allows sessions of 1 to 12 hours"),
            ));
        }
        let scope = scope.child(id)?;
        let resource = scope.add(
            "Resource",
            iam::Role {
                description: props.description.map(Into::into),
                role_name: props.role_name.map(Into::into),
                max_session_duration: props
                    .max_session_hours
                    .map(|h| (i64::from(h) * 3600).into()),
                managed_policy_arns: (!props.managed_policy_arns.is_empty()).then(|| {
                    props
                        .managed_policy_arns
                        .into_iter()
                        .map(Value::from)
                        .collect::<Vec<_>>()
                        .into()
                }),
                ..iam::Role::new(omc_cdk::AnyValue::new(props.assumed_by.trust_policy()))
            },
        )?;
        let role = Role { resource, scope };
        for statement in props.statements {
            role.add_to_policy(statement);
        }
        Ok(role)
    }

    /// The role's ARN.
    pub fn role_arn(&self) -> Value<String> {
        self.resource.attr_arn()
    }

    /// The role's name.
    pub fn role_name(&self) -> Value<String> {
        self.resource.reference()
    }

    /// The role's resource.
    pub fn resource(&self) -> &omc_cdk::Resource {
        self.resource.as_resource()
    }

    /// Adds a statement to the role's inline policy (once: an identical statement is not added
    /// again).
    pub fn add_to_policy(&self, statement: PolicyStatement) {
        let statement = statement.to_node();
        self.resource.update_properties(|properties| {
            let policies = properties
                .entry("Policies".to_owned())
                .or_insert_with(|| Node::List(Vec::new()));
            let Node::List(policies) = policies else {
                return;
            };
            if policies.is_empty() {
                policies.push(Node::map([
                    ("PolicyDocument", document(&[])),
                    ("PolicyName", node("default")),
                ]));
            }
            let Some(Node::Map(policy)) = policies.first_mut() else {
                return;
            };
            let Some(Node::Map(document)) = policy.get_mut("PolicyDocument") else {
                return;
            };
            if let Some(Node::List(statements)) = document.get_mut("Statement")
                && !statements.contains(&statement)
            {
                statements.push(statement);
            }
        });
    }

    /// Lets `principal_role`'s holder pass this role to a service (`iam:PassRole`).
    pub fn grant_pass_role(&self, grantee: &Role) {
        grantee.add_to_policy(PolicyStatement::allow(["iam:PassRole"], [self.role_arn()]));
    }
}

impl From<&Role> for Value<String> {
    fn from(role: &Role) -> Self {
        role.role_arn()
    }
}

impl IntoNode for &Role {
    fn into_node(self) -> Node {
        self.role_arn().into_node()
    }
}

impl omc_cdk::Construct for Role {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
