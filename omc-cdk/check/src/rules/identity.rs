//! Who may do what: identity policies.

use serde_json::Value as Json;

use super::items;
use crate::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};

const ERROR: Levels = Levels::always(Severity::Error);

const POLICY_TYPES: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
];

/// An `Allow` statement of an identity policy, with its property path.
struct Statement<'m> {
    path: String,
    actions: Vec<&'m str>,
    not_action: bool,
    resources: Vec<&'m str>,
    conditioned: bool,
}

/// The `Allow` statements of the resource's identity policies.
fn allow_statements<'m>(view: &ResourceView<'m>) -> Vec<Statement<'m>> {
    let mut documents: Vec<(String, &'m Json)> = Vec::new();
    if let Some(doc) = view.prop("PolicyDocument") {
        documents.push(("PolicyDocument".into(), doc));
    }
    if let Some(policies) = view.prop("Policies") {
        for (i, policy) in items(policies).into_iter().enumerate() {
            if let Some(doc) = policy.get("PolicyDocument") {
                documents.push((format!("Policies[{i}].PolicyDocument"), doc));
            }
        }
    }
    let strings = |v: Option<&'m Json>| -> Vec<&'m str> {
        v.map(items)
            .unwrap_or_default()
            .into_iter()
            .filter_map(Json::as_str)
            .collect()
    };
    let mut out = Vec::new();
    for (base, doc) in documents {
        let Some(statements) = doc.get("Statement") else {
            continue;
        };
        for (i, statement) in items(statements).into_iter().enumerate() {
            if statement.get("Effect").and_then(Json::as_str) != Some("Allow") {
                continue;
            }
            let not_action = statement.get("NotAction").is_some();
            out.push(Statement {
                path: format!("{base}.Statement[{i}]"),
                actions: strings(statement.get(if not_action { "NotAction" } else { "Action" })),
                not_action,
                resources: strings(statement.get("Resource")),
                conditioned: statement.get("Condition").is_some(),
            });
        }
    }
    out
}

fn wildcard_action(view: &ResourceView<'_>, out: &mut Violations) {
    for s in allow_statements(view) {
        if s.not_action {
            out.add(
                &s.path,
                format!(
                    "Allow with NotAction {:?} grants every other action of every service",
                    s.actions
                ),
            );
            continue;
        }
        for action in &s.actions {
            if *action == "*" {
                out.add(&s.path, "Action \"*\" allows every action of every service");
            } else if action.ends_with(":*") {
                out.warn(
                    &s.path,
                    format!("Action {action:?} allows every action of the service"),
                );
            }
        }
    }
}

/// No identity policy allows every action.
pub const IAM_WILDCARD_ACTION: Rule = Rule {
    id: "iam-wildcard-action",
    title: "IAM policies do not allow every action",
    category: Category::Identity,
    levels: ERROR,
    types: POLICY_TYPES,
    check: wildcard_action,
    doc: RuleDoc {
        checks: "No `Allow` statement of an identity policy (roles, users, groups, policies) has `Action: \"*\"` or `NotAction` (errors); `service:*` is a warning.",
        why: "A role that can do everything turns any bug or leaked credential of its holder into full control of the account.",
        fix: "List the actions the workload calls (grant helpers such as `Secret::grant_read` and `LogGroup::grant_write` do); CloudTrail's history or IAM Access Analyzer's policy generation shows which.",
        example: r#"{ "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::reports/*" }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_62", "CKV_AWS_63"],
        cfn_nag: &["F3", "F4", "F5", "W15", "W16", "W17"],
        cfn_lint: &[],
    },
};

/// Actions AWS only authorizes with `Resource: "*"` (no resource-level permissions).
const STAR_ONLY: &[&str] = &[
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "ecr:GetAuthorizationToken",
];

const READ_PREFIXES: &[&str] = &[
    "Describe", "Get", "List", "BatchGet", "Query", "Scan", "Search", "View", "Lookup",
];

/// Whether the action only reads (by AWS's naming conventions).
pub(crate) fn read_only(action: &str) -> bool {
    let Some((_, name)) = action.split_once(':') else {
        return false;
    };
    // A wildcard after a read prefix still only matches actions that start with it.
    READ_PREFIXES.iter().any(|p| {
        name.strip_prefix(p).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase() || c == '*')
        })
    })
}

