//! Stacks and scopes: where resources, parameters, conditions, mappings and outputs live.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indexmap::IndexMap;

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::id;
use crate::parameter::{ParameterProps, ParameterType};
use crate::tree::{
    App, Condition, MappingEntries, OutputData, Scope, Stack, StackData, SuppressionData,
};
use crate::value::{
    ConditionExpr, ElementRef, Expr, IntoNode, Intrinsic, Pseudo, RefTarget, StackRef, Value,
};

static NEXT_STACK_ID: AtomicU64 = AtomicU64::new(1);

/// Checks the environment's account and region names.
fn check_environment(env: &Environment, stack: &str) -> Result<()> {
    if let Some(account) = &env.account
        && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Error::InvalidValue {
            path: stack.to_owned(),
            message: format!(
                "environment account {account:?} is not an AWS account id; give the 12 digits, such as \"123456789012\""
            ),
        });
    }
    if let Some(region) = &env.region
        && !is_region_name(region)
    {
        return Err(Error::InvalidValue {
            path: stack.to_owned(),
            message: format!(
                "environment region {region:?} is not a region name; give one such as \"eu-west-1\""
            ),
        });
    }
    Ok(())
}

/// `xx-name-1`, `xx-gov-name-1`, `xx-iso-name-1`: lower-case words separated by hyphens,
/// ending in a number.
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// How a stack is created. All fields are optional.
#[derive(Clone, Debug, Default)]
pub struct StackProps {
    /// Where the stack deploys. Default: environment-agnostic (the deploying account and
    /// region).
    pub env: Option<Environment>,
    /// The template's `Description`, at most 1,024 bytes. Default: no description.
    pub description: Option<String>,
    /// Tags for every taggable resource of the stack; a resource's own tag of the same key wins.
    /// Default: no tags.
    pub tags: BTreeMap<String, String>,
    /// Whether CloudFormation refuses to delete the stack. Default: `false`.
    pub termination_protection: bool,
    /// Where the stack runs, for the checks ([`crate::check`]): rules can be stricter in
    /// production. Default: the app's stage ([`crate::App::with_stage`]), else production.
    pub stage: Option<crate::check::Stage>,
}

impl Stack {
    /// Creates a stack in `app`.
    ///
    /// Fails when the name breaks CloudFormation's rules (letters, digits and hyphens, starting
    /// with a letter, at most 128 characters), when another stack of the app has the name, or
    /// when a property is invalid.
    pub fn new(app: &App, name: &str, props: StackProps) -> Result<Stack> {
        id::check_stack_name(name).map_err(|reason| Error::InvalidStackName {
            name: name.to_owned(),
            reason,
        })?;
        if app.stack(name).is_some() {
            return Err(Error::DuplicateStackName {
                name: name.to_owned(),
            });
        }
        if let Some(env) = &props.env {
            check_environment(env, name)?;
        }
        if let Some(description) = &props.description {
            check_description(name, description)?;
        }
        for (key, value) in &props.tags {
            check_tag(name, key, value)?;
        }
        let data = StackData {
            sref: StackRef {
                id: NEXT_STACK_ID.fetch_add(1, Ordering::Relaxed),
                name: Arc::from(name),
            },
            app: Rc::downgrade(&app.inner),
            env: props.env,
            description: props.description,
            tags: props.tags,
            termination_protection: props.termination_protection,
            execution_role: None,
            stage: props.stage,
            suppressions: Vec::new(),
            scope_tags: Vec::new(),
            scope_metadata: Vec::new(),
            constructs: BTreeSet::new(),
            resources: IndexMap::new(),
            logical_ids: BTreeMap::new(),
            parameters: IndexMap::new(),
            conditions: IndexMap::new(),
            mappings: IndexMap::new(),
            outputs: IndexMap::new(),
            metadata: IndexMap::new(),
            dependencies: Vec::new(),
            files: std::collections::BTreeMap::new(),
        };
        let stack = Stack {
            root: Scope {
                data: Rc::new(RefCell::new(data)),
                path: Arc::from(""),
            },
        };
        app.inner.borrow_mut().stacks.push(stack.clone());
        Ok(stack)
    }

    pub(crate) fn data(&self) -> &Rc<RefCell<StackData>> {
        &self.root.data
    }

