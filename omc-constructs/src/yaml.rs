//! A small YAML writer for JSON values (Helm values files): block style, strings always
//! double-quoted (a JSON string is a valid YAML string), so no value is misread as another type.

use std::fmt::Write as _;

use serde_json::Value as Json;

/// The YAML text of a JSON value, with a final newline.
pub(crate) fn to_yaml(value: &Json) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn scalar(value: &Json) -> Option<String> {
    match value {
        Json::Null => Some("null".into()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(Json::from(s.as_str()).to_string()),
        Json::Array(a) if a.is_empty() => Some("[]".into()),
        Json::Object(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./".contains(&b))
        && !k.starts_with(['-', '.', '/']);
    if plain {
        k.to_owned()
    } else {
        Json::from(k).to_string()
    }
}

fn write_value(value: &Json, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Json::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                if let Some(s) = scalar(v) {
                    let _ = writeln!(out, "{pad}{}: {s}", key(k));
                } else {
                    let _ = writeln!(out, "{pad}{}:", key(k));
                    let child = if v.is_array() { indent } else { indent + 2 };
                    write_value(v, child, out);
                }
            }
        }
        Json::Array(items) if !items.is_empty() => {
            for item in items {
                if let Some(s) = scalar(item) {
                    let _ = writeln!(out, "{pad}- {s}");
                } else {
                    let mut nested = String::new();
                    write_value(item, indent + 2, &mut nested);
                    // The first line of the item goes after the dash.
                    let trimmed = nested.trim_start_matches(' ');
                    let _ = write!(out, "{pad}- {trimmed}");
                }
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                let _ = writeln!(out, "{pad}{s}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml() {
        let value = json!({
            "name": "runner",
            "count": 0,
            "on": true,
            "nodeSelector": {"omc.io/role": "runner"},
            "tolerations": [{"key": "omc.io/runner", "effect": "NoSchedule"}],
            "command": ["/home/runner/run.sh"],
            "empty": []
        });
        assert_eq!(
            to_yaml(&value),
            "name: \"runner\"\ncount: 0\non: true\nnodeSelector:\n  omc.io/role: \"runner\"\ntolerations:\n- key: \"omc.io/runner\"\n  effect: \"NoSchedule\"\ncommand:\n- \"/home/runner/run.sh\"\nempty: []\n"
        );
    }
}