fn wildcard_resource(view: &ResourceView<'_>, out: &mut Violations) {
    for s in allow_statements(view) {
        if s.not_action || !s.resources.contains(&"*") {
            continue;
        }
        let writes: Vec<&str> = s
            .actions
            .iter()
            .copied()
            .filter(|a| *a != "*" && !read_only(a) && !STAR_ONLY.contains(a))
            .collect();
        if writes.is_empty() {
            continue;
        }
        let message = format!(
            "Resource \"*\" with write actions {writes:?}{}",
            if s.conditioned {
                " (narrowed by a Condition)"
            } else {
                ""
            }
        );
        if s.conditioned {
            out.warn(&s.path, message);
        } else {
            out.add(&s.path, message);
        }
    }
}

/// No identity policy allows writes on every resource.
pub const IAM_WILDCARD_RESOURCE_WRITE: Rule = Rule {
    id: "iam-wildcard-resource-write",
    title: "IAM write actions name their resources",
    category: Category::Identity,
    levels: ERROR,
    types: POLICY_TYPES,
    check: wildcard_resource,
    doc: RuleDoc {
        checks: "No `Allow` statement grants a write action (anything not named `Describe*`, `Get*`, `List*`, `BatchGet*`, `Query`, `Scan`, `Search*`, `View*`, `Lookup*`) on `Resource: \"*\"`. Actions AWS only authorizes on `*` (`cloudwatch:PutMetricData`, `xray:PutTraceSegments`, `ssmmessages:*Channel`, log deliveries) are exempt; a statement with a `Condition` is a warning instead of an error.",
        why: "A write on every resource lets the holder change or delete resources of other applications in the account, not only its own.",
        fix: "Name the ARNs the action works on (references such as `bucket.arn()` keep them exact), or scope the statement with a `Condition` on tags or `aws:SourceAccount`.",
        example: r#"{ "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": { "Fn::GetAtt": ["Jobs", "Arn"] } }"#,
    },
    equivalents: Equivalents {
        checkov: &[
            "CKV_AWS_107",
            "CKV_AWS_108",
            "CKV_AWS_109",
            "CKV_AWS_110",
            "CKV_AWS_111",
        ],
        cfn_nag: &["W11", "W12", "W13"],
        cfn_lint: &[],
    },
};

fn passrole(view: &ResourceView<'_>, out: &mut Violations) {
    for s in allow_statements(view) {
        let any_role = s
            .resources
            .iter()
            .find(|r| **r == "*" || r.ends_with(":role/*") || r.ends_with(":*"));
        let Some(resource) = any_role else {
            continue;
        };
        if s.not_action {
            continue;
        }
        if let Some(action) = s.actions.iter().find(|a| grants_pass_role(a)) {
            out.add(
                &s.path,
                format!("{action:?} on Resource {resource:?} lets the holder pass any role, including administrator roles, to a service"),
            );
        }
    }
}

/// Whether an action pattern (case-insensitive, `*` and `?` wildcards) covers `iam:PassRole`.
pub(crate) fn grants_pass_role(action: &str) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                matches(&pattern[1..], text) || (!text.is_empty() && matches(pattern, &text[1..]))
            }
            (Some(b'?'), Some(_)) => matches(&pattern[1..], &text[1..]),
            (Some(p), Some(t)) => p == t && matches(&pattern[1..], &text[1..]),
            _ => false,
        }
    }
    matches(action.to_ascii_lowercase().as_bytes(), b"iam:passrole")
}

/// `iam:PassRole` names its roles.
pub const IAM_PASSROLE_WILDCARD: Rule = Rule {
    id: "iam-passrole-wildcard",
    title: "iam:PassRole names the roles it passes",
    category: Category::Identity,
    levels: ERROR,
    types: POLICY_TYPES,
    check: passrole,
    doc: RuleDoc {
        checks: "No `Allow` statement grants `iam:PassRole` (or any pattern covering it, such as `iam:*`, `iam:Pass*`, `*`; case-insensitive) on every role (`*`, `...:role/*`), with or without a condition.",
        why: "Passing a role to a service (a task, a function, an instance) lets the holder act with that role's permissions: PassRole on every role is privilege escalation to the most powerful role in the account.",
        fix: "List the role ARNs that may be passed, and add `iam:PassedToService` (`ScheduledTask` grants PassRole on its two roles only).",
        example: r#"{ "Effect": "Allow", "Action": "iam:PassRole", "Resource": [{ "Fn::GetAtt": ["TaskRole", "Arn"] }], "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_109", "CKV_AWS_110"],
        cfn_nag: &["F38", "F39", "F40"],
        cfn_lint: &[],
    },
};

