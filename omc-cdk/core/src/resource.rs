//! Resources: their definition (type and properties), attributes, and the handle that
//! references and adjusts them.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::id;
use crate::policy::{DeletionPolicy, RemovalPolicy, UpdateReplacePolicy};
use crate::schema::{ResourceSchema, TagFormat};
use crate::tree::{Condition, Override, ResourceData, Scope, Stack};
use crate::value::{
    AttributeType, Expr, IntoNode, Intrinsic, Node, RefTarget, ResourceRef, StackRef, Value,
};

/// What a resource is: its CloudFormation type, its properties and how it takes tags.
///
/// The typed resources implement this trait; [`RawResource`] implements it for any type name.
pub trait ResourceDefinition {
    /// What [`crate::Scope::add`] returns: [`Resource`], or a typed handle with one accessor per
    /// attribute of the type (and the [`TypedResource`] operations).
    type Handle: From<Resource>;
    /// The CloudFormation type, such as `AWS::EC2::VPC`.
    fn type_name(&self) -> &str;
    /// How the type takes tags. Default: it does not.
    fn tag_format(&self) -> TagFormat {
        TagFormat::None
    }
    /// The properties, in template order.
    fn into_properties(self) -> IndexMap<String, Node>;
    /// What the CloudFormation schema says about the type, when the definition knows it (the
    /// typed resources do). Synthesis checks every `Fn::GetAtt` of the resource against its
    /// attributes. Default: unknown, and the app's schema lookup ([`crate::App::with_schemas`])
    /// is asked instead.
    fn resource_schema(&self) -> Option<&'static ResourceSchema> {
        None
    }
}

/// A resource given by type name and untyped properties, for types the typed layer does not
/// cover (and for tests).
///
/// ```
/// use omc_cdk::{RawResource, TagFormat};
/// let topic = RawResource::new("AWS::SNS::Topic")
///     .property("TopicName", "alarms")
///     .tags(TagFormat::KeyValueList("Tags".into()));
/// # let _ = topic;
/// ```
#[derive(Clone, Debug)]
pub struct RawResource {
    type_name: String,
    properties: IndexMap<String, Node>,
    tag_format: TagFormat,
}

impl RawResource {
    /// A resource of this type without properties.
    pub fn new(type_name: impl Into<String>) -> RawResource {
        RawResource {
            type_name: type_name.into(),
            properties: IndexMap::new(),
            tag_format: TagFormat::None,
        }
    }

    /// Sets a property.
    #[must_use]
    pub fn property(mut self, name: impl Into<String>, value: impl IntoNode) -> RawResource {
        self.properties.insert(name.into(), value.into_node());
        self
    }

    /// Declares how the type takes tags, so stack tags are applied to it.
    #[must_use]
    pub fn tags(mut self, format: TagFormat) -> RawResource {
        self.tag_format = format;
        self
    }
}

impl ResourceDefinition for RawResource {
    type Handle = Resource;

    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn tag_format(&self) -> TagFormat {
        self.tag_format.clone()
    }

    fn into_properties(self) -> IndexMap<String, Node> {
        self.properties
    }
}

/// A resource of a stack: references it (`Ref`, `Fn::GetAtt`) and adjusts it after creation.
///
/// A cheap handle that does not borrow the stack: pass it to constructs of other stacks and the
/// references become exports and imports.
#[derive(Clone)]
pub struct Resource {
    scope: Scope,
    reference: ResourceRef,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("path", &self.node_path())
            .field("type", &self.reference.type_name)
            .finish_non_exhaustive()
    }
}

impl Resource {
    pub(crate) fn new(scope: Scope, reference: ResourceRef) -> Resource {
        Resource { scope, reference }
    }

    /// `Ref`: the value the type returns for `Ref`, usually its physical id.
    pub fn reference(&self) -> Value<String> {
        Value::Fn(Expr::new(Intrinsic::Ref(RefTarget::Resource(
            self.reference.clone(),
        ))))
    }

