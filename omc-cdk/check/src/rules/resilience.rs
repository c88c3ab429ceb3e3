//! Surviving failures and mistakes.

use super::{integer, require_true, shown};
use crate::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};

/// Off in development, a warning in staging, an error in production.
const MULTI_AZ_LEVELS: Levels = Levels {
    development: None,
    staging: Some(Severity::Warning),
    production: Some(Severity::Error),
};

/// Production only.
const PRODUCTION_ONLY: Levels = Levels {
    development: None,
    staging: None,
    production: Some(Severity::Error),
};

fn standalone_database(view: &ResourceView<'_>) -> bool {
    view.type_name() != "AWS::RDS::DBInstance" || view.prop("DBClusterIdentifier").is_none()
}

fn rds_multi_az(view: &ResourceView<'_>, out: &mut Violations) {
    if standalone_database(view) {
        require_true(
            view,
            out,
            "MultiAZ",
            "the database runs in one availability zone and is down while it fails over or is patched",
        );
    }
}

/// Production databases are multi-AZ.
pub const RDS_MULTI_AZ: Rule = Rule {
    id: "rds-multi-az",
    title: "Databases are multi-AZ",
    category: Category::Resilience,
    levels: MULTI_AZ_LEVELS,
    types: &["AWS::RDS::DBInstance"],
    check: rds_multi_az,
    doc: RuleDoc {
        checks: "An `AWS::RDS::DBInstance` outside a cluster has `MultiAZ: true`. Error in production, warning in staging, off in development.",
        why: "A single-AZ instance is unavailable for the whole of an AZ outage, an instance failure or a maintenance reboot; multi-AZ fails over in about a minute.",
        fix: "Set `MultiAZ: true` (`RdsProps::multi_az`); where a non-production stage accepts the risk for cost, suppress with that reason.",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "MultiAZ": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_157"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

/// Days of automated backups production databases keep at least.
pub const MIN_BACKUP_DAYS: i64 = 7;

fn rds_backups(view: &ResourceView<'_>, out: &mut Violations) {
    if !standalone_database(view) {
        return;
    }
    let Some(raw) = view.prop("BackupRetentionPeriod") else {
        out.add(
            "BackupRetentionPeriod",
            format!("BackupRetentionPeriod is absent (default 1 day); production keeps at least {MIN_BACKUP_DAYS}"),
        );
        return;
    };
    if let Some(days) = integer(view.literal(raw))
        && days < MIN_BACKUP_DAYS
    {
        out.add(
            "BackupRetentionPeriod",
            format!("BackupRetentionPeriod is {days} day(s); production keeps at least {MIN_BACKUP_DAYS}"),
        );
    }
}

/// Production databases keep a week of backups.
pub const RDS_BACKUP_RETENTION: Rule = Rule {
    id: "rds-backup-retention",
    title: "Production databases keep at least 7 days of backups",
    category: Category::Resilience,
    levels: PRODUCTION_ONLY,
    types: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
    check: rds_backups,
    doc: RuleDoc {
        checks: "A standalone `AWS::RDS::DBInstance` or an `AWS::RDS::DBCluster` has `BackupRetentionPeriod` of at least 7 days (the default is 1). Production only.",
        why: "Point-in-time recovery only reaches back as far as the retention: a bad migration or a deletion noticed after the weekend is unrecoverable with one day.",
        fix: "Set `BackupRetentionPeriod` to 7 or more (`RdsProps::backup_retention_days`).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "BackupRetentionPeriod": 14 } }"#,
    },
    equivalents: Equivalents {
        checkov: &[],
        cfn_nag: &["W75"],
        cfn_lint: &["I3013"],
    },
};

fn rds_protection(view: &ResourceView<'_>, out: &mut Violations) {
    if standalone_database(view) {
        require_true(
            view,
            out,
            "DeletionProtection",
            "the production database can be deleted by one API call",
        );
    }
}

/// Production databases have deletion protection.
pub const RDS_DELETION_PROTECTION: Rule = Rule {
    id: "rds-deletion-protection",
    title: "Production databases have deletion protection",
    category: Category::Resilience,
    levels: PRODUCTION_ONLY,
    types: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
    check: rds_protection,
    doc: RuleDoc {
        checks: "A standalone `AWS::RDS::DBInstance` or an `AWS::RDS::DBCluster` has `DeletionProtection: true`. Production only.",
        why: "Deletion protection makes RDS refuse a delete, whether from a console click, a script or a stack replacement, until someone turns it off on purpose.",
        fix: "Set `DeletionProtection: true` (`RdsProps::deletion_protection`).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "DeletionProtection": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &[],
        cfn_nag: &["F80"],
        cfn_lint: &[],
    },
};

fn cache_multi_az(view: &ResourceView<'_>, out: &mut Violations) {
    if view.type_name() == "AWS::ElastiCache::CacheCluster" {
        out.add("", "a single cache node: no replica to fail over to");
        return;
    }
    if view.flag("MultiAZEnabled") != Some(true)
        || view.flag("AutomaticFailoverEnabled") != Some(true)
    {
        out.add(
            "MultiAZEnabled",
            format!(
                "the cache does not fail over to another AZ (MultiAZEnabled {}, AutomaticFailoverEnabled {})",
                shown(view, "MultiAZEnabled"),
                shown(view, "AutomaticFailoverEnabled")
            ),
        );
    }
}

/// Production caches fail over across AZs.
pub const ELASTICACHE_MULTI_AZ: Rule = Rule {
    id: "elasticache-multi-az",
    title: "Caches fail over across availability zones",
    category: Category::Resilience,
    levels: MULTI_AZ_LEVELS,
    types: &[
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
    ],
    check: cache_multi_az,
    doc: RuleDoc {
        checks: "An `AWS::ElastiCache::ReplicationGroup` has `MultiAZEnabled` and `AutomaticFailoverEnabled` true (which needs a replica); a bare `CacheCluster` is one node. Error in production, warning in staging, off in development.",
        why: "Without a replica in another AZ, a node failure or AZ outage empties the cache and takes down everything that needs it (sessions, rate limits, queues).",
        fix: "Run at least one replica with automatic failover (`RedisProps::replicas`); where a non-production stage accepts the risk for cost, suppress with that reason.",
        example: r#"{ "Type": "AWS::ElastiCache::ReplicationGroup", "Properties": { "NumCacheClusters": 2, "MultiAZEnabled": true, "AutomaticFailoverEnabled": true } }"#,
    },
    equivalents: Equivalents::NONE,
};

/// Resource types that hold data, and whether CloudFormation can snapshot them.
const STATEFUL: &[(&str, bool)] = &[
    ("AWS::RDS::DBInstance", true),
    ("AWS::RDS::DBCluster", true),
    ("AWS::ElastiCache::ReplicationGroup", true),
    ("AWS::ElastiCache::CacheCluster", true),
    ("AWS::DocDB::DBCluster", true),
    ("AWS::Neptune::DBCluster", true),
    ("AWS::EC2::Volume", true),
    ("AWS::EFS::FileSystem", false),
    ("AWS::S3::Bucket", false),
    ("AWS::DynamoDB::Table", false),
    ("AWS::DynamoDB::GlobalTable", false),
    ("AWS::KMS::Key", false),
    ("AWS::OpenSearchService::Domain", false),
];

fn retention(view: &ResourceView<'_>, out: &mut Violations) {
    // An Aurora instance holds no data of its own: the cluster's volume does.
    if view.type_name() == "AWS::RDS::DBInstance" && !standalone_database(view) {
        return;
    }
    let snapshots = STATEFUL
        .iter()
        .find(|(t, _)| *t == view.type_name())
        .is_some_and(|(_, s)| *s);
    // RDS instances outside a cluster and clusters are snapshotted when no policy is given.
    let default_deletion = if matches!(
        view.type_name(),
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster"
    ) && standalone_database(view)
    {
        "Snapshot"
    } else {
        "Delete"
    };
    let keeps = |policy: &str| match policy {
        "Retain" | "RetainExceptOnCreate" => true,
        "Snapshot" => snapshots,
        _ => false,
    };
    // UpdateReplacePolicy has no RetainExceptOnCreate.
    let keeps_replaced = |policy: &str| match policy {
        "Retain" => true,
        "Snapshot" => snapshots,
        _ => false,
    };
    let deletion = view.deletion_policy();
    if !keeps(deletion.unwrap_or(default_deletion)) {
        out.add(
            "DeletionPolicy",
            format!(
                "DeletionPolicy is {}: removing the resource from the template or deleting the stack destroys its data",
                deletion.map_or_else(|| format!("absent ({default_deletion})"), str::to_owned)
            ),
        );
    }
    let replace = view.update_replace_policy();
    if !keeps_replaced(replace.unwrap_or("Delete")) {
        out.add(
            "UpdateReplacePolicy",
            format!(
                "UpdateReplacePolicy is {}: a change that replaces the resource destroys its data",
                replace.unwrap_or("absent (Delete)")
            ),
        );
    }
}

/// Production stateful resources survive deletion and replacement.
pub const STATEFUL_RETENTION: Rule = Rule {
    id: "stateful-retention",
    title: "Production data survives deletion and replacement",
    category: Category::Resilience,
    levels: PRODUCTION_ONLY,
    types: &[
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::DocDB::DBCluster",
        "AWS::Neptune::DBCluster",
        "AWS::EC2::Volume",
        "AWS::EFS::FileSystem",
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::KMS::Key",
        "AWS::OpenSearchService::Domain",
    ],
    check: retention,
    doc: RuleDoc {
        checks: "Resources that hold data (databases, caches, file systems, buckets, tables, volumes, KMS keys) have a `DeletionPolicy` of `Snapshot` (where the type supports it), `Retain` or `RetainExceptOnCreate`, and an `UpdateReplacePolicy` of `Snapshot` or `Retain`. Aurora instances are left to their cluster. Production only.",
        why: "CloudFormation deletes what leaves the template, and replaces a resource when an immutable property changes: without a policy, a refactoring or a renamed construct deletes production data.",
        fix: "Apply `RemovalPolicy::Snapshot` or `RemovalPolicy::Retain` to the resource (`Resource::apply_removal_policy`; the constructs' `removal_policy` prop).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot" }"#,
    },
    equivalents: Equivalents {
        checkov: &[],
        cfn_nag: &[],
        cfn_lint: &["I3011", "W3011"],
    },
};

fn circuit_breaker(view: &ResourceView<'_>, out: &mut Violations) {
    if !matches!(view.text("DeploymentController.Type"), None | Some("ECS")) {
        return;
    }
    require_true(
        view,
        out,
        "DeploymentConfiguration.DeploymentCircuitBreaker.Enable",
        "a deployment whose tasks never become healthy keeps replacing them forever",
    );
}

/// ECS services stop failed deployments.
pub const ECS_CIRCUIT_BREAKER: Rule = Rule {
    id: "ecs-circuit-breaker",
    title: "ECS services have the deployment circuit breaker",
    category: Category::Resilience,
    levels: Levels::always(Severity::Error),
    types: &["AWS::ECS::Service"],
    check: circuit_breaker,
    doc: RuleDoc {
        checks: "An `AWS::ECS::Service` with the ECS deployment controller has `DeploymentConfiguration.DeploymentCircuitBreaker.Enable: true`.",
        why: "Without the circuit breaker a broken image is retried for hours and the CloudFormation update hangs; with it (and `Rollback`) the service returns to the last working task definition.",
        fix: "Enable the circuit breaker with rollback (`FargateService` does).",
        example: r#"{ "DeploymentConfiguration": { "DeploymentCircuitBreaker": { "Enable": true, "Rollback": true } } }"#,
    },
    equivalents: Equivalents::NONE,
};
