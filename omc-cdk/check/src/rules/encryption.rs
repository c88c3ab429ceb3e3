//! Encryption at rest and in transit.

use serde_json::Value as Json;

use super::{items, require_true, shown};
use crate::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};

const ERROR: Levels = Levels::always(Severity::Error);

/// Properties that make RDS copy the storage encryption of a source (a read replica, a
/// snapshot restore), where `StorageEncrypted` must not be set.
const INHERITS_ENCRYPTION: [&str; 5] = [
    "SourceDBInstanceIdentifier",
    "DBSnapshotIdentifier",
    "SourceDBClusterIdentifier",
    "SnapshotIdentifier",
    "SourceDBInstanceAutomatedBackupsArn",
];

fn rds_storage(view: &ResourceView<'_>, out: &mut Violations) {
    if INHERITS_ENCRYPTION.iter().any(|p| view.prop(p).is_some()) {
        return;
    }
    if view.type_name() == "AWS::RDS::DBInstance" {
        // Instances of an Aurora cluster take the cluster's encryption.
        if view.prop("DBClusterIdentifier").is_none() {
            require_true(
                view,
                out,
                "StorageEncrypted",
                "the database's storage is not encrypted",
            );
        }
    } else if view.text("EngineMode") != Some("serverless") {
        // Aurora Serverless v1 is always encrypted.
        require_true(
            view,
            out,
            "StorageEncrypted",
            "the cluster's storage is not encrypted",
        );
    }
}

/// RDS instances and Aurora clusters encrypt their storage.
pub const RDS_STORAGE_ENCRYPTED: Rule = Rule {
    id: "rds-storage-encrypted",
    title: "RDS and Aurora storage is encrypted",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
    check: rds_storage,
    doc: RuleDoc {
        checks: "`AWS::RDS::DBInstance` (outside a cluster) and `AWS::RDS::DBCluster` have `StorageEncrypted: true`. Read replicas and snapshot restores inherit their source's encryption and are not checked.",
        why: "Unencrypted storage exposes the data, its snapshots and its replicas to anyone who gets the volumes or a shared snapshot; encryption cannot be turned on later without copying the database.",
        fix: "Set `StorageEncrypted: true` (the `Rds` construct always does; give `KmsKeyId` for a customer-managed key).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "Engine": "postgres", "StorageEncrypted": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_16", "CKV_AWS_96"],
        cfn_nag: &["F26", "F27"],
        cfn_lint: &[],
    },
};

fn efs(view: &ResourceView<'_>, out: &mut Violations) {
    require_true(view, out, "Encrypted", "the file system is not encrypted");
}

/// EFS file systems are encrypted.
pub const EFS_ENCRYPTED: Rule = Rule {
    id: "efs-encrypted",
    title: "EFS file systems are encrypted",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &["AWS::EFS::FileSystem"],
    check: efs,
    doc: RuleDoc {
        checks: "`AWS::EFS::FileSystem` has `Encrypted: true`.",
        why: "Encryption of an EFS file system can only be chosen when it is created; an unencrypted one must be copied to a new file system to fix.",
        fix: "Set `Encrypted: true` (the `EfsFileSystem` construct always does).",
        example: r#"{ "Type": "AWS::EFS::FileSystem", "Properties": { "Encrypted": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_42"],
        cfn_nag: &["F32"],
        cfn_lint: &[],
    },
};

fn elasticache_at_rest(view: &ResourceView<'_>, out: &mut Violations) {
    if view.type_name() == "AWS::ElastiCache::CacheCluster" {
        out.add(
            "",
            format!(
                "a CacheCluster ({} engine) cannot encrypt at rest",
                shown(view, "Engine")
            ),
        );
        return;
    }
    require_true(
        view,
        out,
        "AtRestEncryptionEnabled",
        "the replication group does not encrypt at rest",
    );
}

