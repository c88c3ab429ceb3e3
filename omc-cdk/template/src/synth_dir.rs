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