    /// `Fn::GetAtt`: an attribute such as `Arn` or `Endpoint.Address`, typed by the caller
    /// (`get_att::<String>("Arn")`; lists as `Vec<Value<String>>`).
    ///
    /// The typed resources offer one accessor per attribute the type has; this is the untyped
    /// form.
    pub fn get_att<T: AttributeType>(&self, attribute: &str) -> Value<T> {
        Value::Fn(Expr::new(Intrinsic::GetAtt {
            resource: self.reference.clone(),
            attribute: attribute.to_owned(),
            list: T::IS_LIST,
        }))
    }

    /// `Fn::GetAtt` for a list attribute, such as `AWS::EC2::VPC`'s `Ipv6CidrBlocks`. Across
    /// stacks a list travels joined with `||` and is split again on import.
    pub fn get_att_list(&self, attribute: &str) -> Value<Vec<Value<String>>> {
        self.get_att(attribute)
    }

    /// The resource's identity, as references carry it.
    pub fn resource_ref(&self) -> &ResourceRef {
        &self.reference
    }

    /// The resource's CloudFormation type.
    pub fn type_name(&self) -> &str {
        &self.reference.type_name
    }

    /// The full construct path, such as `Network/Vpc/Resource`.
    pub fn node_path(&self) -> String {
        self.scope.node_path()
    }

    /// The resource's scope (its construct path), for [`Scope::suppress`] and the like.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Suppresses findings of the check `rule` for this resource, with a reason; see
    /// [`Scope::suppress`].
    pub fn suppress(&self, rule: &str, reason: &str) -> Result<()> {
        self.scope.suppress(rule, reason)
    }

    /// Escape hatch: synthesis does not check the literal values at `property` (a property
    /// path under `Properties`, such as `InstanceType` or `VisibilityConfig.MetricName`; lists
    /// are included whole) against the value constraints of the type's schema. For a schema
    /// that is wrong or older than the service (an instance type newer than the pinned
    /// schemas); the reason, required, says which.
    ///
    /// ```
    /// use omc_cdk::{App, RawResource, Stack, StackProps};
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Ops", StackProps::default())?;
    /// let vpc = stack.add("Vpc", RawResource::new("AWS::EC2::VPC"))?;
    /// vpc.skip_schema_constraints("InstanceTenancy", "a tenancy newer than the pinned schemas")?;
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn skip_schema_constraints(&self, property: &str, reason: &str) -> Result<()> {
        let problem = if property.trim().is_empty() {
            Some("the property path is empty; name a property, such as \"InstanceType\"")
        } else if reason.trim().is_empty() {
            Some("the reason is empty; say why the schema's constraint does not apply")
        } else {
            None
        };
        if let Some(message) = problem {
            return Err(Error::InvalidValue {
                path: self.node_path(),
                message: message.to_owned(),
            });
        }
        let property = property
            .strip_prefix("Properties.")
            .unwrap_or(property)
            .to_owned();
        self.with(|r| r.unchecked.push((property, reason.to_owned())));
        Ok(())
    }

    /// The stack the resource belongs to.
    pub fn stack(&self) -> Stack {
        self.scope.stack()
    }

    /// The stack identity.
    pub fn stack_ref(&self) -> &StackRef {
        &self.reference.stack
    }

    fn with<R>(&self, f: impl FnOnce(&mut ResourceData) -> R) -> Option<R> {
        let mut data = self.scope.data.borrow_mut();
        data.resources.get_mut(&self.reference.path).map(f)
    }

    /// The logical id: derived from the path unless overridden.
    pub fn logical_id(&self) -> String {
        self.with(|r| r.logical_id.clone()).unwrap_or_default()
    }

