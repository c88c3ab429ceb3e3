//! The review of an infrastructure change: two versions of an app's stacks (a base synthesis
//! or the deployed stacks, and the new synthesis), compared with the template diff of
//! [`crate::diff`] and read for what a reviewer must see first: resources replaced and the
//! property that forces it, data that is lost, access that widens or narrows (IAM statements,
//! security-group rules, public exposure), exports another stack still imports, outputs,
//! parameters, tags and termination protection, then every other change. The caller adds
//! the cost difference and the check findings that appear or disappear ([`Review::cost`],
//! [`Review::findings`], [`Review::suppressions`]); [`render_text`], [`render_markdown`] and
//! [`to_json`] print it.
//!
//! Pure: no I/O, the same result for the same inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value as Json, json};

pub use crate::diff::Style;
use crate::diff::{ChangeKind, Impact, ResourceDiff, SchemaLookup, TemplateDiff, diff_templates};

/// One version of a stack: its template and the settings that are not in it.
#[derive(Clone, Debug, PartialEq)]
pub struct StackSide {
    /// The template.
    pub template: Json,
    /// The stack's tags; `None` when unknown (a deployed stack read without them).
    pub tags: Option<BTreeMap<String, String>>,
    /// Termination protection; `None` when unknown.
    pub termination_protection: Option<bool>,
}

impl StackSide {
    /// A template without known tags or termination protection.
    pub fn template(template: Json) -> StackSide {
        StackSide {
            template,
            tags: None,
            termination_protection: None,
        }
    }
}

/// A stack before and after: `old` is `None` for a new stack, `new` for a removed one.
#[derive(Clone, Debug, PartialEq)]
pub struct StackPair {
    /// The stack's name.
    pub name: String,
    /// The base version.
    pub old: Option<StackSide>,
    /// The new version.
    pub new: Option<StackSide>,
}

/// What happens to the data of a stateful resource that is replaced or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Deleted with the resource.
    Lost,
    /// CloudFormation takes a snapshot first.
    SnapshotKept,
    /// The old resource is kept (retained), outside the stack.
    Retained,
}

impl Fate {
    fn of(policy: Option<&str>) -> Fate {
        match policy {
            Some("Retain" | "RetainExceptOnCreate") => Fate::Retained,
            Some("Snapshot") => Fate::SnapshotKept,
            _ => Fate::Lost,
        }
    }

    /// What deleting `resource` does: its `DeletionPolicy`, or CloudFormation's default,
    /// which is a snapshot for an RDS cluster and for an RDS instance outside a cluster.
    fn on_delete(resource: &Json) -> Fate {
        if let Some(policy) = resource["DeletionPolicy"].as_str() {
            return Fate::of(Some(policy));
        }
        let rds_default = match resource["Type"].as_str() {
            Some("AWS::RDS::DBCluster") => true,
            Some("AWS::RDS::DBInstance") => resource
                .pointer("/Properties/DBClusterIdentifier")
                .is_none(),
            _ => false,
        };
        if rds_default {
            Fate::SnapshotKept
        } else {
            Fate::Lost
        }
    }

    /// What replacing `resource` does to the old one: its `UpdateReplacePolicy`.
    fn on_replace(resource: Option<&Json>) -> Fate {
        match resource.and_then(|r| r["UpdateReplacePolicy"].as_str()) {
            Some("Retain") => Fate::Retained,
            Some("Snapshot") => Fate::SnapshotKept,
            _ => Fate::Lost,
        }
    }

    /// `data is lost`, `a snapshot is kept`, `the old resource is retained`.
    pub fn describe(self) -> &'static str {
        match self {
            Fate::Lost => "data is lost",
            Fate::SnapshotKept => "a snapshot is kept",
            Fate::Retained => "the old resource is retained",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Fate::Lost => "lost",
            Fate::SnapshotKept => "snapshot",
            Fate::Retained => "retained",
        }
    }
}

/// A resource replaced by an update: a new physical resource, the old one deleted.
#[derive(Clone, Debug, PartialEq)]
pub struct Replacement {
    /// The logical id.
    pub logical_id: String,
    /// The construct path (`aws:cdk:path`), when the template has it.
    pub path: Option<String>,
    /// The type.
    pub type_name: String,
    /// The properties whose change forces it (create-only in the schema), or `Type`.
    pub forced_by: Vec<String>,
    /// `false` when the schema says the change replaces only in some cases, or the type's
    /// schema is unknown.
    pub certain: bool,
    /// Whether the resource holds data.
    pub stateful: bool,
    /// What happens to the old resource's data (its `UpdateReplacePolicy`).
    pub fate: Fate,
}

/// A stateful resource removed from the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// The logical id.
    pub logical_id: String,
    /// The construct path, when known.
    pub path: Option<String>,
    /// The type.
    pub type_name: String,
    /// What happens to its data (its `DeletionPolicy`).
    pub fate: Fate,
}

/// Whether a change gives more or less access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// More principals, actions, resources, peers or exposure.
    Widens,
    /// Less.
    Narrows,
}

impl Direction {
    fn key(self) -> &'static str {
        match self {
            Direction::Widens => "widens",
            Direction::Narrows => "narrows",
        }
    }
}

/// A grant of access that appears or disappears.
#[derive(Clone, Debug, PartialEq)]
pub enum Grant {
    /// A policy statement.
    Statement {
        /// Where it is: `inline policy Deploy`, `trust policy`, `key policy`, ...
        policy: String,
        /// `Allow` or `Deny`.
        effect: String,
        /// The principal (resource policies and trust policies), if any.
        principal: Option<Json>,
        /// `Action` (or `NotAction`, prefixed with `NOT `).
        actions: Vec<String>,
        /// `Resource` (or `NotResource`, prefixed with `NOT `).
        resources: Vec<String>,
        /// The condition, if any.
        condition: Option<Json>,
    },
    /// A managed policy attached to a role, user or group.
    ManagedPolicy {
        /// The policy's ARN, as the template writes it.
        arn: String,
    },
    /// A security-group rule.
    Rule {
        /// The security group of a rule declared as a resource of its own
        /// (`AWS::EC2::SecurityGroupIngress`); `None` for a group's own rules.
        group: Option<String>,
        /// `ingress` or `egress`.
        direction: String,
        /// The other side: a CIDR, a security group or a prefix list.
        peer: String,
        /// `tcp`, `udp`, `icmp` or `all`.
        protocol: String,
        /// `22`, `8000-8100` or `all`.
        ports: String,
    },
    /// The resource reachable from the internet (or not any more).
    Exposure {
        /// What makes it so, such as `Scheme internet-facing`.
        what: String,
    },
}

