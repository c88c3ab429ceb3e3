//! Template diffs: the deployed template against the synthesized one, resource by resource and
//! property by property, with what the change does (replacement, stateful resources, access).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::schema::Replacement;

pub use crate::schema::SchemaLookup;

/// Added, removed or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// In the new template only.
    Added,
    /// In the deployed template only.
    Removed,
    /// In both, different.
    Modified,
}

impl ChangeKind {
    fn mark(self) -> &'static str {
        match self {
            ChangeKind::Added => "[+]",
            ChangeKind::Removed => "[-]",
            ChangeKind::Modified => "[~]",
        }
    }
}

/// What an update does to the resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Updated in place.
    None,
    /// The schema of the type is unknown: the update may replace it.
    Unknown,
    /// Replaced in some cases.
    MayReplace,
    /// Replaced: a new physical resource, the old one deleted.
    Replace,
}

/// One property that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDiff {
    /// The property name.
    pub name: String,
    /// The deployed value.
    pub old: Option<Json>,
    /// The new value.
    pub new: Option<Json>,
    /// What changing it does.
    pub impact: Impact,
}

/// One resource that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDiff {
    /// The logical id.
    pub logical_id: String,
    /// The type (the new one when it changed).
    pub type_name: String,
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// The properties that differ (modifications only).
    pub properties: Vec<PropertyDiff>,
    /// Other attributes that differ: `DependsOn`, `DeletionPolicy`, `Condition`, ...
    pub attributes: Vec<String>,
    /// What the update does, the strongest of its properties' (`Replace` when the type
    /// changed).
    pub impact: Impact,
    /// A resource that holds data (database, file system, bucket, cache, ...).
    pub stateful: bool,
    /// A change to who may do what: IAM, security groups, resource policies.
    pub security: bool,
}

impl ResourceDiff {
    /// Whether data may be lost: a stateful resource removed or replaced (unless retained).
    pub fn loses_data(&self) -> bool {
        self.stateful
            && (self.kind == ChangeKind::Removed
                || (self.kind == ChangeKind::Modified
                    && matches!(self.impact, Impact::Replace | Impact::MayReplace)))
    }

    /// Whether the change may widen access: a security resource added, or a policy or rule of
    /// one changed.
    pub fn broadens_access(&self) -> bool {
        self.security && self.kind != ChangeKind::Removed
    }
}

/// Everything that differs between two templates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateDiff {
    /// Resources, by logical id.
    pub resources: Vec<ResourceDiff>,
    /// Other sections (`Parameters`, `Outputs`, `Conditions`, `Mappings`, ...): (section/name,
    /// kind).
    pub other: Vec<(String, ChangeKind)>,
}

impl TemplateDiff {
    /// Whether the templates are the same.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.other.is_empty()
    }

    /// Whether any change may widen access (for `--require-approval broadening`).
    pub fn broadens_access(&self) -> bool {
        self.resources.iter().any(ResourceDiff::broadens_access)
    }
}

/// Types that hold data.
const STATEFUL: &[&str] = &[
    "AWS::DocDB::DBCluster",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Volume",
    "AWS::ECR::Repository",
    "AWS::EFS::FileSystem",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::ServerlessCache",
    "AWS::Elasticsearch::Domain",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
    "AWS::Neptune::DBCluster",
    "AWS::OpenSearchService::Domain",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
    "AWS::Cognito::UserPool",
];

/// Types that grant or restrict access.
fn is_security_type(type_name: &str) -> bool {
    type_name.starts_with("AWS::IAM::")
        || type_name.starts_with("AWS::EC2::SecurityGroup")
        || type_name.ends_with("Policy")
        || matches!(
            type_name,
            "AWS::Lambda::Permission"
                | "AWS::EKS::AccessEntry"
                | "AWS::EKS::PodIdentityAssociation"
        )
}

/// Properties that hold policies or rules, on any type.
fn is_security_property(name: &str) -> bool {
    matches!(
        name,
        "AssumeRolePolicyDocument"
            | "Policies"
            | "PolicyDocument"
            | "ManagedPolicyArns"
            | "KeyPolicy"
            | "SecurityGroupIngress"
            | "SecurityGroupEgress"
            | "SecurityGroups"
            | "SecurityGroupIds"
            | "VPCSecurityGroups"
            | "AccessPolicies"
            | "FileSystemPolicy"
            | "PublicAccessBlockConfiguration"
    )
}

fn section(template: &Json, name: &str) -> serde_json::Map<String, Json> {
    template
        .get(name)
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Compares a deployed template (`old`, `Null` when nothing is deployed) with a new one.
pub fn diff_templates(old: &Json, new: &Json, schemas: Option<SchemaLookup>) -> TemplateDiff {
    let mut diff = TemplateDiff::default();
    let old_resources = section(old, "Resources");
    let new_resources = section(new, "Resources");
    let ids: BTreeSet<&String> = old_resources.keys().chain(new_resources.keys()).collect();
    for id in ids {
        match (old_resources.get(id), new_resources.get(id)) {
            (None, Some(r)) => diff.resources.push(whole(id, r, ChangeKind::Added)),
            (Some(r), None) => diff.resources.push(whole(id, r, ChangeKind::Removed)),
            (Some(o), Some(n)) if o != n => diff.resources.push(modified(id, o, n, schemas)),
            _ => {}
        }
    }
    for name in [
        "Parameters",
        "Conditions",
        "Mappings",
        "Outputs",
        "Rules",
        "Metadata",
    ] {
        let (o, n) = (section(old, name), section(new, name));
        let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for key in keys {
            let kind = match (o.get(key), n.get(key)) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(a), Some(b)) if a != b => ChangeKind::Modified,
                _ => continue,
            };
            diff.other.push((format!("{name}/{key}"), kind));
        }
    }
    for name in ["Description", "Transform", "AWSTemplateFormatVersion"] {
        if old.get(name) != new.get(name) && !old.is_null() {
            diff.other.push((name.to_owned(), ChangeKind::Modified));
        }
    }
    diff
}

