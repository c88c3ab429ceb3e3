//! The value constraints of the CloudFormation registry schemas (allowed values, patterns,
//! minimums and maximums, lengths, item counts), extracted from the schemas cfn-lint ships and
//! pinned in `cfn/schema/constraints.json.gz`, so that generation reads only committed files.
//!
//! ```text
//! omc-cfn-codegen extract-constraints [SCHEMAS_DIR]   # rewrite cfn/schema/constraints.json.gz
//! ```
//!
//! The pinned file is one JSON object: resource type -> `{"p": {property: C}, "d": {definition:
//! {property: C}}}`, where a constraint `C` has any of `e` (allowed values, as strings), `x`
//! (an ECMAScript pattern), `lo` / `hi` (minimum / maximum), `ll` / `lh` (minimum / maximum
//! length), `il` / `ih` (minimum / maximum items of a list) and `r` (the definition of the
//! object the property holds, or of each item of the list). Lists are transparent: the scalar
//! constraints of a list property apply to each of its items. Only definitions that carry a
//! constraint somewhere below them are kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value as Json};

/// The pinned file.
pub(crate) fn pinned_path() -> PathBuf {
    crate::cfn_dir().join("schema/constraints.json.gz")
}

/// Reads the pinned constraints: type name -> compact JSON of that type.
pub(crate) fn load_pinned() -> Result<BTreeMap<String, String>> {
    let path = pinned_path();
    let compressed = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_string(&mut text)
        .with_context(|| format!("decompressing {}", path.display()))?;
    let all: BTreeMap<String, Json> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(all.into_iter().map(|(t, c)| (t, c.to_string())).collect())
}

/// Extracts the constraints of every type from cfn-lint's registry schemas and writes the
/// pinned file. Returns how many types have constraints.
pub(crate) fn extract_to_pinned(schemas: &Path) -> Result<usize> {
    let all = extract(schemas)?;
    let n = all.len();
    let mut text = String::from("{\n");
    for (i, (type_name, c)) in all.iter().enumerate() {
        let _ = writeln!(
            text,
            "{}:{}{}",
            Json::from(type_name.as_str()),
            c,
            if i + 1 == n { "" } else { "," }
        );
    }
    text.push_str("}\n");
    let path = pinned_path();
    let file =
        std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
    // No timestamp or name in the header, so the file only changes when the data does.
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(file, flate2::Compression::best());
    gz.write_all(text.as_bytes())?;
    gz.finish()?;
    Ok(n)
}

fn extract(schemas: &Path) -> Result<BTreeMap<String, Json>> {
    let providers: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(schemas.join("providers/us-east-1.json"))
            .context("reading providers/us-east-1.json")?,
    )?;
    let mut out = BTreeMap::new();
    for (type_name, hash) in &providers {
        if type_name.ends_with("::MODULE") {
            continue;
        }
        let path = schemas.join(format!("resources/{hash}.json"));
        let schema: Json = serde_json::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("parsing {}", path.display()))?;
        if let Some(c) = type_constraints(&schema) {
            out.insert(type_name.clone(), c);
        }
    }
    Ok(out)
}

struct Extractor<'a> {
    root: &'a Json,
    /// Definition name -> its properties' constraints (`None` while being computed).
    defs: BTreeMap<String, Option<Map<String, Json>>>,
}

fn type_constraints(schema: &Json) -> Option<Json> {
    let mut x = Extractor {
        root: schema,
        defs: BTreeMap::new(),
    };
    let read_only: Vec<String> = schema
        .get("readOnlyProperties")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter_map(|p| p.strip_prefix("/properties/"))
        .filter(|p| !p.contains('/'))
        .map(str::to_owned)
        .collect();
    let mut props = Map::new();
    for (name, node) in schema.get("properties")?.as_object()? {
        if read_only.contains(name) {
            continue;
        }
        let c = x.constraint(node, name);
        if !c.is_empty() {
            props.insert(name.clone(), Json::Object(c));
        }
    }
    // Prune definitions that constrain nothing, and references to them, until stable.
    let mut defs: BTreeMap<String, Map<String, Json>> = x
        .defs
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    loop {
        let empty: Vec<String> = defs
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        if empty.is_empty() {
            break;
        }
        for name in &empty {
            defs.remove(name);
        }
        let unref = |m: &mut Map<String, Json>| {
            m.retain(|_, c| {
                if let Some(obj) = c.as_object_mut() {
                    if obj
                        .get("r")
                        .and_then(Json::as_str)
                        .is_some_and(|r| empty.iter().any(|e| e == r))
                    {
                        obj.remove("r");
                    }
                    !obj.is_empty()
                } else {
                    false
                }
            });
        };
        unref(&mut props);
        for m in defs.values_mut() {
            unref(m);
        }
    }
    if props.is_empty() {
        return None;
    }
    let mut out = Map::new();
    out.insert("p".into(), Json::Object(props));
    if !defs.is_empty() {
        out.insert(
            "d".into(),
            Json::Object(
                defs.into_iter()
                    .map(|(k, v)| (k, Json::Object(v)))
                    .collect(),
            ),
        );
    }
    Some(Json::Object(out))
}

/// Follows `$ref`s to definitions, collecting the scalar constraints on the way; the node
/// reached and the name of the last definition followed.
fn follow<'n>(
    root: &'n Json,
    mut node: &'n Json,
    scalar: &mut Map<String, Json>,
) -> (&'n Json, Option<String>) {
    let mut name = None;
    for _ in 0..10 {
        scalars(node, scalar);
        let Some(target) = node
            .get("$ref")
            .and_then(Json::as_str)
            .and_then(|r| r.strip_prefix("#/definitions/"))
        else {
            break;
        };
        match root.get("definitions").and_then(|d| d.get(target)) {
            Some(def) => {
                node = def;
                name = Some(target.to_owned());
            }
            None => break,
        }
    }
    (node, name)
}