impl Grant {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Grant::Statement {
                policy,
                effect,
                principal,
                actions,
                resources,
                condition,
            } => {
                let mut text = format!("{policy}: {effect} {}", actions.join(", "));
                if !resources.is_empty() {
                    let _ = write!(text, " on {}", resources.join(", "));
                }
                if let Some(p) = principal {
                    let _ = write!(text, " to {}", short(p));
                }
                if let Some(c) = condition {
                    let _ = write!(text, " when {}", short(c));
                }
                text
            }
            Grant::ManagedPolicy { arn } => format!("managed policy {arn}"),
            Grant::Rule {
                group,
                direction,
                peer,
                protocol,
                ports,
            } => {
                let side = if direction == "ingress" { "from" } else { "to" };
                let ports = if ports == "all" {
                    "all ports".to_owned()
                } else {
                    format!("port {ports}")
                };
                let group = group
                    .as_ref()
                    .map(|g| format!(" (security group {g})"))
                    .unwrap_or_default();
                format!("{direction} {protocol} {ports} {side} {peer}{group}")
            }
            Grant::Exposure { what } => what.clone(),
        }
    }

    /// Whether the grant reaches everyone: a `0.0.0.0/0` or `::/0` peer, a `*` principal, or
    /// public exposure.
    pub fn internet(&self) -> bool {
        match self {
            Grant::Rule { peer, .. } => peer == "0.0.0.0/0" || peer == "::/0",
            Grant::Statement {
                principal, effect, ..
            } => {
                effect == "Allow"
                    && principal.as_ref().is_some_and(|p| {
                        p == &json!("*")
                            || p.get("AWS").is_some_and(|a| a == &json!("*"))
                            || p.get("NotPrincipal").is_some()
                    })
            }
            Grant::Exposure { .. } => true,
            Grant::ManagedPolicy { .. } => false,
        }
    }

    /// Whether the statement allows every action of a service or every resource.
    pub fn wildcard(&self) -> bool {
        match self {
            Grant::Statement {
                effect,
                actions,
                resources,
                ..
            } => {
                effect == "Allow"
                    && (actions.iter().any(|a| a == "*" || a.ends_with(":*"))
                        || resources.iter().any(|r| r == "*"))
            }
            _ => false,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Grant::Statement { .. } => "statement",
            Grant::ManagedPolicy { .. } => "managed-policy",
            Grant::Rule { .. } => "security-group-rule",
            Grant::Exposure { .. } => "exposure",
        }
    }

    fn to_json(&self) -> Json {
        match self {
            Grant::Statement {
                policy,
                effect,
                principal,
                actions,
                resources,
                condition,
            } => json!({ "policy": policy, "effect": effect, "principal": principal,
                "actions": actions, "resources": resources, "condition": condition }),
            Grant::ManagedPolicy { arn } => json!({ "arn": arn }),
            Grant::Rule {
                group,
                direction,
                peer,
                protocol,
                ports,
            } => {
                json!({ "group": group, "direction": direction, "peer": peer, "protocol": protocol, "ports": ports })
            }
            Grant::Exposure { what } => json!({ "what": what }),
        }
    }
}

/// A grant that appears (or disappears) on a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessChange {
    /// The resource's logical id.
    pub logical_id: String,
    /// The construct path, when known.
    pub path: Option<String>,
    /// The resource type.
    pub type_name: String,
    /// Whether it gives more or less access.
    pub direction: Direction,
    /// `true` when the grant is added, `false` when removed.
    pub added: bool,
    /// The grant.
    pub grant: Grant,
}

/// An export removed or changed.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportChange {
    /// The export's name (as the template writes it).
    pub name: String,
    /// The output that exported it.
    pub output: String,
    /// `Removed` or `Modified` (its value changed).
    pub kind: ChangeKind,
    /// The stacks that import it in the base (as deployed): the deploy updates the exporting
    /// stack first, and CloudFormation refuses to remove or change an export while another
    /// stack imports it.
    pub imported_by: Vec<String>,
}

/// An output, parameter, tag or setting that changed.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingChange {
    /// `Outputs`, `Parameters`, `Tags`, `TerminationProtection`, `Conditions`, ...
    pub section: String,
    /// The name inside the section.
    pub name: String,
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// The old value (a parameter's default, an output's value, a tag's value).
    pub old: Option<Json>,
    /// The new value.
    pub new: Option<Json>,
}

/// A stack's part of the review.
#[derive(Clone, Debug, PartialEq)]
pub struct StackReview {
    /// The stack.
    pub name: String,
    /// The stack itself added, removed, modified or unchanged (`None`).
    pub kind: Option<ChangeKind>,
    /// Resources replaced, data-losing first.
    pub replacements: Vec<Replacement>,
    /// Stateful resources removed.
    pub removals: Vec<Removal>,
    /// Access that widens, then narrows.
    pub access: Vec<AccessChange>,
    /// Exports removed or changed.
    pub exports: Vec<ExportChange>,
    /// Outputs, parameters, tags, termination protection and the other sections.
    pub settings: Vec<SettingChange>,
    /// Every resource that differs, property by property (the template diff).
    pub diff: TemplateDiff,
    /// The construct paths of the resources, by logical id.
    pub paths: BTreeMap<String, String>,
}

impl StackReview {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.diff.is_empty() && self.settings.is_empty()
    }

    /// Stateful resources whose data is lost (replaced or removed without a snapshot or
    /// retention).
    pub fn data_lost(&self) -> usize {
        self.replacements
            .iter()
            .filter(|r| r.stateful && r.fate == Fate::Lost)
            .count()
            + self
                .removals
                .iter()
                .filter(|r| r.fate == Fate::Lost)
                .count()
    }

    fn widening(&self) -> usize {
        self.access
            .iter()
            .filter(|a| a.direction == Direction::Widens)
            .count()
    }

    fn breaking_exports(&self) -> usize {
        self.exports
            .iter()
            .filter(|e| !e.imported_by.is_empty())
            .count()
    }

    /// How dangerous the change is, for ordering: data lost, then replacements, widening
    /// access, exports still imported, then the size of the change.
    fn danger(&self) -> (usize, usize, usize, usize, usize, usize) {
        (
            self.data_lost(),
            self.replacements.iter().filter(|r| r.stateful).count() + self.removals.len(),
            self.widening(),
            self.breaking_exports(),
            self.replacements.len(),
            self.diff.resources.len() + self.settings.len(),
        )
    }
}

/// The monthly cost of each stack before and after, in dollars.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostChange {
    /// (stack, before, after).
    pub stacks: Vec<(String, f64, f64)>,
}

impl CostChange {
    /// Before and after, all stacks.
    pub fn totals(&self) -> (f64, f64) {
        self.stacks
            .iter()
            .fold((0.0, 0.0), |(a, b), (_, x, y)| (a + x, b + y))
    }
}

/// A check finding that appears or disappears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingChange {
    /// `true` when it appears with this change.
    pub appeared: bool,
    /// The rule.
    pub rule: String,
    /// `error` or `warning`.
    pub severity: String,
    /// The stack.
    pub stack: String,
    /// The construct path.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A suppression added or removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressionChange {
    /// `true` when added.
    pub added: bool,
    /// The rule.
    pub rule: String,
    /// Where it is declared.
    pub scope: String,
    /// Its reason.
    pub reason: String,
}

