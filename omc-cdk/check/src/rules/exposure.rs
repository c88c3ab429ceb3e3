//! What the internet can reach.

use serde_json::{Map, Value as Json};

use super::{integer, items, shown};
use crate::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};

const ERROR: Levels = Levels::always(Severity::Error);

/// Whether the security group is attached to an internet-facing load balancer.
fn fronts_public_load_balancer(group: &ResourceView<'_>) -> bool {
    group.referrers().iter().any(|(lb, property)| {
        lb.type_name() == "AWS::ElasticLoadBalancingV2::LoadBalancer"
            && *property == "SecurityGroups"
            && lb.text("Scheme") != Some("internal")
    })
}

fn open_entry(
    view: &ResourceView<'_>,
    group: Option<&ResourceView<'_>>,
    entry: &Map<String, Json>,
    property: &str,
    out: &mut Violations,
) {
    let literal = |key: &str| {
        entry
            .get(key)
            .and_then(|v| view.literal(v))
            .and_then(Json::as_str)
    };
    let ((Some(source @ "0.0.0.0/0"), _) | (_, Some(source @ "::/0"))) =
        (literal("CidrIp"), literal("CidrIpv6"))
    else {
        return;
    };
    let protocol = entry
        .get("IpProtocol")
        .and_then(|v| view.literal(v))
        .map(|v| match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    let from = integer(entry.get("FromPort").and_then(|v| view.literal(v)));
    let to = integer(entry.get("ToPort").and_then(|v| view.literal(v)));
    let web_port =
        matches!(protocol.as_str(), "tcp" | "6") && from == to && matches!(from, Some(80 | 443));
    if web_port && group.is_some_and(fronts_public_load_balancer) {
        // HTTPS is what a public load balancer is for. Plain HTTP is acceptable only where
        // the listener redirects to HTTPS, which the construct that opens it says in a
        // suppression (checkov, for one, always reports port 80 open to the internet).
        if from == Some(80) {
            out.warn(
                property,
                format!(
                    "ingress from {source} on tcp port 80 (plain HTTP) to a public load balancer: acceptable only where its port-80 listener redirects to HTTPS; suppress with that reason"
                ),
            );
        }
        return;
    }
    let ports = match (protocol.as_str(), from, to) {
        ("-1", _, _) => "all traffic".to_owned(),
        (p, Some(f), Some(t)) if f == t => format!("{p} port {f}"),
        (p, Some(f), Some(t)) => format!("{p} ports {f}-{t}"),
        (p, _, _) => format!("protocol {p}"),
    };
    out.add(
        property,
        format!("ingress from {source} on {ports}: open to the whole internet"),
    );
}

fn sg_open(view: &ResourceView<'_>, out: &mut Violations) {
    if view.type_name() == "AWS::EC2::SecurityGroup" {
        let Some(rules) = view.prop("SecurityGroupIngress") else {
            return;
        };
        for (i, rule) in items(rules).into_iter().enumerate() {
            if let Some(entry) = rule.as_object() {
                open_entry(
                    view,
                    Some(view),
                    entry,
                    &format!("SecurityGroupIngress[{i}]"),
                    out,
                );
            }
        }
    } else if let Some(entry) = view.properties() {
        let group = view.prop("GroupId").and_then(|g| view.resolve(g));
        open_entry(view, group.as_ref(), entry, "CidrIp", out);
    }
}

/// No security group is open to the internet, except a public load balancer's 80/443.
pub const SG_OPEN_INGRESS: Rule = Rule {
    id: "sg-open-ingress",
    title: "Security groups are not open to the internet",
    category: Category::PublicExposure,
    levels: ERROR,
    types: &["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"],
    check: sg_open,
    doc: RuleDoc {
        checks: "No ingress rule (inline or `AWS::EC2::SecurityGroupIngress`) allows `0.0.0.0/0` or `::/0`, except TCP 443 on a group attached to an internet-facing load balancer (looked up across stacks); TCP 80 there is a warning, acceptable where the listener only redirects to HTTPS (the `ApplicationLoadBalancer` construct suppresses it with that reason).",
        why: "An open port is found by internet scanners within minutes; SSH, database and admin ports open to the world are the most common way into a VPC.",
        fix: "Allow the peer's security group instead of a CIDR (`connections().allow_from`), or a narrow CIDR; put public web traffic behind a load balancer.",
        example: r#"{ "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "SourceSecurityGroupId": { "Fn::GetAtt": ["BackendSg", "GroupId"] } }"#,
    },
    equivalents: Equivalents {
        checkov: &["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"],
        cfn_nag: &[],
        cfn_lint: &[],
    },
};

fn rds_public(view: &ResourceView<'_>, out: &mut Violations) {
    match (view.prop("PubliclyAccessible"), view.flag("PubliclyAccessible")) {
        (_, Some(true)) => out.add(
            "PubliclyAccessible",
            "the database has a public address (PubliclyAccessible is true)",
        ),
        (None, _) => out.warn(
            "PubliclyAccessible",
            "PubliclyAccessible is absent: RDS then makes the database public when its subnet group (or the default VPC) has a route to an internet gateway",
        ),
        _ => {}
    }
}

/// RDS instances are not publicly accessible.
pub const RDS_PUBLIC_ACCESS: Rule = Rule {
    id: "rds-public-access",
    title: "Databases are not publicly accessible",
    category: Category::PublicExposure,
    levels: ERROR,
    types: &["AWS::RDS::DBInstance"],
    check: rds_public,
    doc: RuleDoc {
        checks: "`AWS::RDS::DBInstance` does not set `PubliclyAccessible: true` (an error) and does not leave it out (a warning: RDS then decides from the subnets, and a subnet group with a public subnet makes the database public).",
        why: "A public database endpoint is one security-group mistake away from the internet and invites password guessing.",
        fix: "Set `PubliclyAccessible: false` (the `Rds` construct does) and reach the database from inside the VPC (tasks, a bastion, SSM port forwarding).",
        example: r#"{ "Type": "AWS::RDS::DBInstance", "Properties": { "PubliclyAccessible": false, "DBSubnetGroupName": { "Ref": "DatabaseSubnets" } } }"#,
    },
    equivalents: Equivalents::NONE,
};

const BLOCK_SETTINGS: [&str; 4] = [
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
];

fn s3_public(view: &ResourceView<'_>, out: &mut Violations) {
    if view.prop("PublicAccessBlockConfiguration").is_none() {
        out.warn(
            "PublicAccessBlockConfiguration",
            "the bucket does not declare a public access block (S3 blocks public access for new buckets by default; the template should say so)",
        );
        return;
    }
    let off: Vec<&str> = BLOCK_SETTINGS
        .iter()
        .copied()
        .filter(|s| view.flag(&format!("PublicAccessBlockConfiguration.{s}")) != Some(true))
        .collect();
    if !off.is_empty() {
        out.add(
            "PublicAccessBlockConfiguration",
            format!(
                "public access is not fully blocked: {} not true",
                off.join(", ")
            ),
        );
    }
}

/// S3 buckets block public access.
pub const S3_PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "s3-public-access-block",
    title: "S3 buckets block public access",
    category: Category::PublicExposure,
    levels: ERROR,
    types: &["AWS::S3::Bucket"],
    check: s3_public,
    doc: RuleDoc {
        checks: "`AWS::S3::Bucket` has a `PublicAccessBlockConfiguration` with all four settings true. A missing block is a warning (S3's default for new buckets blocks public access); a block with a setting off is an error.",
        why: "Public buckets are the most common source of cloud data leaks; the block overrides any ACL or policy that would make objects public.",
        fix: "Set `BlockPublicAcls`, `BlockPublicPolicy`, `IgnorePublicAcls` and `RestrictPublicBuckets` to true (the `Bucket` construct does); serve public content through CloudFront with origin access control instead.",
        example: r#"{ "PublicAccessBlockConfiguration": { "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true } }"#,
    },
    equivalents: Equivalents::NONE,
};