    /// Replaces the logical id derived from the path, for example to keep the id of a resource
    /// created outside omc-cdk. References follow the new id.
    pub fn override_logical_id(&self, logical_id: &str) -> Result<()> {
        let path = self.node_path();
        id::check_logical_id(logical_id).map_err(|reason| Error::InvalidLogicalId {
            path: path.clone(),
            logical_id: logical_id.to_owned(),
            reason,
        })?;
        let mut data = self.scope.data.borrow_mut();
        let Some(old) = data
            .resources
            .get(&self.reference.path)
            .map(|r| r.logical_id.clone())
        else {
            return Ok(());
        };
        if old == logical_id {
            return Ok(());
        }
        if let Some(existing) = data.logical_ids.get(logical_id) {
            return Err(Error::DuplicateLogicalId {
                path,
                logical_id: logical_id.to_owned(),
                existing: existing.clone(),
            });
        }
        data.logical_ids.remove(&old);
        data.logical_ids.insert(logical_id.to_owned(), path);
        if let Some(r) = data.resources.get_mut(&self.reference.path) {
            logical_id.clone_into(&mut r.logical_id);
        }
        Ok(())
    }

    /// Makes this resource wait for `other` (`DependsOn`). When `other` belongs to another
    /// stack, this resource's stack deploys after that stack instead.
    pub fn add_depends_on(&self, other: &Resource) -> Result<()> {
        if other.reference == self.reference {
            return Err(Error::InvalidValue {
                path: self.node_path(),
                message: "a resource cannot depend on itself; remove the add_depends_on call"
                    .into(),
            });
        }
        self.with(|r| {
            if !r.depends_on.contains(&other.reference) {
                r.depends_on.push(other.reference.clone());
            }
        });
        Ok(())
    }

    /// Creates the resource only when the condition holds.
    pub fn set_condition(&self, condition: &Condition) -> Result<()> {
        if condition.element().stack() != &self.reference.stack {
            return Err(Error::InvalidValue {
                path: self.node_path(),
                message: format!(
                    "condition {:?} belongs to stack {}; conditions only apply inside their own stack",
                    condition.name(),
                    condition.element().stack().name()
                ),
            });
        }
        let name = condition.name().to_owned();
        self.with(|r| r.condition = Some(name));
        Ok(())
    }

    /// Sets the `DeletionPolicy`.
    pub fn set_deletion_policy(&self, policy: DeletionPolicy) {
        self.with(|r| r.deletion_policy = Some(policy));
    }

    /// Sets the `UpdateReplacePolicy`.
    pub fn set_update_replace_policy(&self, policy: UpdateReplacePolicy) {
        self.with(|r| r.update_replace_policy = Some(policy));
    }

    /// Sets both policies, as CDK's `applyRemovalPolicy`.
    pub fn apply_removal_policy(&self, policy: RemovalPolicy) {
        let (deletion, replace) = match policy {
            RemovalPolicy::Destroy => (DeletionPolicy::Delete, UpdateReplacePolicy::Delete),
            RemovalPolicy::Retain => (DeletionPolicy::Retain, UpdateReplacePolicy::Retain),
            RemovalPolicy::Snapshot => (DeletionPolicy::Snapshot, UpdateReplacePolicy::Snapshot),
            RemovalPolicy::RetainExceptOnCreate => (
                DeletionPolicy::RetainExceptOnCreate,
                UpdateReplacePolicy::Retain,
            ),
        };
        self.with(|r| {
            r.deletion_policy = Some(deletion);
            r.update_replace_policy = Some(replace);
        });
    }

    /// Sets the `UpdatePolicy` attribute.
    pub fn set_update_policy(&self, policy: impl IntoNode) {
        let node = policy.into_node();
        self.with(|r| r.update_policy = Some(node));
    }

    /// Sets the `CreationPolicy` attribute.
    pub fn set_creation_policy(&self, policy: impl IntoNode) {
        let node = policy.into_node();
        self.with(|r| r.creation_policy = Some(node));
    }