fn type_of(resource: &Json) -> String {
    resource["Type"].as_str().unwrap_or_default().to_owned()
}

fn whole(id: &str, resource: &Json, kind: ChangeKind) -> ResourceDiff {
    let type_name = type_of(resource);
    ResourceDiff {
        logical_id: id.to_owned(),
        stateful: STATEFUL.contains(&type_name.as_str()),
        security: is_security_type(&type_name),
        type_name,
        kind,
        properties: Vec::new(),
        attributes: Vec::new(),
        impact: Impact::None,
    }
}

fn modified(id: &str, old: &Json, new: &Json, schemas: Option<SchemaLookup>) -> ResourceDiff {
    let type_name = type_of(new);
    let schema = schemas.and_then(|lookup| lookup(&type_name));
    let old_props = old["Properties"].as_object().cloned().unwrap_or_default();
    let new_props = new["Properties"].as_object().cloned().unwrap_or_default();
    let names: BTreeSet<&String> = old_props.keys().chain(new_props.keys()).collect();
    let mut properties = Vec::new();
    let mut security = false;
    for name in names {
        let (o, n) = (old_props.get(name), new_props.get(name));
        if o == n {
            continue;
        }
        let impact = match schema {
            None => Impact::Unknown,
            Some(s) => match s.property(name).map(|p| p.replacement) {
                Some(Replacement::Always) => Impact::Replace,
                Some(Replacement::Conditional) => Impact::MayReplace,
                Some(Replacement::Never) => Impact::None,
                None => Impact::Unknown,
            },
        };
        security |= is_security_property(name);
        properties.push(PropertyDiff {
            name: name.clone(),
            old: o.cloned(),
            new: n.cloned(),
            impact,
        });
    }
    let mut attributes = Vec::new();
    if let (Some(o), Some(n)) = (old.as_object(), new.as_object()) {
        let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for key in keys {
            if key != "Properties" && key != "Type" && o.get(key) != n.get(key) {
                attributes.push(key.clone());
            }
        }
    }
    let type_changed = type_of(old) != type_name;
    let impact = if type_changed {
        Impact::Replace
    } else {
        properties
            .iter()
            .map(|p| p.impact)
            .max()
            .unwrap_or(Impact::None)
    };
    ResourceDiff {
        logical_id: id.to_owned(),
        stateful: STATEFUL.contains(&type_name.as_str()),
        security: security || (is_security_type(&type_name) && !properties.is_empty()),
        type_name,
        kind: ChangeKind::Modified,
        properties,
        attributes,
        impact,
    }
}

/// Colors for a terminal, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Whether to write ANSI colors.
    pub color: bool,
}

impl Style {
    pub(crate) fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn compact(value: Option<&Json>) -> String {
    let text = value.map_or_else(|| "(none)".to_owned(), Json::to_string);
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(117).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// Renders a stack's diff for people.
pub fn render(stack: &str, diff: &TemplateDiff, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.paint("1", &format!("Stack {stack}")));
    if diff.is_empty() {
        let _ = writeln!(out, "There were no differences");
        return out;
    }
    let color = |kind: ChangeKind| match kind {
        ChangeKind::Added => "32",
        ChangeKind::Removed => "31",
        ChangeKind::Modified => "33",
    };
    for r in &diff.resources {
        let mut notes = Vec::new();
        match r.impact {
            Impact::Replace => notes.push(style.paint("31", "replaces the resource")),
            Impact::MayReplace => notes.push(style.paint("33", "may replace the resource")),
            Impact::Unknown => notes.push("may replace the resource (type unknown)".to_owned()),
            Impact::None => {}
        }
        if r.loses_data() {
            notes.push(style.paint(
                "1;31",
                if r.kind == ChangeKind::Removed {
                    "STATEFUL RESOURCE REMOVED: its data is deleted unless it is retained"
                } else {
                    "STATEFUL RESOURCE REPLACED: its data is lost unless it is retained"
                },
            ));
        }
        if r.security {
            notes.push(style.paint("35", "security change"));
        }
        let _ = writeln!(
            out,
            "{} {} {}{}",
            style.paint(color(r.kind), r.kind.mark()),
            r.type_name,
            r.logical_id,
            if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join("; "))
            }
        );
        for p in &r.properties {
            let kind = match (&p.old, &p.new) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
                _ => ChangeKind::Modified,
            };
            let impact = match p.impact {
                Impact::Replace => style.paint("31", "  replaces"),
                Impact::MayReplace => style.paint("33", "  may replace"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "    {} {}: {} -> {}{impact}",
                style.paint(color(kind), kind.mark()),
                p.name,
                compact(p.old.as_ref()),
                compact(p.new.as_ref()),
            );
        }
        for a in &r.attributes {
            let _ = writeln!(out, "    [~] {a}");
        }
    }
    for (name, kind) in &diff.other {
        let _ = writeln!(out, "{} {name}", style.paint(color(*kind), kind.mark()));
    }
    out
}
