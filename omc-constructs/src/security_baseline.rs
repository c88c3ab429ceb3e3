//! The account's security baseline: CloudTrail, GuardDuty and AWS Config.

use omc_cdk::{Node, Pseudo, Result, Scope, TypedResource, Value, fns};
use omc_cfn::{cloudtrail, config, guardduty};

use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::kms::Key;
use crate::s3::{Bucket, BucketProps, ServerAccessLogs};
use crate::util::{self, node};

/// AWS managed Config rules the baseline enables by default.
pub const DEFAULT_CONFIG_RULES: &[&str] = &[
    "CLOUD_TRAIL_ENABLED",
    "EFS_ENCRYPTED_CHECK",
    "INCOMING_SSH_DISABLED",
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
    "RDS_STORAGE_ENCRYPTED",
    "ROOT_ACCOUNT_MFA_ENABLED",
    "S3_BUCKET_PUBLIC_READ_PROHIBITED",
    "S3_BUCKET_SSL_REQUESTS_ONLY",
];

/// How the baseline is created.
#[derive(Clone, Debug)]
pub struct SecurityBaselineProps {
    /// The trail's name. Default in [`SecurityBaselineProps::new`]: `<stack>-trail`.
    pub trail_name: String,
    /// Days logs are kept in the bucket. Default: 365.
    pub log_retention_days: u32,
    /// Days until logs move to Glacier. Default: 90.
    pub archive_after_days: Option<u32>,
    /// A GuardDuty detector. Default: `true` (an account has one detector per region: turn
    /// this off where one exists).
    pub guardduty: bool,
    /// AWS Config recorder, delivery channel and rules. Default: `true` (one recorder per
    /// region).
    pub config: bool,
    /// AWS managed Config rules by source identifier. Default: [`DEFAULT_CONFIG_RULES`].
    pub config_rules: Vec<String>,
    /// Encrypts the trail's log and digest files with this customer-managed key (`KMSKeyId`):
    /// its policy lets `cloudtrail.amazonaws.com` generate data keys for this account's trails
    /// and describe the key, both only for this trail (`aws:SourceArn`). Whoever reads the
    /// trail then needs `kms:Decrypt` on the key too, which the key's statement for the
    /// account's IAM lets IAM policies grant. Default: none: S3-managed encryption only, which
    /// the `cloudtrail-kms` check reports (an error in production).
    pub trail_key: Option<Key>,
    /// Server access logs of the trail's bucket, into an access-log bucket of the same stack.
    /// Default: none, which the `s3-access-logs` check reports (an error in production).
    pub access_logs: Option<ServerAccessLogs>,
}

impl SecurityBaselineProps {
    /// The baseline with its defaults and a trail named `trail_name`.
    pub fn new(trail_name: impl Into<String>) -> SecurityBaselineProps {
        SecurityBaselineProps {
            trail_name: trail_name.into(),
            log_retention_days: 365,
            archive_after_days: Some(90),
            guardduty: true,
            config: true,
            config_rules: DEFAULT_CONFIG_RULES
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
            trail_key: None,
            access_logs: None,
        }
    }
}

/// CloudTrail (all regions, log file validation) into an encrypted, private, TLS-only bucket
/// with lifecycle, a GuardDuty detector, and AWS Config with a few managed rules. With
/// [`SecurityBaselineProps::trail_key`] the trail's files are encrypted with a customer-managed
/// key; with [`SecurityBaselineProps::access_logs`] the bucket's server access logs go to an
/// [`crate::AccessLogBucket`].
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{SecurityBaseline, SecurityBaselineProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Security", StackProps::default())?;
/// SecurityBaseline::new(&stack, "Baseline", SecurityBaselineProps::new("omc-trail"))?;
/// let t = Template::from_stack(&stack)?;
/// t.has_resource_properties("AWS::CloudTrail::Trail", json!({
///     "IsMultiRegionTrail": true, "EnableLogFileValidation": true, "IsLogging": true
/// }))?;
/// t.resource_count_is("AWS::GuardDuty::Detector", 1)?;
/// t.resource_count_is("AWS::Config::ConfigRule", 8)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SecurityBaseline {
    bucket: Bucket,
    trail_arn: Value<String>,
    /// Where the construct created its resources.
    scope: omc_cdk::Scope,
}

