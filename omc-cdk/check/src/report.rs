//! The report of a check: findings and suppressions, as a table, JSON or SARIF 2.1.0.

use std::fmt::Write as _;

use serde_json::{Value as Json, json};

use super::{Equivalents, Finding, Rule, Severity, rules};

/// A suppression declared in the app, and how many findings it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressionUse {
    /// The stack.
    pub stack: String,
    /// Where it was declared: `Stack/Construct` (covering everything under it) or
    /// `Stack/LogicalId` for one resource.
    pub scope: String,
    /// The rule it suppresses.
    pub rule: String,
    /// Why the findings are acceptable.
    pub reason: String,
    /// How many findings it covers; 0 is reported as an unused suppression.
    pub matched: usize,
}

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text for people.
    #[default]
    Table,
    /// One JSON document: findings and suppressions.
    Json,
    /// SARIF 2.1.0, for code-scanning user interfaces.
    Sarif,
}

/// The result of checking an app.
#[derive(Clone, Debug)]
pub struct Report {
    findings: Vec<Finding>,
    suppressions: Vec<SuppressionUse>,
    rules: Vec<RuleSummary>,
}

#[derive(Clone, Debug)]
struct RuleSummary {
    id: String,
    title: String,
    checks: String,
    fix: String,
    default_level: Severity,
    equivalents: Equivalents,
}

impl RuleSummary {
    fn of(rule: &Rule) -> RuleSummary {
        RuleSummary {
            id: rule.id.to_owned(),
            title: rule.title.to_owned(),
            checks: rule.doc.checks.to_owned(),
            fix: rule.doc.fix.to_owned(),
            default_level: rule.levels.production.unwrap_or(Severity::Warning),
            equivalents: rule.equivalents,
        }
    }
}

impl Report {
    pub(crate) fn new(
        findings: Vec<Finding>,
        suppressions: Vec<SuppressionUse>,
        rules: &[Rule],
    ) -> Report {
        Report {
            findings,
            suppressions,
            rules: rules
                .iter()
                .chain(rules::META.iter())
                .map(RuleSummary::of)
                .collect(),
        }
    }

    /// Every finding, suppressed ones included, ordered by stack, path and rule.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Other scanners' checks equivalent to the rule `id` (none for a rule the app lacks).
    pub fn equivalents(&self, id: &str) -> Equivalents {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .map_or(Equivalents::NONE, |r| r.equivalents)
    }

    /// The findings no suppression covers.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// Every suppression declared in the checked stacks.
    pub fn suppressions(&self) -> &[SuppressionUse] {
        &self.suppressions
    }

    /// Unsuppressed errors.
    pub fn errors(&self) -> usize {
        self.active()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// Unsuppressed warnings.
    pub fn warnings(&self) -> usize {
        self.active()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }

    /// Whether an unsuppressed error fails synthesis.
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }

    /// Keeps only the findings and suppressions of these stacks.
    #[must_use]
    pub fn only_stacks(mut self, names: &[&str]) -> Report {
        self.findings.retain(|f| names.contains(&f.stack.as_str()));
        self.suppressions
            .retain(|s| names.contains(&s.stack.as_str()));
        self
    }

    /// The findings that need attention (unsuppressed), one block each, for `synth`'s output.
    pub fn render_findings(&self) -> String {
        let mut out = String::new();
        for f in self.active() {
            let _ = writeln!(out, "{}[{}]: {}", f.severity, f.rule, location(f));
            let _ = writeln!(out, "  {}", f.message);
            let _ = writeln!(out, "  fix: {}", f.fix);
        }
        out
    }

