//! Assertions on synthesized templates, for tests of stacks and constructs (in the spirit of
//! AWS CDK's `Template.fromStack`).
//!
//! Patterns are JSON: objects match partially and deeply (keys not in the pattern are ignored),
//! lists match item by item, scalars exactly. [`Match`] gives finer control. Every check returns
//! `Result<(), AssertionError>` whose message shows the closest candidates and where they
//! differ, so tests read `template.has_resource_properties(..)?`.
//!
//! ```
//! use omc_cdk::{App, Stack, StackProps, RawResource, assertions::{Template, Match}};
//! use serde_json::json;
//! let app = App::new();
//! let stack = Stack::new(&app, "Storage", StackProps::default())?;
//! stack.add("Logs", RawResource::new("AWS::S3::Bucket").property("BucketName", "logs"))?;
//!
//! let template = Template::from_stack(&stack)?;
//! template.resource_count_is("AWS::S3::Bucket", 1)?;
//! template.has_resource_properties("AWS::S3::Bucket", json!({"BucketName": "logs"}))?;
//! template.has_resource_properties("AWS::S3::Bucket", Match::object_like([("Tags", Match::absent())]))?;
//! assert!(template.has_resource_properties("AWS::S3::Bucket", json!({"BucketName": "other"})).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::error::Error;
use crate::synthesis::SynthesizedStack;
use crate::tree::Stack;

/// A failed assertion, with a message that says what was expected and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionError {
    message: String,
}

impl fmt::Display for AssertionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AssertionError {}

fn fail<T>(message: String) -> Result<T, AssertionError> {
    Err(AssertionError { message })
}

/// A pattern for [`Template`] checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Match {
    /// Exactly this JSON, nothing more or less.
    Exact(Json),
    /// An object with at least these keys, each matching.
    ObjectLike(IndexMap<String, Match>),
    /// An object with exactly these keys, each matching.
    ObjectEquals(IndexMap<String, Match>),
    /// A list of exactly these items, in order.
    ArrayEquals(Vec<Match>),
    /// A list containing these items in this order, possibly with others between them.
    ArrayWith(Vec<Match>),
    /// The key is absent (only meaningful as a value inside an object pattern).
    Absent,
    /// Any value, as long as the key is present.
    AnyValue,
    /// A string containing this text.
    StringContaining(String),
    /// Anything that does not match the inner pattern.
    Not(Box<Match>),
}

