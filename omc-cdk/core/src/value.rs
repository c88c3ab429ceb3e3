//! Typed template values: a literal, or an intrinsic function whose result has the same type.
//!
//! [`Value<T>`] is what every property accepts. `Value::Lit` holds a Rust value; `Value::Fn`
//! holds an [`Expr<T>`], an intrinsic function that CloudFormation evaluates at deploy time and
//! that yields a `T`. Intrinsics are built only by the typed functions in [`crate::fns`],
//! [`crate::aws`] and by handles (`resource.reference()`, `parameter.value()`,
//! `mapping.find(..)`), so a list-valued `Fn::GetAZs` cannot end up where a string is expected.
//!
//! A reference inside an intrinsic knows the stack, resource and attribute it points to
//! ([`ResourceRef`]); synthesis turns it into `Ref` / `Fn::GetAtt` in its own stack and into an
//! export and `Fn::ImportValue` in any other stack. Nothing is encoded into strings.
//!
//! Values are lowered to [`Node`]s, an untyped JSON tree with intrinsic nodes, when they are
//! stored in a resource.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use indexmap::IndexMap;

/// A value of type `T` in a template: a literal or an intrinsic function yielding a `T`.
///
/// Lists are `Value<Vec<Value<T>>>`: either a list intrinsic (`Fn::GetAZs`, `Fn::Split`, a
/// `CommaDelimitedList` parameter) or a literal list whose items may themselves be intrinsics.
///
/// ```
/// use omc_cdk::{Value, fns, aws};
/// let name: Value<String> = "orders".into();
/// let arn: Value<String> = fns::sub("arn:${AWS::Partition}:s3:::orders");
/// let zones: Value<Vec<Value<String>>> = vec![fns::select(0, fns::get_azs(aws::region())), "eu-west-1b".into()].into();
/// assert_eq!(name.as_literal().map(String::as_str), Some("orders"));
/// assert!(arn.is_intrinsic());
/// # let _ = zones;
/// ```
///
/// Intrinsics are typed by what they yield, so a list cannot be used as a string:
///
/// ```compile_fail
/// let zone: omc_cdk::Value<String> = omc_cdk::fns::get_azs("");
/// ```
///
/// nor a string as a number:
///
/// ```compile_fail
/// let port: omc_cdk::Value<i64> = omc_cdk::aws::region();
/// ```
///
/// and the functions only accept arguments of the right type:
///
/// ```compile_fail
/// let joined = omc_cdk::fns::join(",", omc_cdk::aws::region());
/// ```
pub enum Value<T> {
    /// A literal value.
    Lit(T),
    /// An intrinsic function that yields a `T`.
    Fn(Expr<T>),
}

/// An intrinsic function typed by the value it yields. Built by [`crate::fns`] and by handles.
pub struct Expr<T> {
    intrinsic: Box<Intrinsic>,
    _yields: PhantomData<fn() -> T>,
}

impl<T> Expr<T> {
    pub(crate) fn new(intrinsic: Intrinsic) -> Self {
        Self {
            intrinsic: Box::new(intrinsic),
            _yields: PhantomData,
        }
    }

    /// Wraps an intrinsic that the caller knows to yield a `T`.
    ///
    /// The typed functions in [`crate::fns`] are the normal way to build intrinsics; this exists
    /// for generated code and for intrinsics those functions do not cover.
    pub fn from_intrinsic_unchecked(intrinsic: Intrinsic) -> Self {
        Self::new(intrinsic)
    }

    /// The intrinsic function.
    pub fn intrinsic(&self) -> &Intrinsic {
        &self.intrinsic
    }
}

impl<T> Clone for Expr<T> {
    fn clone(&self) -> Self {
        Self {
            intrinsic: self.intrinsic.clone(),
            _yields: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Expr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.intrinsic.fmt(f)
    }
}

impl<T> PartialEq for Expr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.intrinsic == other.intrinsic
    }
}

