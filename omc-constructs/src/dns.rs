//! Route 53: existing hosted zones, alias records that point names at load balancers, and the
//! domain-name checks certificates share.

use omc_cdk::{Result, Scope, TypedResource, Value};
use omc_cfn::route53;

use crate::load_balancer::ApplicationLoadBalancer;
use crate::util;

/// What a domain name is, for messages.
const DOMAIN_RULES: &str = "a domain name is at least two dot-separated labels of 1 to 63 letters, digits and hyphens (not starting or ending with a hyphen), at most 253 characters";

/// Why `name` is not a domain name, if it is not. With `wildcard`, a leading `*.` is allowed
/// (and only there).
fn domain_problem(name: &str, wildcard: bool) -> Option<String> {
    let base = match name.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        _ => name,
    };
    if name.len() > 253 {
        return Some(format!("it has {} characters", name.len()));
    }
    let labels: Vec<&str> = base.split('.').collect();
    if labels.len() < 2 {
        return Some("it has a single label".into());
    }
    for label in labels {
        if label.is_empty() {
            return Some("it has an empty label (two dots in a row, or a dot at an end)".into());
        }
        if label.len() > 63 {
            return Some(format!("the label {label:?} is longer than 63 characters"));
        }
        if label == "*" {
            return Some(if wildcard {
                "'*' may only be its first label".into()
            } else {
                "it has a wildcard label '*'".into()
            });
        }
        if let Some(bad) = label
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
        {
            return Some(format!("the label {label:?} contains {bad:?}"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("the label {label:?} starts or ends with a hyphen"));
        }
    }
    None
}

/// Checks that `name`, the prop `field` of the construct at `path`, is a domain name (with
/// `wildcard`, optionally starting with `*.`).
pub(crate) fn check_domain(
    path: &str,
    field: &'static str,
    name: &str,
    wildcard: bool,
) -> Result<()> {
    match domain_problem(name, wildcard) {
        None => Ok(()),
        Some(why) => Err(util::invalid_prop(
            path,
            field,
            name,
            format!(
                "{field} {name:?} is not a domain name: {why}; {DOMAIN_RULES}{}",
                if wildcard {
                    ", optionally starting with \"*.\" for a wildcard"
                } else {
                    ""
                }
            ),
        )),
    }
}

/// An existing Route 53 public hosted zone, for [`HostedZone::from_attributes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedZoneAttributes {
    /// The zone's id, such as `Z0123456789ABCDEFGHIJ` (without the `/hostedzone/` prefix the
    /// Route 53 API adds).
    pub hosted_zone_id: String,
    /// The zone's domain name, such as `omc.example` (a trailing dot is dropped).
    pub zone_name: String,
}

/// An existing Route 53 hosted zone: certificates validate their names in it
/// ([`crate::Certificate`]) and [`AliasRecord`]s point its names at load balancers. The zone
/// itself is not in the template (it is created once, by hand, and delegated from the
/// registrar).
///
/// ```
/// use omc_cdk::testing;
/// use omc_constructs::{HostedZone, HostedZoneAttributes};
///
/// let (_app, stack) = testing::stack()?;
/// let zone = HostedZone::from_attributes(&stack, "Zone", HostedZoneAttributes {
///     hosted_zone_id: "Z0123456789ABCDEFGHIJ".into(),
///     zone_name: "omc.example.".into(),
/// })?;
/// assert_eq!(zone.zone_name(), "omc.example");
/// let err = HostedZone::from_attributes(&stack, "Bad", HostedZoneAttributes {
///     hosted_zone_id: "/hostedzone/Z0123456789ABCDEFGHIJ".into(),
///     zone_name: "omc.example".into(),
/// }).unwrap_err();
/// assert!(err.to_string().contains("drop the \"/hostedzone/\" prefix"));
/// # Ok::<(), omc_cdk::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct HostedZone {
    scope: Scope,
    id: String,
    zone_name: String,
}

