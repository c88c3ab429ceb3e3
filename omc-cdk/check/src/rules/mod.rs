//! The built-in rule pack.
//!
//! [`all`] is what every app checks by default. [`OPTIONAL`] holds rules for policies not every
//! team has (add them with `omc_cdk::App::add_rule`). [`META`] are the rules about suppressions
//! themselves. `docs/checks.md` is generated from these definitions.

mod containers;
mod encryption;
mod exposure;
mod identity;
mod logging;
mod resilience;

use super::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};
pub(crate) use omc_cdk_template::{container_insights, integer, items};

pub use containers::{ECS_PLAIN_SECRETS, ECS_PRIVILEGED, ECS_READONLY_ROOT};
pub use encryption::{
    ALB_LISTENER_HTTPS, ALB_TLS_POLICY, CLOUDTRAIL_KMS, EBS_ENCRYPTED, ECR_KMS_KEY, EFS_ENCRYPTED,
    EFS_TRANSIT_ENCRYPTION, EKS_SECRETS_ENCRYPTED, ELASTICACHE_AT_REST_ENCRYPTION,
    ELASTICACHE_TRANSIT_ENCRYPTION, LOGS_KMS_KEY, RDS_STORAGE_ENCRYPTED, S3_BUCKET_ENCRYPTION,
    S3_TLS_ONLY, SECRET_CMK, SNS_TOPIC_ENCRYPTED, SQS_KMS_KEY, SQS_QUEUE_ENCRYPTED,
};
pub use exposure::{
    EKS_PUBLIC_ENDPOINT, RDS_PUBLIC_ACCESS, S3_PUBLIC_ACCESS_BLOCK, SG_OPEN_INGRESS,
};
pub use identity::{
    IAM_PASSROLE_WILDCARD, IAM_USER_INLINE_POLICY, IAM_WILDCARD_ACTION,
    IAM_WILDCARD_RESOURCE_WRITE, RDS_IAM_AUTH,
};
pub use logging::{
    ALB_ACCESS_LOGS, CLOUDTRAIL_LOG_VALIDATION, ECS_CONTAINER_INSIGHTS, EKS_CONTROL_PLANE_LOGS,
    RDS_ENHANCED_MONITORING, S3_ACCESS_LOGS, VPC_FLOW_LOGS,
};
pub use resilience::{
    ECS_CIRCUIT_BREAKER, ELASTICACHE_MULTI_AZ, MIN_BACKUP_DAYS, RDS_BACKUP_RETENTION,
    RDS_DELETION_PROTECTION, RDS_MULTI_AZ, STATEFUL_RETENTION,
};

/// The rules every app checks, in documentation order.
pub const ALL: [Rule; 43] = [
    RDS_STORAGE_ENCRYPTED,
    EFS_ENCRYPTED,
    ELASTICACHE_AT_REST_ENCRYPTION,
    S3_BUCKET_ENCRYPTION,
    SNS_TOPIC_ENCRYPTED,
    SQS_QUEUE_ENCRYPTED,
    EBS_ENCRYPTED,
    EKS_SECRETS_ENCRYPTED,
    LOGS_KMS_KEY,
    CLOUDTRAIL_KMS,
    SECRET_CMK,
    SQS_KMS_KEY,
    ECR_KMS_KEY,
    ELASTICACHE_TRANSIT_ENCRYPTION,
    ALB_LISTENER_HTTPS,
    ALB_TLS_POLICY,
    EFS_TRANSIT_ENCRYPTION,
    S3_TLS_ONLY,
    SG_OPEN_INGRESS,
    RDS_PUBLIC_ACCESS,
    S3_PUBLIC_ACCESS_BLOCK,
    EKS_PUBLIC_ENDPOINT,
    IAM_WILDCARD_ACTION,
    IAM_WILDCARD_RESOURCE_WRITE,
    IAM_PASSROLE_WILDCARD,
    IAM_USER_INLINE_POLICY,
    RDS_IAM_AUTH,
    ALB_ACCESS_LOGS,
    S3_ACCESS_LOGS,
    RDS_ENHANCED_MONITORING,
    VPC_FLOW_LOGS,
    CLOUDTRAIL_LOG_VALIDATION,
    ECS_CONTAINER_INSIGHTS,
    EKS_CONTROL_PLANE_LOGS,
    RDS_MULTI_AZ,
    RDS_BACKUP_RETENTION,
    RDS_DELETION_PROTECTION,
    ELASTICACHE_MULTI_AZ,
    STATEFUL_RETENTION,
    ECS_CIRCUIT_BREAKER,
    ECS_PRIVILEGED,
    ECS_READONLY_ROOT,
    ECS_PLAIN_SECRETS,
];