/// ElastiCache encrypts at rest.
pub const ELASTICACHE_AT_REST_ENCRYPTION: Rule = Rule {
    id: "elasticache-at-rest-encryption",
    title: "ElastiCache encrypts data at rest",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &[
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
    ],
    check: elasticache_at_rest,
    doc: RuleDoc {
        checks: "`AWS::ElastiCache::ReplicationGroup` has `AtRestEncryptionEnabled: true`; a bare `AWS::ElastiCache::CacheCluster` cannot encrypt at rest and is reported.",
        why: "Cache nodes write snapshots and swap to disk; session data and tokens cached in Redis are as sensitive as the database.",
        fix: "Use a replication group with `AtRestEncryptionEnabled: true` (the `Redis` construct does, also for one node).",
        example: r#"{ "Type": "AWS::ElastiCache::ReplicationGroup", "Properties": { "Engine": "redis", "AtRestEncryptionEnabled": true, "TransitEncryptionEnabled": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_29"],
        cfn_nag: &["F25"],
        cfn_lint: &[],
    },
};

fn s3_encryption(view: &ResourceView<'_>, out: &mut Violations) {
    let rules = view
        .prop("BucketEncryption.ServerSideEncryptionConfiguration")
        .map(items)
        .unwrap_or_default();
    if rules.is_empty() {
        out.add(
            "BucketEncryption",
            "the bucket declares no default encryption (S3 applies SSE-S3 implicitly; the template should say which)",
        );
    }
}

/// S3 buckets declare their default encryption.
pub const S3_BUCKET_ENCRYPTION: Rule = Rule {
    id: "s3-bucket-encryption",
    title: "S3 buckets declare default encryption",
    category: Category::EncryptionAtRest,
    levels: Levels::always(Severity::Warning),
    types: &["AWS::S3::Bucket"],
    check: s3_encryption,
    doc: RuleDoc {
        checks: "`AWS::S3::Bucket` has a `BucketEncryption.ServerSideEncryptionConfiguration` rule. A warning: since January 2023 S3 encrypts new objects with SSE-S3 when nothing is declared.",
        why: "Declaring the encryption makes it reviewable and lets a team choose SSE-KMS (key policy, CloudTrail record of every decrypt) where the data needs it.",
        fix: "Declare `BucketEncryption` with `SSEAlgorithm` `AES256` or `aws:kms` (the `Bucket` construct always does).",
        example: r#"{ "Type": "AWS::S3::Bucket", "Properties": { "BucketEncryption": { "ServerSideEncryptionConfiguration": [ { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "aws:kms" } } ] } } }"#,
    },
    equivalents: Equivalents {
        checkov: &[],
        cfn_nag: &["W41"],
        cfn_lint: &[],
    },
};

fn sns(view: &ResourceView<'_>, out: &mut Violations) {
    if view.prop("KmsMasterKeyId").is_none() {
        out.add(
            "KmsMasterKeyId",
            "the topic is not encrypted: KmsMasterKeyId is absent",
        );
    }
}

/// SNS topics are encrypted.
pub const SNS_TOPIC_ENCRYPTED: Rule = Rule {
    id: "sns-topic-encrypted",
    title: "SNS topics are encrypted",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &["AWS::SNS::Topic"],
    check: sns,
    doc: RuleDoc {
        checks: "`AWS::SNS::Topic` has a `KmsMasterKeyId`.",
        why: "SNS stores messages until they are delivered; alarm and event payloads name resources and sometimes carry data.",
        fix: "Set `KmsMasterKeyId` to a key (`alias/aws/sns` or a customer-managed key whose policy lets the publishing services use it).",
        example: r#"{ "Type": "AWS::SNS::Topic", "Properties": { "KmsMasterKeyId": "alias/aws/sns" } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_26"],
        cfn_nag: &["W47"],
        cfn_lint: &[],
    },
};

fn sqs(view: &ResourceView<'_>, out: &mut Violations) {
    if view.prop("KmsMasterKeyId").is_none() && view.flag("SqsManagedSseEnabled") == Some(false) {
        out.add(
            "SqsManagedSseEnabled",
            "the queue is not encrypted: SqsManagedSseEnabled is false and no KmsMasterKeyId is given",
        );
    }
}