    /// The stack's name.
    pub fn name(&self) -> String {
        self.root.data.borrow().sref.name.to_string()
    }

    /// The stack's identity, as references carry it.
    pub fn stack_ref(&self) -> StackRef {
        self.root.data.borrow().sref.clone()
    }

    /// The stack's environment; `None` when it is environment-agnostic.
    pub fn env(&self) -> Option<Environment> {
        self.root.data.borrow().env.clone()
    }

    /// The region as a value: the literal region of the environment if there is one, otherwise
    /// `AWS::Region`.
    pub fn region(&self) -> Value<String> {
        match self.env().and_then(|e| e.region) {
            Some(region) => Value::Lit(region),
            None => crate::aws::region(),
        }
    }

    /// The account as a value: the literal account of the environment if there is one,
    /// otherwise `AWS::AccountId`.
    pub fn account(&self) -> Value<String> {
        match self.env().and_then(|e| e.account) {
            Some(account) => Value::Lit(account),
            None => crate::aws::account_id(),
        }
    }

    /// The stack's tags.
    pub fn tags(&self) -> BTreeMap<String, String> {
        self.root.data.borrow().tags.clone()
    }

    /// Adds a tag for every taggable resource of the stack (a resource's own tag wins).
    pub fn add_tag(&self, key: &str, value: &str) -> Result<()> {
        let mut data = self.root.data.borrow_mut();
        check_tag(&data.sref.name, key, value)?;
        data.tags.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    /// Sets the template's description (at most 1,024 bytes).
    pub fn set_description(&self, description: &str) -> Result<()> {
        let mut data = self.root.data.borrow_mut();
        check_description(&data.sref.name, description)?;
        data.description = Some(description.to_owned());
        Ok(())
    }

    /// Sets whether CloudFormation refuses to delete the stack.
    pub fn set_termination_protection(&self, enabled: bool) {
        self.root.data.borrow_mut().termination_protection = enabled;
    }

    /// Whether CloudFormation refuses to delete the stack.
    pub fn termination_protection(&self) -> bool {
        self.root.data.borrow().termination_protection
    }

    /// Makes CloudFormation create, update and delete the stack's resources with this role (a
    /// CloudFormation service role, `RoleARN`) instead of the deployer's credentials: the deployer
    /// then needs only CloudFormation, the template bucket and `iam:PassRole` on this role, as
    /// CDK's bootstrap splits it. `deploy` passes it on every change set. The role must exist
    /// before the stack deploys (create it in a stack this one depends on, deployed by an
    /// administrator) and be a literal ARN: fails with [`Error::InvalidValue`] on a token.
    pub fn set_execution_role(&self, role: &crate::arn::RoleArn) -> Result<()> {
        let mut data = self.root.data.borrow_mut();
        let Some(arn) = role.value().as_literal().cloned() else {
            return Err(Error::InvalidValue {
                path: data.sref.name.to_string(),
                message: "the execution role must be a literal role ARN (deploy passes it to CloudFormation before any template is evaluated), not a reference to a resource; write the role's ARN from its name".into(),
            });
        };
        data.execution_role = Some(arn);
        Ok(())
    }

    /// The role CloudFormation deploys the stack with, when one is set.
    pub fn execution_role(&self) -> Option<String> {
        self.root.data.borrow().execution_role.clone()
    }

    /// Makes this stack deploy after `other`, without any reference between them.
    pub fn add_dependency(&self, other: &Stack, reason: &str) -> Result<()> {
        let other_ref = other.stack_ref();
        let mut data = self.root.data.borrow_mut();
        if other_ref == data.sref {
            return Err(Error::InvalidValue {
                path: data.sref.name.to_string(),
                message: "a stack cannot depend on itself; remove the add_dependency call".into(),
            });
        }
        data.dependencies.push((other_ref, reason.to_owned()));
        Ok(())
    }

    /// Adds an entry to the template's `Metadata` section.
    pub fn add_metadata(&self, key: &str, value: serde_json::Value) {
        self.root
            .data
            .borrow_mut()
            .metadata
            .insert(key.to_owned(), value);
    }

    /// Whether the stack already writes a file named `name` (see [`Stack::add_file`]).
    pub fn has_file(&self, name: &str) -> bool {
        self.root.data.borrow().files.contains_key(name)
    }

    /// Adds a file that synthesis writes beside the template as `<Stack>.<name>`, such as Helm
    /// values a construct derives from its configuration. The name is 1 to 100 characters of
    /// letters, digits, `.`, `-` and `_`, unique in the stack.
    pub fn add_file(&self, name: &str, contents: String) -> Result<()> {
        let mut data = self.root.data.borrow_mut();
        let ok = !name.is_empty()
            && name.len() <= 100
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !ok {
            return Err(Error::InvalidValue {
                path: data.sref.name.to_string(),
                message: format!(
                    "file name {name:?} is invalid; use 1 to 100 letters, digits, '.', '-' and '_', not starting with '.'"
                ),
            });
        }
        if name == "template.json" || data.files.contains_key(name) {
            return Err(Error::InvalidValue {
                path: data.sref.name.to_string(),
                message: format!("the stack already has a file named {name:?}"),
            });
        }
        data.files.insert(name.to_owned(), contents);
        Ok(())
    }

    /// The app this stack belongs to, while the app exists.
    pub fn app(&self) -> Option<App> {
        self.root
            .data
            .borrow()
            .app
            .upgrade()
            .map(|inner| App { inner })
    }

    /// Adds a parameter, given a value at deploy time (`--parameters NAME=VALUE`).
    ///
    /// The name is the parameter's logical id: 1 to 255 letters and digits, unique among the
    /// stack's parameters and resources.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, ParameterProps};
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Services", StackProps::default())?;
    /// let tag = stack.add_parameter("ImageTag", ParameterProps {
    ///     default: Some("latest".into()),
    ///     description: Some("Container image tag to deploy".into()),
    ///     ..ParameterProps::default()
    /// })?;
    /// let image = omc_cdk::fns::sub_with("backend:${Tag}", [("Tag", tag.value())]);
    /// # let _ = image;
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn add_parameter(&self, name: &str, props: ParameterProps) -> Result<Parameter> {
        let mut data = self.root.data.borrow_mut();
        let stack_name = data.sref.name.to_string();
        check_name(&stack_name, "parameter", name)?;
        if data.parameters.contains_key(name) {
            return Err(Error::DuplicateName {
                stack: stack_name,
                kind: "parameter",
                name: name.to_owned(),
            });
        }
        props.check(&stack_name, name)?;
        let full = format!("{stack_name}/{name} (parameter)");
        if let Some(existing) = data.logical_ids.get(name) {
            return Err(Error::DuplicateLogicalId {
                path: full,
                logical_id: name.to_owned(),
                existing: existing.clone(),
            });
        }
        data.logical_ids.insert(name.to_owned(), full);
        let kind = props.parameter_type.clone();
        data.parameters.insert(name.to_owned(), props);
        Ok(Parameter {
            element: ElementRef {
                stack: data.sref.clone(),
                name: Arc::from(name),
            },
            parameter_type: kind,
        })
    }

    /// Adds a condition, for [`crate::fns::if_`], [`crate::Resource::set_condition`] and outputs.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, ParameterProps, fns};
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Data", StackProps::default())?;
    /// let stage = stack.add_parameter("Stage", ParameterProps::default())?;
    /// let is_prod = stack.add_condition("IsProduction", fns::equals(stage.value(), "production"))?;
    /// let instances = fns::if_(&is_prod, 2, 1);
    /// # let _: omc_cdk::Value<i64> = instances;
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn add_condition(&self, name: &str, expression: ConditionExpr) -> Result<Condition> {
        let mut data = self.root.data.borrow_mut();
        let stack_name = data.sref.name.to_string();
        check_name(&stack_name, "condition", name)?;
        if data.conditions.contains_key(name) {
            return Err(Error::DuplicateName {
                stack: stack_name,
                kind: "condition",
                name: name.to_owned(),
            });
        }
        data.conditions.insert(name.to_owned(), expression);
        Ok(Condition {
            element: ElementRef {
                stack: data.sref.clone(),
                name: Arc::from(name),
            },
        })
    }

    /// Adds a mapping: literal values by top-level and second-level key, read with
    /// [`Mapping::find`].
    ///
    /// `entries` is a JSON object of objects. Keys are 1 to 255 letters, digits, `-` and `.`;
    /// values are strings, numbers, booleans or lists of those.
    pub fn add_mapping(&self, name: &str, entries: serde_json::Value) -> Result<Mapping> {
        let mut data = self.root.data.borrow_mut();
        let stack_name = data.sref.name.to_string();
        check_name(&stack_name, "mapping", name)?;
        if data.mappings.contains_key(name) {
            return Err(Error::DuplicateName {
                stack: stack_name,
                kind: "mapping",
                name: name.to_owned(),
            });
        }
        let entries = check_mapping(&stack_name, name, entries)?;
        data.mappings.insert(name.to_owned(), entries);
        Ok(Mapping {
            element: ElementRef {
                stack: data.sref.clone(),
                name: Arc::from(name),
            },
        })
    }

    /// Adds an output: a value shown after deploy and, with `export_name`, importable by stacks
    /// outside the app. (Stacks of the same app reference each other's values directly.)
    pub fn add_output(
        &self,
        name: &str,
        value: impl Into<Value<String>>,
        props: OutputProps,
    ) -> Result<()> {
        // Lower the value before borrowing the stack: a conversion may read this stack.
        let value = value.into().into_node();
        let export_name = props.export_name.map(IntoNode::into_node);
        let mut data = self.root.data.borrow_mut();
        let stack_name = data.sref.name.to_string();
        check_name(&stack_name, "output", name)?;
        if data.outputs.contains_key(name) {
            return Err(Error::DuplicateName {
                stack: stack_name,
                kind: "output",
                name: name.to_owned(),
            });
        }
        if let Some(description) = &props.description
            && description.len() > 1024
        {
            return Err(Error::InvalidValue {
                path: format!("{stack_name}/Outputs/{name}"),
                message: format!(
                    "the description has {} bytes; CloudFormation allows at most 1024",
                    description.len()
                ),
            });
        }
        let condition = match &props.condition {
            Some(c) if c.element.stack != data.sref => {
                return Err(Error::InvalidValue {
                    path: format!("{stack_name}/Outputs/{name}"),
                    message: format!(
                        "condition {:?} belongs to stack {}; conditions only apply inside their own stack",
                        c.name(),
                        c.element.stack.name()
                    ),
                });
            }
            Some(c) => Some(c.name().to_owned()),
            None => None,
        };
        data.outputs.insert(
            name.to_owned(),
            OutputData {
                value,
                description: props.description,
                export_name,
                condition,
            },
        );
        Ok(())
    }
}

impl std::ops::Deref for Stack {
    type Target = Scope;