/// The review of a change to an app.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Review {
    /// The stacks, most dangerous change first; unchanged stacks last.
    pub stacks: Vec<StackReview>,
    /// The monthly cost, when the caller priced both versions.
    pub cost: Option<CostChange>,
    /// Check findings that appear or disappear.
    pub findings: Vec<FindingChange>,
    /// Suppressions added or removed.
    pub suppressions: Vec<SuppressionChange>,
    /// A Mermaid drawing of the stacks with the changed ones marked ([`crate::graph`]), shown
    /// collapsed at the end of the Markdown.
    pub graph: Option<String>,
}

/// What `--fail-on` fails on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// A resource replaced (certainly or possibly).
    Replacement,
    /// Access that widens.
    Widening,
    /// A stateful resource replaced or removed.
    Stateful,
    /// Any difference.
    Any,
}

impl Review {
    /// Compares the stacks.
    pub fn new(pairs: &[StackPair], schemas: Option<SchemaLookup>) -> Review {
        Review::with_others(pairs, &[], schemas)
    }

    /// Compares the stacks, knowing the base's other stacks (`(name, template)`, not compared:
    /// a review of some stacks only) for what they import.
    pub fn with_others(
        pairs: &[StackPair],
        others: &[(&str, &Json)],
        schemas: Option<SchemaLookup>,
    ) -> Review {
        // Who imports what in the base (the deployed stacks): an export removed or changed
        // while they import it fails the deploy, which updates the exporting stack first.
        let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let bases = pairs
            .iter()
            .filter_map(|p| p.old.as_ref().map(|old| (p.name.as_str(), &old.template)))
            .chain(others.iter().copied());
        for (name, template) in bases {
            let mut found = Vec::new();
            collect_imports(template, &mut found);
            for export in found {
                imports.entry(export).or_default().insert(name.to_owned());
            }
        }
        let mut stacks: Vec<StackReview> = pairs
            .iter()
            .map(|p| review_stack(p, schemas, &imports))
            .collect();
        stacks.sort_by(|a, b| {
            b.is_empty()
                .cmp(&a.is_empty())
                .reverse()
                .then_with(|| b.danger().cmp(&a.danger()))
                .then_with(|| a.name.cmp(&b.name))
        });
        Review {
            stacks,
            ..Review::default()
        }
    }

    /// Whether nothing differs (templates, settings, findings, suppressions).
    pub fn is_empty(&self) -> bool {
        self.stacks.iter().all(StackReview::is_empty)
            && self.findings.is_empty()
            && self.suppressions.is_empty()
    }

    /// Whether the review has what `fail_on` names.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        match fail_on {
            FailOn::Replacement => self.stacks.iter().any(|s| !s.replacements.is_empty()),
            FailOn::Widening => self.stacks.iter().any(|s| s.widening() > 0),
            FailOn::Stateful => self
                .stacks
                .iter()
                .any(|s| !s.removals.is_empty() || s.replacements.iter().any(|r| r.stateful)),
            FailOn::Any => !self.is_empty(),
        }
    }
}

fn path_of(resource: &Json) -> Option<String> {
    resource
        .pointer("/Metadata/aws:cdk:path")
        .and_then(Json::as_str)
        .map(str::to_owned)
}