/// SQS queues are encrypted.
pub const SQS_QUEUE_ENCRYPTED: Rule = Rule {
    id: "sqs-queue-encrypted",
    title: "SQS queues are encrypted",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &["AWS::SQS::Queue"],
    check: sqs,
    doc: RuleDoc {
        checks: "`AWS::SQS::Queue` keeps server-side encryption: either a `KmsMasterKeyId`, or SQS-managed encryption (on unless `SqsManagedSseEnabled: false`).",
        why: "Queued messages are stored data; turning SQS-managed encryption off leaves them in the clear.",
        fix: "Remove `SqsManagedSseEnabled: false`, or give a `KmsMasterKeyId`.",
        example: r#"{ "Type": "AWS::SQS::Queue", "Properties": { "SqsManagedSseEnabled": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_27"],
        cfn_nag: &["W48"],
        cfn_lint: &[],
    },
};

fn ebs(view: &ResourceView<'_>, out: &mut Violations) {
    let mappings = match view.type_name() {
        "AWS::EC2::Volume" => {
            require_true(view, out, "Encrypted", "the volume is not encrypted");
            return;
        }
        "AWS::EC2::LaunchTemplate" => (
            "LaunchTemplateData.BlockDeviceMappings",
            view.prop("LaunchTemplateData.BlockDeviceMappings"),
        ),
        _ => ("BlockDeviceMappings", view.prop("BlockDeviceMappings")),
    };
    let (base, Some(list)) = mappings else {
        return;
    };
    for (i, mapping) in items(list).into_iter().enumerate() {
        let Some(ebs) = mapping.get("Ebs") else {
            continue;
        };
        let encrypted = ebs.get("Encrypted").and_then(|v| view.literal(v));
        let ok = match encrypted {
            None => ebs.get("Encrypted").is_some(), // computed: benefit of the doubt
            Some(v) => ResourceView::is_true(v),
        };
        if !ok {
            out.add(
                format!("{base}[{i}].Ebs.Encrypted"),
                format!(
                    "the EBS volume of {} is not encrypted",
                    mapping
                        .get("DeviceName")
                        .and_then(Json::as_str)
                        .unwrap_or("a block device")
                ),
            );
        }
    }
}

/// EBS volumes are encrypted.
pub const EBS_ENCRYPTED: Rule = Rule {
    id: "ebs-encrypted",
    title: "EBS volumes are encrypted",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &[
        "AWS::EC2::Volume",
        "AWS::EC2::LaunchTemplate",
        "AWS::EC2::Instance",
    ],
    check: ebs,
    doc: RuleDoc {
        checks: "`AWS::EC2::Volume` has `Encrypted: true`; every `Ebs` block device of an `AWS::EC2::LaunchTemplate` or `AWS::EC2::Instance` has `Encrypted: true`.",
        why: "Node volumes hold container images, logs and scratch data; the account's EBS-encryption-by-default setting is invisible in the template and can be off in another account.",
        fix: "Set `Encrypted: true` on the volume or block device mapping (the runner node groups of `EksRunnerCluster` do).",
        example: r#"{ "BlockDeviceMappings": [ { "DeviceName": "/dev/xvda", "Ebs": { "VolumeSize": 50, "Encrypted": true } } ] }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_3"],
        cfn_nag: &["F1"],
        cfn_lint: &[],
    },
};

fn eks_secrets(view: &ResourceView<'_>, out: &mut Violations) {
    let covered = view.prop("EncryptionConfig").is_some_and(|configs| {
        items(configs).iter().any(|c| {
            c.get("Resources")
                .is_some_and(|r| items(r).iter().any(|x| x.as_str() == Some("secrets")))
                && c.pointer("/Provider/KeyArn").is_some()
        })
    });
    if !covered {
        out.add(
            "EncryptionConfig",
            "Kubernetes secrets are not encrypted with a KMS key: no EncryptionConfig for \"secrets\"",
        );
    }
}