    /// A stack is the root scope of its constructs, as a CDK `Stack` is a `Construct`.
    fn deref(&self) -> &Scope {
        &self.root
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack").field("name", &self.name()).finish()
    }
}

fn check_name(stack: &str, kind: &'static str, name: &str) -> Result<()> {
    id::check_element_name(name).map_err(|reason| Error::InvalidName {
        stack: stack.to_owned(),
        kind,
        name: name.to_owned(),
        reason,
    })
}

fn check_description(stack: &str, description: &str) -> Result<()> {
    if description.len() > 1024 {
        return Err(Error::InvalidValue {
            path: stack.to_owned(),
            message: format!(
                "the description has {} bytes; CloudFormation allows at most 1024",
                description.len()
            ),
        });
    }
    Ok(())
}

pub(crate) fn check_tag(location: &str, key: &str, value: &str) -> Result<()> {
    let problem = if key.is_empty() {
        Some("tag keys cannot be empty".to_owned())
    } else if key.chars().count() > 128 {
        Some(format!(
            "tag key {key:?} has {} characters; at most 128 are allowed",
            key.chars().count()
        ))
    } else if key.to_ascii_lowercase().starts_with("aws:") {
        Some(format!(
            "tag key {key:?} uses the reserved prefix \"aws:\"; choose another key"
        ))
    } else if value.chars().count() > 256 {
        Some(format!(
            "the value of tag {key:?} has {} characters; at most 256 are allowed",
            value.chars().count()
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::InvalidValue {
            path: location.to_owned(),
            message,
        }),
        None => Ok(()),
    }
}

impl Scope {
    /// The scope's path inside its stack, such as `Vpc/PublicSubnet1`; empty for the stack.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full path: the stack name followed by the path inside the stack.
    pub fn node_path(&self) -> String {
        let stack = self.data.borrow().sref.name.clone();
        if self.path.is_empty() {
            stack.to_string()
        } else {
            format!("{stack}/{}", self.path)
        }
    }

    /// The last component of the path (the construct id); the stack name for a stack.
    pub fn id(&self) -> String {
        match self.path.rsplit_once('/') {
            Some((_, last)) => last.to_owned(),
            None if self.path.is_empty() => self.data.borrow().sref.name.to_string(),
            None => self.path.to_string(),
        }
    }

    /// The stack this scope belongs to.
    pub fn stack(&self) -> Stack {
        Stack {
            root: Scope {
                data: self.data.clone(),
                path: Arc::from(""),
            },
        }
    }

    pub(crate) fn child_path(&self, id: &str) -> Result<Arc<str>> {
        id::check_construct_id(id).map_err(|reason| Error::InvalidConstructId {
            path: self.node_path(),
            id: id.to_owned(),
            reason,
        })?;
        Ok(if self.path.is_empty() {
            Arc::from(id)
        } else {
            Arc::from(format!("{}/{id}", self.path))
        })
    }

    /// Tags every resource under this scope that takes tags (as CDK's
    /// `Tags.of(construct).add`): the stack's tags apply too, a tag of an inner scope wins over
    /// an outer one and over the stack's, and a tag the resource sets itself wins over all.
    /// A stack's own tags ([`Stack::add_tag`]) also tag the stack.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, RawResource, TagFormat, assertions::Template};
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Data", StackProps::default())?;
    /// let db = stack.child("Database")?;
    /// db.add("Queue", RawResource::new("AWS::SQS::Queue")
    ///     .tags(TagFormat::KeyValueList("Tags".into())))?;
    /// db.add_tag("team", "data")?;
    /// let template = Template::from_stack(&stack)?;
    /// let (_, queue) = template.resources("AWS::SQS::Queue")[0];
    /// assert_eq!(queue["Properties"]["Tags"][0]["Value"], "data");
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn add_tag(&self, key: &str, value: &str) -> Result<()> {
        check_tag(&self.node_path(), key, value)?;
        let mut data = self.data.borrow_mut();
        let path = self.path.clone();
        data.scope_tags
            .retain(|(scope, k, _)| !(*scope == path && k == key));
        data.scope_tags
            .push((path, key.to_owned(), value.to_owned()));
        Ok(())
    }

    /// Adds an entry to the `Metadata` of every resource under this scope (a resource's own
    /// entry of the same key wins, then an inner scope's). The keys omc-cdk writes itself
    /// (`aws:cdk:path`, `omc:check`) are refused: they would be overwritten.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, RawResource, assertions::Template};
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Data", StackProps::default())?;
    /// let db = stack.child("Database")?;
    /// db.add("Queue", RawResource::new("AWS::SQS::Queue"))?;
    /// db.add_metadata("owner", "data-team")?;
    /// let template = Template::from_stack(&stack)?;
    /// let (_, queue) = template.resources("AWS::SQS::Queue")[0];
    /// assert_eq!(queue["Metadata"]["owner"], "data-team");
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn add_metadata(&self, key: &str, value: impl IntoNode) -> Result<()> {
        if key.is_empty()
            || key == crate::settings::PATH_METADATA_KEY
            || key == crate::check::METADATA_KEY
        {
            return Err(Error::InvalidValue {
                path: self.node_path(),
                message: format!(
                    "metadata key {key:?} is not one a construct may set (omc-cdk writes aws:cdk:path and omc:check itself); use another key"
                ),
            });
        }
        let mut data = self.data.borrow_mut();
        let path = self.path.clone();
        data.scope_metadata
            .retain(|(scope, k, _)| !(*scope == path && k == key));
        data.scope_metadata
            .push((path, key.to_owned(), value.into_node()));
        Ok(())
    }

    /// Suppresses findings of the check `rule` for every resource under this scope (the
    /// construct and its children), with a reason a reviewer can judge. The suppression is
    /// written into the resources' `Metadata` (`omc:check`) and listed by the `check` command;
    /// one that matches no finding is reported.
    ///
    /// Fails on the stack itself (suppress on the construct the finding is about), without a
    /// sentence of reason, or when the rule is already suppressed here. A rule id the app does
    /// not know is reported by the check.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, RawResource, Stage};
    /// let app = App::new().with_stage(Stage::Staging);
    /// let stack = Stack::new(&app, "Data", StackProps::default())?;
    /// let db = stack.child("Database")?;
    /// db.add("Resource", RawResource::new("AWS::RDS::DBInstance")
    ///     .property("StorageEncrypted", true))?;
    /// db.suppress("rds-multi-az", "Staging runs one AZ for cost; production is multi-AZ")?;
    /// let report = app.check()?;
    /// assert!(!report.has_errors());
    /// assert_eq!(report.suppressions()[0].matched, 1);
    /// assert!(db.suppress("rds-storage-encrypted", "ok").is_err()); // too short to judge
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn suppress(&self, rule: &str, reason: &str) -> Result<()> {
        let path = self.node_path();
        let invalid = |message: String| Error::InvalidValue {
            path: path.clone(),
            message,
        };
        if self.path.is_empty() {
            return Err(invalid(format!(
                "suppressing {rule:?} for a whole stack would also hide findings of resources added later; suppress on the construct or resource the finding names"
            )));
        }
        if rule.is_empty()
            || !rule
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(format!(
                "{rule:?} is not a rule id; use the id a finding shows, such as \"rds-multi-az\""
            )));
        }
        crate::check::check_reason(reason)
            .map_err(|message| invalid(format!("the suppression of {rule:?} {message}")))?;
        let mut data = self.data.borrow_mut();
        if data
            .suppressions
            .iter()
            .any(|s| s.scope == self.path && s.rule == rule)
        {
            return Err(invalid(format!(
                "{rule:?} is already suppressed here; keep one suppression with one reason"
            )));
        }
        data.suppressions.push(SuppressionData {
            scope: self.path.clone(),
            rule: rule.to_owned(),
            reason: reason.trim().to_owned(),
        });
        Ok(())
    }