fn resources(side: Option<&StackSide>) -> serde_json::Map<String, Json> {
    side.and_then(|s| s.template.get("Resources"))
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

fn review_stack(
    pair: &StackPair,
    schemas: Option<SchemaLookup>,
    imports: &BTreeMap<String, BTreeSet<String>>,
) -> StackReview {
    let null = Json::Null;
    let old_template = pair.old.as_ref().map_or(&null, |s| &s.template);
    let new_template = pair.new.as_ref().map_or(&null, |s| &s.template);
    let diff = diff_templates(old_template, new_template, schemas);
    let old_resources = resources(pair.old.as_ref());
    let new_resources = resources(pair.new.as_ref());
    let mut paths = BTreeMap::new();
    for (id, r) in old_resources.iter().chain(new_resources.iter()) {
        if let Some(p) = path_of(r) {
            paths.insert(id.clone(), p);
        }
    }
    let kind = match (&pair.old, &pair.new) {
        (None, Some(_)) => Some(ChangeKind::Added),
        (Some(_), None) => Some(ChangeKind::Removed),
        _ if !diff.is_empty() => Some(ChangeKind::Modified),
        _ => None,
    };

    let mut replacements = Vec::new();
    let mut removals = Vec::new();
    for r in &diff.resources {
        match r.kind {
            // A property the schema does not know (or no schema) may replace the resource too.
            ChangeKind::Modified
                if matches!(
                    r.impact,
                    Impact::Replace | Impact::MayReplace | Impact::Unknown
                ) =>
            {
                let old = old_resources.get(&r.logical_id);
                let type_changed = old.is_some_and(|o| o["Type"].as_str() != Some(&r.type_name));
                let mut forced_by: Vec<String> = r
                    .properties
                    .iter()
                    .filter(|p| matches!(p.impact, Impact::Replace | Impact::MayReplace))
                    .map(|p| p.name.clone())
                    .chain(
                        r.properties
                            .iter()
                            .filter(|p| p.impact == Impact::Unknown)
                            .map(|p| format!("{} (schema unknown)", p.name)),
                    )
                    .collect();
                if type_changed {
                    forced_by.insert(0, "Type".into());
                }
                // The less protective of the old and new policies: a change that also weakens the
                // policy is worth seeing.
                let fate =
                    Fate::on_replace(old).min(Fate::on_replace(new_resources.get(&r.logical_id)));
                replacements.push(Replacement {
                    logical_id: r.logical_id.clone(),
                    path: paths.get(&r.logical_id).cloned(),
                    type_name: r.type_name.clone(),
                    certain: r.impact == Impact::Replace,
                    forced_by,
                    stateful: r.stateful,
                    fate,
                });
            }
            ChangeKind::Removed if r.stateful => {
                let fate = old_resources
                    .get(&r.logical_id)
                    .map_or(Fate::Lost, Fate::on_delete);
                removals.push(Removal {
                    logical_id: r.logical_id.clone(),
                    path: paths.get(&r.logical_id).cloned(),
                    type_name: r.type_name.clone(),
                    fate,
                });
            }
            _ => {}
        }
    }
    replacements.sort_by(|a, b| {
        (b.stateful && b.fate == Fate::Lost, b.stateful, b.certain)
            .cmp(&(a.stateful && a.fate == Fate::Lost, a.stateful, a.certain))
            .then_with(|| a.logical_id.cmp(&b.logical_id))
    });

    let access = access_changes(&old_resources, &new_resources, &paths);
    let exports = export_changes(old_template, new_template, imports);
    let settings = setting_changes(pair, &diff);
    StackReview {
        name: pair.name.clone(),
        kind,
        replacements,
        removals,
        access,
        exports,
        settings,
        diff,
        paths,
    }
}

// ---- access ----

/// Every grant of a resource, each with a stable key.
fn grants(type_name: &str, resource: &Json) -> Vec<Grant> {
    let props = &resource["Properties"];
    let mut out = Vec::new();
    let mut statements = |label: String, document: &Json| {
        for s in as_list(&document["Statement"]) {
            out.push(statement(label.clone(), s));
        }
    };
    if let Some(doc) = props.get("AssumeRolePolicyDocument") {
        statements("trust policy".into(), doc);
    }
    for p in as_list(&props["Policies"]) {
        let name = p["PolicyName"]
            .as_str()
            .map_or_else(|| short(&p["PolicyName"]), str::to_owned);
        statements(format!("inline policy {name}"), &p["PolicyDocument"]);
    }
    let label = match type_name {
        "AWS::S3::BucketPolicy" => "bucket policy",
        "AWS::SNS::TopicPolicy" => "topic policy",
        "AWS::SQS::QueuePolicy" => "queue policy",
        _ => "policy",
    };
    if let Some(doc) = props.get("PolicyDocument") {
        // A policy grants its statements to each role, user or group it is attached to:
        // attaching it to one more widens that one's access.
        let targets: Vec<String> = ["Roles", "Users", "Groups"]
            .iter()
            .flat_map(|k| strings(&props[*k]))
            .collect();
        if targets.is_empty() {
            statements(label.into(), doc);
        } else {
            for target in targets {
                statements(format!("{label} attached to {target}"), doc);
            }
        }
    }
    if let Some(doc) = props.get("KeyPolicy") {
        statements("key policy".into(), doc);
    }
    if let Some(doc) = props.get("RepositoryPolicyText") {
        statements("repository policy".into(), doc);
    }
    for arn in as_list(&props["ManagedPolicyArns"]) {
        out.push(Grant::ManagedPolicy { arn: short(arn) });
    }
    if type_name == "AWS::Lambda::Permission" {
        out.push(Grant::Statement {
            policy: "function permission".into(),
            effect: "Allow".into(),
            principal: props.get("Principal").cloned(),
            actions: vec![short(&props["Action"])],
            resources: vec![short(&props["FunctionName"])],
            condition: {
                let mut condition = serde_json::Map::new();
                for key in ["SourceArn", "SourceAccount", "PrincipalOrgID"] {
                    if let Some(v) = props.get(key) {
                        condition.insert(key.to_owned(), v.clone());
                    }
                }
                (!condition.is_empty()).then_some(Json::Object(condition))
            },
        });
    }
    match type_name {
        "AWS::EC2::SecurityGroup" => {
            for (key, direction) in [
                ("SecurityGroupIngress", "ingress"),
                ("SecurityGroupEgress", "egress"),
            ] {
                for rule in as_list(&props[key]) {
                    out.push(sg_rule(direction, rule, None));
                }
            }
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            // The group is part of the rule: moving it to another group changes who it opens.
            let direction = if type_name.ends_with("Ingress") {
                "ingress"
            } else {
                "egress"
            };
            let group = props
                .get("GroupId")
                .or_else(|| props.get("GroupName"))
                .map(short);
            out.push(sg_rule(direction, props, group));
        }
        "AWS::ElasticLoadBalancingV2::LoadBalancer"
            if props["Scheme"].as_str() != Some("internal") =>
        {
            out.push(Grant::Exposure {
                what: "an internet-facing load balancer (Scheme internet-facing)".into(),
            });
        }
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster"
            if props["PubliclyAccessible"] == json!(true) =>
        {
            out.push(Grant::Exposure {
                what: "a publicly accessible database (PubliclyAccessible true)".into(),
            });
        }
        "AWS::S3::Bucket" => {
            let block = &props["PublicAccessBlockConfiguration"];
            for setting in [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ] {
                if block.get(setting) == Some(&json!(false)) {
                    out.push(Grant::Exposure {
                        what: format!("public access allowed ({setting} false)"),
                    });
                }
            }
        }
        "AWS::EKS::Cluster"
            if props.pointer("/ResourcesVpcConfig/EndpointPublicAccess") != Some(&json!(false)) =>
        {
            let cidrs = props
                .pointer("/ResourcesVpcConfig/PublicAccessCidrs")
                .map_or_else(|| "0.0.0.0/0".to_owned(), short);
            out.push(Grant::Exposure {
                what: format!("a public Kubernetes API endpoint (from {cidrs})"),
            });
        }
        _ => {}
    }
    out
}

fn as_list(value: &Json) -> Vec<&Json> {
    match value {
        Json::Array(items) => items.iter().collect(),
        Json::Null => Vec::new(),
        other => vec![other],
    }
}

fn strings(value: &Json) -> Vec<String> {
    let mut out: Vec<String> = as_list(value).into_iter().map(short).collect();
    out.sort();
    out.dedup();
    out
}

fn statement(policy: String, s: &Json) -> Grant {
    let (actions, resources) = (
        if s.get("NotAction").is_some() {
            strings(&s["NotAction"])
                .into_iter()
                .map(|a| format!("NOT {a}"))
                .collect()
        } else {
            strings(&s["Action"])
        },
        if s.get("NotResource").is_some() {
            strings(&s["NotResource"])
                .into_iter()
                .map(|r| format!("NOT {r}"))
                .collect()
        } else {
            strings(&s["Resource"])
        },
    );
    Grant::Statement {
        policy,
        effect: s["Effect"].as_str().unwrap_or("Allow").to_owned(),
        principal: s
            .get("Principal")
            .cloned()
            .or_else(|| s.get("NotPrincipal").map(|p| json!({ "NotPrincipal": p }))),
        actions,
        resources,
        condition: s.get("Condition").cloned(),
    }
}

fn sg_rule(direction: &str, rule: &Json, group: Option<String>) -> Grant {
    let peer = [
        "CidrIp",
        "CidrIpv6",
        "SourceSecurityGroupId",
        "SourceSecurityGroupName",
        "SourcePrefixListId",
        "DestinationSecurityGroupId",
        "DestinationPrefixListId",
    ]
    .iter()
    .find_map(|k| rule.get(*k))
    .map_or_else(|| "(none)".to_owned(), short);
    // Numbers and names are the same protocol: 6 is tcp.
    let raw = match &rule["IpProtocol"] {
        Json::String(p) => p.to_ascii_lowercase(),
        other => short(other),
    };
    let protocol = match raw.as_str() {
        "-1" | "all" => "all".to_owned(),
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "58" => "icmpv6".to_owned(),
        _ => raw,
    };
    let port = |k: &str| rule.get(k).map(short);
    let ports = match (port("FromPort"), port("ToPort")) {
        _ if protocol == "all" => "all".to_owned(),
        (Some(f), Some(t)) if protocol.starts_with("icmp") => {
            if f == "-1" {
                "all".to_owned()
            } else if t == "-1" {
                format!("type {f}")
            } else {
                format!("type {f} code {t}")
            }
        }
        (Some(f), _) if f == "-1" => "all".to_owned(),
        (Some(f), Some(t)) if f == "0" && t == "65535" => "all".to_owned(),
        (Some(f), Some(t)) if f == t => f,
        (Some(f), Some(t)) => format!("{f}-{t}"),
        _ => "all".to_owned(),
    };
    Grant::Rule {
        group,
        direction: direction.to_owned(),
        peer,
        protocol,
        ports,
    }
}

/// A value in one short line: strings as they are, `Ref`/`GetAtt`/`ImportValue` by what they
/// name, anything else as compact JSON.
fn short(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Object(map) if map.len() == 1 => {
            let (key, inner) = map
                .iter()
                .next()
                .map_or(("", &Json::Null), |(k, v)| (k.as_str(), v));
            match (key, inner) {
                ("Ref", Json::String(id)) => id.clone(),
                ("Fn::GetAtt", Json::Array(parts)) => parts
                    .iter()
                    .map(|p| p.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("."),
                ("Fn::ImportValue", name) => format!("import {}", short(name)),
                ("Fn::Sub", Json::String(text)) => text.clone(),
                _ => value.to_string(),
            }
        }
        other => other.to_string(),
    }
}

fn type_of(r: Option<&Json>) -> &str {
    r.and_then(|r| r["Type"].as_str()).unwrap_or_default()
}

fn access_changes(
    old: &serde_json::Map<String, Json>,
    new: &serde_json::Map<String, Json>,
    paths: &BTreeMap<String, String>,
) -> Vec<AccessChange> {
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        let (o, n) = (old.get(id), new.get(id));
        if o == n {
            continue;
        }
        let type_name = if n.is_some() { type_of(n) } else { type_of(o) }.to_owned();
        let before = o.map(|r| grants(type_of(o), r)).unwrap_or_default();
        let after = n.map(|r| grants(type_of(n), r)).unwrap_or_default();
        let mut push = |grant: &Grant, added: bool| {
            let deny = matches!(grant, Grant::Statement { effect, .. } if effect == "Deny");
            // Adding an Allow or removing a Deny widens; the others narrow.
            let direction = if added == deny {
                Direction::Narrows
            } else {
                Direction::Widens
            };
            out.push(AccessChange {
                logical_id: id.clone(),
                path: paths.get(id).cloned(),
                type_name: type_name.clone(),
                direction,
                added,
                grant: grant.clone(),
            });
        };
        let mut added: Vec<Grant> = after
            .iter()
            .filter(|g| !before.contains(g))
            .cloned()
            .collect();
        let mut removed: Vec<Grant> = before
            .iter()
            .filter(|g| !after.contains(g))
            .cloned()
            .collect();
        // A resource added or removed together with what it protects changes no access by
        // its Deny statements (a new bucket's TLS-only policy narrows nothing); a policy added
        // to or removed from a resource that stays does.
        if n.is_none() && !protects_remaining(o, new) {
            removed.retain(|g| !matches!(g, Grant::Statement { effect, .. } if effect == "Deny"));
        }
        if o.is_none() && !protects_remaining(n, old) {
            added.retain(|g| !matches!(g, Grant::Statement { effect, .. } if effect == "Deny"));
        }
        // A statement that only gained or lost actions is shown as those actions.
        let mut i = 0;
        while i < added.len() {
            let partner = removed.iter().position(|r| same_but_actions(&added[i], r));
            if let Some(j) = partner {
                let (new_statement, old_statement) = (added.remove(i), removed.remove(j));
                let (gained, lost) = action_delta(&new_statement, &old_statement);
                if let Some(g) = gained {
                    push(&g, true);
                }
                if let Some(l) = lost {
                    push(&l, false);
                }
            } else {
                i += 1;
            }
        }
        for g in &added {
            push(g, true);
        }
        for g in &removed {
            push(g, false);
        }
    }
    out.sort_by(|a, b| {
        (
            a.direction,
            !a.grant.internet(),
            !a.grant.wildcard(),
            !a.added,
        )
            .cmp(&(
                b.direction,
                !b.grant.internet(),
                !b.grant.wildcard(),
                !b.added,
            ))
            .then_with(|| a.logical_id.cmp(&b.logical_id))
    });
    out
}