impl From<Json> for Match {
    /// JSON patterns: objects match like [`Match::ObjectLike`], lists like
    /// [`Match::ArrayEquals`], both deeply; scalars exactly.
    fn from(json: Json) -> Match {
        match json {
            Json::Object(map) => {
                Match::ObjectLike(map.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
            Json::Array(items) => Match::ArrayEquals(items.into_iter().map(Into::into).collect()),
            scalar => Match::Exact(scalar),
        }
    }
}

impl Match {
    /// [`Match::Exact`]
    pub fn exact(json: Json) -> Match {
        Match::Exact(json)
    }

    /// [`Match::ObjectLike`] from key and pattern pairs.
    pub fn object_like<K: Into<String>, M: Into<Match>>(
        entries: impl IntoIterator<Item = (K, M)>,
    ) -> Match {
        Match::ObjectLike(
            entries
                .into_iter()
                .map(|(k, m)| (k.into(), m.into()))
                .collect(),
        )
    }

    /// [`Match::ObjectEquals`] from key and pattern pairs.
    pub fn object_equals<K: Into<String>, M: Into<Match>>(
        entries: impl IntoIterator<Item = (K, M)>,
    ) -> Match {
        Match::ObjectEquals(
            entries
                .into_iter()
                .map(|(k, m)| (k.into(), m.into()))
                .collect(),
        )
    }

    /// [`Match::ArrayWith`]
    pub fn array_with<M: Into<Match>>(items: impl IntoIterator<Item = M>) -> Match {
        Match::ArrayWith(items.into_iter().map(Into::into).collect())
    }

    /// [`Match::Absent`]
    pub fn absent() -> Match {
        Match::Absent
    }

    /// [`Match::AnyValue`]
    pub fn any_value() -> Match {
        Match::AnyValue
    }

    /// [`Match::StringContaining`]
    pub fn string_containing(text: impl Into<String>) -> Match {
        Match::StringContaining(text.into())
    }

    /// [`Match::Not`]
    #[allow(clippy::should_implement_trait)]
    pub fn not(pattern: impl Into<Match>) -> Match {
        Match::Not(Box::new(pattern.into()))
    }

    /// Checks a value (`None`: the key is absent); on mismatch, says where and how it differs.
    pub fn check(&self, actual: Option<&Json>) -> Result<(), String> {
        self.check_at(actual, "")
    }

    fn check_at(&self, actual: Option<&Json>, at: &str) -> Result<(), String> {
        let here = if at.is_empty() { "(root)" } else { at };
        let join = |key: &str| {
            if at.is_empty() {
                key.to_owned()
            } else {
                format!("{at}.{key}")
            }
        };
        match (self, actual) {
            (Match::Absent, None) | (Match::AnyValue, Some(_)) => Ok(()),
            (Match::Absent, Some(v)) => Err(format!("at {here}: expected no value, found {v}")),
            (_, None) => Err(format!("at {here}: missing")),
            (Match::Exact(expected), Some(v)) => {
                if expected == v {
                    Ok(())
                } else {
                    Err(format!("at {here}: expected {expected}, found {v}"))
                }
            }
            (Match::StringContaining(text), Some(v)) => match v.as_str() {
                Some(s) if s.contains(text.as_str()) => Ok(()),
                _ => Err(format!(
                    "at {here}: expected a string containing {text:?}, found {v}"
                )),
            },
            (Match::Not(inner), Some(v)) => match inner.check_at(Some(v), at) {
                Ok(()) => Err(format!(
                    "at {here}: expected anything but {inner:?}, found {v}"
                )),
                Err(_) => Ok(()),
            },
            (Match::ObjectLike(pattern) | Match::ObjectEquals(pattern), Some(v)) => {
                let Json::Object(map) = v else {
                    return Err(format!("at {here}: expected an object, found {v}"));
                };
                for (key, sub) in pattern {
                    sub.check_at(map.get(key), &join(key))?;
                }
                if matches!(self, Match::ObjectEquals(_))
                    && let Some(extra) = map.keys().find(|k| !pattern.contains_key(*k))
                {
                    return Err(format!("at {here}: unexpected key {extra:?}"));
                }
                Ok(())
            }
            (Match::ArrayEquals(items), Some(v)) => {
                let Json::Array(actual) = v else {
                    return Err(format!("at {here}: expected a list, found {v}"));
                };
                if items.len() != actual.len() {
                    return Err(format!(
                        "at {here}: expected a list of {} items, found {} items: {v}",
                        items.len(),
                        actual.len()
                    ));
                }
                for (i, (pattern, value)) in items.iter().zip(actual).enumerate() {
                    pattern.check_at(Some(value), &format!("{here}[{i}]"))?;
                }
                Ok(())
            }
            (Match::ArrayWith(items), Some(v)) => {
                let Json::Array(actual) = v else {
                    return Err(format!("at {here}: expected a list, found {v}"));
                };
                let mut rest = actual.iter();
                for pattern in items {
                    if !rest.any(|value| pattern.check_at(Some(value), at).is_ok()) {
                        return Err(format!(
                            "at {here}: no item (in order) matches {pattern:?} in {v}"
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

/// A synthesized template, ready for assertions.
#[derive(Clone, Debug)]
pub struct Template {
    json: Json,
}

impl Template {
    /// Synthesizes the stack's app and returns this stack's template. Synthesis problems are
    /// returned as the error.
    pub fn from_stack(stack: &Stack) -> Result<Template, Error> {
        let app = stack.app().ok_or_else(|| Error::InvalidValue {
            path: stack.name(),
            message: "the stack's app no longer exists; keep the App alive while testing".into(),
        })?;
        // The templates as synthesized, whatever the checks say of them: assertions look at
        // content; the checks have their own report (`App::check`).
        let synthesis = app.synth_unchecked()?;
        let name = stack.name();
        let synthesized = synthesis.stack(&name).ok_or_else(|| Error::InvalidValue {
            path: name.clone(),
            message: "the stack is missing from its app's synthesis".into(),
        })?;
        Ok(Template::from_synthesized(synthesized))
    }

    /// The template of a synthesized stack.
    pub fn from_synthesized(stack: &SynthesizedStack) -> Template {
        Template {
            json: stack.template_json(),
        }
    }

    /// A template given as JSON.
    pub fn from_json(json: Json) -> Template {
        Template { json }
    }

    /// A template given as JSON text.
    pub fn parse(text: &str) -> Result<Template, AssertionError> {
        match serde_json::from_str(text) {
            Ok(json) => Ok(Template { json }),
            Err(e) => fail(format!("the template is not valid JSON: {e}")),
        }
    }

    /// The whole template.
    pub fn to_json(&self) -> &Json {
        &self.json
    }

    fn section(&self, name: &str) -> impl Iterator<Item = (&String, &Json)> {
        self.json
            .get(name)
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
    }

    /// The resource with this logical id.
    pub fn resource(&self, logical_id: &str) -> Option<&Json> {
        self.json.get("Resources")?.get(logical_id)
    }

    /// Every resource of a type, by logical id, in template order.
    pub fn resources(&self, type_name: &str) -> Vec<(&str, &Json)> {
        self.section("Resources")
            .filter(|(_, r)| r.get("Type").and_then(Json::as_str) == Some(type_name))
            .map(|(id, r)| (id.as_str(), r))
            .collect()
    }

    /// Checks how many resources of a type the template has.
    pub fn resource_count_is(&self, type_name: &str, count: usize) -> Result<(), AssertionError> {
        let found = self.resources(type_name).len();
        if found == count {
            Ok(())
        } else {
            fail(format!(
                "expected {count} resources of type {type_name}, found {found}"
            ))
        }
    }

    /// The resources of a type whose whole definition (`Type`, `Properties`, `DependsOn`,
    /// `DeletionPolicy`, ...) matches the pattern.
    pub fn find_resources(&self, type_name: &str, pattern: impl Into<Match>) -> Vec<(&str, &Json)> {
        let pattern = pattern.into();
        self.resources(type_name)
            .into_iter()
            .filter(|(_, r)| pattern.check(Some(r)).is_ok())
            .collect()
    }

    /// Checks that some resource of the type has a definition matching the pattern.
    pub fn has_resource(
        &self,
        type_name: &str,
        pattern: impl Into<Match>,
    ) -> Result<(), AssertionError> {
        let pattern = pattern.into();
        self.some_matches(type_name, |r| pattern.check(Some(r)))
    }

    /// Checks that some resource of the type has properties matching the pattern.
    pub fn has_resource_properties(
        &self,
        type_name: &str,
        properties: impl Into<Match>,
    ) -> Result<(), AssertionError> {
        let pattern = properties.into();
        let empty = Json::Object(serde_json::Map::new());
        self.some_matches(type_name, |r| {
            pattern
                .check(Some(r.get("Properties").unwrap_or(&empty)))
                .map_err(|e| e.replacen("at ", "at Properties.", 1))
        })
    }

    /// Checks that every resource of the type (at least one) has properties matching the
    /// pattern.
    pub fn all_resources_properties(
        &self,
        type_name: &str,
        properties: impl Into<Match>,
    ) -> Result<(), AssertionError> {
        let pattern = properties.into();
        let resources = self.resources(type_name);
        if resources.is_empty() {
            return fail(self.no_resources_of(type_name));
        }
        let empty = Json::Object(serde_json::Map::new());
        for (id, r) in resources {
            if let Err(why) = pattern.check(Some(r.get("Properties").unwrap_or(&empty))) {
                return fail(format!("{type_name} {id} does not match: {why}"));
            }
        }
        Ok(())
    }

    fn no_resources_of(&self, type_name: &str) -> String {
        let mut types: Vec<&str> = self
            .section("Resources")
            .filter_map(|(_, r)| r.get("Type").and_then(Json::as_str))
            .collect();
        types.sort_unstable();
        types.dedup();
        format!(
            "the template has no resources of type {type_name}; it has: {}",
            types.join(", ")
        )
    }

    fn some_matches(
        &self,
        type_name: &str,
        check: impl Fn(&Json) -> Result<(), String>,
    ) -> Result<(), AssertionError> {
        let resources = self.resources(type_name);
        if resources.is_empty() {
            return fail(self.no_resources_of(type_name));
        }
        let mut misses = Vec::new();
        for (id, r) in &resources {
            match check(r) {
                Ok(()) => return Ok(()),
                Err(why) => misses.push(format!("  {id}: {why}")),
            }
        }
        fail(format!(
            "none of the {} resources of type {type_name} matches:\n{}",
            resources.len(),
            misses.join("\n")
        ))
    }

    fn named(&self, section: &str, name: &str, pattern: &Match) -> Vec<(&str, &Json)> {
        self.section(section)
            .filter(|(n, _)| name == "*" || n.as_str() == name)
            .filter(|(_, v)| pattern.check(Some(v)).is_ok())
            .map(|(n, v)| (n.as_str(), v))
            .collect()
    }

    fn has_named(
        &self,
        section: &str,
        name: &str,
        pattern: impl Into<Match>,
    ) -> Result<(), AssertionError> {
        let pattern = pattern.into();
        if !self.named(section, name, &pattern).is_empty() {
            return Ok(());
        }
        let candidates: Vec<String> = self
            .section(section)
            .filter(|(n, _)| name == "*" || n.as_str() == name)
            .map(|(n, v)| {
                format!(
                    "  {n}: {}",
                    pattern.check(Some(v)).err().unwrap_or_default()
                )
            })
            .collect();
        if candidates.is_empty() {
            let names: Vec<&str> = self.section(section).map(|(n, _)| n.as_str()).collect();
            return fail(format!(
                "{section} has no entry {name:?}; it has: {}",
                names.join(", ")
            ));
        }
        fail(format!(
            "no entry of {section} named {name:?} matches:\n{}",
            candidates.join("\n")
        ))
    }

    /// The outputs matching the pattern; `name` `"*"` means any output.
    pub fn find_outputs(&self, name: &str, pattern: impl Into<Match>) -> Vec<(&str, &Json)> {
        self.named("Outputs", name, &pattern.into())
    }

    /// Checks that an output (`"*"`: any output) matches the pattern.
    pub fn has_output(&self, name: &str, pattern: impl Into<Match>) -> Result<(), AssertionError> {
        self.has_named("Outputs", name, pattern)
    }

    /// The `Value` of an output.
    pub fn output_value(&self, name: &str) -> Option<&Json> {
        self.json.get("Outputs")?.get(name)?.get("Value")
    }

    /// Checks that a parameter (`"*"`: any) matches the pattern.
    pub fn has_parameter(
        &self,
        name: &str,
        pattern: impl Into<Match>,
    ) -> Result<(), AssertionError> {
        self.has_named("Parameters", name, pattern)
    }

    /// Checks that a mapping (`"*"`: any) matches the pattern.
    pub fn has_mapping(&self, name: &str, pattern: impl Into<Match>) -> Result<(), AssertionError> {
        self.has_named("Mappings", name, pattern)
    }

    /// Checks that a condition (`"*"`: any) matches the pattern.
    pub fn has_condition(
        &self,
        name: &str,
        pattern: impl Into<Match>,
    ) -> Result<(), AssertionError> {
        self.has_named("Conditions", name, pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Template {
        Template::from_json(json!({
            "Resources": {
                "A": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a", "Tags": [{"Key": "k", "Value": "v"}]}},
                "B": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
                "T": {"Type": "AWS::SNS::Topic"}
            },
            "Outputs": {"Name": {"Value": {"Ref": "A"}, "Export": {"Name": "x:y"}}}
        }))
    }

    #[test]
    fn counts_and_partial_properties() {
        let t = template();
        assert!(t.resource_count_is("AWS::S3::Bucket", 2).is_ok());
        let err = t.resource_count_is("AWS::S3::Bucket", 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected 3 resources of type AWS::S3::Bucket, found 2"
        );
        assert!(
            t.has_resource_properties("AWS::S3::Bucket", json!({"BucketName": "a"}))
                .is_ok()
        );
        let err = t
            .has_resource_properties("AWS::S3::Bucket", json!({"BucketName": "c"}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("A: at Properties.BucketName: expected \"c\", found \"a\""),
            "{err}"
        );
        assert!(
            err.contains("B: at Properties.BucketName: missing"),
            "{err}"
        );
    }

    #[test]
    fn lists_match_exactly_unless_array_with() {
        let t = template();
        assert!(
            t.has_resource_properties("AWS::S3::Bucket", json!({"Tags": [{"Key": "k"}]}))
                .is_ok()
        );
        assert!(
            t.has_resource_properties("AWS::S3::Bucket", json!({"Tags": []}))
                .is_err()
        );
        assert!(
            t.has_resource_properties(
                "AWS::S3::Bucket",
                Match::object_like([("Tags", Match::array_with([json!({"Value": "v"})]))])
            )
            .is_ok()
        );
    }

    #[test]
    fn whole_resources_outputs_and_absence() {
        let t = template();
        assert!(
            t.has_resource("AWS::S3::Bucket", json!({"DeletionPolicy": "Retain"}))
                .is_ok()
        );
        assert_eq!(
            t.find_resources("AWS::S3::Bucket", json!({"DeletionPolicy": "Retain"}))
                .len(),
            1
        );
        assert!(
            t.has_resource_properties(
                "AWS::SNS::Topic",
                Match::object_like([("TopicName", Match::absent())])
            )
            .is_ok()
        );
        assert!(
            t.has_output("Name", json!({"Export": {"Name": "x:y"}}))
                .is_ok()
        );
        assert!(t.has_output("*", json!({"Value": {"Ref": "A"}})).is_ok());
        assert!(
            t.has_output("Other", json!({}))
                .unwrap_err()
                .to_string()
                .contains("has no entry")
        );
        assert_eq!(t.output_value("Name"), Some(&json!({"Ref": "A"})));
        let err = t
            .has_resource_properties("AWS::EC2::VPC", json!({}))
            .unwrap_err();
        assert!(
            err.to_string().contains("AWS::S3::Bucket, AWS::SNS::Topic"),
            "{err}"
        );
    }

    #[test]
    fn object_equals_and_not() {
        assert!(
            Match::object_equals([("a", json!(1))])
                .check(Some(&json!({"a": 1})))
                .is_ok()
        );
        assert!(
            Match::object_equals([("a", json!(1))])
                .check(Some(&json!({"a": 1, "b": 2})))
                .is_err()
        );
        assert!(Match::not(json!(1)).check(Some(&json!(2))).is_ok());
        assert!(Match::not(json!(1)).check(Some(&json!(1))).is_err());
        assert!(
            Match::string_containing("ell")
                .check(Some(&json!("hello")))
                .is_ok()
        );
    }
}