    /// The scope of an existing construct or resource under this one, by its relative path
    /// (`"HttpListener"`, `"Runners/ClusterAutoscalerRole"`); `None` when there is none.
    pub fn find(&self, relative: &str) -> Option<Scope> {
        if relative.is_empty() {
            return None;
        }
        let path = if self.path.is_empty() {
            relative.to_owned()
        } else {
            format!("{}/{relative}", self.path)
        };
        let path = self.data.borrow().constructs.get(path.as_str())?.clone();
        Some(Scope {
            data: self.data.clone(),
            path,
        })
    }

    /// Whether a construct with this id exists in this scope.
    pub fn contains(&self, id: &str) -> bool {
        let path = if self.path.is_empty() {
            id.to_owned()
        } else {
            format!("{}/{id}", self.path)
        };
        self.data.borrow().constructs.contains(path.as_str())
    }

    /// A child scope for a construct with this id.
    ///
    /// Fails if the id is empty, contains `/`, or is already used in this scope.
    pub fn child(&self, id: &str) -> Result<Scope> {
        let path = self.child_path(id)?;
        let mut data = self.data.borrow_mut();
        if !data.constructs.insert(path.clone()) {
            return Err(Error::DuplicateConstructId {
                path: format!("{}/{path}", data.sref.name),
                id: id.to_owned(),
            });
        }
        drop(data);
        Ok(Scope {
            data: self.data.clone(),
            path,
        })
    }
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Scope").field(&self.node_path()).finish()
    }
}