impl SecurityBaseline {
    /// Creates the baseline.
    pub fn new(scope: &Scope, id: &str, props: SecurityBaselineProps) -> Result<SecurityBaseline> {
        let path = util::path(scope, id);
        let name_ok = (3..=128).contains(&props.trail_name.len())
            && props
                .trail_name
                .starts_with(|c: char| c.is_ascii_alphanumeric())
            && props
                .trail_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !name_ok {
            return Err(util::invalid_prop(
                &path,
                "trail_name",
                &props.trail_name,
                format!(
                    "trail name {:?} must be 3 to 128 letters, digits, '.', '_' and '-', starting with a letter or digit",
                    props.trail_name
                ),
            ));
        }
        for rule in &props.config_rules {
            if rule.is_empty()
                || !rule
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(util::invalid_prop(
                    &path,
                    "config_rules",
                    rule,
                    format!(
                        "Config rule {rule:?} is not an AWS managed rule identifier such as \"S3_BUCKET_SSL_REQUESTS_ONLY\""
                    ),
                ));
            }
        }
        let scope = scope.child(id)?;
        let bucket = Bucket::new(
            &scope,
            "LogBucket",
            BucketProps {
                expire_after_days: Some(props.log_retention_days),
                archive_after_days: props.archive_after_days,
                access_logs: props.access_logs.clone(),
                ..BucketProps::default()
            },
        )?;
        let trail_arn = util::arn(
            "cloudtrail",
            true,
            true,
            &format!("trail/{}", props.trail_name),
        );
        let service = |name: &str| Node::map([("Service", node(name))]);
        let source_arn = |arn: Value<String>| {
            Some(Node::map([(
                "StringEquals",
                Node::map([("aws:SourceArn", node(arn))]),
            )]))
        };
        bucket.add_to_resource_policy(
            "CloudTrailAclCheck",
            service("cloudtrail.amazonaws.com"),
            &["s3:GetBucketAcl"],
            vec![bucket.bucket_arn()],
            source_arn(trail_arn.clone()),
        );
        bucket.add_to_resource_policy(
            "CloudTrailWrite",
            service("cloudtrail.amazonaws.com"),
            &["s3:PutObject"],
            vec![fns::join(
                "",
                [
                    bucket.bucket_arn(),
                    Value::from("/AWSLogs/"),
                    omc_cdk::aws::account_id(),
                    "/*".into(),
                ],
            )],
            Some(Node::map([(
                "StringEquals",
                Node::map([
                    ("aws:SourceArn", node(trail_arn.clone())),
                    ("s3:x-amz-acl", node("bucket-owner-full-control")),
                ]),
            )])),
        );
        if let Some(key) = &props.trail_key {
            // What CloudTrail needs of the key ("Configure AWS KMS key policies for
            // CloudTrail"), for this trail only: the trail's ARN is built from its name, so the
            // key (in any stack of the account and region) does not depend on the trail.
            let cloudtrail = Value::from("cloudtrail.amazonaws.com");
            key.allow_service(
                cloudtrail.clone(),
                &["kms:GenerateDataKey*"],
                Some(Node::map([
                    (
                        "StringEquals",
                        Node::map([("aws:SourceArn", node(trail_arn.clone()))]),
                    ),
                    (
                        "StringLike",
                        Node::map([(
                            "kms:EncryptionContext:aws:cloudtrail:arn",
                            node(
                                fns::Sub::new()
                                    .text("arn:")
                                    .pseudo(Pseudo::Partition)
                                    .text(":cloudtrail:*:")
                                    .pseudo(Pseudo::AccountId)
                                    .text(":trail/*")
                                    .build(),
                            ),
                        )]),
                    ),
                ])),
            );
            key.allow_service(
                cloudtrail,
                &["kms:DescribeKey"],
                Some(Node::map([(
                    "StringEquals",
                    Node::map([("aws:SourceArn", node(trail_arn.clone()))]),
                )])),
            );
        }
        let trail = scope.add(
            "Trail",
            cloudtrail::Trail {
                trail_name: Some(props.trail_name.as_str().into()),
                kms_key_id: props.trail_key.as_ref().map(Key::key_arn),
                is_multi_region_trail: Some(true.into()),
                include_global_service_events: Some(true.into()),
                enable_log_file_validation: Some(true.into()),
                ..cloudtrail::Trail::new(true, bucket.bucket_name())
            },
        )?;
        trail.add_depends_on(bucket.policy())?;

        if props.guardduty {
            scope.add(
                "GuardDuty",
                guardduty::Detector {
                    finding_publishing_frequency: Some("FIFTEEN_MINUTES".into()),
                    ..guardduty::Detector::new(true)
                },
            )?;
        }

