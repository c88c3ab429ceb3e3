//! Records of what happened, and detection.

use serde_json::Value as Json;

use super::{items, require_true};
use crate::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};

fn attribute<'m>(view: &ResourceView<'m>, list: &str, key: &str) -> Option<&'m Json> {
    items(view.prop(list)?)
        .into_iter()
        .find(|a| a.get("Key").and_then(Json::as_str) == Some(key))
        .and_then(|a| a.get("Value"))
        .and_then(|v| view.literal(v))
}

fn alb_logs(view: &ResourceView<'_>, out: &mut Violations) {
    if !matches!(view.text("Type"), None | Some("application")) {
        return;
    }
    let enabled = attribute(view, "LoadBalancerAttributes", "access_logs.s3.enabled");
    if !enabled.is_some_and(ResourceView::is_true) {
        out.add(
            "LoadBalancerAttributes",
            "access logs are off (access_logs.s3.enabled is not \"true\")",
        );
    }
}

/// Application load balancers write access logs.
pub const ALB_ACCESS_LOGS: Rule = Rule {
    id: "alb-access-logs",
    title: "Load balancers write access logs",
    category: Category::Logging,
    levels: Levels::error_in_production(),
    types: &["AWS::ElasticLoadBalancingV2::LoadBalancer"],
    check: alb_logs,
    doc: RuleDoc {
        checks: "An application `AWS::ElasticLoadBalancingV2::LoadBalancer` has the attribute `access_logs.s3.enabled` `true`. Error in production, warning elsewhere.",
        why: "Access logs are the only record of every request that reached the application (client, path, status, latency), needed to investigate an attack or an outage.",
        fix: "Enable access logs to an S3 bucket (`ApplicationLoadBalancer`'s `access_logs`, which also writes the bucket policy the log delivery needs).",
        example: r#"{ "LoadBalancerAttributes": [ { "Key": "access_logs.s3.enabled", "Value": "true" }, { "Key": "access_logs.s3.bucket", "Value": { "Ref": "AccessLogs" } } ] }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_91"],
        cfn_nag: &["W52"],
        cfn_lint: &[],
    },
};

fn flow_logs(view: &ResourceView<'_>, out: &mut Violations) {
    let logged = view.referrers().iter().any(|(log, property)| {
        log.type_name() == "AWS::EC2::FlowLog"
            && (*property == "ResourceId" || *property == "ResourceIds")
    });
    if !logged {
        out.add("", "no flow log records the VPC's traffic");
    }
}

/// VPCs have flow logs.
pub const VPC_FLOW_LOGS: Rule = Rule {
    id: "vpc-flow-logs",
    title: "VPCs have flow logs",
    category: Category::Logging,
    levels: Levels::error_in_production(),
    types: &["AWS::EC2::VPC"],
    check: flow_logs,
    doc: RuleDoc {
        checks: "An `AWS::EC2::FlowLog` (in any stack) has the VPC as its `ResourceId`. Error in production, warning elsewhere.",
        why: "Flow logs show which addresses talked to which, accepted or rejected: the evidence for tracing exfiltration and the input GuardDuty's findings are checked against.",
        fix: "Add a flow log for the VPC to CloudWatch Logs or S3 (`VpcProps::flow_logs`).",
        example: r#"{ "Type": "AWS::EC2::FlowLog", "Properties": { "ResourceId": { "Ref": "Vpc" }, "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs" } }"#,
    },
    equivalents: Equivalents {
        checkov: &[],
        cfn_nag: &["W60"],
        cfn_lint: &[],
    },
};

fn trail_validation(view: &ResourceView<'_>, out: &mut Violations) {
    require_true(
        view,
        out,
        "EnableLogFileValidation",
        "the trail's log files can be altered undetected",
    );
}