impl<'a> Extractor<'a> {
    /// The constraint of a property whose schema is `node`; `at` names inline objects.
    fn constraint(&mut self, node: &'a Json, at: &str) -> Map<String, Json> {
        let mut c = Map::new();
        let (node, name) = follow(self.root, node, &mut c);
        if let Some(items) = node.get("items") {
            for (from, to) in [("minItems", "il"), ("maxItems", "ih")] {
                if let Some(n) = node.get(from).filter(|n| n.as_u64().is_some_and(|n| n > 0)) {
                    c.insert(to.into(), n.clone());
                }
            }
            let mut item = Map::new();
            let (items, item_name) = follow(self.root, items, &mut item);
            // Scalars of the items apply to each item (lists are transparent).
            for (k, v) in item {
                c.entry(k).or_insert(v);
            }
            if items.get("properties").is_some() {
                let def = item_name.unwrap_or_else(|| format!("{at}.Item"));
                self.object(items, &def);
                c.insert("r".into(), Json::from(def));
            }
        } else if node.get("properties").is_some() {
            let def = name.unwrap_or_else(|| at.to_owned());
            self.object(node, &def);
            c.insert("r".into(), Json::from(def));
        }
        c
    }

    fn object(&mut self, node: &'a Json, def: &str) {
        if self.defs.contains_key(def) {
            return;
        }
        self.defs.insert(def.to_owned(), None);
        let mut props = Map::new();
        if let Some(properties) = node.get("properties").and_then(Json::as_object) {
            for (name, child) in properties {
                let c = self.constraint(child, &format!("{def}.{name}"));
                if !c.is_empty() {
                    props.insert(name.clone(), Json::Object(c));
                }
            }
        }
        self.defs.insert(def.to_owned(), Some(props));
    }
}

/// The scalar constraints of one schema node.
fn scalars(node: &Json, c: &mut Map<String, Json>) {
    if let Some(values) = node.get("enum").and_then(Json::as_array) {
        let strings: Option<Vec<Json>> = values
            .iter()
            .map(|v| match v {
                Json::String(s) => Some(Json::from(s.as_str())),
                Json::Number(n) => Some(Json::from(n.to_string())),
                Json::Bool(b) => Some(Json::from(b.to_string())),
                _ => None,
            })
            .collect();
        if let Some(strings) = strings.filter(|s| !s.is_empty()) {
            c.insert("e".into(), Json::Array(strings));
        }
    }
    if let Some(p) = node.get("pattern").filter(|p| p.is_string()) {
        c.insert("x".into(), p.clone());
    }
    for (from, to) in [
        ("minimum", "lo"),
        ("maximum", "hi"),
        ("minLength", "ll"),
        ("maxLength", "lh"),
    ] {
        // A minimum length of 0 constrains nothing.
        let useless = to == "ll" && n_is_zero(node.get(from));
        if let Some(n) = node.get(from).filter(|n| n.is_number() && !useless) {
            c.insert(to.into(), n.clone());
        }
    }
}

fn n_is_zero(n: Option<&Json>) -> bool {
    n.and_then(Json::as_f64).is_some_and(|n| n == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_definitions_lists_and_recursion() {
        let schema = json!({
            "properties": {
                "Name": {"type": "string", "pattern": "^[a-z]+$", "minLength": 0, "maxLength": 63},
                "Tenancy": {"type": "string", "enum": ["default", "dedicated"]},
                "Days": {"type": "integer", "enum": [1, 7]},
                "Period": {"type": "integer", "minimum": 1},
                "Arn": {"type": "string", "pattern": "^arn:"},
                "Subnets": {"type": "array", "minItems": 0, "maxItems": 16, "items": {"type": "string", "maxLength": 24}},
                "Tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                "Rule": {"$ref": "#/definitions/Statement"},
                "Loose": {"type": "object", "properties": {"Free": {"type": "string"}}},
                "Inline": {"type": "object", "properties": {"Size": {"type": "integer", "maximum": 9}}}
            },
            "readOnlyProperties": ["/properties/Arn"],
            "definitions": {
                "Tag": {"type": "object", "properties": {
                    "Key": {"type": "string", "minLength": 1, "maxLength": 128},
                    "Value": {"type": "string"}
                }},
                "Statement": {"type": "object", "properties": {
                    "And": {"type": "array", "items": {"$ref": "#/definitions/Statement"}},
                    "Name": {"$ref": "#/definitions/Name"}
                }},
                "Name": {"type": "string", "maxLength": 5}
            }
        });
        assert_eq!(
            type_constraints(&schema).unwrap(),
            json!({
                "p": {
                    "Days": {"e": ["1", "7"]},
                    "Inline": {"r": "Inline"},
                    "Name": {"x": "^[a-z]+$", "lh": 63},
                    "Period": {"lo": 1},
                    "Rule": {"r": "Statement"},
                    "Subnets": {"ih": 16, "lh": 24},
                    "Tags": {"r": "Tag"},
                    "Tenancy": {"e": ["default", "dedicated"]}
                },
                "d": {
                    "Inline": {"Size": {"hi": 9}},
                    "Statement": {"And": {"r": "Statement"}, "Name": {"lh": 5}},
                    "Tag": {"Key": {"ll": 1, "lh": 128}}
                }
            })
        );
        assert_eq!(
            type_constraints(&json!({"properties": {"A": {"type": "string"}}})),
            None
        );
    }
}
