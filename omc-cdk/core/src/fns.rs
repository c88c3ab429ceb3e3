//! Typed constructors for CloudFormation's intrinsic functions.
//!
//! Each function yields a [`Value`] of the type CloudFormation's function returns, so it fits
//! wherever a literal of that type fits:
//!
//! ```
//! use omc_cdk::{aws, fns, Value};
//! let az: Value<String> = fns::select(1, fns::get_azs(aws::region()));
//! let cidrs = fns::cidr("10.0.0.0/16", 4, 8);
//! let subnet: Value<String> = fns::select(0, cidrs);
//! let url = fns::join("", ["https://", "example.com"]);
//! # let _ = (az, subnet, url);
//! ```
//!
//! `Ref` and `Fn::GetAtt` come from handles (`resource.reference()`,
//! `resource.get_att("Arn")`, `parameter.value()`), `Fn::FindInMap` from
//! [`crate::Mapping::find`], and pseudo parameters from [`crate::aws`].

use indexmap::IndexMap;

use crate::tree::Condition;
use crate::value::{ConditionExpr, Expr, IntoNode, Intrinsic, Pseudo, Value};

/// `Fn::Join`: the items of a list joined with a delimiter.
pub fn join(
    delimiter: impl Into<String>,
    values: impl Into<Value<Vec<Value<String>>>>,
) -> Value<String> {
    Value::Fn(Expr::new(Intrinsic::Join {
        delimiter: delimiter.into(),
        values: values.into().into_node(),
    }))
}

/// `Fn::Sub` without a variable map: `${AWS::Region}`, `${ParamName}`, `${LogicalId}` and
/// `${LogicalId.Attribute}` are substituted; `${!Literal}` renders as `${Literal}`.
///
/// Synthesis checks that every variable exists. Prefer [`sub_with`] to refer to resources:
/// the variable map takes handles, which also work across stacks. Never put user text into
/// the template unescaped: build it with [`Sub`], or escape the text with [`sub_escape`].
pub fn sub(template: impl Into<String>) -> Value<String> {
    Value::Fn(Expr::new(Intrinsic::Sub {
        template: template.into(),
        variables: IndexMap::new(),
    }))
}

/// `Fn::Sub` with a variable map.
///
/// ```
/// use omc_cdk::{fns, aws, Value};
/// let url: Value<String> = fns::sub_with(
///     "postgres://${Host}:${Port}/app",
///     [("Host", Value::from("db.internal")), ("Port", "5432".into())],
/// );
/// # let _ = url;
/// ```
pub fn sub_with<K, V>(
    template: impl Into<String>,
    variables: impl IntoIterator<Item = (K, V)>,
) -> Value<String>
where
    K: Into<String>,
    V: Into<Value<String>>,
{
    Value::Fn(Expr::new(Intrinsic::Sub {
        template: template.into(),
        variables: variables
            .into_iter()
            .map(|(k, v)| (k.into(), v.into().into_node()))
            .collect(),
    }))
}

/// Escapes literal text for an `Fn::Sub` template: every `${` becomes `${!`, which
/// CloudFormation renders as `${`, so the text can never name a variable (a parameter, a
/// resource, `${AWS::Region}`). Use it for any text a user gave that goes into a template;
/// [`Sub`] does it for every literal part.
///
/// ```
/// use omc_cdk::fns;
/// assert_eq!(fns::sub_escape("trail-${AWS::Region}"), "trail-${!AWS::Region}");
/// assert_eq!(fns::sub_escape("no variables"), "no variables");
/// ```
pub fn sub_escape(text: &str) -> String {
    text.replace("${", "${!")
}

/// An `Fn::Sub` built from parts, so that user text never becomes a variable: literal text is
/// escaped ([`sub_escape`]), pseudo parameters are written `${AWS::Region}`, and every other
/// value goes into the variable map under a name the construct chooses.
///
/// ```
/// use omc_cdk::{fns, Pseudo, Value};
/// let user_text = "${AWS::Region}"; // stays literal
/// let arn: Value<String> = fns::Sub::new()
///     .text("arn:")
///     .pseudo(Pseudo::Partition)
///     .text(":logs:::")
///     .text(user_text)
///     .build();
/// # let _ = arn;
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Sub {
    template: String,
    variables: IndexMap<String, crate::value::Node>,
}

impl Sub {
    /// An empty template.
    pub fn new() -> Sub {
        Sub::default()
    }

    /// Literal text, escaped: it renders as given, whatever `${...}` it contains.
    pub fn text(mut self, text: &str) -> Sub {
        self.template.push_str(&sub_escape(text));
        self
    }