    /// Adds an entry to the resource's `Metadata`.
    pub fn add_metadata(&self, key: &str, value: impl IntoNode) {
        let node = value.into_node();
        self.with(|r| {
            r.metadata.insert(key.to_owned(), node);
        });
    }

    /// The resource's properties as stored (before stack tags and overrides).
    pub fn properties(&self) -> IndexMap<String, Node> {
        self.with(|r| r.properties.clone()).unwrap_or_default()
    }

    /// Changes the properties in place. Constructs use this to grow a resource after creation
    /// (another container, another policy statement).
    pub fn update_properties(&self, f: impl FnOnce(&mut IndexMap<String, Node>)) {
        // Take the properties out so `f` may use other handles of the same stack.
        let Some(mut properties) = self.with(|r| std::mem::take(&mut r.properties)) else {
            return;
        };
        f(&mut properties);
        self.with(|r| r.properties = properties);
    }

    /// Escape hatch: sets any path of the rendered resource, such as
    /// `Properties.VersioningConfiguration.Status` or `UpdatePolicy`. Path components are
    /// separated by `.` (write `\.` for a dot inside a key); numeric components index lists.
    /// Overrides are applied after stack tags, in the order they were added.
    pub fn add_override(&self, path: &str, value: impl IntoNode) {
        let node = value.into_node();
        let path = split_override_path(path);
        self.with(|r| r.overrides.push(Override::Set(path, node)));
    }

    /// Escape hatch: removes any path of the rendered resource.
    pub fn add_deletion_override(&self, path: &str) {
        let path = split_override_path(path);
        self.with(|r| r.overrides.push(Override::Delete(path)));
    }

    /// Escape hatch: sets a path under `Properties`.
    pub fn add_property_override(&self, path: &str, value: impl IntoNode) {
        self.add_override(&format!("Properties.{path}"), value);
    }

    /// Escape hatch: removes a path under `Properties`.
    pub fn add_property_deletion_override(&self, path: &str) {
        self.add_deletion_override(&format!("Properties.{path}"));
    }
}

/// What every typed handle (such as `omc_cfn::ec2::VpcHandle`) offers besides `Ref` and its
/// `attr_*` accessors: the operations of [`Resource`] that are safe whatever the type, with
/// the same signatures.
///
/// A typed handle has no untyped `get_att`: it offers one `attr_*` accessor per attribute its
/// type has, so an attribute it lacks does not compile. [`TypedResource::as_resource`] is the
/// explicit escape hatch to the untyped [`Resource`] (whose `Fn::GetAtt`s synthesis still
/// checks against the type's schema).
///
/// ```
/// use omc_cdk::{App, RawResource, Resource, Stack, StackProps, TypedResource};
///
/// /// A typed handle of one's own (the generated ones look like this).
/// #[derive(Clone, Debug)]
/// struct QueueHandle(Resource);
/// impl From<Resource> for QueueHandle {
///     fn from(resource: Resource) -> Self { Self(resource) }
/// }
/// impl TypedResource for QueueHandle {
///     fn as_resource(&self) -> &Resource { &self.0 }
/// }
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Jobs", StackProps::default())?;
/// let queue = QueueHandle::from(stack.add("Queue", RawResource::new("AWS::SQS::Queue"))?);
/// queue.apply_removal_policy(omc_cdk::RemovalPolicy::Retain);
/// assert_eq!(queue.logical_id(), "Queue");
/// # Ok::<(), omc_cdk::Error>(())
/// ```
pub trait TypedResource {
    /// The untyped resource: the explicit escape hatch (its `get_att` takes any attribute
    /// name; synthesis rejects names the type's schema does not list).
    fn as_resource(&self) -> &Resource;

    /// The untyped resource, by value; see [`TypedResource::as_resource`].
    #[inline]
    fn into_resource(self) -> Resource
    where
        Self: Sized,
    {
        self.as_resource().clone()
    }

    /// See [`Resource::reference`].
    #[inline]
    fn reference(&self) -> Value<String> {
        self.as_resource().reference()
    }