/// Whether `resource` is a policy attached to a resource that is still there (`Bucket`,
/// `Queues`, `Topics`, `Roles`, ... naming a logical id of `remaining`).
fn protects_remaining(resource: Option<&Json>, remaining: &serde_json::Map<String, Json>) -> bool {
    let Some(props) = resource.map(|r| &r["Properties"]) else {
        return false;
    };
    [
        "Bucket", "Queues", "Topics", "Roles", "Users", "Groups", "KeyId",
    ]
    .iter()
    .filter_map(|k| props.get(*k))
    .flat_map(as_list)
    .filter_map(|v| v.get("Ref").and_then(Json::as_str))
    .any(|id| remaining.contains_key(id))
}

/// Whether two statements differ in their actions only.
fn same_but_actions(a: &Grant, b: &Grant) -> bool {
    match (a, b) {
        (
            Grant::Statement {
                policy: p1,
                effect: e1,
                principal: pr1,
                resources: r1,
                condition: c1,
                ..
            },
            Grant::Statement {
                policy: p2,
                effect: e2,
                principal: pr2,
                resources: r2,
                condition: c2,
                ..
            },
        ) => {
            p1 == p2 && e1 == e2 && pr1 == pr2 && r1 == r2 && c1 == c2 && !negated(a) && !negated(b)
        }
        _ => false,
    }
}

/// Whether a statement lists `NotAction`: gaining an excluded action narrows it, so its
/// actions are not compared one by one.
fn negated(g: &Grant) -> bool {
    matches!(g, Grant::Statement { actions, .. } if actions.iter().any(|a| a.starts_with("NOT ")))
}

/// The actions `new` has that `old` has not, and those it lost, each as a statement.
fn action_delta(new: &Grant, old: &Grant) -> (Option<Grant>, Option<Grant>) {
    let (Grant::Statement { actions: a_new, .. }, Grant::Statement { actions: a_old, .. }) =
        (new, old)
    else {
        return (None, None);
    };
    let with_actions = |g: &Grant, actions: Vec<String>| match g {
        Grant::Statement {
            policy,
            effect,
            principal,
            resources,
            condition,
            ..
        } if !actions.is_empty() => Some(Grant::Statement {
            policy: policy.clone(),
            effect: effect.clone(),
            principal: principal.clone(),
            actions,
            resources: resources.clone(),
            condition: condition.clone(),
        }),
        _ => None,
    };
    let gained: Vec<String> = a_new
        .iter()
        .filter(|a| !a_old.contains(a))
        .cloned()
        .collect();
    let lost: Vec<String> = a_old
        .iter()
        .filter(|a| !a_new.contains(a))
        .cloned()
        .collect();
    (with_actions(new, gained), with_actions(old, lost))
}

// ---- exports, outputs, parameters, tags ----

fn collect_imports(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                if k == "Fn::ImportValue" {
                    out.push(short(v));
                } else {
                    collect_imports(v, out);
                }
            }
        }
        Json::Array(items) => {
            for v in items {
                collect_imports(v, out);
            }
        }
        _ => {}
    }
}

