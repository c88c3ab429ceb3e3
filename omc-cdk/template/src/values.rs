//! Small readers of template values that the checks and the cost estimates share.

use serde_json::Value as Json;

use crate::ResourceView;

/// The items of a value that may be a single item or a list.
pub fn items(value: &Json) -> Vec<&Json> {
    match value {
        Json::Array(list) => list.iter().collect(),
        other => vec![other],
    }
}

/// The `containerInsights` setting of an `AWS::ECS::Cluster` (`enabled`, `enhanced`,
/// `disabled`), when given as a literal.
pub fn container_insights<'m>(view: &ResourceView<'m>) -> Option<&'m str> {
    view.prop("ClusterSettings")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.get("Name").and_then(Json::as_str) == Some("containerInsights"))
        .and_then(|s| s.get("Value"))
        .and_then(|v| view.literal(v))
        .and_then(Json::as_str)
}

/// A literal whole number (JSON number or numeric string).
pub fn integer(value: Option<&Json>) -> Option<i64> {
    match value? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}
