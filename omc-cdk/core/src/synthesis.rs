//! What synthesis produces: one template per stack, a manifest, and the files written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize as _;
use serde_json::{Value as Json, json};

use crate::check::Stage;
use crate::environment::Environment;

/// CloudFormation's maximum template body, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// Templates larger than this cannot be passed inline (`TemplateBody`) and are uploaded to S3 at
/// deploy time.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;

/// The result of synthesizing an app: one template per stack, in deploy order.
#[derive(Clone, Debug)]
pub struct Synthesis {
    pub(crate) stacks: Vec<SynthesizedStack>,
    /// What the app's check rules found (warnings and suppressed findings; an error fails
    /// synthesis).
    pub(crate) report: Option<crate::check::Report>,
}

/// One synthesized stack.
#[derive(Clone, Debug)]
pub struct SynthesizedStack {
    pub(crate) name: String,
    pub(crate) template: String,
    pub(crate) sha256: String,
    pub(crate) dependencies: Vec<String>,
    pub(crate) env: Option<Environment>,
    pub(crate) termination_protection: bool,
    pub(crate) execution_role: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) resource_count: usize,
    pub(crate) files: BTreeMap<String, String>,
    pub(crate) stage: Stage,
    pub(crate) paths: BTreeMap<String, String>,
    pub(crate) json: Arc<Json>,
}

impl SynthesizedStack {
    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template, exactly as written to `<Stack>.template.json`.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The template as JSON.
    pub fn template_json(&self) -> Json {
        (*self.json).clone()
    }

    /// The template as JSON, without copying it.
    pub fn json(&self) -> &Json {
        &self.json
    }

    /// The stage the stack is checked as.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The construct path (`Stack/Construct/Resource`) of each resource, by logical id.
    pub fn paths(&self) -> &BTreeMap<String, String> {
        &self.paths
    }

    /// The line of the template on which a resource starts (1-based), for tools that point
    /// at it.
    pub fn line_of(&self, logical_id: &str) -> Option<usize> {
        let needle = format!("\n  {}: {{", Json::from(logical_id));
        let resources = self.template.find("\n \"Resources\": {")?;
        let at = resources + self.template[resources..].find(&needle)?;
        Some(self.template[..=at].matches('\n').count() + 1)
    }

    /// The template file's name: `<Stack>.template.json`.
    pub fn template_file(&self) -> String {
        format!("{}.template.json", self.name)
    }

    /// The SHA-256 of the template, hex encoded.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The template's size in bytes.
    pub fn size(&self) -> usize {
        self.template.len()
    }

    /// Whether the template is too large to pass inline and must be uploaded at deploy time.
    pub fn requires_upload(&self) -> bool {
        self.template.len() > MAX_INLINE_TEMPLATE_BYTES
    }

    /// The stacks this one depends on directly, in deploy order.
    pub fn dependencies(&self) -> &[String] {
        &self.dependencies
    }

    /// The stack's environment; `None` when environment-agnostic.
    pub fn env(&self) -> Option<&Environment> {
        self.env.as_ref()
    }

    /// Whether termination protection is on.
    pub fn termination_protection(&self) -> bool {
        self.termination_protection
    }

    /// The role CloudFormation deploys the stack with (`Stack::set_execution_role`).
    pub fn execution_role(&self) -> Option<&str> {
        self.execution_role.as_deref()
    }

    /// The stack's tags (also passed to CloudFormation at deploy time).
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    /// The number of resources in the template.
    pub fn resource_count(&self) -> usize {
        self.resource_count
    }

    /// Files written beside the template (`<Stack>.<name>`), by name.
    pub fn files(&self) -> &BTreeMap<String, String> {
        &self.files
    }

    fn file_names(&self) -> Vec<String> {
        self.files
            .keys()
            .map(|name| format!("{}.{name}", self.name))
            .collect()
    }

    fn manifest_entry(&self) -> Json {
        let env = match &self.env {
            None => Json::Null,
            Some(env) => json!({ "account": env.account, "region": env.region }),
        };
        let mut entry = json!({
            "name": self.name,
            "template": self.template_file(),
            "dependencies": self.dependencies,
            "environment": env,
            "terminationProtection": self.termination_protection,
            "tags": self.tags,
            "resources": self.resource_count,
            "templateSha256": self.sha256,
            "templateSize": self.template.len(),
            "requiresUpload": self.requires_upload(),
            "files": self.file_names(),
        });
        if let (Some(role), Some(map)) = (&self.execution_role, entry.as_object_mut()) {
            map.insert("executionRoleArn".into(), json!(role));
        }
        entry
    }
}

impl Synthesis {
    /// What the app's check rules found: warnings, and the findings suppressions cover (with
    /// their reasons). [`crate::App::synth`] fails on an unsuppressed error, so none is here.
    pub fn checks(&self) -> Option<&crate::check::Report> {
        self.report.as_ref()
    }

    pub(crate) fn with_report(mut self, report: crate::check::Report) -> Synthesis {
        self.report = Some(report);
        self
    }

    /// The stacks in deploy order: every stack comes after the stacks it depends on.
    pub fn stacks(&self) -> &[SynthesizedStack] {
        &self.stacks
    }