        if props.config {
            let account = || {
                Some(Node::map([(
                    "StringEquals",
                    Node::map([("aws:SourceAccount", node(omc_cdk::aws::account_id()))]),
                )]))
            };
            let config_objects = fns::join(
                "",
                [
                    bucket.bucket_arn(),
                    Value::from("/AWSLogs/"),
                    omc_cdk::aws::account_id(),
                    "/Config/*".into(),
                ],
            );
            bucket.add_to_resource_policy(
                "ConfigAclCheck",
                service("config.amazonaws.com"),
                &["s3:GetBucketAcl", "s3:ListBucket"],
                vec![bucket.bucket_arn()],
                account(),
            );
            bucket.add_to_resource_policy(
                "ConfigWrite",
                service("config.amazonaws.com"),
                &["s3:PutObject"],
                vec![config_objects.clone()],
                Some(Node::map([(
                    "StringEquals",
                    Node::map([
                        ("aws:SourceAccount", node(omc_cdk::aws::account_id())),
                        ("s3:x-amz-acl", node("bucket-owner-full-control")),
                    ]),
                )])),
            );
            let role = Role::new(
                &scope,
                "ConfigRole",
                RoleProps {
                    managed_policy_arns: vec![util::managed_policy("service-role/AWS_ConfigRole")?],
                    // In its own account, Config delivers to the bucket with this role
                    // (the bucket policy's service grant serves other accounts).
                    statements: vec![
                        PolicyStatement::allow(["s3:GetBucketAcl"], [bucket.bucket_arn()]),
                        PolicyStatement::allow(["s3:PutObject"], [config_objects.clone()])
                            .with_condition(Node::map([(
                                "StringLike",
                                Node::map([("s3:x-amz-acl", node("bucket-owner-full-control"))]),
                            )])),
                    ],
                    ..RoleProps::new(Principal::ServiceForAccount("config.amazonaws.com".into()))
                },
            )?;
            let recorder = scope.add(
                "ConfigRecorder",
                config::ConfigurationRecorder {
                    recording_group: Some(
                        config::configuration_recorder::RecordingGroup {
                            all_supported: Some(true.into()),
                            include_global_resource_types: Some(true.into()),
                            ..config::configuration_recorder::RecordingGroup::default()
                        }
                        .into(),
                    ),
                    ..config::ConfigurationRecorder::new(role.role_arn())
                },
            )?;
            let channel = scope.add(
                "ConfigDelivery",
                config::DeliveryChannel {
                    config_snapshot_delivery_properties: Some(
                        config::delivery_channel::ConfigSnapshotDeliveryProperties {
                            delivery_frequency: Some("TwentyFour_Hours".into()),
                        }
                        .into(),
                    ),
                    ..config::DeliveryChannel::new(bucket.bucket_name())
                },
            )?;
            channel.add_depends_on(bucket.policy())?;
            // A delivery channel needs a configuration recorder to exist.
            channel.add_depends_on(recorder.as_resource())?;
            for rule in &props.config_rules {
                let id = rule
                    .split('_')
                    .map(|w| {
                        let mut chars = w.chars();
                        chars.next().map_or_else(String::new, |c| {
                            c.to_string() + &chars.as_str().to_ascii_lowercase()
                        })
                    })
                    .collect::<String>();
                let resource = scope.add(
                    &format!("Rule{id}"),
                    config::ConfigRule::new(config::config_rule::Source {
                        source_identifier: Some(rule.as_str().into()),
                        ..config::config_rule::Source::new("AWS")
                    }),
                )?;
                resource.add_depends_on(recorder.as_resource())?;
            }
        }
        Ok(SecurityBaseline {
            bucket,
            trail_arn,
            scope,
        })
    }

    /// The log bucket.
    pub fn log_bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The trail's ARN.
    pub fn trail_arn(&self) -> Value<String> {
        self.trail_arn.clone()
    }

    /// Sends what the baseline finds to the alarm topic through EventBridge rules in the
    /// monitoring's stack: GuardDuty findings of medium severity or higher (4.0 and up; low
    /// ones stay in the console) and AWS Config rules turning `NON_COMPLIANT`. Both services
    /// publish these events in the account and region they run in, which is the baseline's.
    pub fn add_alerts(&self, monitoring: &crate::Monitoring) -> Result<()> {
        let group = util::alnum(&omc_cdk::Construct::path(self));
        let list = |items: &[&str]| Node::List(items.iter().map(|i| node(*i)).collect());
        monitoring.add_event_rule(
            &format!("{group}GuardDutyFindings"),
            "GuardDuty findings of medium severity or higher (4.0 and up)",
            Node::map([
                ("source", list(&["aws.guardduty"])),
                ("detail-type", list(&["GuardDuty Finding"])),
                (
                    "detail",
                    Node::map([(
                        "severity",
                        Node::List(vec![Node::map([(
                            "numeric",
                            Node::List(vec![node(">="), node(4)]),
                        )])]),
                    )]),
                ),
            ]),
        )?;
        monitoring.add_event_rule(
            &format!("{group}ConfigNonCompliance"),
            "AWS Config rules that turned NON_COMPLIANT",
            Node::map([
                ("source", list(&["aws.config"])),
                ("detail-type", list(&["Config Rules Compliance Change"])),
                (
                    "detail",
                    Node::map([
                        ("messageType", list(&["ComplianceChangeNotification"])),
                        (
                            "newEvaluationResult",
                            Node::map([("complianceType", list(&["NON_COMPLIANT"]))]),
                        ),
                    ]),
                ),
            ]),
        )?;
        Ok(())
    }
}

impl omc_cdk::Construct for SecurityBaseline {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
