//! What the CloudFormation resource schemas say about a type ([`ResourceSchema`], from
//! `omc-cdk-template`, which diffs share), and the builder generated resources render their
//! properties with.

use std::borrow::Cow;

pub use omc_cdk_template::schema::{
    Constraints, PropertySchema, Replacement, ResourceSchema, SchemaLookup, TagSchema, TagVariant,
    attach_constraints, parse_registry,
};

/// How stack tags are applied to a type, by its schema.
pub fn tag_format(schema: &ResourceSchema) -> TagFormat {
    match schema.tags {
        None => TagFormat::None,
        Some(TagSchema { property, variant }) => {
            let property = Cow::Borrowed(property);
            match variant {
                TagVariant::Standard => TagFormat::KeyValueList(property),
                TagVariant::Map => TagFormat::Map(property),
                TagVariant::AutoScalingGroup => TagFormat::AutoScalingGroup(property),
            }
        }
    }
}

/// Builds the properties of a typed resource or property type in a fixed order: one call per
/// field. Used by generated code.
#[derive(Debug, Default)]
pub struct Props(indexmap::IndexMap<String, crate::value::Node>);

impl Props {
    /// An empty set of properties with room for `n`.
    pub fn with_capacity(n: usize) -> Props {
        Props(indexmap::IndexMap::with_capacity(n))
    }

    /// A property that is always set.
    pub fn req(&mut self, name: &str, value: impl crate::value::IntoNode) {
        self.0.insert(name.to_owned(), value.into_node());
    }

    /// A property that is set when `Some`.
    pub fn opt<T: crate::value::IntoNode>(&mut self, name: &str, value: Option<T>) {
        if let Some(value) = value {
            self.0.insert(name.to_owned(), value.into_node());
        }
    }

    /// The properties.
    pub fn finish(self) -> indexmap::IndexMap<String, crate::value::Node> {
        self.0
    }

    /// The properties as an object node.
    pub fn into_node(self) -> crate::value::Node {
        crate::value::Node::Map(self.0)
    }
}

/// How a resource type takes tags, so stack tags can be applied to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TagFormat {
    /// The type takes no tags.
    #[default]
    None,
    /// A list of `{"Key": .., "Value": ..}` objects in the named property (most types).
    KeyValueList(Cow<'static, str>),
    /// Like [`TagFormat::KeyValueList`] with `"PropagateAtLaunch": true` on each tag
    /// (`AWS::AutoScaling::AutoScalingGroup`).
    AutoScalingGroup(Cow<'static, str>),
    /// An object of key to value in the named property.
    Map(Cow<'static, str>),
}

impl TagFormat {
    /// The property that holds the tags, if the type takes tags.
    pub fn property(&self) -> Option<&str> {
        match self {
            TagFormat::None => None,
            TagFormat::KeyValueList(p) | TagFormat::AutoScalingGroup(p) | TagFormat::Map(p) => {
                Some(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_schema() {
        let registry = parse_registry("AWS::A::B\tTags:S\t\t\nAWS::A::C\t\t\t\n").unwrap();
        assert_eq!(
            tag_format(&registry[0]),
            TagFormat::KeyValueList("Tags".into())
        );
        assert_eq!(tag_format(&registry[1]), TagFormat::None);
    }
}