/// Rules for policies some teams have and others do not; an app opts in with
/// `omc_cdk::App::add_rule`. None at the moment: `logs-kms-key` joined the default pack.
pub const OPTIONAL: [Rule; 0] = [];

/// The rules every app checks, in documentation order.
pub fn all() -> Vec<Rule> {
    ALL.to_vec()
}

/// Every built-in rule, documented in `docs/checks.md`: the default pack, the optional rules
/// and the rules about suppressions.
pub fn documented() -> Vec<Rule> {
    ALL.iter()
        .chain(OPTIONAL.iter())
        .chain(META.iter())
        .copied()
        .collect()
}

/// A built-in rule (default or optional) by id.
pub fn find(id: &str) -> Option<Rule> {
    ALL.iter()
        .chain(OPTIONAL.iter())
        .chain(META.iter())
        .find(|r| r.id == id)
        .copied()
}

fn no_check(_: &ResourceView<'_>, _: &mut Violations) {}

/// A suppression without a reason, with a reason too short to judge, or naming a rule that
/// does not exist.
pub const INVALID_SUPPRESSION: Rule = Rule {
    id: "invalid-suppression",
    title: "Suppressions name a known rule and give a reason",
    category: Category::Suppressions,
    levels: Levels::always(Severity::Error),
    types: &[],
    check: no_check,
    doc: RuleDoc {
        checks: "Every suppression in a resource's `Metadata` (`omc:check`) names a rule of the app and gives a reason of at least one sentence.",
        why: "A suppression turns a finding off for reviewers and for CI; without a reason nobody can judge later whether it still holds, and a misspelt rule id suppresses nothing.",
        fix: "Name the rule exactly as the finding does and give a sentence saying why the finding is acceptable here.",
        example: r#"database.suppress("rds-multi-az", "Staging runs one AZ to halve its cost; production is multi-AZ (infrastructure review, 2025)")?;"#,
    },
    equivalents: Equivalents::NONE,
};

/// A suppression that covers no finding any more.
pub const UNUSED_SUPPRESSION: Rule = Rule {
    id: "unused-suppression",
    title: "Suppressions still match a finding",
    category: Category::Suppressions,
    levels: Levels::always(Severity::Warning),
    types: &[],
    check: no_check,
    doc: RuleDoc {
        checks: "Every suppression covers at least one finding of its rule in the resources it applies to.",
        why: "A suppression whose finding was fixed still reads as an accepted risk, and would silently hide the finding if the problem came back.",
        fix: "Remove the suppression.",
        example: "(remove the `suppress` call)",
    },
    equivalents: Equivalents::NONE,
};

/// The rules about suppressions.
pub const META: [Rule; 2] = [INVALID_SUPPRESSION, UNUSED_SUPPRESSION];

// ---- helpers shared by the rules ----

/// Whether a required `true` is missing: absent or literally false. A computed value (a
/// condition, a parameter without default) is given the benefit of the doubt.
pub(crate) fn not_enabled(view: &ResourceView<'_>, path: &str) -> bool {
    match view.prop(path) {
        None => true,
        Some(_) => view.flag(path) == Some(false),
    }
}

/// The literal value for messages: `false`, `"HTTP"`, or `absent`.
pub(crate) fn shown(view: &ResourceView<'_>, path: &str) -> String {
    match view.prop(path) {
        None => "absent".into(),
        Some(v) => match view.literal(v) {
            Some(v) => v.to_string(),
            None => v.to_string(),
        },
    }
}

/// Standard message for a flag that must be true.
pub(crate) fn require_true(view: &ResourceView<'_>, out: &mut Violations, path: &str, what: &str) {
    if not_enabled(view, path) {
        out.add(path, format!("{what}: {path} is {}", shown(view, path)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in ALL.iter().chain(OPTIONAL.iter()).chain(META.iter()) {
            assert!(seen.insert(rule.id), "duplicate id {}", rule.id);
            assert!(
                rule.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                rule.id
            );
            for (field, text) in [
                ("title", rule.title),
                ("checks", rule.doc.checks),
                ("why", rule.doc.why),
                ("fix", rule.doc.fix),
                ("example", rule.doc.example),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {field}", rule.id);
            }
            if rule.category != Category::Suppressions {
                assert!(!rule.types.is_empty(), "{} looks at no type", rule.id);
            }
        }
    }
}