/// CloudTrail validates its log files.
pub const CLOUDTRAIL_LOG_VALIDATION: Rule = Rule {
    id: "cloudtrail-log-validation",
    title: "CloudTrail validates log files",
    category: Category::Logging,
    levels: Levels::always(Severity::Error),
    types: &["AWS::CloudTrail::Trail"],
    check: trail_validation,
    doc: RuleDoc {
        checks: "`AWS::CloudTrail::Trail` has `EnableLogFileValidation: true`.",
        why: "With validation, CloudTrail signs a digest of every log file, so an intruder who deletes or edits entries to cover their tracks is detected.",
        fix: "Set `EnableLogFileValidation: true` (`SecurityBaseline` does).",
        example: r#"{ "Type": "AWS::CloudTrail::Trail", "Properties": { "IsLogging": true, "IsMultiRegionTrail": true, "EnableLogFileValidation": true } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_36"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

fn insights(view: &ResourceView<'_>, out: &mut Violations) {
    let value = super::container_insights(view);
    if !matches!(value, Some("enabled" | "enhanced")) {
        out.add(
            "ClusterSettings",
            format!(
                "Container Insights is {}",
                value.map_or("not configured".to_owned(), |v| format!("{v:?}"))
            ),
        );
    }
}

/// ECS clusters have Container Insights.
pub const ECS_CONTAINER_INSIGHTS: Rule = Rule {
    id: "ecs-container-insights",
    title: "ECS clusters have Container Insights",
    category: Category::Logging,
    levels: Levels::error_in_production(),
    types: &["AWS::ECS::Cluster"],
    check: insights,
    doc: RuleDoc {
        checks: "`AWS::ECS::Cluster` has the cluster setting `containerInsights` `enabled` or `enhanced`. Error in production, warning elsewhere.",
        why: "Without it there are no per-task CPU, memory and restart metrics: a task that is crash-looping or starved is invisible to alarms.",
        fix: "Add `ClusterSettings: [{ Name: containerInsights, Value: enabled }]` (the `Cluster` construct's default).",
        example: r#"{ "Type": "AWS::ECS::Cluster", "Properties": { "ClusterSettings": [ { "Name": "containerInsights", "Value": "enabled" } ] } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_65"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

/// The control-plane log types the rule requires.
const REQUIRED_LOG_TYPES: [&str; 3] = ["api", "audit", "authenticator"];

fn eks_logs(view: &ResourceView<'_>, out: &mut Violations) {
    let enabled: Vec<&str> = view
        .prop("Logging.ClusterLogging.EnabledTypes")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.get("Type").and_then(Json::as_str))
        .collect();
    let missing: Vec<&str> = REQUIRED_LOG_TYPES
        .iter()
        .copied()
        .filter(|t| !enabled.contains(t))
        .collect();
    if !missing.is_empty() {
        out.add(
            "Logging.ClusterLogging.EnabledTypes",
            format!("control-plane logs {missing:?} are off"),
        );
    }
}

/// EKS control-plane logs are on.
pub const EKS_CONTROL_PLANE_LOGS: Rule = Rule {
    id: "eks-control-plane-logs",
    title: "EKS control-plane logs are on",
    category: Category::Logging,
    levels: Levels::error_in_production(),
    types: &["AWS::EKS::Cluster"],
    check: eks_logs,
    doc: RuleDoc {
        checks: "`AWS::EKS::Cluster` enables the `api`, `audit` and `authenticator` control-plane log types. Error in production, warning elsewhere.",
        why: "The audit log is the only record of who did what through the Kubernetes API (reading secrets, creating pods); authenticator logs show which IAM identity it was.",
        fix: "Enable the types in `Logging.ClusterLogging.EnabledTypes` (`EksRunnerCluster` enables all five).",
        example: r#"{ "Logging": { "ClusterLogging": { "EnabledTypes": [ { "Type": "api" }, { "Type": "audit" }, { "Type": "authenticator" } ] } } }"#,
    },
    equivalents: Equivalents::NONE,
};

fn s3_access_logs(view: &ResourceView<'_>, out: &mut Violations) {
    // Without a destination, S3 logs into the bucket itself: logging is on.
    if view.prop("LoggingConfiguration").is_none() {
        out.add(
            "LoggingConfiguration",
            "no server access logs record the requests to the bucket: LoggingConfiguration is absent",
        );
    }
}

/// S3 buckets log the requests made to them.
pub const S3_ACCESS_LOGS: Rule = Rule {
    id: "s3-access-logs",
    title: "S3 buckets write server access logs",
    category: Category::Logging,
    levels: Levels::error_in_production(),
    types: &["AWS::S3::Bucket"],
    check: s3_access_logs,
    doc: RuleDoc {
        checks: "`AWS::S3::Bucket` has a `LoggingConfiguration` (without a `DestinationBucketName`, S3 logs into the bucket itself). Error in production, warning elsewhere. The bucket that receives the access logs cannot log into itself: suppress there with that reason.",
        why: "CloudTrail records object reads only with (paid) data events; server access logs record every request, so a read of the load balancer's or the trail's logs by someone who should not is visible.",
        fix: "Send the bucket's server access logs to a dedicated access-log bucket (`BucketProps::access_logs` with an `AccessLogBucket`).",
        example: r#"{ "Type": "AWS::S3::Bucket", "Properties": { "LoggingConfiguration": { "DestinationBucketName": { "Ref": "AccessLogs" }, "LogFilePrefix": "trail/" } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_18"],
        cfn_nag: &["W35"],
        cfn_lint: &[],
    },
};

fn rds_monitoring(view: &ResourceView<'_>, out: &mut Violations) {
    let interval = super::integer(
        view.prop("MonitoringInterval")
            .and_then(|v| view.literal(v)),
    );
    let computed = view.prop("MonitoringInterval").is_some() && interval.is_none();
    if !computed && interval.unwrap_or(0) == 0 {
        out.add(
            "MonitoringInterval",
            format!(
                "enhanced monitoring is off: MonitoringInterval is {}",
                super::shown(view, "MonitoringInterval")
            ),
        );
    }
}

/// Production databases have enhanced monitoring.
pub const RDS_ENHANCED_MONITORING: Rule = Rule {
    id: "rds-enhanced-monitoring",
    title: "Databases have enhanced monitoring",
    category: Category::Logging,
    levels: Levels {
        development: None,
        staging: Some(Severity::Warning),
        production: Some(Severity::Error),
    },
    types: &["AWS::RDS::DBInstance"],
    check: rds_monitoring,
    doc: RuleDoc {
        checks: "`AWS::RDS::DBInstance` has a `MonitoringInterval` above 0. Error in production, warning in staging, off in development.",
        why: "CloudWatch's RDS metrics come from the hypervisor once a minute; enhanced monitoring reports the operating system (processes, memory, swap, disk queue) from inside the instance, which is what explains a slow database.",
        fix: "Set `MonitoringInterval` (1 to 60 seconds) and a `MonitoringRoleArn` with `AmazonRDSEnhancedMonitoringRole` (`RdsProps::enhanced_monitoring_seconds`).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "MonitoringInterval": 60, "MonitoringRoleArn": { "Fn::GetAtt": ["MonitoringRole", "Arn"] } } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_118"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};