fn exported(template: &Json) -> BTreeMap<String, (String, Json)> {
    let mut out = BTreeMap::new();
    for (output, body) in template
        .get("Outputs")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(name) = body.pointer("/Export/Name") {
            out.insert(short(name), (output.clone(), body["Value"].clone()));
        }
    }
    out
}

fn export_changes(
    old: &Json,
    new: &Json,
    imports: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<ExportChange> {
    let (before, after) = (exported(old), exported(new));
    let mut out = Vec::new();
    for (name, (output, value)) in &before {
        let kind = match after.get(name) {
            None => ChangeKind::Removed,
            Some((_, v)) if v != value => ChangeKind::Modified,
            Some(_) => continue,
        };
        out.push(ExportChange {
            name: name.clone(),
            output: output.clone(),
            kind,
            imported_by: imports
                .get(name)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
        });
    }
    out
}

fn setting_changes(pair: &StackPair, diff: &TemplateDiff) -> Vec<SettingChange> {
    let mut out = Vec::new();
    let value = |side: Option<&StackSide>, section: &str, name: &str| {
        side.and_then(|s| s.template.get(section))
            .and_then(|s| s.get(name))
            .map(|v| match section {
                "Outputs" => v.get("Value").cloned().unwrap_or_else(|| v.clone()),
                "Parameters" => v.get("Default").cloned().unwrap_or(Json::Null),
                _ => v.clone(),
            })
    };
    for (key, kind) in &diff.other {
        let (section, name) = key.split_once('/').unwrap_or((key.as_str(), ""));
        out.push(SettingChange {
            section: section.to_owned(),
            name: name.to_owned(),
            kind: *kind,
            old: value(pair.old.as_ref(), section, name),
            new: value(pair.new.as_ref(), section, name),
        });
    }
    if let (Some(old), Some(new)) = (&pair.old, &pair.new) {
        if let (Some(a), Some(b)) = (&old.tags, &new.tags) {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let kind = match (a.get(k), b.get(k)) {
                    (None, Some(_)) => ChangeKind::Added,
                    (Some(_), None) => ChangeKind::Removed,
                    (Some(x), Some(y)) if x != y => ChangeKind::Modified,
                    _ => continue,
                };
                out.push(SettingChange {
                    section: "Tags".into(),
                    name: k.clone(),
                    kind,
                    old: a.get(k).map(|v| json!(v)),
                    new: b.get(k).map(|v| json!(v)),
                });
            }
        }
        if let (Some(a), Some(b)) = (old.termination_protection, new.termination_protection)
            && a != b
        {
            out.push(SettingChange {
                section: "TerminationProtection".into(),
                name: String::new(),
                kind: ChangeKind::Modified,
                old: Some(json!(a)),
                new: Some(json!(b)),
            });
        }
    }
    out
}

// ---- rendering ----

fn kind_word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Modified => "modified",
    }
}

fn resource_name(logical_id: &str, path: Option<&String>, type_name: &str) -> String {
    match path {
        Some(p) => format!("{p} ({type_name})"),
        None => format!("{logical_id} ({type_name})"),
    }
}

fn money(value: f64) -> String {
    let sign = if value < -0.004 { "-" } else { "" };
    format!("{sign}${:.2}", value.abs())
}

fn delta(value: f64) -> String {
    if value.abs() < 0.005 {
        "$0.00".into()
    } else if value > 0.0 {
        format!("+{}", money(value))
    } else {
        money(value)
    }
}

/// One line per danger: what a reviewer must see first, in order.
fn headlines(stack: &StackReview) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    for r in &stack.replacements {
        let what = resource_name(&r.logical_id, r.path.as_ref(), &r.type_name);
        let verb = if r.certain {
            "is replaced"
        } else {
            "may be replaced"
        };
        let forced = if r.forced_by.is_empty() {
            String::new()
        } else {
            format!(" (changing {})", r.forced_by.join(", "))
        };
        if r.stateful {
            out.push((
                u8::from(r.fate != Fate::Lost),
                format!("{what} {verb}{forced}: {}", r.fate.describe()),
            ));
        } else {
            out.push((2, format!("{what} {verb}{forced}")));
        }
    }
    for r in &stack.removals {
        out.push((
            u8::from(r.fate != Fate::Lost),
            format!(
                "{} is removed: {}",
                resource_name(&r.logical_id, r.path.as_ref(), &r.type_name),
                r.fate.describe()
            ),
        ));
    }
    // In a new stack every grant is new: only those open to the internet or with wildcards
    // are headlines there (the rest are in the stack's details).
    let new_stack = stack.kind == Some(ChangeKind::Added);
    for a in stack.access.iter().filter(|a| {
        a.direction == Direction::Widens && (!new_stack || a.grant.internet() || a.grant.wildcard())
    }) {
        let mut notes = Vec::new();
        if a.grant.internet() {
            notes.push("open to the internet");
        }
        if a.grant.wildcard() {
            notes.push("wildcard");
        }
        out.push((
            u8::from(!a.grant.internet()),
            format!(
                "access widens on {}: {}{}",
                resource_name(&a.logical_id, a.path.as_ref(), &a.type_name),
                a.grant.describe(),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join(", "))
                }
            ),
        ));
    }
    for e in &stack.exports {
        if !e.imported_by.is_empty() {
            out.push((
                0,
                format!(
                    "export {} is {} while {} still import{} it: the deploy fails",
                    e.name,
                    kind_word(e.kind),
                    e.imported_by.join(", "),
                    if e.imported_by.len() == 1 { "s" } else { "" }
                ),
            ));
        }
    }
    out.sort_by_key(|(rank, _)| *rank);
    out
}

/// The review for a terminal.
pub fn render_text(review: &Review, style: Style) -> String {
    let mut out = String::new();
    if review.is_empty() {
        out.push_str("No differences.\n");
        return out;
    }
    let changed: Vec<&StackReview> = review.stacks.iter().filter(|s| !s.is_empty()).collect();
    let _ = writeln!(
        out,
        "{}",
        style.paint(
            "1",
            &format!("{} of {} stacks change", changed.len(), review.stacks.len())
        )
    );
    for stack in &changed {
        let _ = writeln!(
            out,
            "\n{}{}",
            style.paint("1", &format!("Stack {}", stack.name)),
            stack
                .kind
                .map(|k| format!(" ({})", kind_word(k)))
                .unwrap_or_default()
        );
        for (rank, line) in headlines(stack) {
            let mark = match rank {
                0 => style.paint("1;31", "!!"),
                1 => style.paint("33", "! "),
                _ => style.paint("33", "~ "),
            };
            let _ = writeln!(out, "  {mark} {line}");
        }
        for a in stack
            .access
            .iter()
            .filter(|a| a.direction == Direction::Narrows)
        {
            let _ = writeln!(
                out,
                "  {} access narrows on {}: {} {}",
                style.paint("32", "- "),
                resource_name(&a.logical_id, a.path.as_ref(), &a.type_name),
                if a.added { "added" } else { "removed" },
                a.grant.describe()
            );
        }
        for e in stack.exports.iter().filter(|e| e.imported_by.is_empty()) {
            let _ = writeln!(out, "  ~  export {} {}", e.name, kind_word(e.kind));
        }
        for s in &stack.settings {
            let _ = writeln!(out, "  ~  {}", setting_line(s));
        }
        let details = crate::diff::render(&stack.name, &stack.diff, style);
        for line in details.lines().skip(1) {
            let _ = writeln!(out, "  {line}");
        }
    }
    if let Some(cost) = &review.cost {
        let (before, after) = cost.totals();
        let _ = writeln!(
            out,
            "\nMonthly cost: {} -> {} ({})",
            money(before),
            money(after),
            delta(after - before)
        );
        for (name, b, a) in cost
            .stacks
            .iter()
            .filter(|(_, b, a)| (a - b).abs() >= 0.005)
        {
            let _ = writeln!(
                out,
                "  {name}: {} -> {} ({})",
                money(*b),
                money(*a),
                delta(a - b)
            );
        }
    }
    render_checks_text(review, &mut out);
    out
}