    /// See [`Resource::type_name`].
    #[inline]
    fn type_name(&self) -> &str {
        self.as_resource().type_name()
    }

    /// See [`Resource::node_path`].
    #[inline]
    fn node_path(&self) -> String {
        self.as_resource().node_path()
    }

    /// See [`Resource::scope`].
    #[inline]
    fn scope(&self) -> &Scope {
        self.as_resource().scope()
    }

    /// See [`Resource::suppress`].
    #[inline]
    fn suppress(&self, rule: &str, reason: &str) -> Result<()> {
        self.as_resource().suppress(rule, reason)
    }

    /// See [`Resource::skip_schema_constraints`].
    #[inline]
    fn skip_schema_constraints(&self, property: &str, reason: &str) -> Result<()> {
        self.as_resource().skip_schema_constraints(property, reason)
    }

    /// See [`Resource::stack`].
    #[inline]
    fn stack(&self) -> Stack {
        self.as_resource().stack()
    }

    /// See [`Resource::logical_id`].
    #[inline]
    fn logical_id(&self) -> String {
        self.as_resource().logical_id()
    }

    /// See [`Resource::override_logical_id`].
    #[inline]
    fn override_logical_id(&self, logical_id: &str) -> Result<()> {
        self.as_resource().override_logical_id(logical_id)
    }

    /// See [`Resource::add_depends_on`] (pass a typed handle as `other.as_resource()`).
    #[inline]
    fn add_depends_on(&self, other: &Resource) -> Result<()> {
        self.as_resource().add_depends_on(other)
    }

    /// See [`Resource::set_condition`].
    #[inline]
    fn set_condition(&self, condition: &Condition) -> Result<()> {
        self.as_resource().set_condition(condition)
    }

    /// See [`Resource::set_deletion_policy`].
    #[inline]
    fn set_deletion_policy(&self, policy: DeletionPolicy) {
        self.as_resource().set_deletion_policy(policy);
    }

    /// See [`Resource::set_update_replace_policy`].
    #[inline]
    fn set_update_replace_policy(&self, policy: UpdateReplacePolicy) {
        self.as_resource().set_update_replace_policy(policy);
    }

    /// See [`Resource::apply_removal_policy`].
    #[inline]
    fn apply_removal_policy(&self, policy: RemovalPolicy) {
        self.as_resource().apply_removal_policy(policy);
    }

    /// See [`Resource::set_update_policy`].
    #[inline]
    fn set_update_policy(&self, policy: impl IntoNode) {
        self.as_resource().set_update_policy(policy);
    }

    /// See [`Resource::set_creation_policy`].
    #[inline]
    fn set_creation_policy(&self, policy: impl IntoNode) {
        self.as_resource().set_creation_policy(policy);
    }

    /// See [`Resource::add_metadata`].
    #[inline]
    fn add_metadata(&self, key: &str, value: impl IntoNode) {
        self.as_resource().add_metadata(key, value);
    }

    /// See [`Resource::properties`].
    #[inline]
    fn properties(&self) -> IndexMap<String, Node> {
        self.as_resource().properties()
    }

    /// See [`Resource::update_properties`].
    #[inline]
    fn update_properties(&self, f: impl FnOnce(&mut IndexMap<String, Node>)) {
        self.as_resource().update_properties(f);
    }

    /// See [`Resource::add_override`].
    #[inline]
    fn add_override(&self, path: &str, value: impl IntoNode) {
        self.as_resource().add_override(path, value);
    }

    /// See [`Resource::add_deletion_override`].
    #[inline]
    fn add_deletion_override(&self, path: &str) {
        self.as_resource().add_deletion_override(path);
    }

    /// See [`Resource::add_property_override`].
    #[inline]
    fn add_property_override(&self, path: &str, value: impl IntoNode) {
        self.as_resource().add_property_override(path, value);
    }

