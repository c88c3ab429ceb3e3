//! Small helpers shared by the constructs.

use omc_cdk::{Error, IntoNode, Node, Pseudo, Scope, Stack, Value, fns};

/// The full path a construct `id` added to `scope` will have, for messages before it exists.
pub(crate) fn path(scope: &Scope, id: &str) -> String {
    format!("{}/{id}", scope.node_path())
}

/// A construct refused the value of one of its props: [`Error::InvalidProp`]. `value` is the
/// refused value as the user wrote it (`Display` for strings and numbers, `Debug` otherwise);
/// `reason` is the whole message users read.
pub(crate) fn invalid_prop(
    path: impl Into<String>,
    field: &'static str,
    value: impl std::fmt::Display,
    reason: impl Into<String>,
) -> Error {
    Error::InvalidProp {
        path: path.into(),
        field,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// A construct's props, or a call on it, conflict with the app around them:
/// [`Error::Conflict`].
pub(crate) fn conflict(path: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Conflict {
        path: path.into(),
        reason: reason.into(),
    }
}

/// A value as the user wrote it, for [`invalid_prop`]: a literal as it is, an intrinsic in its
/// `Debug` form.
pub(crate) fn shown(value: &Value<String>) -> String {
    value
        .as_literal()
        .cloned()
        .unwrap_or_else(|| format!("{value:?}"))
}

/// Lowers a value to a node.
pub(crate) fn node(value: impl IntoNode) -> Node {
    value.into_node()
}

/// The position of the scope's stack among its app's stacks (creation order).
pub(crate) fn stack_index(scope: &Scope) -> usize {
    let stack = scope.stack();
    let sref = stack.stack_ref();
    stack
        .app()
        .and_then(|app| app.stacks().iter().position(|s| s.stack_ref() == sref))
        .unwrap_or(0)
}

/// Whether two scopes are in the same stack.
pub(crate) fn same_stack(a: &Scope, b: &Scope) -> bool {
    a.stack().stack_ref() == b.stack().stack_ref()
}

/// An ARN in the stack's partition, region and account: `arn:${AWS::Partition}:<service>:...`.
/// `resource` is literal text (user text in it is escaped, so it never becomes a variable).
pub(crate) fn arn(service: &str, region: bool, account: bool, resource: &str) -> Value<String> {
    let mut sub = fns::Sub::new()
        .text("arn:")
        .pseudo(Pseudo::Partition)
        .text(&format!(":{service}:"));
    if region {
        sub = sub.pseudo(Pseudo::Region);
    }
    sub = sub.text(":");
    if account {
        sub = sub.pseudo(Pseudo::AccountId);
    }
    sub.text(":").text(resource).build()
}

/// The ARN of an AWS managed policy.
pub(crate) fn managed_policy(name: &str) -> omc_cdk::Result<omc_cdk::arn::ManagedPolicyArn> {
    omc_cdk::arn::ManagedPolicyArn::aws_managed(name)
}

/// The stack's region as a literal, if it has one.
pub(crate) fn literal_region(stack: &Stack) -> Option<String> {
    stack.env().and_then(|e| e.region)
}

/// Letters and digits of a path, for construct ids derived from other constructs.
pub(crate) fn alnum(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// JSON with intrinsic values inside, rendered as one string (`Fn::Join` of literal pieces and
/// the values), for properties that take JSON text such as dashboard bodies.
pub(crate) fn json_text(node: &Node) -> Value<String> {
    let mut parts: Vec<Value<String>> = Vec::new();
    let mut literal = String::new();
    write_json(node, &mut literal, &mut parts);
    if !literal.is_empty() {
        parts.push(Value::Lit(literal));
    }
    if parts.iter().all(|p| !p.is_intrinsic()) {
        let joined: String = parts
            .iter()
            .filter_map(|p| p.as_literal().cloned())
            .collect();
        return Value::Lit(joined);
    }
    fns::join("", parts)
}

fn write_json(node: &Node, literal: &mut String, parts: &mut Vec<Value<String>>) {
    match node {
        Node::Null => literal.push_str("null"),
        Node::Bool(b) => literal.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => literal.push_str(&i.to_string()),
        Node::Float(f) => literal.push_str(&serde_json::Value::from(*f).to_string()),
        Node::String(s) => literal.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Node::List(items) => {
            literal.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    literal.push(',');
                }
                write_json(item, literal, parts);
            }
            literal.push(']');
        }
        Node::Map(map) => {
            literal.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    literal.push(',');
                }
                literal.push_str(&serde_json::Value::from(key.as_str()).to_string());
                literal.push(':');
                write_json(value, literal, parts);
            }
            literal.push('}');
        }
        Node::Fn(intrinsic) => {
            // A string value inside quotes.
            literal.push('"');
            parts.push(Value::Lit(std::mem::take(literal)));
            parts.push(Value::Fn(omc_cdk::Expr::from_intrinsic_unchecked(
                (**intrinsic).clone(),
            )));
            literal.push('"');
        }
    }
}

/// Punctuation EC2 accepts in security group and rule descriptions (besides letters, digits
/// and spaces).
const SG_PUNCTUATION: &str = "._-:/()#,@[]+=&;{}!$*";

fn sg_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' ' || SG_PUNCTUATION.contains(c)
}

/// Checks a security group or rule description (the prop or argument `description`): at most
/// 255 characters EC2 accepts.
pub(crate) fn check_sg_text(path: &str, what: &str, text: &str) -> omc_cdk::Result<()> {
    if let Some(bad) = text.chars().find(|c| !sg_char_ok(*c)) {
        return Err(invalid_prop(
            path,
            "description",
            text,
            format!(
                "{what} {text:?} contains {bad:?}; EC2 accepts letters, digits, spaces and {SG_PUNCTUATION}"
            ),
        ));
    }
    if text.chars().count() > 255 {
        return Err(invalid_prop(
            path,
            "description",
            text,
            format!("{what} {text:?} is longer than 255 characters"),
        ));
    }
    Ok(())
}

/// A description EC2 accepts, made from text that may hold other characters (construct paths).
pub(crate) fn sg_text(text: &str) -> String {
    text.chars()
        .map(|c| if sg_char_ok(c) { c } else { '-' })
        .take(255)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_keeps_literals_and_splices_values() {
        let literal = Node::map([("a", node(1)), ("b", node("x"))]);
        assert_eq!(
            json_text(&literal),
            Value::Lit(r#"{"a":1,"b":"x"}"#.to_owned())
        );
        let with_value = Node::map([("region", node(omc_cdk::aws::region()))]);
        let rendered = json_text(&with_value);
        assert!(rendered.is_intrinsic());
    }

    #[test]
    fn alnum_keeps_letters_and_digits() {
        assert_eq!(alnum("Data/Db-1/Security Group"), "DataDb1SecurityGroup");
    }
}
