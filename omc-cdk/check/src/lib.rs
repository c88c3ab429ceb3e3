//! Security and resilience checks over the synthesized templates, with reasoned suppressions
//! (crate `omc-cdk-check`, re-exported as `omc_cdk::check`). Pure: the rules read the
//! templates through the model of `omc-cdk-template`, nothing else.
//!
//! Every `synth` runs the [rule pack](rules::all) over the resolved model of the app (all
//! templates at once, so a security group in one stack is seen attached to a load balancer in
//! another): errors fail synthesis, warnings are printed. The `check` command prints the whole
//! report (findings, and every suppression with its reason) as a table, JSON or SARIF.
//!
//! A rule's severity can differ by [`Stage`]: a single-AZ database is a warning in staging and
//! an error in production. The stage comes from the app (`omc_cdk::App::with_stage`) or the
//! stack (`omc_cdk::StackProps::stage`); without one, stacks are checked as production.
//!
//! A finding that is accepted is suppressed where it occurs, with a reason a reviewer can
//! judge: `omc_cdk::Scope::suppress` on a construct (it covers every resource under it) or
//! `omc_cdk::Resource::suppress` on one resource. Suppressions are written into the resources'
//! `Metadata` (`omc:check`), so they show in the template and its diff; a suppression that no
//! longer matches any finding is reported.
//!
//! ```
//! use omc_cdk::{App, Stack, StackProps, RawResource, Stage, check};
//! let app = App::new().with_stage(Stage::Production);
//! let stack = Stack::new(&app, "Data", StackProps::default())?;
//! stack.child("Files")?.add("Resource", RawResource::new("AWS::EFS::FileSystem"))?;
//! let report = app.check()?;
//! let finding = &report.findings()[0];
//! assert_eq!(finding.rule, "efs-encrypted");
//! assert_eq!(finding.path, "Data/Files/Resource");
//! assert!(report.has_errors());
//! # Ok::<(), omc_cdk::Error>(())
//! ```

mod report;
pub mod rules;

use std::collections::BTreeMap;

use serde_json::Value as Json;

pub use omc_cdk_template::{Model, ResourceView, StackInput, Stage};
pub use report::{Format, Report, SuppressionUse};

/// The metadata key under which suppressions are written into a resource's `Metadata`.
pub const METADATA_KEY: &str = "omc:check";

/// Reasons shorter than this are refused: a reason must tell a reviewer why the finding is
/// acceptable.
pub const MIN_REASON_CHARS: usize = 20;

/// How serious a finding is. Errors fail `synth`; warnings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look; does not fail synthesis.
    Warning,
    /// Must be fixed or suppressed with a reason; fails synthesis.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A rule's severity in each stage; `None` turns the rule off in that stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Levels {
    /// In development stacks.
    pub development: Option<Severity>,
    /// In staging stacks.
    pub staging: Option<Severity>,
    /// In production stacks.
    pub production: Option<Severity>,
}

impl Levels {
    /// The same severity in every stage.
    pub const fn always(severity: Severity) -> Levels {
        Levels {
            development: Some(severity),
            staging: Some(severity),
            production: Some(severity),
        }
    }

    /// An error in production, a warning elsewhere.
    pub const fn error_in_production() -> Levels {
        Levels {
            development: Some(Severity::Warning),
            staging: Some(Severity::Warning),
            production: Some(Severity::Error),
        }
    }

    /// The severity in `stage`.
    pub fn at(&self, stage: Stage) -> Option<Severity> {
        match stage {
            Stage::Development => self.development,
            Stage::Staging => self.staging,
            // Production, and any stage added later: the strictest.
            _ => self.production,
        }
    }
}

/// What a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Data encrypted where it is stored.
    EncryptionAtRest,
    /// Data encrypted on the wire.
    EncryptionInTransit,
    /// What the internet can reach.
    PublicExposure,
    /// Who may do what.
    Identity,
    /// Records of what happened, and detection.
    Logging,
    /// Surviving failures and mistakes.
    Resilience,
    /// How containers run.
    Containers,
    /// The suppressions themselves.
    Suppressions,
}