fn user_inline(view: &ResourceView<'_>, out: &mut Violations) {
    match view.type_name() {
        "AWS::IAM::User" => {
            if view.prop("Policies").is_some_and(|p| !items(p).is_empty()) {
                out.add("Policies", "the user has inline policies");
            }
        }
        "AWS::IAM::UserPolicy" => out.add("", "an inline policy attached to a user"),
        _ => {
            if view.prop("Users").is_some_and(|u| !items(u).is_empty()) {
                out.add("Users", "the inline policy is attached to users");
            }
        }
    }
}

/// Users get permissions through groups or roles, not inline policies.
pub const IAM_USER_INLINE_POLICY: Rule = Rule {
    id: "iam-user-inline-policy",
    title: "IAM users have no inline policies",
    category: Category::Identity,
    levels: ERROR,
    types: &["AWS::IAM::User", "AWS::IAM::Policy", "AWS::IAM::UserPolicy"],
    check: user_inline,
    doc: RuleDoc {
        checks: "`AWS::IAM::User` has no `Policies`; no `AWS::IAM::Policy` lists `Users`; there is no `AWS::IAM::UserPolicy`.",
        why: "Permissions pasted onto individual users are invisible in group reviews and outlive the person's role; long-lived user credentials should hold as little as possible.",
        fix: "Grant through a group or a role the user assumes (IAM Identity Center for people, roles for workloads).",
        example: r#"{ "Type": "AWS::IAM::Group", "Properties": { "ManagedPolicyArns": [{ "Ref": "DeployPolicy" }] } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_40"],
        cfn_nag: &["F10", "F11"],
        cfn_lint: &[],
    },
};

fn rds_iam_auth(view: &ResourceView<'_>, out: &mut Violations) {
    if view.type_name() == "AWS::RDS::DBInstance" && view.prop("DBClusterIdentifier").is_some() {
        return;
    }
    let engine = view.text("Engine").unwrap_or_default().to_ascii_lowercase();
    let supported = engine.is_empty()
        || ["postgres", "mysql", "mariadb", "aurora"]
            .iter()
            .any(|e| engine.starts_with(e));
    if supported {
        super::require_true(
            view,
            out,
            "EnableIAMDatabaseAuthentication",
            "only the database's own passwords can log in",
        );
    }
}

/// Databases accept IAM authentication.
pub const RDS_IAM_AUTH: Rule = Rule {
    id: "rds-iam-auth",
    title: "Databases accept IAM authentication",
    category: Category::Identity,
    levels: Levels::error_in_production(),
    types: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
    check: rds_iam_auth,
    doc: RuleDoc {
        checks: "A PostgreSQL, MySQL, MariaDB or Aurora `AWS::RDS::DBInstance` (outside a cluster) or `AWS::RDS::DBCluster` has `EnableIAMDatabaseAuthentication: true`. Error in production, warning elsewhere.",
        why: "With IAM authentication, people and tasks log in with short-lived tokens from their role, granted and revoked in IAM and recorded in CloudTrail, instead of sharing long-lived database passwords.",
        fix: "Set `EnableIAMDatabaseAuthentication: true` (the `Rds` construct does by default) and grant `rds-db:connect` on the database user to the roles that log in (`Rds::grant_connect`).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "Engine": "postgres", "EnableIAMDatabaseAuthentication": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_161", "CKV_AWS_162"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

#[cfg(test)]
mod tests {
    use super::read_only;

    #[test]
    fn read_only_actions() {
        assert!(read_only("ec2:DescribeInstances"));
        assert!(read_only("s3:GetObject"));
        assert!(read_only("s3:List*"));
        assert!(read_only("dynamodb:Query"));
        assert!(!read_only("s3:PutObject"));
        assert!(!read_only("ec2:*"));
        assert!(!read_only("ssm:GetaWayPut"));
        assert!(!read_only("*"));
    }

    #[test]
    fn pass_role_patterns() {
        use super::grants_pass_role;
        for a in [
            "iam:PassRole",
            "iam:passrole",
            "iam:Pas*",
            "iam:*",
            "*",
            "iam:P?ssRole",
        ] {
            assert!(grants_pass_role(a), "{a}");
        }
        for a in ["iam:GetRole", "s3:*", "iam:PassRoles"] {
            assert!(!grants_pass_role(a), "{a}");
        }
    }
}