impl<T: Clone> Clone for Value<T> {
    fn clone(&self) -> Self {
        match self {
            Value::Lit(v) => Value::Lit(v.clone()),
            Value::Fn(e) => Value::Fn(e.clone()),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Lit(v) => f.debug_tuple("Lit").field(v).finish(),
            Value::Fn(e) => f.debug_tuple("Fn").field(e).finish(),
        }
    }
}

impl<T: PartialEq> PartialEq for Value<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Lit(a), Value::Lit(b)) => a == b,
            (Value::Fn(a), Value::Fn(b)) => a == b,
            _ => false,
        }
    }
}

impl<T> Value<T> {
    /// A literal value.
    pub fn lit(value: T) -> Self {
        Value::Lit(value)
    }

    /// The literal, if this is one.
    pub fn as_literal(&self) -> Option<&T> {
        match self {
            Value::Lit(v) => Some(v),
            Value::Fn(_) => None,
        }
    }

    /// The intrinsic function, if this is one.
    pub fn intrinsic(&self) -> Option<&Intrinsic> {
        match self {
            Value::Lit(_) => None,
            Value::Fn(e) => Some(e.intrinsic()),
        }
    }

    /// Whether CloudFormation computes this value at deploy time.
    pub fn is_intrinsic(&self) -> bool {
        matches!(self, Value::Fn(_))
    }
}

/// The types an attribute (`Fn::GetAtt`) can have. Lists travel between stacks joined with
/// `||` and split again.
pub trait AttributeType {
    /// Whether values of this type are lists.
    const IS_LIST: bool = false;
}

impl AttributeType for String {}
impl AttributeType for i64 {}
impl AttributeType for f64 {}
impl AttributeType for bool {}
impl AttributeType for serde_json::Value {}
impl<T> AttributeType for Vec<Value<T>> {
    const IS_LIST: bool = true;
}

/// A list property: a list intrinsic, or a literal list whose items may be intrinsics.
pub type List<T> = Value<Vec<Value<T>>>;

/// A map property (string keys): an intrinsic, or a literal map whose values may be intrinsics.
pub type MapValue<T> = Value<IndexMap<String, Value<T>>>;

/// A JSON document property (IAM policies, event patterns, ...).
pub type Json = serde_json::Value;

impl<T> From<Expr<T>> for Value<T> {
    fn from(e: Expr<T>) -> Self {
        Value::Fn(e)
    }
}

impl From<&str> for Value<String> {
    fn from(s: &str) -> Self {
        Value::Lit(s.to_owned())
    }
}

impl From<String> for Value<String> {
    fn from(s: String) -> Self {
        Value::Lit(s)
    }
}

impl From<&String> for Value<String> {
    fn from(s: &String) -> Self {
        Value::Lit(s.clone())
    }
}

impl From<bool> for Value<bool> {
    fn from(b: bool) -> Self {
        Value::Lit(b)
    }
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl From<$t> for Value<i64> {
            fn from(n: $t) -> Self {
                Value::Lit(i64::from(n))
            }
        }
        impl From<$t> for Value<f64> {
            fn from(n: $t) -> Self {
                Value::Lit(f64::from(n))
            }
        }
    )*};
}
int_values!(i32, u32, i16, u16, i8, u8);

impl From<i64> for Value<i64> {
    fn from(n: i64) -> Self {
        Value::Lit(n)
    }
}

impl From<f64> for Value<f64> {
    fn from(n: f64) -> Self {
        Value::Lit(n)
    }
}

impl From<serde_json::Value> for Value<serde_json::Value> {
    fn from(v: serde_json::Value) -> Self {
        Value::Lit(v)
    }
}

impl<T, U: Into<Value<T>>> From<Vec<U>> for Value<Vec<Value<T>>> {
    fn from(items: Vec<U>) -> Self {
        Value::Lit(items.into_iter().map(Into::into).collect())
    }
}

impl<T, U: Into<Value<T>>, const N: usize> From<[U; N]> for Value<Vec<Value<T>>> {
    fn from(items: [U; N]) -> Self {
        Value::Lit(items.into_iter().map(Into::into).collect())
    }
}

