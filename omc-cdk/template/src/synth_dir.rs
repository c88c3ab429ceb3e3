//! Templates read back from a directory that `synth --out` wrote: what cost and diff compare
//! a synthesis with.

use std::path::Path;

use serde_json::Value as Json;

/// Templates read back from a synth output directory (its `manifest.json`): (stack name,
/// region, template).
pub fn read_synth_dir(dir: &Path) -> Result<Vec<(String, Option<String>, Json)>, String> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        format!(
            "cannot read {}: {e}; give a directory that `synth --out` wrote",
            manifest_path.display()
        )
    })?;
    let manifest: Json = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", manifest_path.display()))?;
    let mut out = Vec::new();
    for stack in manifest
        .get("stacks")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let name = stack
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("{}: a stack without a name", manifest_path.display()))?;
        let file = stack
            .get("template")
            .and_then(Json::as_str)
            .filter(|f| !f.contains(['/', '\\']))
            .ok_or_else(|| format!("{}: {name} has no template file", manifest_path.display()))?;
        let path = dir.join(file);
        let template: Json = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|t| {
                serde_json::from_str(&t).map_err(|e| format!("{} is not JSON: {e}", path.display()))
            })?;
        let region = stack
            .pointer("/environment/region")
            .and_then(Json::as_str)
            .map(str::to_owned);
        out.push((name.to_owned(), region, template));
    }
    Ok(out)
}

/// A stack of a synth output directory, with the settings its manifest records.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthDirStack {
    /// The stack's name.
    pub name: String,
    /// Its region, when the stack has one.
    pub region: Option<String>,
    /// The template.
    pub template: Json,
    /// The stack's tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Termination protection.
    pub termination_protection: bool,
}

/// The stacks of a directory `synth --out` wrote, in the manifest's (deploy) order, with
/// their tags and termination protection.
pub fn read_synth_dir_stacks(dir: &Path) -> Result<Vec<SynthDirStack>, String> {
    let manifest_path = dir.join("manifest.json");
    let manifest: Json = std::fs::read_to_string(&manifest_path)
        .map_err(|e| {
            format!(
                "cannot read {}: {e}; give a directory that `synth --out` wrote",
                manifest_path.display()
            )
        })
        .and_then(|text| {
            serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", manifest_path.display()))
        })?;
    let templates = read_synth_dir(dir)?;
    let entries: Vec<&Json> = manifest
        .get("stacks")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .collect();
    Ok(templates
        .into_iter()
        .map(|(name, region, template)| {
            let entry = entries
                .iter()
                .find(|e| e.get("name").and_then(Json::as_str) == Some(name.as_str()));
            let tags = entry
                .and_then(|e| e.get("tags"))
                .and_then(Json::as_object)
                .map(|t| {
                    t.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            let termination_protection = entry
                .and_then(|e| e.get("terminationProtection"))
                .and_then(Json::as_bool)
                .unwrap_or(false);
            SynthDirStack {
                name,
                region,
                template,
                tags,
                termination_protection,
            }
        })
        .collect())
}
