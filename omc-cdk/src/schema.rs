//! What the CloudFormation resource schemas say about a type, as static data: its properties
//! (required, whether changing one replaces the resource), its attributes and its tag property.
//!
//! The typed resources (crate `omc-cfn`) carry one [`ResourceSchema`] per type; deploy diffs
//! use it to mark replacements.

use std::borrow::Cow;

use crate::resource::TagFormat;

/// One resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceSchema {
    /// The type name, such as `AWS::EC2::VPC`.
    pub type_name: &'static str,
    /// The properties, sorted by name.
    pub properties: &'static [PropertySchema],
    /// The attributes `Fn::GetAtt` accepts, sorted.
    pub attributes: &'static [&'static str],
    /// The property that holds tags, and its shape.
    pub tags: Option<TagSchema>,
}

/// One property of a resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertySchema {
    /// The property name.
    pub name: &'static str,
    /// Whether the property must be set.
    pub required: bool,
    /// What an update of the property does to the resource.
    pub replacement: Replacement,
}

/// What changing a property does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Replacement {
    /// Updated in place.
    Never,
    /// Replaced in some cases (depending on other properties or values).
    Conditional,
    /// Always replaced: a new physical resource is created and the old one deleted.
    Always,
}

/// Where and how a type takes tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagSchema {
    /// The property.
    pub property: &'static str,
    /// The shape.
    pub variant: TagVariant,
}

/// The shape of a tag property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagVariant {
    /// A list of `{"Key", "Value"}` objects.
    Standard,
    /// An object of key to value.
    Map,
    /// `{"Key", "Value", "PropagateAtLaunch"}` objects (auto scaling groups).
    AutoScalingGroup,
}

impl ResourceSchema {
    /// The property with this name.
    pub fn property(&self, name: &str) -> Option<&'static PropertySchema> {
        self.properties
            .binary_search_by(|p| p.name.cmp(name))
            .ok()
            .map(|i| &self.properties[i])
    }

    /// Whether `Fn::GetAtt` accepts this attribute.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.binary_search(&name).is_ok()
    }

    /// How stack tags are applied to this type.
    pub fn tag_format(&self) -> TagFormat {
        match self.tags {
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