impl HostedZone {
    /// An existing zone by id and name. The id must look like a Route 53 zone id (`Z` and 1 to
    /// 31 capital letters and digits) and the name like a domain name.
    pub fn from_attributes(
        scope: &Scope,
        id: &str,
        attributes: HostedZoneAttributes,
    ) -> Result<HostedZone> {
        let path = util::path(scope, id);
        let zone_id = &attributes.hosted_zone_id;
        if !zone_id_ok(zone_id) {
            let hint = if zone_id.starts_with("/hostedzone/") {
                "; drop the \"/hostedzone/\" prefix the Route 53 API adds"
            } else {
                ""
            };
            return Err(util::invalid_prop(
                &path,
                "hosted_zone_id",
                zone_id,
                format!(
                    "hosted_zone_id {zone_id:?} is not a Route 53 hosted zone id: use 'Z' followed by 1 to 31 capital letters and digits, such as \"Z0123456789ABCDEFGHIJ\"{hint}"
                ),
            ));
        }
        let zone_name = attributes
            .zone_name
            .strip_suffix('.')
            .unwrap_or(&attributes.zone_name)
            .to_owned();
        check_domain(&path, "zone_name", &zone_name, false)?;
        let scope = scope.child(id)?;
        Ok(HostedZone {
            scope,
            id: attributes.hosted_zone_id,
            zone_name,
        })
    }

    /// The zone's id.
    pub fn hosted_zone_id(&self) -> Value<String> {
        Value::from(self.id.as_str())
    }

    /// The zone's domain name, without a trailing dot.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Whether `name` is the zone's name or a name under it (case-insensitively).
    pub fn contains(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        let zone = self.zone_name.to_ascii_lowercase();
        name == zone || name.ends_with(&format!(".{zone}"))
    }

    /// Checks that `name`, the prop `field` of the construct at `path`, is a domain name in
    /// this zone (a wildcard `*.` first label allowed).
    pub(crate) fn check_name(&self, path: &str, field: &'static str, name: &str) -> Result<()> {
        check_domain(path, field, name, true)?;
        if !self.contains(name) {
            let zone = &self.zone_name;
            return Err(util::invalid_prop(
                path,
                field,
                name,
                format!(
                    "{field} {name:?} is not in the hosted zone {zone} ({}); use {zone} or a name ending in \".{zone}\"",
                    self.scope.node_path()
                ),
            ));
        }
        Ok(())
    }
}

impl omc_cdk::Construct for HostedZone {
    fn node(&self) -> &Scope {
        &self.scope
    }
}