impl Category {
    /// A heading for the category.
    pub fn title(self) -> &'static str {
        match self {
            Category::EncryptionAtRest => "Encryption at rest",
            Category::EncryptionInTransit => "Encryption in transit",
            Category::PublicExposure => "Public exposure",
            Category::Identity => "Identity and access",
            Category::Logging => "Logging and detection",
            Category::Resilience => "Resilience",
            Category::Containers => "Containers",
            Category::Suppressions => "Suppressions",
        }
    }
}

/// A rule's documentation, in one fixed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleDoc {
    /// What the rule checks.
    pub checks: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix a finding (one or two sentences; shown with every finding).
    pub fix: &'static str,
    /// An example of a passing configuration (CloudFormation JSON or omc-cdk Rust).
    pub example: &'static str,
}

/// The checks of other scanners that find what one of our rules finds, by their own ids.
///
/// A suppression of the rule is written for them too, with the same reason, in the metadata
/// each reads: `Metadata.checkov.skip` (`id`, `comment`), `Metadata.cfn_nag.rules_to_suppress`
/// (`id`, `reason`) and `Metadata.cfn-lint.config.ignore_checks`. So a team's own scanner skips
/// exactly what a reviewer accepted here, for the reason written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Equivalents {
    /// checkov's checks (CloudFormation framework), such as `CKV_AWS_16`.
    pub checkov: &'static [&'static str],
    /// `cfn_nag`'s rules, such as `F26`.
    pub cfn_nag: &'static [&'static str],
    /// cfn-lint's rules, such as `W3011`; few of them are about security.
    pub cfn_lint: &'static [&'static str],
}

impl Equivalents {
    /// No other scanner has an equivalent check.
    pub const NONE: Equivalents = Equivalents {
        checkov: &[],
        cfn_nag: &[],
        cfn_lint: &[],
    };

    /// Whether no scanner has an equivalent.
    pub fn is_empty(&self) -> bool {
        self.checkov.is_empty() && self.cfn_nag.is_empty() && self.cfn_lint.is_empty()
    }

    /// `checkov CKV_AWS_157; cfn_nag F26` (empty when there are none).
    pub fn describe(&self) -> String {
        [
            ("checkov", self.checkov),
            ("cfn_nag", self.cfn_nag),
            ("cfn-lint", self.cfn_lint),
        ]
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(tool, ids)| format!("{tool} {}", ids.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
    }
}

/// A check over one resource of the resolved model.
///
/// The built-in rules are [`rules::all`]; an app adds its own with `omc_cdk::App::add_rule`.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// A stable kebab-case id, such as `rds-storage-encrypted`; suppressions name it.
    pub id: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// What the rule is about.
    pub category: Category,
    /// The severity in each stage.
    pub levels: Levels,
    /// The resource types the rule looks at.
    pub types: &'static [&'static str],
    /// Reports violations of one resource.
    pub check: fn(&ResourceView<'_>, &mut Violations),
    /// The documentation.
    pub doc: RuleDoc,
    /// Other scanners' checks for the same thing; suppressions are written for them too.
    pub equivalents: Equivalents,
}

/// One problem a rule found in a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property concerned, such as `SecurityGroupIngress[0].CidrIp`; empty for the whole
    /// resource.
    pub property: String,
    /// What is wrong, with the bad value.
    pub message: String,
    /// A lower severity than the rule's for this violation (for example a wildcard scoped by a
    /// condition); `None` keeps the rule's.
    pub severity: Option<Severity>,
}

/// The violations a rule reports for one resource.
#[derive(Debug, Default)]
pub struct Violations {
    items: Vec<Violation>,
}

