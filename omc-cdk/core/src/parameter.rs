//! Stack parameters: their types and declarations.

use crate::error::{Error, Result};

/// The type of a parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ParameterType {
    /// `String`
    #[default]
    String,
    /// `Number`
    Number,
    /// `List<Number>`
    ListNumber,
    /// `CommaDelimitedList`
    CommaDelimitedList,
    /// An AWS-specific type, such as `AWS::EC2::VPC::Id` or `List<AWS::EC2::Subnet::Id>`.
    Aws(String),
    /// The value of an SSM parameter: `AWS::SSM::Parameter::Value<T>` with `T` given here, such
    /// as `String` or `AWS::EC2::Image::Id`.
    SsmParameterValue(String),
}

impl ParameterType {
    /// The type's name in templates.
    pub fn name(&self) -> String {
        match self {
            ParameterType::String => "String".into(),
            ParameterType::Number => "Number".into(),
            ParameterType::ListNumber => "List<Number>".into(),
            ParameterType::CommaDelimitedList => "CommaDelimitedList".into(),
            ParameterType::Aws(t) => t.clone(),
            ParameterType::SsmParameterValue(t) => format!("AWS::SSM::Parameter::Value<{t}>"),
        }
    }

    /// Whether values of this type are lists.
    pub fn is_list(&self) -> bool {
        match self {
            ParameterType::ListNumber | ParameterType::CommaDelimitedList => true,
            ParameterType::Aws(t) | ParameterType::SsmParameterValue(t) => t.starts_with("List<"),
            ParameterType::String | ParameterType::Number => false,
        }
    }
}

/// A parameter's declaration. `ParameterProps::default()` is a `String` parameter without
/// constraints.
#[derive(Clone, Debug, Default)]
pub struct ParameterProps {
    /// The type. Default: `String`.
    pub parameter_type: ParameterType,
    /// The value used when none is given at deploy time. Default: a value must be given.
    pub default: Option<String>,
    /// The only values accepted. Default: any value.
    pub allowed_values: Vec<String>,
    /// A regular expression values of `String` parameters must match. Default: any value.
    pub allowed_pattern: Option<String>,
    /// What a failed constraint says. Default: CloudFormation's generic message.
    pub constraint_description: Option<String>,
    /// What the parameter is for (at most 4,000 characters). Default: none.
    pub description: Option<String>,
    /// Minimum length of a `String` value. Default: none.
    pub min_length: Option<u32>,
    /// Maximum length of a `String` value. Default: none.
    pub max_length: Option<u32>,
    /// Minimum of a `Number` value. Default: none.
    pub min_value: Option<f64>,
    /// Maximum of a `Number` value. Default: none.
    pub max_value: Option<f64>,
    /// Whether CloudFormation masks the value in the console and API (`NoEcho`). Default:
    /// `false`.
    pub no_echo: bool,
}

impl ParameterProps {
    /// A parameter of the given type, without constraints.
    pub fn new(parameter_type: ParameterType) -> ParameterProps {
        ParameterProps {
            parameter_type,
            ..ParameterProps::default()
        }
    }

    pub(crate) fn check(&self, stack: &str, name: &str) -> Result<()> {
        let path = format!("{stack}/Parameters/{name}");
        let fail = |message: String| {
            Err(Error::InvalidValue {
                path: path.clone(),
                message,
            })
        };
        if let Some(default) = &self.default {
            if !self.allowed_values.is_empty() && !self.allowed_values.contains(default) {
                return fail(format!(
                    "default {default:?} is not one of the allowed values {:?}; change the default or allow it",
                    self.allowed_values
                ));
            }
            if self.parameter_type == ParameterType::Number && default.parse::<f64>().is_err() {
                return fail(format!(
                    "default {default:?} is not a number, but the parameter's type is Number"
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.min_length, self.max_length)
            && min > max
        {
            return fail(format!(
                "min_length ({min}) is greater than max_length ({max})"
            ));
        }
        if let Some(bad) = [self.min_value, self.max_value]
            .into_iter()
            .flatten()
            .find(|n| !n.is_finite())
        {
            return fail(format!(
                "min_value and max_value must be finite numbers, not {bad}"
            ));
        }
        if let (Some(min), Some(max)) = (self.min_value, self.max_value)
            && min > max
        {
            return fail(format!(
                "min_value ({min}) is greater than max_value ({max})"
            ));
        }
        if let Some(description) = &self.description
            && description.chars().count() > 4000
        {
            return fail("the description is longer than 4,000 characters".into());
        }
        if let ParameterType::Aws(t) = &self.parameter_type {
            let inner = t
                .strip_prefix("List<")
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or(t);
            if !inner.starts_with("AWS::") {
                return fail(format!(
                    "parameter type {t:?} is not an AWS-specific type; use a type such as \"AWS::EC2::VPC::Id\" or \"List<AWS::EC2::Subnet::Id>\""
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("Type".into(), self.parameter_type.name().into());
        if let Some(default) = &self.default {
            map.insert("Default".into(), default.clone().into());
        }
        if !self.allowed_values.is_empty() {
            map.insert("AllowedValues".into(), self.allowed_values.clone().into());
        }
        if let Some(pattern) = &self.allowed_pattern {
            map.insert("AllowedPattern".into(), pattern.clone().into());
        }
        if let Some(text) = &self.constraint_description {
            map.insert("ConstraintDescription".into(), text.clone().into());
        }
        if let Some(text) = &self.description {
            map.insert("Description".into(), text.clone().into());
        }
        if let Some(n) = self.min_length {
            map.insert("MinLength".into(), n.into());
        }
        if let Some(n) = self.max_length {
            map.insert("MaxLength".into(), n.into());
        }
        if let Some(n) = self.min_value {
            map.insert("MinValue".into(), number(n));
        }
        if let Some(n) = self.max_value {
            map.insert("MaxValue".into(), number(n));
        }
        if self.no_echo {
            map.insert("NoEcho".into(), true.into());
        }
        serde_json::Value::Object(map)
    }
}

/// A whole float renders as an integer, so `5.0` is `5` in the template.
#[allow(clippy::cast_possible_truncation)]
fn number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}
