//! Rust names for CloudFormation names.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::model::Attribute;

/// Names the generated code uses unqualified (the standard prelude and derived traits); a
/// property type with one of these names gets the suffix `Property` (as AWS CDK names all its
/// property types). Core items are qualified (`cdk::Value`) and need no reservation.
pub(crate) const RESERVED_TYPE_NAMES: &[&str] = &[
    "Box",
    "Clone",
    "Debug",
    "Default",
    "From",
    "Into",
    "None",
    "Option",
    "PartialEq",
    "Result",
    "Self",
    "Some",
    "String",
    "Vec",
];

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Identifiers that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "super", "Self", "_"];

/// An identifier, made raw (`r#type`) or suffixed (`self_`) when it is a keyword.
pub(crate) fn ident(name: String) -> String {
    if NOT_RAW.contains(&name.as_str()) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// `DBInstance` -> `DbInstance`, `VPC` -> `Vpc`: acronyms are words.
pub(crate) fn type_name(cfn: &str) -> String {
    let name = cfn.to_upper_camel_case();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("T{name}")
    } else {
        name
    }
}

/// A struct field or method name: `ContainerDefinitions` -> `container_definitions`.
pub(crate) fn field_name(cfn: &str) -> String {
    ident(cfn.to_snake_case())
}

/// A resource's module: `TaskDefinition` -> `task_definition`, `Macro` -> `r#macro`.
pub(crate) fn module_name(cfn: &str) -> String {
    ident(cfn.to_snake_case())
}

/// The file of a module: the module name without `r#`.
pub(crate) fn file_name(module: &str) -> &str {
    module.trim_start_matches("r#")
}

/// A service's module and feature: the lower-case namespace (`AWS::EC2` -> `ec2`); namespaces
/// outside `AWS::` keep their prefix (`Alexa::ASK` -> `alexa_ask`).
pub(crate) fn service_module(namespace: &str) -> String {
    match namespace.strip_prefix("AWS::") {
        Some(service) => service.to_ascii_lowercase(),
        None => namespace.replace("::", "_").to_ascii_lowercase(),
    }
}

/// `attr_` + the snake-case attribute name, with `.` as `_`. When two attributes would get the
/// same method (EKS `CertificateAuthorityData` and `CertificateAuthority.Data`), the dotted one
/// spells its dots as `_dot_`.
pub(crate) fn attribute_methods(attributes: &mut [Attribute]) {
    let plain = |name: &str, dot: &str| {
        let parts: Vec<String> = name.split('.').map(ToSnakeCase::to_snake_case).collect();
        format!("attr_{}", parts.join(dot))
    };
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for a in attributes.iter() {
        *count.entry(plain(&a.cfn_name, "_")).or_default() += 1;
    }
    for a in attributes.iter_mut() {
        let name = plain(&a.cfn_name, "_");
        a.method = if count[&name] > 1 && a.cfn_name.contains('.') {
            plain(&a.cfn_name, "_dot_")
        } else {
            name
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Type;

    #[test]
    fn names() {
        assert_eq!(type_name("DBInstance"), "DbInstance");
        assert_eq!(type_name("VPC"), "Vpc");
        assert_eq!(type_name("VPCGatewayAttachment"), "VpcGatewayAttachment");
        assert_eq!(field_name("VPCSecurityGroups"), "vpc_security_groups");
        assert_eq!(field_name("Type"), "r#type");
        assert_eq!(module_name("Macro"), "r#macro");
        assert_eq!(file_name("r#macro"), "macro");
        assert_eq!(
            service_module("AWS::ElasticLoadBalancingV2"),
            "elasticloadbalancingv2"
        );
        assert_eq!(service_module("Alexa::ASK"), "alexa_ask");
    }

    #[test]
    fn attribute_clashes() {
        let attr = |n: &str| Attribute {
            cfn_name: n.into(),
            method: String::new(),
            ty: Type::String,
            doc: String::new(),
        };
        let mut attrs = vec![
            attr("CertificateAuthority.Data"),
            attr("CertificateAuthorityData"),
            attr("Endpoint.Address"),
        ];
        attribute_methods(&mut attrs);
        let methods: Vec<&str> = attrs.iter().map(|a| a.method.as_str()).collect();
        assert_eq!(
            methods,
            [
                "attr_certificate_authority_dot_data",
                "attr_certificate_authority_data",
                "attr_endpoint_address"
            ]
        );
    }
}
