//! What the CloudFormation resource schemas say about a type, as static data: its properties
//! (required, whether changing one replaces the resource), its attributes and its tag property.
//!
//! The typed resources (crate `omc-cfn`) carry one [`ResourceSchema`] per type; diffs use it
//! to mark replacements.

pub use crate::constraints::Constraints;

/// Finds the schema of a resource type by name, such as `omc_cfn::schema::find`.
pub type SchemaLookup = fn(&str) -> Option<&'static ResourceSchema>;

/// One resource type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSchema {
    /// The type name, such as `AWS::EC2::VPC`.
    pub type_name: &'static str,
    /// The properties, sorted by name.
    pub properties: Vec<PropertySchema>,
    /// The attributes `Fn::GetAtt` accepts, sorted.
    pub attributes: Vec<&'static str>,
    /// The property that holds tags, and its shape.
    pub tags: Option<TagSchema>,
    /// The value constraints of its properties (allowed values, patterns, ranges, lengths),
    /// which synthesis checks literal values against; empty unless attached
    /// ([`attach_constraints`]).
    pub constraints: Constraints,
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
    pub fn property(&self, name: &str) -> Option<&PropertySchema> {
        self.properties
            .binary_search_by(|p| p.name.cmp(name))
            .ok()
            .map(|i| &self.properties[i])
    }

    /// Whether `Fn::GetAtt` accepts this attribute.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.binary_search(&name).is_ok()
    }
}

/// Reads resource schemas from their compact text form, one type per line, sorted by type
/// name: `<type>\t<tags>\t<properties>\t<attributes>` where `<tags>` is empty or
/// `<property>:<S|M|A>` (standard, map, auto scaling group), `<properties>` is a
/// comma-separated list of `<name>:<flags>` (`r` required; `A` always replaces, `C` may
/// replace) and `<attributes>` is comma-separated. The generated crate keeps its registry in
/// this form because string data costs nothing to compile.
pub fn parse_registry(text: &'static str) -> Result<Vec<ResourceSchema>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let bad = |what: &str| format!("registry line {}: {what}: {line:?}", n + 1);
        let mut fields = line.split('\t');
        let (Some(type_name), Some(tags), Some(properties), Some(attributes), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(bad("expected 4 tab-separated fields"));
        };
        let tags = if tags.is_empty() {
            None
        } else {
            let (property, variant) = tags.split_once(':').ok_or_else(|| bad("tags"))?;
            let variant = match variant {
                "S" => TagVariant::Standard,
                "M" => TagVariant::Map,
                "A" => TagVariant::AutoScalingGroup,
                _ => return Err(bad("tag variant")),
            };
            Some(TagSchema { property, variant })
        };
        let properties = properties
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (name, flags) = p.split_once(':').ok_or_else(|| bad("property"))?;
                Ok(PropertySchema {
                    name,
                    required: flags.contains('r'),
                    replacement: if flags.contains('A') {
                        Replacement::Always
                    } else if flags.contains('C') {
                        Replacement::Conditional
                    } else {
                        Replacement::Never
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let attributes = attributes.split(',').filter(|a| !a.is_empty()).collect();
        out.push(ResourceSchema {
            type_name,
            properties,
            attributes,
            tags,
            constraints: Constraints::default(),
        });
    }
    if !out.windows(2).all(|w| w[0].type_name < w[1].type_name) {
        return Err("registry types are not sorted".into());
    }
    Ok(out)
}

/// Attaches the value constraints in `text` (one type per line, `<type>\t<JSON>`, see
/// [`crate::constraints`]) to the schemas of `registry` (sorted by type name). Types without a
/// line keep none; a line of a type the registry does not have is ignored.
pub fn attach_constraints(registry: &mut [ResourceSchema], text: &'static str) {
    for line in text.lines() {
        let Some((type_name, constraints)) = line.split_once('\t') else {
            continue;
        };
        if let Ok(i) = registry.binary_search_by(|r| r.type_name.cmp(type_name)) {
            registry[i].constraints = Constraints::new(constraints);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_lines_parse() {
        let text =
            "AWS::A::B\tTags:S\tName:rA,Size:C,Tags:\tArn,Endpoint.Address\nAWS::A::C\t\t\t\n";
        let registry = parse_registry(text).unwrap();
        assert_eq!(registry.len(), 2);
        let b = &registry[0];
        assert_eq!(b.type_name, "AWS::A::B");
        assert_eq!(
            b.property("Name"),
            Some(&PropertySchema {
                name: "Name",
                required: true,
                replacement: Replacement::Always
            })
        );
        assert_eq!(
            b.property("Size").unwrap().replacement,
            Replacement::Conditional
        );
        assert_eq!(b.property("Tags").unwrap().replacement, Replacement::Never);
        assert!(b.has_attribute("Endpoint.Address"));
        assert_eq!(
            b.tags,
            Some(TagSchema {
                property: "Tags",
                variant: TagVariant::Standard
            })
        );
        assert_eq!(registry[1].tags, None);
        assert!(
            parse_registry("AWS::A::B\tTags:X\t\t\n")
                .unwrap_err()
                .contains("tag variant")
        );
        assert!(
            parse_registry("AWS::B::B\t\t\t\nAWS::A::A\t\t\t\n")
                .unwrap_err()
                .contains("sorted")
        );
    }
}