    /// A pseudo parameter, written `${AWS::...}`.
    pub fn pseudo(mut self, pseudo: Pseudo) -> Sub {
        self.template.push_str("${");
        self.template.push_str(pseudo.name());
        self.template.push('}');
        self
    }

    /// A value under a variable `name` of the map, written `${name}`. A later value under the
    /// same name replaces the earlier one.
    pub fn var(mut self, name: &str, value: impl Into<Value<String>>) -> Sub {
        self.template.push_str("${");
        self.template.push_str(name);
        self.template.push('}');
        self.variables
            .insert(name.to_owned(), value.into().into_node());
        self
    }

    /// The template so far, as CloudFormation will read it.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The `Fn::Sub`.
    pub fn build(self) -> Value<String> {
        Value::Fn(Expr::new(Intrinsic::Sub {
            template: self.template,
            variables: self.variables,
        }))
    }
}

/// `Fn::Select`: the item at `index` of a list.
pub fn select<T>(index: impl Into<Value<i64>>, list: impl Into<Value<Vec<Value<T>>>>) -> Value<T>
where
    T: IntoNode,
{
    Value::Fn(Expr::new(Intrinsic::Select {
        index: index.into().into_node(),
        list: list.into().into_node(),
    }))
}

/// `Fn::Split`: a string split at a delimiter.
pub fn split(
    delimiter: impl Into<String>,
    source: impl Into<Value<String>>,
) -> Value<Vec<Value<String>>> {
    Value::Fn(Expr::new(Intrinsic::Split {
        delimiter: delimiter.into(),
        source: source.into().into_node(),
    }))
}

/// `Fn::GetAZs`: the availability zones of a region. Pass [`crate::aws::region()`] or `""` for
/// the stack's region.
pub fn get_azs(region: impl Into<Value<String>>) -> Value<Vec<Value<String>>> {
    Value::Fn(Expr::new(Intrinsic::GetAzs {
        region: region.into().into_node(),
    }))
}

/// `Fn::ImportValue`: the value of an export of another stack, by export name.
///
/// References between stacks of one app need no explicit import: using a handle of another
/// stack exports and imports automatically. This is for exports made outside the app.
pub fn import_value(name: impl Into<Value<String>>) -> Value<String> {
    Value::Fn(Expr::new(Intrinsic::ImportValue {
        name: name.into().into_node(),
    }))
}

/// `Fn::If`: `then` when the condition holds, `otherwise` when it does not. Use
/// [`crate::aws::no_value`] to leave a property out.
pub fn if_<T: IntoNode>(
    condition: &Condition,
    then: impl Into<Value<T>>,
    otherwise: impl Into<Value<T>>,
) -> Value<T> {
    Value::Fn(Expr::new(Intrinsic::If {
        condition: condition.element().clone(),
        then: then.into().into_node(),
        otherwise: otherwise.into().into_node(),
    }))
}

/// `Fn::Base64`: a string encoded in base 64 (for EC2 user data).
pub fn base64(value: impl Into<Value<String>>) -> Value<String> {
    Value::Fn(Expr::new(Intrinsic::Base64 {
        value: value.into().into_node(),
    }))
}

/// `Fn::Cidr`: `count` CIDR blocks with `cidr_bits` host bits each, carved from `block`.
pub fn cidr(
    block: impl Into<Value<String>>,
    count: impl Into<Value<i64>>,
    cidr_bits: impl Into<Value<i64>>,
) -> Value<Vec<Value<String>>> {
    Value::Fn(Expr::new(Intrinsic::Cidr {
        block: block.into().into_node(),
        count: count.into().into_node(),
        cidr_bits: cidr_bits.into().into_node(),
    }))
}

/// `Fn::Equals`, for a condition.
pub fn equals(left: impl Into<Value<String>>, right: impl Into<Value<String>>) -> ConditionExpr {
    ConditionExpr::Equals(left.into().into_node(), right.into().into_node())
}

/// `Fn::And`: all of 2 to 10 conditions hold.
pub fn and(conditions: impl IntoIterator<Item = ConditionExpr>) -> ConditionExpr {
    ConditionExpr::And(conditions.into_iter().collect())
}

/// `Fn::Or`: at least one of 2 to 10 conditions holds.
pub fn or(conditions: impl IntoIterator<Item = ConditionExpr>) -> ConditionExpr {
    ConditionExpr::Or(conditions.into_iter().collect())
}

/// `Fn::Not`: the condition does not hold.
pub fn not(condition: ConditionExpr) -> ConditionExpr {
    ConditionExpr::Not(Box::new(condition))
}

/// `Condition`: another condition of the same stack, inside a condition expression.
pub fn condition(condition: &Condition) -> ConditionExpr {
    ConditionExpr::Condition(condition.element().clone())
}
