//! The construct tree's data: what the handles ([`App`], [`Stack`], [`Scope`], resources)
//! share. Only the types live here, so every layer above can name them; what each handle
//! does is in its own module (`app`, `stack`, `resource`), and `synth` reads the data.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::{Rc, Weak};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::check::{Rule, Stage};
use crate::environment::Environment;
use crate::parameter::ParameterProps;
use crate::policy::{DeletionPolicy, UpdateReplacePolicy};
use crate::schema::{ResourceSchema, TagFormat};
use crate::settings::AppSettings;
use crate::value::{ConditionExpr, ElementRef, Node, ResourceRef, StackRef};

/// The stacks of one program. Stacks are added with [`Stack::new`]; `omc_cdk::App` (this app
/// and its command line, `App::run`) is what programs use.
///
/// `App` is a cheap handle: clones refer to the same app.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, RawResource};
/// let app = App::new();
/// let stack = Stack::new(&app, "Storage", StackProps::default())?;
/// stack.add("Jobs", RawResource::new("AWS::SQS::Queue"))?;
/// let synthesis = app.synth()?;
/// assert_eq!(synthesis.stacks()[0].name(), "Storage");
/// # Ok::<(), omc_cdk::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct App {
    pub(crate) inner: Rc<RefCell<AppData>>,
}

#[derive(Default)]
pub(crate) struct AppData {
    pub(crate) stacks: Vec<Stack>,
    pub(crate) settings: AppSettings,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) schemas: Option<crate::schema::SchemaLookup>,
    pub(crate) stage: Option<Stage>,
    pub(crate) rules: Vec<Rule>,
}

/// A CloudFormation stack: one template, deployed as one unit.
///
/// A stack is also the root [`Scope`] of its constructs (it dereferences to one), so
/// constructs are added with `Vpc::new(&stack, "Vpc", ..)`. `Stack` is a cheap handle: clones
/// refer to the same stack.
#[derive(Clone)]
pub struct Stack {
    pub(crate) root: Scope,
}

pub(crate) struct StackData {
    pub(crate) sref: StackRef,
    pub(crate) app: Weak<RefCell<AppData>>,
    pub(crate) env: Option<Environment>,
    pub(crate) description: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) termination_protection: bool,
    /// The role CloudFormation deploys the stack with ([`Stack::set_execution_role`]).
    pub(crate) execution_role: Option<String>,
    pub(crate) stage: Option<Stage>,
    /// Suppressed check findings, in declaration order.
    pub(crate) suppressions: Vec<SuppressionData>,
    /// Tags added on scopes ([`Scope::add_tag`]): the scope's path, key and value, in
    /// declaration order.
    pub(crate) scope_tags: Vec<(Arc<str>, String, String)>,
    /// Metadata added on scopes ([`Scope::add_metadata`]): the scope's path, key and value,
    /// in declaration order.
    pub(crate) scope_metadata: Vec<(Arc<str>, String, Node)>,
    /// Every construct path in use, resources included.
    pub(crate) constructs: BTreeSet<Arc<str>>,
    pub(crate) resources: IndexMap<Arc<str>, ResourceData>,
    /// Logical ids of resources and parameters (they share `Ref`'s namespace), with the full path
    /// of the element that has each.
    pub(crate) logical_ids: BTreeMap<String, String>,
    pub(crate) parameters: IndexMap<String, ParameterProps>,
    pub(crate) conditions: IndexMap<String, ConditionExpr>,
    pub(crate) mappings: IndexMap<String, MappingEntries>,
    pub(crate) outputs: IndexMap<String, OutputData>,
    pub(crate) metadata: IndexMap<String, serde_json::Value>,
    pub(crate) dependencies: Vec<(StackRef, String)>,
    /// Files written beside the template, by name.
    pub(crate) files: std::collections::BTreeMap<String, String>,
}

/// A suppression declared on a scope (its path inside the stack).
pub(crate) struct SuppressionData {
    pub(crate) scope: Arc<str>,
    pub(crate) rule: String,
    pub(crate) reason: String,
}

impl SuppressionData {
    /// Whether the suppression covers the resource at `path`.
    pub(crate) fn covers(&self, path: &str) -> bool {
        path.strip_prefix(&*self.scope)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

pub(crate) struct OutputData {
    pub(crate) value: Node,
    pub(crate) description: Option<String>,
    pub(crate) export_name: Option<Node>,
    pub(crate) condition: Option<String>,
}

/// A path in a stack's construct tree, where constructs and resources are added.
///
/// Constructs take `&Scope` and add their resources under `scope.child(id)?`. A [`Stack`]
/// dereferences to its root scope. `Scope` is a cheap handle.
#[derive(Clone)]
pub struct Scope {
    pub(crate) data: Rc<RefCell<StackData>>,
    pub(crate) path: Arc<str>,
}

/// A condition of a stack: use it with [`crate::fns::if_`], [`crate::Resource::set_condition`] or
/// [`crate::OutputProps::condition`].
#[derive(Clone, Debug)]
pub struct Condition {
    pub(crate) element: ElementRef,
}

/// The entries of a mapping: top-level key -> second-level key -> literal value.
pub(crate) type MappingEntries = IndexMap<String, IndexMap<String, serde_json::Value>>;

#[derive(Clone, Debug)]
pub(crate) enum Override {
    Set(Vec<String>, Node),
    Delete(Vec<String>),
}

pub(crate) struct ResourceData {
    pub(crate) type_name: String,
    pub(crate) properties: IndexMap<String, Node>,
    pub(crate) tag_format: TagFormat,
    pub(crate) logical_id: String,
    pub(crate) depends_on: Vec<ResourceRef>,
    pub(crate) condition: Option<String>,
    pub(crate) deletion_policy: Option<DeletionPolicy>,
    pub(crate) update_replace_policy: Option<UpdateReplacePolicy>,
    pub(crate) update_policy: Option<Node>,
    pub(crate) creation_policy: Option<Node>,
    pub(crate) metadata: IndexMap<String, Node>,
    pub(crate) overrides: Vec<Override>,
    /// What the resource's definition says its type is (typed resources carry it; raw ones
    /// rely on the app's schema lookup).
    pub(crate) schema: Option<&'static ResourceSchema>,
    /// Property paths whose literal values are not checked against the schema's value
    /// constraints (`Resource::skip_schema_constraints`), with the reasons.
    pub(crate) unchecked: Vec<(String, String)>,
}

impl ResourceData {
    pub(crate) fn new(
        type_name: String,
        properties: IndexMap<String, Node>,
        tag_format: TagFormat,
        logical_id: String,
    ) -> ResourceData {
        ResourceData {
            type_name,
            properties,
            tag_format,
            logical_id,
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            update_replace_policy: None,
            update_policy: None,
            creation_policy: None,
            metadata: IndexMap::new(),
            overrides: Vec::new(),
            schema: None,
            unchecked: Vec::new(),
        }
    }
}

impl PartialEq for Scope {
    /// The same path of the same stack.
    fn eq(&self, other: &Scope) -> bool {
        Rc::ptr_eq(&self.data, &other.data) && self.path == other.path
    }
}