    /// The report as a table: findings, then suppressions with their reasons, then totals.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let active: Vec<&Finding> = self.active().collect();
        if active.is_empty() {
            out.push_str("No findings.\n");
        } else {
            let _ = writeln!(out, "Findings:");
            out.push_str(&self.render_findings());
        }
        if !self.suppressions.is_empty() {
            let _ = writeln!(out, "\nSuppressions ({}):", self.suppressions.len());
            for s in &self.suppressions {
                let covered = if s.matched == 0 {
                    "matches nothing".to_owned()
                } else {
                    format!(
                        "{} finding{}",
                        s.matched,
                        if s.matched == 1 { "" } else { "s" }
                    )
                };
                let _ = writeln!(out, "  {}  {}  ({covered})", s.rule, s.scope);
                let _ = writeln!(out, "    reason: {}", s.reason);
                let also = self.equivalents(&s.rule).describe();
                if !also.is_empty() {
                    let _ = writeln!(out, "    also skips: {also}");
                }
            }
        }
        let _ = writeln!(
            out,
            "\n{} error{}, {} warning{}, {} suppressed",
            self.errors(),
            plural(self.errors()),
            self.warnings(),
            plural(self.warnings()),
            self.findings.len() - active.len(),
        );
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Json {
        json!({
            "errors": self.errors(),
            "warnings": self.warnings(),
            "findings": self.findings.iter().map(|f| json!({
                "rule": f.rule,
                "severity": f.severity.name(),
                "stack": f.stack,
                "stage": f.stage.name(),
                "path": f.path,
                "logicalId": f.logical_id,
                "type": f.resource_type,
                "property": f.property,
                "message": f.message,
                "fix": f.fix,
                "suppressed": f.suppressed.is_some(),
                "reason": f.suppressed,
            })).collect::<Vec<_>>(),
            "suppressions": self.suppressions.iter().map(|s| json!({
                "stack": s.stack,
                "scope": s.scope,
                "rule": s.rule,
                "reason": s.reason,
                "matched": s.matched,
                "equivalents": {
                    "checkov": self.equivalents(&s.rule).checkov,
                    "cfn_nag": self.equivalents(&s.rule).cfn_nag,
                    "cfn-lint": self.equivalents(&s.rule).cfn_lint,
                },
            })).collect::<Vec<_>>(),
        })
    }

    /// The report as SARIF 2.1.0. `template_uri` gives each stack's template file (relative to
    /// the repository, such as `omc.out/Stack.template.json`) and `line` the line of a
    /// resource in it, so code-scanning tools can point at the resource.
    pub fn to_sarif(
        &self,
        template_uri: &dyn Fn(&str) -> String,
        line: &dyn Fn(&str, &str) -> Option<usize>,
    ) -> Json {
        let used: std::collections::BTreeSet<&str> =
            self.findings.iter().map(|f| f.rule.as_str()).collect();
        let rules: Vec<&RuleSummary> = self
            .rules
            .iter()
            .filter(|r| used.contains(r.id.as_str()))
            .collect();
        let index = |id: &str| rules.iter().position(|r| r.id == id);
        let results: Vec<Json> = self
            .findings
            .iter()
            .map(|f| {
                let mut physical = json!({
                    "artifactLocation": { "uri": template_uri(&f.stack) },
                });
                if let Some(line) = line(&f.stack, &f.logical_id) {
                    physical["region"] = json!({ "startLine": line });
                }
                let mut result = json!({
                    "ruleId": f.rule,
                    "level": f.severity.name(),
                    "message": { "text": format!("{} ({}). Fix: {}", f.message, location(f), f.fix) },
                    "locations": [{
                        "physicalLocation": physical,
                        "logicalLocations": [{
                            "fullyQualifiedName": f.path,
                            "kind": "resource",
                        }],
                    }],
                });
                if let Some(i) = index(&f.rule) {
                    result["ruleIndex"] = json!(i);
                }
                if let Some(reason) = &f.suppressed {
                    result["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
                }
                result
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "omc-cdk check",
                        "version": env!("CARGO_PKG_VERSION"),
                        "informationUri": "https://github.com/omc/omc-cdk/blob/main/docs/checks.md",
                        "rules": rules.iter().map(|r| json!({
                            "id": r.id,
                            "name": r.id,
                            "shortDescription": { "text": r.title },
                            "fullDescription": { "text": r.checks },
                            "help": { "text": r.fix },
                            "helpUri": format!("https://github.com/omc/omc-cdk/blob/main/docs/checks.md#{}", r.id),
                            "defaultConfiguration": { "level": r.default_level.name() },
                        })).collect::<Vec<_>>(),
                    }
                },
                "results": results,
            }],
        })
    }
}

fn location(f: &Finding) -> String {
    let mut out = f.path.clone();
    if !f.resource_type.is_empty() {
        let _ = write!(out, " ({})", f.resource_type);
    }
    if !f.property.is_empty() {
        let _ = write!(out, " {}", f.property);
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