/// EKS clusters encrypt Kubernetes secrets with a KMS key.
pub const EKS_SECRETS_ENCRYPTED: Rule = Rule {
    id: "eks-secrets-encrypted",
    title: "EKS encrypts Kubernetes secrets with a KMS key",
    category: Category::EncryptionAtRest,
    levels: ERROR,
    types: &["AWS::EKS::Cluster"],
    check: eks_secrets,
    doc: RuleDoc {
        checks: "`AWS::EKS::Cluster` has an `EncryptionConfig` entry for `secrets` with a `Provider.KeyArn`.",
        why: "Envelope encryption with your key means a copy of etcd is useless without KMS access, and every decrypt is in CloudTrail; the default AWS-owned key gives neither control nor audit.",
        fix: "Add `EncryptionConfig: [{ Resources: [\"secrets\"], Provider: { KeyArn } }]` (the `EksRunnerCluster` construct creates a key for it).",
        example: r#"{ "EncryptionConfig": [ { "Resources": ["secrets"], "Provider": { "KeyArn": { "Fn::GetAtt": ["SecretsKey", "Arn"] } } } ] }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_58"],
        cfn_nag: &["W82"],
        cfn_lint: &[],
    },
};

fn logs_kms(view: &ResourceView<'_>, out: &mut Violations) {
    if view.prop("KmsKeyId").is_none() {
        out.add(
            "KmsKeyId",
            "the log group is not encrypted with a customer-managed KMS key",
        );
    }
}

/// Off in development, a warning in staging, an error in production.
const PRODUCTION_KEYS: Levels = Levels {
    development: None,
    staging: Some(Severity::Warning),
    production: Some(Severity::Error),
};

/// Log groups use a customer-managed KMS key in production.
pub const LOGS_KMS_KEY: Rule = Rule {
    id: "logs-kms-key",
    title: "Log groups are encrypted with a customer-managed KMS key",
    category: Category::EncryptionAtRest,
    levels: PRODUCTION_KEYS,
    types: &["AWS::Logs::LogGroup"],
    check: logs_kms,
    doc: RuleDoc {
        checks: "`AWS::Logs::LogGroup` has a `KmsKeyId`. Error in production, warning in staging, off in development: CloudWatch Logs always encrypts with a service key, and one key serves every log group of an environment (about $1 a month).",
        why: "Logs hold what applications print: request details, identifiers, sometimes data. With a customer-managed key, reading them needs KMS permission too, every decrypt is in CloudTrail, and access can be revoked by the key policy alone.",
        fix: "Give the log group a `KmsKeyId` whose key policy allows `logs.<region>.amazonaws.com` (`LogGroupProps::kms_key`; the `log_key` of `FargateService`, `ScheduledTask`, `WebAcl` and `EksRunnerCluster`; `VpcProps::flow_log_key`).",
        example: r#"{ "Type": "AWS::Logs::LogGroup", "Properties": { "KmsKeyId": { "Fn::GetAtt": ["LogsKey", "Arn"] } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_158"],
        cfn_nag: &["W84"],
        cfn_lint: &[],
    },
};

fn cloudtrail_kms(view: &ResourceView<'_>, out: &mut Violations) {
    if view.prop("KMSKeyId").is_none() {
        out.add(
            "KMSKeyId",
            "the trail's log files are encrypted with S3's key only: KMSKeyId is absent",
        );
    }
}

