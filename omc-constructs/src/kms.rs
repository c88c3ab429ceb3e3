//! KMS keys, with key policies that grant services exactly what they need.

use omc_cdk::{Node, RemovalPolicy, Result, Scope, TypedResource, Value};
use omc_cfn::kms;

use crate::iam::{self, PolicyStatement};
use crate::util::{self, node};

/// How a key is created.
#[derive(Clone, Debug)]
pub struct KeyProps {
    /// What the key is for. Default: none.
    pub description: Option<String>,
    /// An alias, such as `alias/omc/secrets`. Default: none.
    pub alias: Option<String>,
    /// What happens to the key when it leaves the template. Default: `Retain` (data encrypted
    /// with a deleted key is lost).
    pub removal_policy: RemovalPolicy,
}

impl Default for KeyProps {
    fn default() -> Self {
        KeyProps {
            description: None,
            alias: None,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// A customer managed KMS key with yearly rotation. The key policy lets the account's IAM
/// administer it; constructs that encrypt with it add statements for their service.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Key, KeyProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Keys", StackProps::default())?;
/// Key::new(&stack, "Data", KeyProps { alias: Some("alias/omc/data".into()), ..KeyProps::default() })?;
/// let t = Template::from_stack(&stack)?;
/// t.has_resource_properties("AWS::KMS::Key", json!({"EnableKeyRotation": true}))?;
/// t.has_resource_properties("AWS::KMS::Alias", json!({"AliasName": "alias/omc/data"}))?;
/// let err = Key::new(&stack, "Bad", KeyProps { alias: Some("omc".into()), ..KeyProps::default() });
/// assert!(err.unwrap_err().to_string().starts_with("Keys/Bad: key alias \"omc\" must look like"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Key {
    resource: kms::KeyHandle,
    /// Where the construct created its resources.
    scope: omc_cdk::Scope,
}

impl Key {
    /// Creates a key.
    pub fn new(scope: &Scope, id: &str, props: KeyProps) -> Result<Key> {
        let path = util::path(scope, id);
        if let Some(alias) = &props.alias {
            let ok = alias.starts_with("alias/")
                && !alias.starts_with("alias/aws/")
                && alias.len() <= 256
                && alias[6..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'));
            if !ok || alias.len() == 6 {
                return Err(util::invalid_prop(
                    &path,
                    "alias",
                    alias,
                    format!(
                        "key alias {alias:?} must look like \"alias/name\" (letters, digits, '/', '_', '-'; not \"alias/aws/\")"
                    ),
                ));
            }
        }
        let scope = scope.child(id)?;
        let admin = Node::map([
            ("Effect", node("Allow")),
            (
                "Principal",
                Node::map([("AWS", node(util::arn("iam", false, true, "root")))]),
            ),
            ("Action", node("kms:*")),
            ("Resource", node("*")),
        ]);
        let policy = Node::map([
            ("Version", node("2012-10-17")),
            ("Statement", Node::List(vec![admin])),
        ]);
        let resource = scope.add(
            "Resource",
            kms::Key {
                description: props.description.map(Into::into),
                enable_key_rotation: Some(true.into()),
                ..kms::Key::new()
            },
        )?;
        resource.update_properties(|p| {
            p.insert("KeyPolicy".into(), policy);
        });
        resource.apply_removal_policy(props.removal_policy);
        if let Some(alias) = props.alias {
            scope.add("Alias", kms::Alias::new(alias, resource.reference()))?;
        }
        Ok(Key { resource, scope })
    }

    /// The key's ARN.
    pub fn key_arn(&self) -> Value<String> {
        self.resource.attr_arn()
    }

    /// The key's id.
    pub fn key_id(&self) -> Value<String> {
        self.resource.reference()
    }

    /// Lets an AWS service principal (such as `logs.eu-west-1.amazonaws.com`) use the key,
    /// with an optional `Condition` block (which may contain values such as ARNs).
    pub fn allow_service(&self, service: Value<String>, actions: &[&str], condition: Option<Node>) {
        let statement = PolicyStatement {
            effect: iam::Effect::Allow,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            resources: vec!["*".into()],
            condition: None,
        };
        let mut entry = statement.to_node();
        if let Node::Map(map) = &mut entry {
            map.shift_insert(
                1,
                "Principal".into(),
                Node::map([("Service", node(service))]),
            );
            if let Some(condition) = condition {
                map.insert("Condition".into(), condition);
            }
        }
        self.resource.update_properties(|p| {
            if let Some(Node::Map(policy)) = p.get_mut("KeyPolicy")
                && let Some(Node::List(statements)) = policy.get_mut("Statement")
                && !statements.contains(&entry)
            {
                statements.push(entry);
            }
        });
    }

    /// Lets a role encrypt and decrypt with the key.
    pub fn grant_encrypt_decrypt(&self, role: &crate::Role) {
        role.add_to_policy(PolicyStatement::allow(
            [
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
            [self.key_arn()],
        ));
    }

    /// Lets a role decrypt with the key.
    pub fn grant_decrypt(&self, role: &crate::Role) {
        role.add_to_policy(PolicyStatement::allow(["kms:Decrypt"], [self.key_arn()]));
    }
}

impl omc_cdk::Construct for Key {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