/// A parameter of a stack.
#[derive(Clone, Debug)]
pub struct Parameter {
    element: ElementRef,
    parameter_type: ParameterType,
}

impl Parameter {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        self.element.name()
    }

    /// The parameter's type.
    pub fn parameter_type(&self) -> &ParameterType {
        &self.parameter_type
    }

    /// The parameter's identity.
    pub fn element(&self) -> &ElementRef {
        &self.element
    }

    fn reference<T>(&self) -> Value<T> {
        Value::Fn(Expr::new(Intrinsic::Ref(RefTarget::Parameter(
            self.element.clone(),
        ))))
    }

    /// The value, as a string (`Ref`).
    pub fn value(&self) -> Value<String> {
        self.reference()
    }

    /// The value of a `Number` parameter.
    pub fn value_as_number(&self) -> Value<f64> {
        self.reference()
    }

    /// The value of a `Number` parameter where an integer is expected (counts, ports, sizes).
    pub fn value_as_integer(&self) -> Value<i64> {
        self.reference()
    }

    /// The value of a list parameter (`CommaDelimitedList`, `List<Number>`, `List<AWS::...>`).
    pub fn value_as_list(&self) -> Value<Vec<Value<String>>> {
        self.reference()
    }
}

impl Condition {
    /// The condition's name.
    pub fn name(&self) -> &str {
        self.element.name()
    }