fn setting_line(s: &SettingChange) -> String {
    let name = if s.name.is_empty() {
        s.section.clone()
    } else {
        format!("{} {}", s.section.trim_end_matches('s'), s.name)
    };
    let value = |v: &Option<Json>| v.as_ref().map_or_else(|| "(none)".to_owned(), short);
    match s.kind {
        ChangeKind::Added => format!("{name} added: {}", value(&s.new)),
        ChangeKind::Removed => format!("{name} removed (was {})", value(&s.old)),
        ChangeKind::Modified => format!("{name}: {} -> {}", value(&s.old), value(&s.new)),
    }
}

fn render_checks_text(review: &Review, out: &mut String) {
    if !review.findings.is_empty() {
        let _ = writeln!(out, "\nCheck findings:");
        for f in &review.findings {
            let _ = writeln!(
                out,
                "  {} {}[{}] {}: {}",
                if f.appeared { "new" } else { "fixed" },
                f.severity,
                f.rule,
                f.path,
                f.message
            );
        }
    }
    if !review.suppressions.is_empty() {
        let _ = writeln!(out, "\nSuppressions:");
        for s in &review.suppressions {
            let _ = writeln!(
                out,
                "  {} {} on {}: {}",
                if s.added { "added" } else { "removed" },
                s.rule,
                s.scope,
                s.reason
            );
        }
    }
}

/// GitHub's limit on a comment's length, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The review as a pull-request comment: a summary table, the dangers, then each stack's
/// details in collapsed sections; kept under `limit` characters by folding the least
/// important parts first (property-level details, then the other resources, then
/// settings), saying what was folded.
pub fn render_markdown(review: &Review, limit: usize) -> String {
    for level in 0..=4 {
        let text = markdown_at(review, level);
        if text.chars().count() <= limit {
            return text;
        }
    }
    // Even the summary does not fit: cut it, and say so.
    let text = markdown_at(review, 4);
    let note =
        "\n\n_The review was cut to fit a comment; run `diff --against` locally for all of it._\n";
    let room = note.chars().count();
    if limit <= room {
        return note.chars().take(limit).collect();
    }
    let keep: String = text.chars().take(limit - room).collect();
    // At the end of a line, not in the middle of a word or a code span.
    let cut = keep.rfind('\n').map_or(keep.as_str(), |at| &keep[..at]);
    format!("{cut}{note}")
}

fn escape(text: &str) -> String {
    // Every character Markdown could read as markup is escaped (the `*` of IAM wildcards would
    // otherwise become emphasis), and newlines become spaces.
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn markdown_at(review: &Review, fold: u8) -> String {
    let mut out = String::new();
    out.push_str("## Infrastructure review\n\n");
    if review.is_empty() {
        out.push_str("No differences.\n");
        return out;
    }
    out.push_str("| Stack | Change | Replaced | Data lost | Access widens | Access narrows | Exports still imported | Resources +/~/- | Cost a month |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---|---:|\n");
    let cost_of = |name: &str| {
        review.cost.as_ref().and_then(|c| {
            c.stacks
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, b, a)| delta(a - b))
        })
    };
    for s in review.stacks.iter().filter(|s| !s.is_empty()) {
        let count = |k: ChangeKind| s.diff.resources.iter().filter(|r| r.kind == k).count();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {}/{}/{} | {} |",
            s.name,
            s.kind.map_or("", kind_word),
            s.replacements.len(),
            s.data_lost(),
            s.widening(),
            s.access.len() - s.widening(),
            s.breaking_exports(),
            count(ChangeKind::Added),
            count(ChangeKind::Modified),
            count(ChangeKind::Removed),
            cost_of(&s.name).unwrap_or_else(|| "-".into()),
        );
    }
    if let Some(cost) = &review.cost {
        let (before, after) = cost.totals();
        let _ = writeln!(
            out,
            "| **Total** | | | | | | | | **{}** ({} → {}) |",
            delta(after - before),
            money(before),
            money(after)
        );
    }
    let dangers: Vec<(u8, String, String)> = review
        .stacks
        .iter()
        .flat_map(|s| {
            headlines(s)
                .into_iter()
                .map(move |(rank, line)| (rank, s.name.clone(), line))
        })
        .collect();
    if !dangers.is_empty() {
        out.push_str("\n### Look at these first\n\n");
        let mut sorted = dangers;
        sorted.sort_by_key(|(rank, _, _)| *rank);
        // At the last folding levels, the first of them only.
        let keep = match fold {
            0 | 1 => usize::MAX,
            2 => 40,
            _ => 15,
        };
        let total = sorted.len();
        if total > keep {
            sorted.truncate(keep);
        }
        for (rank, stack, line) in sorted {
            let mark = match rank {
                0 => "🛑",
                1 => "⚠️",
                _ => "🔁",
            };
            let _ = writeln!(out, "- {mark} **{}**: {}", escape(&stack), escape(&line));
        }
        if total > keep {
            let _ = writeln!(
                out,
                "- … and {} more, in the stacks' details below",
                total - keep
            );
        }
    }
    let mut folded = Vec::new();
    for s in review.stacks.iter().filter(|s| !s.is_empty()) {
        if fold >= 4 {
            folded.push(format!("{}: details", s.name));
            continue;
        }
        let _ = write!(
            out,
            "\n<details><summary><b>{}</b>: {}</summary>\n\n",
            escape(&s.name),
            summary_line(s)
        );
        let narrows: Vec<&AccessChange> = s
            .access
            .iter()
            .filter(|a| a.direction == Direction::Narrows)
            .collect();
        if !s.access.is_empty() {
            out.push_str("**Access**\n\n| | Resource | Grant |\n|---|---|---|\n");
            for a in s
                .access
                .iter()
                .filter(|a| a.direction == Direction::Widens)
                .chain(narrows)
            {
                let _ = writeln!(
                    out,
                    "| {} {} | {} | {} |",
                    a.direction.key(),
                    if a.added { "(added)" } else { "(removed)" },
                    escape(&resource_name(&a.logical_id, a.path.as_ref(), &a.type_name)),
                    escape(&a.grant.describe())
                );
            }
            out.push('\n');
        }
        if !s.exports.is_empty() {
            out.push_str("**Exports**\n\n");
            for e in &s.exports {
                let importers = if e.imported_by.is_empty() {
                    "no stack of this change imports it".to_owned()
                } else {
                    format!(
                        "still imported by {}: the deploy fails",
                        e.imported_by.join(", ")
                    )
                };
                let _ = writeln!(out, "- `{}` {}: {}", e.name, kind_word(e.kind), importers);
            }
            out.push('\n');
        }
        if fold < 3 {
            if !s.settings.is_empty() {
                out.push_str("**Outputs, parameters, tags**\n\n");
                for c in &s.settings {
                    let _ = writeln!(out, "- {}", escape(&setting_line(c)));
                }
                out.push('\n');
            }
        } else if !s.settings.is_empty() {
            folded.push(format!("{}: {} settings", s.name, s.settings.len()));
        }
        if fold < 2 {
            if !s.diff.resources.is_empty() {
                out.push_str("**Resources**\n\n");
                for r in &s.diff.resources {
                    let _ = writeln!(
                        out,
                        "- {} {}",
                        kind_word(r.kind),
                        escape(&resource_name(
                            &r.logical_id,
                            s.paths.get(&r.logical_id),
                            &r.type_name
                        ))
                    );
                    if fold < 1 {
                        for p in &r.properties {
                            let _ = writeln!(out, "  - `{}`{}", p.name, impact_note(p.impact));
                        }
                    }
                }
                if fold >= 1 && s.diff.resources.iter().any(|r| !r.properties.is_empty()) {
                    folded.push(format!("{}: property-level changes", s.name));
                }
                out.push('\n');
            }
        } else if !s.diff.resources.is_empty() {
            folded.push(format!(
                "{}: {} resource changes",
                s.name,
                s.diff.resources.len()
            ));
        }
        out.push_str("</details>\n");
    }
    if !review.findings.is_empty() || !review.suppressions.is_empty() {
        out.push_str("\n### Checks\n\n");
        for f in &review.findings {
            let _ = writeln!(
                out,
                "- {} `{}` {} at `{}`: {}",
                if f.appeared { "new" } else { "fixed" },
                f.rule,
                f.severity,
                f.path,
                escape(&f.message)
            );
        }
        for s in &review.suppressions {
            let _ = writeln!(
                out,
                "- suppression {} `{}` on `{}`: {}",
                if s.added { "added" } else { "removed" },
                s.rule,
                s.scope,
                escape(&s.reason)
            );
        }
    }
    if let Some(graph) = &review.graph {
        if fold < 2 {
            let _ = write!(
                out,
                "\n<details><summary>The stacks and the references between them (changed stacks marked)</summary>\n\n```mermaid\n{}\n```\n\n</details>\n",
                graph.trim_end()
            );
        } else {
            folded.push("the graph of the stacks".to_owned());
        }
    }
    if !folded.is_empty() {
        let _ = write!(
            out,
            "\n_Folded to fit a comment: {}. Run `diff --against` locally for them._\n",
            folded.join("; ")
        );
    }
    out
}