/// CloudTrail encrypts its log files with a KMS key.
pub const CLOUDTRAIL_KMS: Rule = Rule {
    id: "cloudtrail-kms",
    title: "CloudTrail encrypts its log files with a KMS key",
    category: Category::EncryptionAtRest,
    levels: Levels::error_in_production(),
    types: &["AWS::CloudTrail::Trail"],
    check: cloudtrail_kms,
    doc: RuleDoc {
        checks: "`AWS::CloudTrail::Trail` has a `KMSKeyId`. Error in production, warning elsewhere.",
        why: "The trail records every API call of the account, including who read which secret; with SSE-KMS, reading the records needs the key too, so a principal that can read the bucket cannot read the trail unless the key policy allows it.",
        fix: "Give the trail a `KMSKeyId` whose key policy lets `cloudtrail.amazonaws.com` generate data keys for the account's trails (`SecurityBaselineProps::trail_key`).",
        example: r#"{ "Type": "AWS::CloudTrail::Trail", "Properties": { "KMSKeyId": { "Fn::GetAtt": ["LogsKey", "Arn"] } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_35"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

fn secret_cmk(view: &ResourceView<'_>, out: &mut Violations) {
    match view.text("KmsKeyId") {
        None if view.prop("KmsKeyId").is_none() => out.add(
            "KmsKeyId",
            "the secret is encrypted with the AWS managed key aws/secretsmanager: KmsKeyId is absent",
        ),
        Some(key) if key == "alias/aws/secretsmanager" || key.ends_with(":alias/aws/secretsmanager") => out.add(
            "KmsKeyId",
            "the secret is encrypted with the AWS managed key aws/secretsmanager",
        ),
        _ => {}
    }
}

/// Secrets use a customer-managed key in production.
pub const SECRET_CMK: Rule = Rule {
    id: "secret-cmk",
    title: "Secrets are encrypted with a customer-managed KMS key",
    category: Category::EncryptionAtRest,
    levels: PRODUCTION_KEYS,
    types: &["AWS::SecretsManager::Secret"],
    check: secret_cmk,
    doc: RuleDoc {
        checks: "`AWS::SecretsManager::Secret` has a `KmsKeyId` other than `alias/aws/secretsmanager`. Error in production, warning in staging, off in development.",
        why: "Any principal of the account with `secretsmanager:GetSecretValue` can read a secret under the AWS managed key; a customer-managed key adds a second, separately audited permission (`kms:Decrypt`) that the key policy controls, and the key can be disabled in an incident.",
        fix: "Give the secret a `KmsKeyId` of a customer-managed key (`SecretProps::kms_key`; the `Redis` construct's `auth_token_key`) and grant `kms:Decrypt` to the roles that read it.",
        example: r#"{ "Type": "AWS::SecretsManager::Secret", "Properties": { "KmsKeyId": { "Fn::GetAtt": ["SecretsKey", "Arn"] } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_149"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

fn sqs_kms(view: &ResourceView<'_>, out: &mut Violations) {
    if view.prop("KmsMasterKeyId").is_none() {
        out.add(
            "KmsMasterKeyId",
            "the queue is encrypted with SQS-owned keys (SSE-SQS), not a KMS key: KmsMasterKeyId is absent",
        );
    }
}

/// SQS queues use a KMS key.
pub const SQS_KMS_KEY: Rule = Rule {
    id: "sqs-kms-key",
    title: "SQS queues are encrypted with a KMS key",
    category: Category::EncryptionAtRest,
    levels: Levels::always(Severity::Warning),
    types: &["AWS::SQS::Queue"],
    check: sqs_kms,
    doc: RuleDoc {
        checks: "`AWS::SQS::Queue` has a `KmsMasterKeyId`. A warning: SSE-SQS (`SqsManagedSseEnabled`, which `sqs-queue-encrypted` accepts) encrypts at rest too, with keys SQS owns.",
        why: "With a KMS key, reading messages needs `kms:Decrypt` as well, and every use of the key is in CloudTrail; with SSE-SQS the queue policy and IAM alone decide.",
        fix: "Set `KmsMasterKeyId` to a customer-managed key whose policy allows the producers (EventBridge, SNS) to use it; EventBridge and SNS cannot use the AWS managed key `alias/aws/sqs`.",
        example: r#"{ "Type": "AWS::SQS::Queue", "Properties": { "KmsMasterKeyId": { "Fn::GetAtt": ["QueueKey", "Arn"] } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_27"],
        cfn_nag: &["W48"],
        cfn_lint: &[],
    },
};

fn ecr_kms(view: &ResourceView<'_>, out: &mut Violations) {
    let kind = view.text("EncryptionConfiguration.EncryptionType");
    if view
        .prop("EncryptionConfiguration.EncryptionType")
        .is_none()
        || kind == Some("AES256")
    {
        out.add(
            "EncryptionConfiguration.EncryptionType",
            format!(
                "images are encrypted with S3-managed keys (AES256), not KMS: EncryptionType is {}",
                shown(view, "EncryptionConfiguration.EncryptionType")
            ),
        );
    }
}

/// ECR repositories use KMS.
pub const ECR_KMS_KEY: Rule = Rule {
    id: "ecr-kms-key",
    title: "ECR repositories are encrypted with a KMS key",
    category: Category::EncryptionAtRest,
    levels: Levels::always(Severity::Warning),
    types: &["AWS::ECR::Repository"],
    check: ecr_kms,
    doc: RuleDoc {
        checks: "`AWS::ECR::Repository` has `EncryptionConfiguration.EncryptionType` `KMS` (or `KMS_DSSE`). A warning: the default, AES-256, encrypts images at rest too.",
        why: "With a KMS key, pulling an image needs the key too and every use is in CloudTrail; it matters where images contain secrets or proprietary code that IAM alone should not guard.",
        fix: "Set `EcrRepositoryProps::encryption_key` to a KMS key; a repository pulled from other accounts needs a customer-managed key whose policy lets them decrypt.",
        example: r#"{ "Type": "AWS::ECR::Repository", "Properties": { "EncryptionConfiguration": { "EncryptionType": "KMS", "KmsKey": { "Fn::GetAtt": ["ImagesKey", "Arn"] } } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_136"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

fn elasticache_transit(view: &ResourceView<'_>, out: &mut Violations) {
    require_true(
        view,
        out,
        "TransitEncryptionEnabled",
        "clients talk to the cache in the clear",
    );
}

/// ElastiCache encrypts traffic.
pub const ELASTICACHE_TRANSIT_ENCRYPTION: Rule = Rule {
    id: "elasticache-transit-encryption",
    title: "ElastiCache encrypts traffic (TLS)",
    category: Category::EncryptionInTransit,
    levels: ERROR,
    types: &[
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
    ],
    check: elasticache_transit,
    doc: RuleDoc {
        checks: "`AWS::ElastiCache::ReplicationGroup` and `AWS::ElastiCache::CacheCluster` have `TransitEncryptionEnabled: true`.",
        why: "Without TLS, anything on the network path (a compromised task, a mirrored interface) reads the cached data and the AUTH token.",
        fix: "Set `TransitEncryptionEnabled: true` and connect with `rediss://` (the `Redis` construct does both).",
        example: r#"{ "Type": "AWS::ElastiCache::ReplicationGroup", "Properties": { "TransitEncryptionEnabled": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_30", "CKV_AWS_31"],
        cfn_nag: &["F33"],
        cfn_lint: &[],
    },
};

/// Whether the listener belongs to an application load balancer.
fn is_alb_listener(view: &ResourceView<'_>) -> bool {
    match view
        .prop("LoadBalancerArn")
        .and_then(|arn| view.resolve(arn))
    {
        Some(lb) => matches!(lb.text("Type"), None | Some("application")),
        None => matches!(view.text("Protocol"), Some("HTTP" | "HTTPS")),
    }
}

fn redirects_to_https(action: &Json) -> bool {
    action.get("Type").and_then(Json::as_str) == Some("redirect")
        && action
            .pointer("/RedirectConfig/Protocol")
            .and_then(Json::as_str)
            == Some("HTTPS")
}

fn listener_https(view: &ResourceView<'_>, out: &mut Violations) {
    if view.text("Protocol") != Some("HTTP") || !is_alb_listener(view) {
        return;
    }
    let actions = view.prop("DefaultActions").map(items).unwrap_or_default();
    if !actions.iter().any(|a| redirects_to_https(a)) {
        out.add(
            "Protocol",
            format!(
                "the listener on port {} serves plain HTTP instead of redirecting to HTTPS",
                shown(view, "Port")
            ),
        );
    }
}

/// HTTP listeners only redirect to HTTPS.
pub const ALB_LISTENER_HTTPS: Rule = Rule {
    id: "alb-listener-https",
    title: "Load balancers serve HTTPS; HTTP only redirects",
    category: Category::EncryptionInTransit,
    levels: ERROR,
    types: &["AWS::ElasticLoadBalancingV2::Listener"],
    check: listener_https,
    doc: RuleDoc {
        checks: "An `AWS::ElasticLoadBalancingV2::Listener` of an application load balancer with `Protocol: HTTP` has a default action that redirects to HTTPS.",
        why: "Plain HTTP exposes sessions, tokens and form data to every network between the user and AWS.",
        fix: "Serve the application on an HTTPS listener with a certificate, and make port 80 redirect (`ApplicationLoadBalancer` does when given a certificate).",
        example: r#"{ "Protocol": "HTTP", "Port": 80, "DefaultActions": [ { "Type": "redirect", "RedirectConfig": { "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301" } } ] }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_2", "CKV_AWS_103"],
        cfn_nag: &["W56"],
        cfn_lint: &[],
    },
};

/// TLS policies that refuse TLS 1.0 and 1.1.
pub(crate) fn modern_tls_policy(policy: &str) -> bool {
    policy.starts_with("ELBSecurityPolicy-TLS13-1-2-")
        || policy.starts_with("ELBSecurityPolicy-TLS13-1-3-")
        || policy.starts_with("ELBSecurityPolicy-TLS-1-2-")
        || policy.starts_with("ELBSecurityPolicy-FS-1-2-")
}

fn tls_policy(view: &ResourceView<'_>, out: &mut Violations) {
    if !matches!(view.text("Protocol"), Some("HTTPS" | "TLS")) {
        return;
    }
    match view.prop("SslPolicy") {
        None => out.add(
            "SslPolicy",
            "no SslPolicy: the default ELBSecurityPolicy-2016-08 still accepts TLS 1.0 and 1.1",
        ),
        Some(value) => {
            if let Some(policy) = view.literal(value).and_then(Json::as_str)
                && !modern_tls_policy(policy)
            {
                out.add(
                    "SslPolicy",
                    format!("SslPolicy {policy:?} accepts TLS versions older than 1.2"),
                );
            }
        }
    }
}

/// HTTPS and TLS listeners refuse TLS older than 1.2.
pub const ALB_TLS_POLICY: Rule = Rule {
    id: "alb-tls-policy",
    title: "HTTPS listeners use a TLS 1.2+ policy",
    category: Category::EncryptionInTransit,
    levels: ERROR,
    types: &["AWS::ElasticLoadBalancingV2::Listener"],
    check: tls_policy,
    doc: RuleDoc {
        checks: "An `HTTPS` or `TLS` listener has an `SslPolicy` that accepts only TLS 1.2 and newer (`ELBSecurityPolicy-TLS13-1-2-*`, `ELBSecurityPolicy-TLS13-1-3-*`, `ELBSecurityPolicy-TLS-1-2-*`, `ELBSecurityPolicy-FS-1-2-*`).",
        why: "TLS 1.0 and 1.1 have known weaknesses and are refused by PCI DSS and most security baselines; the listener default still accepts them.",
        fix: "Set `SslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06` (what `ApplicationLoadBalancer` uses).",
        example: r#"{ "Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06" }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_103"],
        cfn_nag: &["W55"],
        cfn_lint: &[],
    },
};

fn efs_transit(view: &ResourceView<'_>, out: &mut Violations) {
    let Some(volumes) = view.prop("Volumes") else {
        return;
    };
    for (i, volume) in items(volumes).into_iter().enumerate() {
        let Some(config) = volume.get("EFSVolumeConfiguration") else {
            continue;
        };
        let value = config
            .get("TransitEncryption")
            .and_then(|v| view.literal(v))
            .and_then(Json::as_str);
        if value != Some("ENABLED") {
            out.add(
                format!("Volumes[{i}].EFSVolumeConfiguration.TransitEncryption"),
                format!(
                    "the EFS volume {} is mounted without TLS (TransitEncryption is {})",
                    volume.get("Name").unwrap_or(&Json::Null),
                    value.map_or("absent".to_owned(), |v| format!("{v:?}"))
                ),
            );
        }
    }
}

/// EFS volumes of ECS tasks are mounted with TLS.
pub const EFS_TRANSIT_ENCRYPTION: Rule = Rule {
    id: "efs-transit-encryption",
    title: "EFS volumes are mounted with TLS",
    category: Category::EncryptionInTransit,
    levels: ERROR,
    types: &["AWS::ECS::TaskDefinition"],
    check: efs_transit,
    doc: RuleDoc {
        checks: "Every `EFSVolumeConfiguration` of an `AWS::ECS::TaskDefinition` has `TransitEncryption: ENABLED`.",
        why: "NFS traffic is unencrypted by default; file contents cross the VPC in the clear.",
        fix: "Set `TransitEncryption: ENABLED` (and use an access point with IAM authorization); `FargateService` volumes from `EfsFileSystem` do.",
        example: r#"{ "Name": "artifacts", "EFSVolumeConfiguration": { "FilesystemId": { "Ref": "Files" }, "TransitEncryption": "ENABLED", "AuthorizationConfig": { "IAM": "ENABLED" } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_97"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

/// Whether a bucket policy statement denies requests without TLS.
fn denies_insecure_transport(statement: &Json) -> bool {
    statement.get("Effect").and_then(Json::as_str) == Some("Deny")
        && statement
            .pointer("/Condition/Bool/aws:SecureTransport")
            .is_some_and(|v| v == "false" || v == &Json::Bool(false))
}

fn s3_tls(view: &ResourceView<'_>, out: &mut Violations) {
    let enforced = view.referrers().iter().any(|(policy, property)| {
        policy.type_name() == "AWS::S3::BucketPolicy"
            && *property == "Bucket"
            && policy
                .prop("PolicyDocument.Statement")
                .is_some_and(|s| items(s).into_iter().any(denies_insecure_transport))
    });
    if !enforced {
        out.add(
            "",
            "no bucket policy denies requests without TLS (aws:SecureTransport false)",
        );
    }
}

/// S3 buckets refuse plain HTTP.
pub const S3_TLS_ONLY: Rule = Rule {
    id: "s3-tls-only",
    title: "S3 buckets refuse requests without TLS",
    category: Category::EncryptionInTransit,
    levels: ERROR,
    types: &["AWS::S3::Bucket"],
    check: s3_tls,
    doc: RuleDoc {
        checks: "An `AWS::S3::BucketPolicy` for the bucket (in any stack) denies every request with `aws:SecureTransport` `false`.",
        why: "S3 still answers plain HTTP; a client misconfigured to use it sends objects and signed requests in the clear.",
        fix: "Add a bucket policy statement `Deny` `s3:*` on the bucket and its objects when `aws:SecureTransport` is `false` (the `Bucket` construct adds it).",
        example: r#"{ "Effect": "Deny", "Principal": { "AWS": "*" }, "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": { "Bool": { "aws:SecureTransport": "false" } } }"#,
    },
    equivalents: Equivalents {
        checkov: &[],
        cfn_nag: &["W51"],
        cfn_lint: &[],
    },
};

#[cfg(test)]
mod tests {
    use super::modern_tls_policy;

    #[test]
    fn tls_policies() {
        assert!(modern_tls_policy("ELBSecurityPolicy-TLS13-1-2-2021-06"));
        assert!(modern_tls_policy("ELBSecurityPolicy-TLS-1-2-Ext-2018-06"));
        assert!(modern_tls_policy("ELBSecurityPolicy-FS-1-2-Res-2020-10"));
        assert!(!modern_tls_policy("ELBSecurityPolicy-2016-08"));
        assert!(!modern_tls_policy("ELBSecurityPolicy-TLS-1-1-2017-01"));
        assert!(!modern_tls_policy("ELBSecurityPolicy-TLS13-1-0-2021-06"));
        assert!(!modern_tls_policy(
            "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04"
        ));
        assert!(modern_tls_policy("ELBSecurityPolicy-TLS13-1-3-2021-06"));
    }
}