    /// The stack with this name.
    pub fn stack(&self, name: &str) -> Option<&SynthesizedStack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// The stacks matching the patterns (exact names, or `*` wildcards), in deploy order; all
    /// stacks when there are no patterns. A pattern that matches nothing is an error that lists
    /// the stacks.
    pub fn select(
        &self,
        patterns: &[String],
    ) -> std::result::Result<Vec<&SynthesizedStack>, String> {
        if patterns.is_empty() {
            return Ok(self.stacks.iter().collect());
        }
        for pattern in patterns {
            if !self.stacks.iter().any(|s| glob_match(pattern, &s.name)) {
                let names: Vec<&str> = self.stacks.iter().map(|s| s.name.as_str()).collect();
                return Err(format!(
                    "no stack matches {pattern:?}; the stacks of this app are: {}",
                    names.join(", ")
                ));
            }
        }
        Ok(self
            .stacks
            .iter()
            .filter(|s| patterns.iter().any(|p| glob_match(p, &s.name)))
            .collect())
    }

    /// Runs the check `rules` over every stack (the resolved model: references between stacks
    /// are followed). See [`crate::App::check`].
    pub fn check(&self, rules: &[crate::check::Rule]) -> crate::check::Report {
        let inputs: Vec<crate::check::StackInput<'_>> = self
            .stacks
            .iter()
            .map(|s| crate::check::StackInput {
                name: &s.name,
                template: &s.json,
                stage: s.stage,
                paths: Some(&s.paths),
            })
            .collect();
        crate::check::check(&inputs, rules)
    }

    /// The manifest for these stacks: deploy order, dependencies, environment, template hash and
    /// size.
    pub fn manifest(stacks: &[&SynthesizedStack]) -> String {
        let manifest = json!({
            "version": 1,
            "generator": concat!("omc-cdk ", env!("CARGO_PKG_VERSION")),
            "stacks": stacks.iter().map(|s| s.manifest_entry()).collect::<Vec<_>>(),
        });
        to_pretty_json(&manifest)
    }

    /// Writes every stack: `<dir>/<Stack>.template.json` and `<dir>/manifest.json`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, WriteError> {
        let all: Vec<&SynthesizedStack> = self.stacks.iter().collect();
        Self::write_stacks(&all, dir)
    }

    /// Writes the given stacks and a manifest listing them. Templates that a previous manifest
    /// in `dir` listed and that are no longer written are removed, so the directory always
    /// matches its manifest. Returns the manifest's path.
    pub fn write_stacks(stacks: &[&SynthesizedStack], dir: &Path) -> Result<PathBuf, WriteError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| WriteError { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let manifest_path = dir.join("manifest.json");
        let previous = previous_templates(&manifest_path);
        let mut written = Vec::new();
        for stack in stacks {
            let path = dir.join(stack.template_file());
            write_if_changed(&path, stack.template.as_bytes()).map_err(io(&path))?;
            written.push(stack.template_file());
            for (name, contents) in &stack.files {
                let file = format!("{}.{name}", stack.name);
                let path = dir.join(&file);
                write_if_changed(&path, contents.as_bytes()).map_err(io(&path))?;
                written.push(file);
            }
        }
        for old in previous {
            if !written.contains(&old) {
                let path = dir.join(&old);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(WriteError { path, source: e });
                    }
                    _ => {}
                }
            }
        }
        write_if_changed(&manifest_path, Self::manifest(stacks).as_bytes())
            .map_err(io(&manifest_path))?;
        Ok(manifest_path)
    }
}

/// Writing only changed files keeps modification times stable for tools that watch them.
fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes)
}

/// File names an existing manifest lists (templates and stack files); only plain names without
/// directories.
fn previous_templates(manifest: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<Json>(&text) else {
        return Vec::new();
    };
    json.get("stacks")
        .and_then(Json::as_array)
        .map(|stacks| {
            stacks
                .iter()
                .flat_map(|s| {
                    let files = s.get("files").and_then(Json::as_array).cloned();
                    s.get("template")
                        .cloned()
                        .into_iter()
                        .chain(files.into_iter().flatten())
                })
                .filter_map(|f| f.as_str().map(str::to_owned))
                .filter(|f| !f.is_empty() && !f.contains(['/', '\\']) && !f.starts_with('.'))
                .filter(|f| f != "manifest.json")
                .collect()
        })
        .unwrap_or_default()
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Pretty JSON with a one-space indent and a final newline.
pub fn to_pretty_json(value: &Json) -> String {
    let mut out = Vec::with_capacity(4096);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing a `serde_json::Value` into memory cannot fail.
    if value.serialize(&mut serializer).is_err() {
        return String::new();
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// Writing a synthesis failed: the file or directory, and why. Converts into
/// [`crate::Error::Io`], so `synthesis.write(dir)?` works in a function returning
/// [`crate::Result`].
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob_match("Omc*", "OmcStaging-Data"));
        assert!(glob_match("*-Data", "OmcStaging-Data"));
        assert!(glob_match("Omc*-Da*", "OmcStaging-Data"));
        assert!(glob_match("OmcStaging-Data", "OmcStaging-Data"));
        assert!(!glob_match("Omc", "OmcStaging-Data"));
        assert!(!glob_match("*-Network", "OmcStaging-Data"));
    }

    #[test]
    fn pretty_json_uses_one_space_and_ends_with_newline() {
        assert_eq!(
            to_pretty_json(&json!({"a": [1]})),
            "{\n \"a\": [\n  1\n ]\n}\n"
        );
    }
}