    /// The condition's identity.
    pub fn element(&self) -> &ElementRef {
        &self.element
    }
}

fn check_mapping(stack: &str, name: &str, entries: serde_json::Value) -> Result<MappingEntries> {
    let path = format!("{stack}/Mappings/{name}");
    let fail = |message: String| Error::InvalidValue {
        path: path.clone(),
        message,
    };
    let serde_json::Value::Object(entries) = entries else {
        return Err(fail(format!(
            "entries must be a JSON object of objects, such as {{\"eu-west-1\": {{\"Ami\": \"ami-1\"}}}}, not {entries}"
        )));
    };
    if entries.is_empty() {
        return Err(fail("a mapping needs at least one entry".into()));
    }
    let key_ok = |k: &str| {
        !k.is_empty()
            && k.len() <= 255
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    let scalar = |v: &serde_json::Value| {
        matches!(
            v,
            serde_json::Value::String(_)
                | serde_json::Value::Number(_)
                | serde_json::Value::Bool(_)
        )
    };
    let mut checked = MappingEntries::new();
    for (top, second) in entries {
        if !key_ok(&top) {
            return Err(fail(format!(
                "key {top:?} is invalid; mapping keys are 1 to 255 letters, digits, '-' and '.'"
            )));
        }
        let serde_json::Value::Object(second) = second else {
            return Err(fail(format!(
                "the entry for {top:?} must be an object of second-level keys, not {second}"
            )));
        };
        if second.is_empty() {
            return Err(fail(format!("key {top:?} has no second-level entries")));
        }
        let mut values = IndexMap::new();
        for (key, value) in second {
            if !key_ok(&key) {
                return Err(fail(format!(
                    "key {top:?}.{key:?} is invalid; mapping keys are 1 to 255 letters, digits, '-' and '.'"
                )));
            }
            let ok = scalar(&value)
                || matches!(&value, serde_json::Value::Array(items) if items.iter().all(scalar));
            if !ok {
                return Err(fail(format!(
                    "value of {top:?}.{key:?} is {value}; mapping values are strings, numbers, booleans or lists of them"
                )));
            }
            values.insert(key, value);
        }
        checked.insert(top, values);
    }
    Ok(checked)
}

/// A mapping of a stack.
#[derive(Clone, Debug)]
pub struct Mapping {
    element: ElementRef,
}

impl Mapping {
    /// The mapping's name.
    pub fn name(&self) -> &str {
        self.element.name()
    }

    /// `Fn::FindInMap`: the value under the two keys. Literal keys are checked at synthesis.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, Value, aws};
    /// use serde_json::json;
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Net", StackProps::default())?;
    /// let amis = stack.add_mapping("Ami", json!({
    ///     "eu-west-1": {"Id": "ami-0abc"}, "us-east-1": {"Id": "ami-0def"}
    /// }))?;
    /// let ami: Value<String> = amis.find(aws::region(), "Id");
    /// # let _ = ami;
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn find<T>(
        &self,
        top_key: impl Into<Value<String>>,
        second_key: impl Into<Value<String>>,
    ) -> Value<T> {
        Value::Fn(Expr::new(Intrinsic::FindInMap {
            mapping: self.element.clone(),
            top_key: top_key.into().into_node(),
            second_key: second_key.into().into_node(),
        }))
    }
}

/// How an output is declared.
#[derive(Clone, Debug, Default)]
pub struct OutputProps {
    /// What the output is (at most 1,024 bytes). Default: none.
    pub description: Option<String>,
    /// Exports the value under this name, for stacks outside the app. Default: not exported.
    pub export_name: Option<Value<String>>,
    /// Only output the value when this condition holds. Default: always.
    pub condition: Option<Condition>,
}

/// Whether a name refers to a pseudo parameter (`AWS::Region`, ...).
pub(crate) fn is_pseudo(name: &str) -> bool {
    Pseudo::from_name(name).is_some()
}