    /// See [`Resource::add_property_deletion_override`].
    #[inline]
    fn add_property_deletion_override(&self, path: &str) {
        self.as_resource().add_property_deletion_override(path);
    }
}

/// Splits `A.B\.C.0` into `["A", "B.C", "0"]`.
fn split_override_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                current.push('.');
                chars.next();
            }
            '.' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// Adding resources to a scope: here rather than in `stack`, so a stack knows nothing of the
/// resource handles built on it.
impl Scope {
    /// Adds a resource with this id. Its logical id is derived from its path (see
    /// [`crate::id::logical_id_for_path`]) unless overridden with
    /// [`Resource::override_logical_id`].
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps, RawResource};
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Storage", StackProps::default())?;
    /// let bucket = stack.child("MyBucket")?.add("Resource", RawResource::new("AWS::S3::Bucket"))?;
    /// assert_eq!(bucket.logical_id(), "MyBucketF68F3FF0");
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn add<R: ResourceDefinition>(&self, id: &str, definition: R) -> Result<R::Handle> {
        let path = self.child_path(id)?;
        let type_name = definition.type_name().to_owned();
        let tag_format = definition.tag_format();
        let schema = definition.resource_schema();
        let properties = definition.into_properties();
        let mut data = self.data.borrow_mut();
        let full = format!("{}/{path}", data.sref.name);
        check_resource_type(&full, &type_name)?;
        if data.constructs.contains(&path) {
            return Err(Error::DuplicateConstructId {
                path: full,
                id: id.to_owned(),
            });
        }
        let components: Vec<&str> = path.split('/').collect();
        if components.iter().all(|c| *c == id::HIDDEN_ID) {
            return Err(Error::InvalidLogicalId {
                path: full,
                logical_id: String::new(),
                reason: format!(
                    "every path component is {:?}, which logical ids leave out; give the resource another id",
                    id::HIDDEN_ID
                ),
            });
        }
        let logical_id = id::logical_id_for_path(&components);
        id::check_logical_id(&logical_id).map_err(|reason| Error::InvalidLogicalId {
            path: full.clone(),
            logical_id: logical_id.clone(),
            reason: format!("{reason} (derived from the path; use an id with letters or digits)"),
        })?;
        if let Some(existing) = data.logical_ids.get(&logical_id) {
            return Err(Error::DuplicateLogicalId {
                path: full,
                logical_id,
                existing: existing.clone(),
            });
        }
        data.logical_ids.insert(logical_id.clone(), full);
        data.constructs.insert(path.clone());
        let mut resource = ResourceData::new(type_name.clone(), properties, tag_format, logical_id);
        resource.schema = schema;
        data.resources.insert(path.clone(), resource);
        let sref = data.sref.clone();
        drop(data);
        Ok(Resource::new(
            Scope {
                data: self.data.clone(),
                path: path.clone(),
            },
            crate::value::ResourceRef {
                stack: sref,
                path,
                type_name: Arc::from(type_name),
            },
        )
        .into())
    }
}

/// `AWS::Service::Type`, `Custom::Name`, or a module `Org::Service::Type::MODULE`.
fn check_resource_type(path: &str, type_name: &str) -> Result<()> {
    let parts: Vec<&str> = type_name.split("::").collect();
    let ok = match parts.as_slice() {
        ["Custom", name] => !name.is_empty(),
        [_, _, _] | [_, _, _, "MODULE"] => parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            path: path.to_owned(),
            message: format!(
                "resource type {type_name:?} is not a CloudFormation type name; use the form \"AWS::Service::Resource\" (or \"Custom::Name\")"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_paths_split_on_unescaped_dots() {
        assert_eq!(
            split_override_path(r"Properties.Tags.0.Key"),
            vec!["Properties", "Tags", "0", "Key"]
        );
        assert_eq!(
            split_override_path(r"Metadata.cfn\.lint.x"),
            vec!["Metadata", "cfn.lint", "x"]
        );
    }
}