impl<T, U: Into<Value<T>>> From<IndexMap<String, U>> for Value<IndexMap<String, Value<T>>> {
    fn from(items: IndexMap<String, U>) -> Self {
        Value::Lit(items.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

impl<T, U: Into<Value<T>>> From<BTreeMap<String, U>> for Value<IndexMap<String, Value<T>>> {
    fn from(items: BTreeMap<String, U>) -> Self {
        Value::Lit(items.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

/// An untyped template value: JSON with intrinsic functions whose references still know their
/// owners. Typed values are lowered to nodes when stored in a resource.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number; must be finite to be rendered.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Node>),
    /// An object, in insertion order.
    Map(IndexMap<String, Node>),
    /// An intrinsic function.
    Fn(Box<Intrinsic>),
}

impl Node {
    /// An object from key and value pairs, in order. Values may mix literals and typed values:
    ///
    /// ```
    /// use omc_cdk::{Node, IntoNode, aws};
    /// let statement = Node::map([
    ///     ("Effect", "Allow".into_node()),
    ///     ("Resource", aws::account_id().into_node()),
    /// ]);
    /// # let _ = statement;
    /// ```
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of nodes.
    pub fn list(items: impl IntoIterator<Item = Node>) -> Node {
        Node::List(items.into_iter().collect())
    }

    /// The string, if this is a literal string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Lowering of typed values to [`Node`]s.
pub trait IntoNode {
    /// The node for this value.
    fn into_node(self) -> Node;
}

impl IntoNode for Node {
    fn into_node(self) -> Node {
        self
    }
}

impl IntoNode for String {
    fn into_node(self) -> Node {
        Node::String(self)
    }
}

impl IntoNode for &str {
    fn into_node(self) -> Node {
        Node::String(self.to_owned())
    }
}

impl IntoNode for bool {
    fn into_node(self) -> Node {
        Node::Bool(self)
    }
}

impl IntoNode for i64 {
    fn into_node(self) -> Node {
        Node::Int(self)
    }
}

impl IntoNode for i32 {
    fn into_node(self) -> Node {
        Node::Int(i64::from(self))
    }
}

impl IntoNode for u32 {
    fn into_node(self) -> Node {
        Node::Int(i64::from(self))
    }
}

impl IntoNode for u16 {
    fn into_node(self) -> Node {
        Node::Int(i64::from(self))
    }
}

impl IntoNode for u8 {
    fn into_node(self) -> Node {
        Node::Int(i64::from(self))
    }
}

impl IntoNode for f64 {
    fn into_node(self) -> Node {
        Node::Float(self)
    }
}

impl IntoNode for serde_json::Value {
    fn into_node(self) -> Node {
        match self {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Node::String(s),
            serde_json::Value::Array(items) => {
                Node::List(items.into_iter().map(IntoNode::into_node).collect())
            }
            serde_json::Value::Object(map) => {
                Node::Map(map.into_iter().map(|(k, v)| (k, v.into_node())).collect())
            }
        }
    }
}

impl<T: IntoNode> IntoNode for Vec<T> {
    fn into_node(self) -> Node {
        Node::List(self.into_iter().map(IntoNode::into_node).collect())
    }
}

impl<T: IntoNode> IntoNode for IndexMap<String, T> {
    fn into_node(self) -> Node {
        Node::Map(self.into_iter().map(|(k, v)| (k, v.into_node())).collect())
    }
}

impl<T: IntoNode> IntoNode for BTreeMap<String, T> {
    fn into_node(self) -> Node {
        Node::Map(self.into_iter().map(|(k, v)| (k, v.into_node())).collect())
    }
}

impl<T: IntoNode> IntoNode for Value<T> {
    fn into_node(self) -> Node {
        match self {
            Value::Lit(v) => v.into_node(),
            Value::Fn(e) => Node::Fn(e.intrinsic),
        }
    }
}

impl<T: IntoNode> IntoNode for Box<T> {
    fn into_node(self) -> Node {
        (*self).into_node()
    }
}

impl Value<String> {
    /// This string where a JSON document is expected: CloudFormation accepts a JSON document
    /// given as a string (for example from `Fn::Sub`).
    pub fn into_json(self) -> Value<Json> {
        match self {
            Value::Lit(s) => Value::Lit(Json::String(s)),
            Value::Fn(e) => Value::Fn(Expr::new(*e.intrinsic)),
        }
    }
}

/// A property whose schema allows values of several types (for example a JSON document or a
/// string). Build it from any literal or value.
///
/// ```
/// use omc_cdk::{AnyValue, fns};
/// let a = AnyValue::from("text");
/// let b = AnyValue::from(serde_json::json!({"Version": "2012-10-17"}));
/// let c = AnyValue::from(fns::sub("${AWS::Region}"));
/// let d = AnyValue::new(42_i64);
/// # let _ = (a, b, c, d);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AnyValue(Node);

impl AnyValue {
    /// Any value that renders to a template node.
    pub fn new(value: impl IntoNode) -> AnyValue {
        AnyValue(value.into_node())
    }
}

impl IntoNode for AnyValue {
    fn into_node(self) -> Node {
        self.0
    }
}

impl<T: IntoNode> From<Value<T>> for AnyValue {
    fn from(v: Value<T>) -> Self {
        AnyValue(v.into_node())
    }
}

impl From<&str> for AnyValue {
    fn from(s: &str) -> Self {
        AnyValue(Node::String(s.to_owned()))
    }
}

impl From<String> for AnyValue {
    fn from(s: String) -> Self {
        AnyValue(Node::String(s))
    }
}

impl From<bool> for AnyValue {
    fn from(b: bool) -> Self {
        AnyValue(Node::Bool(b))
    }
}

impl From<i64> for AnyValue {
    fn from(n: i64) -> Self {
        AnyValue(Node::Int(n))
    }
}

impl From<f64> for AnyValue {
    fn from(n: f64) -> Self {
        AnyValue(Node::Float(n))
    }
}

impl From<Json> for AnyValue {
    fn from(v: Json) -> Self {
        AnyValue(v.into_node())
    }
}

/// A resource tag, for tag list properties. Stack tags merge with these; the resource's own tag
/// wins.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Value<String>,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<Value<String>>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl IntoNode for Tag {
    fn into_node(self) -> Node {
        Node::map([
            ("Key", Node::String(self.key)),
            ("Value", self.value.into_node()),
        ])
    }
}

impl From<AnyValue> for Value<AnyValue> {
    fn from(value: AnyValue) -> Self {
        Value::Lit(value)
    }
}

impl From<Tag> for Value<Tag> {
    fn from(tag: Tag) -> Self {
        Value::Lit(tag)
    }
}

impl<T> IntoNode for Expr<T> {
    fn into_node(self) -> Node {
        Node::Fn(self.intrinsic)
    }
}

/// The identity of a stack: synthesis uses it to tell whether a reference crosses stacks.
#[derive(Clone, Debug)]
pub struct StackRef {
    pub(crate) id: u64,
    pub(crate) name: Arc<str>,
}

impl StackRef {
    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl PartialEq for StackRef {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for StackRef {}

/// A resource of a stack, named by its construct path inside the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    pub(crate) stack: StackRef,
    pub(crate) path: Arc<str>,
    pub(crate) type_name: Arc<str>,
}

impl ResourceRef {
    /// The stack that owns the resource.
    pub fn stack(&self) -> &StackRef {
        &self.stack
    }

    /// The resource's construct path inside its stack.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The resource's CloudFormation type, such as `AWS::EC2::VPC`.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }
}

/// A named element of a stack's template: a parameter, condition or mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementRef {
    pub(crate) stack: StackRef,
    pub(crate) name: Arc<str>,
}

impl ElementRef {
    /// The stack that owns the element.
    pub fn stack(&self) -> &StackRef {
        &self.stack
    }

    /// The element's name in the template.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a `Ref` points to.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RefTarget {
    /// A resource: its physical id (or whatever the type returns for `Ref`).
    Resource(ResourceRef),
    /// A parameter's value.
    Parameter(ElementRef),
    /// A pseudo parameter.
    Pseudo(Pseudo),
    /// A logical id in the stack where the value is used, by name. Escape hatch for templates
    /// fragments written by hand; synthesis checks that the name exists.
    LogicalId(String),
}

/// CloudFormation's pseudo parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pseudo {
    /// `AWS::AccountId`
    AccountId,
    /// `AWS::NotificationARNs`
    NotificationArns,
    /// `AWS::NoValue`: removes the property it is assigned to.
    NoValue,
    /// `AWS::Partition`
    Partition,
    /// `AWS::Region`
    Region,
    /// `AWS::StackId`
    StackId,
    /// `AWS::StackName`
    StackName,
    /// `AWS::URLSuffix`
    UrlSuffix,
}

impl Pseudo {
    /// Every pseudo parameter.
    pub const ALL: [Pseudo; 8] = [
        Pseudo::AccountId,
        Pseudo::NotificationArns,
        Pseudo::NoValue,
        Pseudo::Partition,
        Pseudo::Region,
        Pseudo::StackId,
        Pseudo::StackName,
        Pseudo::UrlSuffix,
    ];

    /// The name used in templates, such as `AWS::Region`.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
            Pseudo::NoValue => "AWS::NoValue",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }

    /// The pseudo parameter with this template name.
    pub fn from_name(name: &str) -> Option<Pseudo> {
        Pseudo::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// An intrinsic function. Arguments are [`Node`]s; the typed constructors in [`crate::fns`]
/// guarantee that they have the types CloudFormation expects.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Intrinsic {
    /// `Ref`
    Ref(RefTarget),
    /// `Fn::GetAtt`. `list` marks attributes whose value is a list, which must be joined to
    /// cross stacks.
    GetAtt {
        /// The resource.
        resource: ResourceRef,
        /// The attribute name, such as `Arn` or `Endpoint.Address`.
        attribute: String,
        /// Whether the attribute is a list.
        list: bool,
    },
    /// `Fn::Sub`
    Sub {
        /// The template string with `${Name}` variables.
        template: String,
        /// Values for variables; names not given here must be pseudo parameters, parameters or
        /// resources of the stack.
        variables: IndexMap<String, Node>,
    },
    /// `Fn::Join`
    Join {
        /// The delimiter.
        delimiter: String,
        /// A list.
        values: Node,
    },
    /// `Fn::Select`
    Select {
        /// The index.
        index: Node,
        /// A list.
        list: Node,
    },
    /// `Fn::Split`
    Split {
        /// The delimiter.
        delimiter: String,
        /// A string.
        source: Node,
    },
    /// `Fn::GetAZs`
    GetAzs {
        /// The region; an empty string means the stack's region.
        region: Node,
    },
    /// `Fn::ImportValue`
    ImportValue {
        /// The export name.
        name: Node,
    },
    /// `Fn::If`
    If {
        /// The condition.
        condition: ElementRef,
        /// The value when the condition is true.
        then: Node,
        /// The value when it is false.
        otherwise: Node,
    },
    /// `Fn::Base64`
    Base64 {
        /// The string to encode.
        value: Node,
    },
    /// `Fn::Cidr`
    Cidr {
        /// The CIDR block to split.
        block: Node,
        /// How many CIDRs to generate.
        count: Node,
        /// The number of host bits of each CIDR.
        cidr_bits: Node,
    },
    /// `Fn::FindInMap`
    FindInMap {
        /// The mapping.
        mapping: ElementRef,
        /// The top-level key.
        top_key: Node,
        /// The second-level key.
        second_key: Node,
    },
}

/// A condition expression, for a stack's `Conditions` section: `Fn::Equals`, `Fn::And`,
/// `Fn::Or`, `Fn::Not` and references to other conditions.
///
/// These functions are only valid in the `Conditions` section, which is why they have their own
/// type rather than being `Value<bool>`; resources choose between values with [`crate::fns::if_`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConditionExpr {
    /// `Fn::Equals`
    Equals(Node, Node),
    /// `Fn::And` (2 to 10 conditions)
    And(Vec<ConditionExpr>),
    /// `Fn::Or` (2 to 10 conditions)
    Or(Vec<ConditionExpr>),
    /// `Fn::Not`
    Not(Box<ConditionExpr>),
    /// `Condition`: another condition of the stack.
    Condition(ElementRef),
}