fn eks_public(view: &ResourceView<'_>, out: &mut Violations) {
    if view.flag("ResourcesVpcConfig.EndpointPublicAccess") == Some(false) {
        return;
    }
    let cidrs: Vec<String> = match view.prop("ResourcesVpcConfig.PublicAccessCidrs") {
        None => vec!["0.0.0.0/0".into()],
        Some(list) => items(list)
            .into_iter()
            .filter_map(|c| view.literal(c).and_then(Json::as_str).map(str::to_owned))
            .collect(),
    };
    if cidrs.iter().any(|c| c == "0.0.0.0/0") {
        out.add(
            "ResourcesVpcConfig.PublicAccessCidrs",
            format!(
                "the Kubernetes API endpoint is public and open to the world (EndpointPublicAccess {}, PublicAccessCidrs {})",
                shown(view, "ResourcesVpcConfig.EndpointPublicAccess").replace("absent", "default true"),
                shown(view, "ResourcesVpcConfig.PublicAccessCidrs").replace("absent", "default [\"0.0.0.0/0\"]"),
            ),
        );
    }
}

/// The EKS API endpoint is private or restricted.
pub const EKS_PUBLIC_ENDPOINT: Rule = Rule {
    id: "eks-public-endpoint",
    title: "The EKS API endpoint is not open to the world",
    category: Category::PublicExposure,
    levels: ERROR,
    types: &["AWS::EKS::Cluster"],
    check: eks_public,
    doc: RuleDoc {
        checks: "`AWS::EKS::Cluster` either turns `EndpointPublicAccess` off or restricts `PublicAccessCidrs` to something narrower than `0.0.0.0/0` (both default to public and open).",
        why: "An open Kubernetes API is probed constantly; one leaked kubeconfig or API vulnerability is then exploitable from anywhere.",
        fix: "Set `EndpointPrivateAccess: true` and `EndpointPublicAccess: false`, or list the admin CIDRs in `PublicAccessCidrs` (`EksRunnerCluster`'s `public_access_cidrs`).",
        example: r#"{ "ResourcesVpcConfig": { "EndpointPrivateAccess": true, "EndpointPublicAccess": true, "PublicAccessCidrs": ["203.0.113.0/24"] } }"#,
    },
    equivalents: Equivalents::NONE,
};