impl Violations {
    /// Reports a violation at `property` (empty for the whole resource).
    pub fn add(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.items.push(Violation {
            property: property.into(),
            message: message.into(),
            severity: None,
        });
    }

    /// Reports a violation that is at most a warning.
    pub fn warn(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.items.push(Violation {
            property: property.into(),
            message: message.into(),
            severity: Some(Severity::Warning),
        });
    }
}

/// A finding: a rule's violation in one resource, with its severity in the resource's stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id.
    pub rule: String,
    /// The severity in this stack's stage.
    pub severity: Severity,
    /// The stack.
    pub stack: String,
    /// The stack's stage.
    pub stage: Stage,
    /// The resource's logical id.
    pub logical_id: String,
    /// The construct path (`Stack/Construct/Resource`), or `Stack/LogicalId` when the template
    /// came without paths.
    pub path: String,
    /// The resource type.
    pub resource_type: String,
    /// The property concerned; empty for the whole resource.
    pub property: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// The reason, when a suppression covers the finding.
    pub suppressed: Option<String>,
}

/// Runs `rules` over the stacks and returns the report: the findings (suppressed ones
/// included, with their reason), every suppression and whether it matched, and problems with
/// the suppressions themselves (no reason, an unknown rule, matching nothing).
pub fn check(stacks: &[StackInput<'_>], rules: &[Rule]) -> Report {
    let model = Model::new(stacks);
    let mut findings = Vec::new();
    let mut by_type: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
    for rule in rules {
        for t in rule.types {
            by_type.entry(t).or_default().push(rule);
        }
    }
    let known: std::collections::BTreeSet<&str> = rules
        .iter()
        .map(|r| r.id)
        .chain(rules::META.iter().map(|r| r.id))
        .collect();
    let mut uses: BTreeMap<(usize, String, String), SuppressionUse> = BTreeMap::new();
    let mut meta = Vec::new();

    for view in model.resources() {
        let declared = suppressions_of(&view, &known, &mut meta);
        for s in &declared {
            uses.entry((view.stack_index(), s.scope.clone(), s.rule.clone()))
                .or_insert_with(|| SuppressionUse {
                    stack: view.stack_name().to_owned(),
                    scope: s.scope_path(view.stack_name()),
                    rule: s.rule.clone(),
                    reason: s.reason.clone(),
                    matched: 0,
                });
        }
        let Some(candidates) = by_type.get(view.type_name()) else {
            continue;
        };
        for rule in candidates {
            let Some(level) = rule.levels.at(view.stage()) else {
                continue;
            };
            let mut violations = Violations::default();
            (rule.check)(&view, &mut violations);
            for v in violations.items {
                let mut suppressed = None;
                for s in declared.iter().filter(|s| s.rule == rule.id) {
                    if let Some(u) =
                        uses.get_mut(&(view.stack_index(), s.scope.clone(), s.rule.clone()))
                    {
                        u.matched += 1;
                    }
                    suppressed.get_or_insert_with(|| s.reason.clone());
                }
                findings.push(Finding {
                    rule: rule.id.to_owned(),
                    severity: v.severity.map_or(level, |s| s.min(level)),
                    stack: view.stack_name().to_owned(),
                    stage: view.stage(),
                    logical_id: view.logical_id().to_owned(),
                    path: view.path(),
                    resource_type: view.type_name().to_owned(),
                    property: v.property,
                    message: v.message,
                    fix: rule.doc.fix.to_owned(),
                    suppressed,
                });
            }
        }
    }
    let suppressions: Vec<SuppressionUse> = uses.into_values().collect();
    for u in &suppressions {
        if u.matched == 0 {
            meta.push(Finding {
                rule: rules::UNUSED_SUPPRESSION.id.to_owned(),
                severity: Severity::Warning,
                stack: u.stack.clone(),
                stage: model.stage_of(&u.stack).unwrap_or(Stage::Production),
                logical_id: String::new(),
                path: u.scope.clone(),
                resource_type: String::new(),
                property: String::new(),
                message: format!(
                    "the suppression of {:?} (\"{}\") matches no finding",
                    u.rule, u.reason
                ),
                fix: rules::UNUSED_SUPPRESSION.doc.fix.to_owned(),
                suppressed: None,
            });
        }
    }
    findings.extend(meta);
    findings.sort_by(|a, b| {
        (&a.stack, &a.path, &a.rule, &a.property).cmp(&(&b.stack, &b.path, &b.rule, &b.property))
    });
    findings.dedup();
    Report::new(findings, suppressions, rules)
}

/// A suppression read from a resource's metadata.
struct Declared {
    rule: String,
    reason: String,
    /// The scope it was declared on, inside the stack; the logical id when not given.
    scope: String,
}

impl Declared {
    fn scope_path(&self, stack: &str) -> String {
        format!("{stack}/{}", self.scope)
    }
}

fn suppressions_of(
    view: &ResourceView<'_>,
    known: &std::collections::BTreeSet<&str>,
    meta: &mut Vec<Finding>,
) -> Vec<Declared> {
    let Some(entries) = view
        .resource()
        .pointer(&format!("/Metadata/{METADATA_KEY}/suppressions"))
    else {
        return Vec::new();
    };
    let mut problem = |rule: &Rule, message: String| {
        meta.push(Finding {
            rule: rule.id.to_owned(),
            severity: Severity::Error,
            stack: view.stack_name().to_owned(),
            stage: view.stage(),
            logical_id: view.logical_id().to_owned(),
            path: view.path(),
            resource_type: view.type_name().to_owned(),
            property: format!("Metadata.{METADATA_KEY}"),
            message,
            fix: rule.doc.fix.to_owned(),
            suppressed: None,
        });
    };
    let Some(entries) = entries.as_array() else {
        problem(
            &rules::INVALID_SUPPRESSION,
            "suppressions must be a list of {\"rule\": ..., \"reason\": ...} objects".into(),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries {
        let rule = entry.get("rule").and_then(Json::as_str).unwrap_or_default();
        let reason = entry
            .get("reason")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .trim();
        if rule.is_empty() {
            problem(
                &rules::INVALID_SUPPRESSION,
                format!("a suppression names no rule: {entry}"),
            );
            continue;
        }
        if !known.contains(rule) {
            problem(
                &rules::INVALID_SUPPRESSION,
                format!("the suppression names {rule:?}, which is not a rule of this app"),
            );
            continue;
        }
        if let Err(message) = check_reason(reason) {
            problem(
                &rules::INVALID_SUPPRESSION,
                format!("the suppression of {rule:?} {message}"),
            );
            continue;
        }
        let scope = entry.get("scope").and_then(Json::as_str);
        out.push(Declared {
            rule: rule.to_owned(),
            reason: reason.to_owned(),
            scope: scope.map_or_else(|| view.logical_id().to_owned(), str::to_owned),
        });
    }
    out
}

/// Whether `reason` is acceptable as a suppression's reason; the error completes the sentence
/// "the suppression of RULE ...".
pub fn check_reason(reason: &str) -> Result<(), String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(
            "has no reason; say why the finding is acceptable here, for a reviewer to judge".into(),
        );
    }
    if reason.chars().count() < MIN_REASON_CHARS || !reason.contains(' ') {
        return Err(format!(
            "has the reason {reason:?}, too short to judge; write a sentence of at least {MIN_REASON_CHARS} characters saying why the finding is acceptable here"
        ));
    }
    Ok(())
}

/// The rule documentation as Markdown: `docs/checks.md` is this text for the built-in rules
/// (a test keeps it current).
pub fn rules_markdown(rules: &[Rule]) -> String {
    use std::fmt::Write as _;
    let level = |l: Option<Severity>| l.map_or("off", Severity::name);
    let mut out = String::new();
    out.push_str(
        "# Checks\n\n\
         <!-- Generated from omc-cdk/src/check/rules by `OMC_UPDATE_DOCS=1 cargo test -p omc-cdk --test checks`; do not edit. -->\n\n\
         Every `synth` (and `deploy`) runs these rules over the app's templates, all stacks at once, \
         so a value that crosses stacks is followed to the resource it names. Errors fail the \
         command; warnings are printed. `check` prints every finding and every suppression, as a \
         table, `--format json` or `--format sarif`.\n\n\
         A rule's severity depends on the stack's stage (`App::with_stage`, `StackProps::stage`; \
         without one, production). A finding that is accepted is suppressed where it occurs, with a \
         reason: `construct.suppress(rule, reason)` (the `omc_cdk::Construct` trait every construct implements; \
         `construct.node().find(id)` reaches one part) or `resource.suppress(rule, reason)`. \
         The suppression is written into the covered resources' `Metadata` under `omc:check`, and \
         one that matches no finding is reported.\n\n\
         Other scanners honour the same suppression: each rule names the equivalent checks of \
         checkov, cfn_nag and cfn-lint (the table [Other scanners](#other-scanners)), and a \
         suppression is also written, with the same reason, where each reads it: \
         `Metadata.checkov.skip` (`id`, `comment`), `Metadata.cfn_nag.rules_to_suppress` \
         (`id`, `reason`) and `Metadata.cfn-lint.config.ignore_checks`. `check` lists them \
         under each suppression (`also skips`).\n\n",
    );
    out.push_str("| Rule | What it checks | Development | Staging | Production |\n");
    out.push_str("|---|---|---|---|---|\n");
    for rule in rules {
        let _ = writeln!(
            out,
            "| [`{id}`](#{id}) | {} | {} | {} | {} |",
            rule.title,
            level(rule.levels.development),
            level(rule.levels.staging),
            level(rule.levels.production),
            id = rule.id,
        );
    }
    out.push_str(
        "\n## Other scanners\n\n\
         The checks of other scanners that find what each rule finds: checkov 3.3.30 \
         (CloudFormation framework), cfn_nag and cfn-lint 1.58.0. A suppression of the rule \
         skips these too.\n\n\
         | Rule | checkov | cfn_nag | cfn-lint |\n|---|---|---|---|\n",
    );
    let ids = |ids: &[&str]| {
        if ids.is_empty() {
            "-".to_owned()
        } else {
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    for rule in rules.iter().filter(|r| r.category != Category::Suppressions) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            rule.id,
            ids(rule.equivalents.checkov),
            ids(rule.equivalents.cfn_nag),
            ids(rule.equivalents.cfn_lint),
        );
    }
    let mut sorted: Vec<&Rule> = rules.iter().collect();
    sorted.sort_by_key(|r| r.category);
    let mut category = None;
    for rule in sorted {
        if category != Some(rule.category) {
            category = Some(rule.category);
            let _ = write!(out, "\n## {}\n", rule.category.title());
        }
        let _ = write!(
            out,
            "\n### {id}\n\n**{title}.** Severity: development {}, staging {}, production {}.\n\n\
             - **Checks:** {checks}\n- **Why:** {why}\n- **Fix:** {fix}\n{same}\n\
             Example:\n\n```{lang}\n{example}\n```\n",
            level(rule.levels.development),
            level(rule.levels.staging),
            level(rule.levels.production),
            id = rule.id,
            title = rule.title,
            checks = rule.doc.checks,
            why = rule.doc.why,
            fix = rule.doc.fix,
            same = if rule.equivalents.is_empty() {
                String::new()
            } else {
                format!("- **Same check elsewhere:** {}\n", rule.equivalents.describe())
            },
            lang = if rule.doc.example.trim_start().starts_with('{') {
                "json"
            } else {
                "rust"
            },
            example = rule.doc.example,
        );
    }
    out
}