fn impact_note(impact: Impact) -> &'static str {
    match impact {
        Impact::Replace => " (replaces)",
        Impact::MayReplace => " (may replace)",
        Impact::Unknown | Impact::None => "",
    }
}

fn summary_line(s: &StackReview) -> String {
    let mut parts = Vec::new();
    if !s.replacements.is_empty() {
        parts.push(format!("{} replaced", s.replacements.len()));
    }
    if s.widening() > 0 {
        parts.push(format!("access widens ×{}", s.widening()));
    }
    parts.push(format!("{} resource changes", s.diff.resources.len()));
    parts.join(", ")
}

/// The review as JSON, for scripts.
pub fn to_json(review: &Review) -> Json {
    let stacks: Vec<Json> = review
        .stacks
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "change": s.kind.map(kind_word),
                "replacements": s.replacements.iter().map(|r| json!({
                    "logicalId": r.logical_id, "path": r.path, "type": r.type_name,
                    "forcedBy": r.forced_by, "certain": r.certain, "stateful": r.stateful,
                    "data": r.stateful.then(|| r.fate.key()),
                })).collect::<Vec<_>>(),
                "removedStateful": s.removals.iter().map(|r| json!({
                    "logicalId": r.logical_id, "path": r.path, "type": r.type_name, "data": r.fate.key(),
                })).collect::<Vec<_>>(),
                "access": s.access.iter().map(|a| json!({
                    "direction": a.direction.key(), "added": a.added, "logicalId": a.logical_id,
                    "path": a.path, "type": a.type_name, "kind": a.grant.kind(),
                    "grant": a.grant.to_json(), "internet": a.grant.internet(), "wildcard": a.grant.wildcard(),
                })).collect::<Vec<_>>(),
                "exports": s.exports.iter().map(|e| json!({
                    "name": e.name, "output": e.output, "change": kind_word(e.kind), "importedBy": e.imported_by,
                })).collect::<Vec<_>>(),
                "settings": s.settings.iter().map(|c| json!({
                    "section": c.section, "name": c.name, "change": kind_word(c.kind), "old": c.old, "new": c.new,
                })).collect::<Vec<_>>(),
                "resources": s.diff.resources.iter().map(|r| resource_json(r, s.paths.get(&r.logical_id))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let cost = review.cost.as_ref().map(|c| {
        let (before, after) = c.totals();
        json!({
            "before": round(before), "after": round(after), "change": round(after - before),
            "stacks": c.stacks.iter().map(|(n, b, a)| json!({"name": n, "before": round(*b), "after": round(*a)})).collect::<Vec<_>>(),
        })
    });
    json!({
        "stacks": stacks,
        "cost": cost,
        "findings": review.findings.iter().map(|f| json!({
            "appeared": f.appeared, "rule": f.rule, "severity": f.severity, "stack": f.stack, "path": f.path, "message": f.message,
        })).collect::<Vec<_>>(),
        "suppressions": review.suppressions.iter().map(|s| json!({
            "added": s.added, "rule": s.rule, "scope": s.scope, "reason": s.reason,
        })).collect::<Vec<_>>(),
    })
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn resource_json(r: &ResourceDiff, path: Option<&String>) -> Json {
    json!({
        "logicalId": r.logical_id,
        "path": path,
        "type": r.type_name,
        "change": kind_word(r.kind),
        "properties": r.properties.iter().map(|p| json!({
            "name": p.name, "old": p.old, "new": p.new,
            "replaces": match p.impact { Impact::Replace => json!(true), Impact::MayReplace | Impact::Unknown => json!("maybe"), Impact::None => json!(false) },
        })).collect::<Vec<_>>(),
        "attributes": r.attributes,
    })
}