/// `Z` and 1 to 31 capital letters and digits.
fn zone_id_ok(id: &str) -> bool {
    id.strip_prefix('Z').is_some_and(|rest| {
        (1..=31).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// How an alias record is created.
#[derive(Clone, Debug)]
pub struct AliasRecordProps<'a> {
    /// The hosted zone the record is in.
    pub zone: &'a HostedZone,
    /// The record's name: the zone's own name (the apex, such as `omc.example`) or a name
    /// under it (`staging.omc.example`, or a wildcard `*.omc.example`).
    pub record_name: String,
    /// The load balancer the name points at.
    pub load_balancer: &'a ApplicationLoadBalancer,
}

/// Route 53 alias records that point a name at an [`ApplicationLoadBalancer`]: free, answered
/// with the load balancer's current addresses, and `EvaluateTargetHealth` so Route 53 knows
/// when the load balancer has no healthy target.
///
/// Defines an `AWS::Route53::RecordSet` of type `A` (child `A`). Load balancers here are
/// IPv4-only ([`ApplicationLoadBalancer`] sets no dual-stack `IpAddressType`), so there is no
/// `AAAA` record.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{AliasRecord, AliasRecordProps, ApplicationLoadBalancer,
///     ApplicationLoadBalancerProps, HostedZone, HostedZoneAttributes, Vpc, VpcProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Edge", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
/// let alb = ApplicationLoadBalancer::new(&stack, "Alb", ApplicationLoadBalancerProps::new(&vpc))?;
/// let zone = HostedZone::from_attributes(&stack, "Zone", HostedZoneAttributes {
///     hosted_zone_id: "Z0123456789ABCDEFGHIJ".into(),
///     zone_name: "omc.example".into(),
/// })?;
/// AliasRecord::new(&stack, "Www", AliasRecordProps {
///     zone: &zone, record_name: "www.omc.example".into(), load_balancer: &alb,
/// })?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::Route53::RecordSet", json!({
///     "Name": "www.omc.example", "Type": "A", "HostedZoneId": "Z0123456789ABCDEFGHIJ",
///     "AliasTarget": {"EvaluateTargetHealth": true},
/// }))?;
/// let err = AliasRecord::new(&stack, "Other", AliasRecordProps {
///     zone: &zone, record_name: "www.other.example".into(), load_balancer: &alb,
/// }).unwrap_err();
/// assert!(err.to_string().contains("is not in the hosted zone omc.example"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct AliasRecord {
    scope: Scope,
    record: route53::RecordSetHandle,
    record_name: String,
}

impl AliasRecord {
    /// Creates the records.
    pub fn new(scope: &Scope, id: &str, props: AliasRecordProps<'_>) -> Result<AliasRecord> {
        let path = util::path(scope, id);
        props
            .zone
            .check_name(&path, "record_name", &props.record_name)?;
        let scope = scope.child(id)?;
        let target = route53::record_set::AliasTarget {
            evaluate_target_health: Some(true.into()),
            ..route53::record_set::AliasTarget::new(
                props.load_balancer.dns_name(),
                props.load_balancer.canonical_hosted_zone_id(),
            )
        };
        let record = scope.add(
            "A",
            route53::RecordSet {
                hosted_zone_id: Some(props.zone.hosted_zone_id()),
                alias_target: Some(target.into()),
                ..route53::RecordSet::new(props.record_name.as_str(), "A")
            },
        )?;
        Ok(AliasRecord {
            scope,
            record,
            record_name: props.record_name,
        })
    }

    /// The record's name.
    pub fn record_name(&self) -> &str {
        &self.record_name
    }

    /// The `A` record resource.
    pub fn resource(&self) -> &omc_cdk::Resource {
        self.record.as_resource()
    }
}

impl omc_cdk::Construct for AliasRecord {
    fn node(&self) -> &Scope {
        &self.scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_checked_label_by_label() {
        for ok in [
            "omc.example",
            "staging.omc.example",
            "a-1.b2.example",
            "x.io",
        ] {
            assert_eq!(domain_problem(ok, false), None, "{ok}");
        }
        assert_eq!(domain_problem("*.omc.example", true), None);
        let cases = [
            ("omc", "it has a single label"),
            ("omc..example", "it has an empty label"),
            ("omc.example.", "it has an empty label"),
            ("-omc.example", "starts or ends with a hyphen"),
            ("omc-.example", "starts or ends with a hyphen"),
            ("omc_x.example", "contains '_'"),
            ("*.omc.example", "it has a wildcard label"),
            ("a.*.example", "it has a wildcard label"),
        ];
        for (name, why) in cases {
            let problem = domain_problem(name, false).unwrap_or_default();
            assert!(problem.contains(why), "{name}: {problem}");
        }
        assert!(
            domain_problem("a.*.example", true)
                .is_some_and(|p| p.contains("may only be its first label"))
        );
        assert!(domain_problem("*.example", true).is_some());
        let long_label = format!("{}.example", "a".repeat(64));
        assert!(domain_problem(&long_label, false).is_some_and(|p| p.contains("longer than 63")));
        let long_name = format!("{}example", "abcdefghi.".repeat(25));
        assert!(domain_problem(&long_name, false).is_some_and(|p| p.contains("257 characters")));
    }

    #[test]
    fn zone_ids_look_like_route53_ids() {
        assert!(zone_id_ok("Z0123456789ABCDEFGHIJ"));
        assert!(zone_id_ok("Z1"));
        assert!(!zone_id_ok("Z"));
        assert!(!zone_id_ok("z123"));
        assert!(!zone_id_ok("Z12a"));
        assert!(!zone_id_ok(&format!("Z{}", "1".repeat(32))));
    }
}
