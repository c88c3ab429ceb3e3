//! The resource specification (`db.json.gz`), loaded into the shape the emitter needs: services,
//! resources, their properties, attributes and property types, with Rust names decided.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value as Json;

use crate::names;

/// A property's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    String,
    Integer,
    Number,
    Boolean,
    Json,
    Tag,
    List(Box<Type>),
    Map(Box<Type>),
    /// A property type of the same resource, by index into `Resource::types`.
    Ref(usize),
    /// Several types are allowed.
    Union,
}

#[derive(Clone, Debug)]
pub(crate) struct Property {
    pub(crate) cfn_name: String,
    pub(crate) field: String,
    pub(crate) ty: Type,
    pub(crate) required: bool,
    pub(crate) replacement: Replacement,
    pub(crate) doc: String,
    pub(crate) default_value: Option<String>,
    pub(crate) deprecated: bool,
    /// A direct (not through a list or map) reference into a cycle: stored boxed.
    pub(crate) boxed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replacement {
    Never,
    Conditional,
    Always,
}

#[derive(Clone, Debug)]
pub(crate) struct TypeDef {
    pub(crate) cfn_name: String,
    pub(crate) rust_name: String,
    pub(crate) doc: String,
    pub(crate) properties: Vec<Property>,
}

#[derive(Clone, Debug)]
pub(crate) struct Attribute {
    pub(crate) cfn_name: String,
    pub(crate) method: String,
    pub(crate) ty: Type,
    pub(crate) doc: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TagVariant {
    Standard,
    Map,
    AutoScalingGroup,
}

#[derive(Clone, Debug)]
pub(crate) struct Resource {
    pub(crate) type_name: String,
    pub(crate) struct_name: String,
    pub(crate) handle_name: String,
    pub(crate) module: String,
    pub(crate) doc: String,
    pub(crate) properties: Vec<Property>,
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) tags: Option<(String, TagVariant)>,
    pub(crate) types: Vec<TypeDef>,
    pub(crate) primary_identifier: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub(crate) namespace: String,
    /// Module and cargo feature name.
    pub(crate) module: String,
    pub(crate) resources: Vec<Resource>,
}

pub(crate) struct Spec {
    pub(crate) services: Vec<Service>,
}

fn str_field<'a>(v: &'a Json, key: &str) -> Result<&'a str> {
    v.get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| anyhow!("missing string field {key:?} in {}", abbreviate(v)))
}

fn abbreviate(v: &Json) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!("{}...", &s[..200])
    } else {
        s
    }
}

fn doc_of(v: &Json) -> String {
    v.get("documentation")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Reads the specification and decides every Rust name.
pub(crate) fn load(db: &Json) -> Result<Spec> {
    let schema = db.get("schema").context("no `schema` in the database")?;
    let entities = |name: &str| -> Result<&Vec<Json>> {
        schema
            .get(name)
            .and_then(|s| s.get("entities"))
            .and_then(Json::as_array)
            .with_context(|| format!("no `{name}` entities"))
    };
    let typedefs: BTreeMap<&str, &Json> = entities("typeDefinition")?
        .iter()
        .map(|t| Ok((str_field(t, "$id")?, t)))
        .collect::<Result<_>>()?;

    let mut by_namespace: BTreeMap<String, Vec<Resource>> = BTreeMap::new();
    for raw in entities("resource")? {
        let resource = load_resource(raw, &typedefs)
            .with_context(|| format!("resource {}", abbreviate(&raw["cloudFormationType"])))?;
        let namespace = resource
            .type_name
            .rsplit_once("::")
            .map(|(ns, _)| ns.to_owned())
            .context("type name without namespace")?;
        by_namespace.entry(namespace).or_default().push(resource);
    }

    let mut services = Vec::new();
    let mut modules = BTreeSet::new();
    for (namespace, mut resources) in by_namespace {
        let module = names::service_module(&namespace);
        if !modules.insert(module.clone()) {
            bail!("two namespaces map to module {module}");
        }
        resources.sort_by(|a, b| a.type_name.cmp(&b.type_name));
        // A handle must not take the name of another resource of the service
        // (`WaitCondition` + `Handle` is the resource `WaitConditionHandle`).
        let structs: BTreeSet<String> = resources.iter().map(|r| r.struct_name.clone()).collect();
        for r in &mut resources {
            if structs.contains(&r.handle_name) {
                r.handle_name = format!("{}ResourceHandle", r.struct_name);
            }
        }
        let mut seen = BTreeSet::new();
        for r in &resources {
            if !seen.insert(r.module.clone()) || !seen.insert(r.struct_name.clone()) {
                bail!("{namespace}: resource names collide at {}", r.struct_name);
            }
        }
        services.push(Service {
            namespace,
            module,
            resources,
        });
    }
    Ok(Spec { services })
}

fn load_resource(raw: &Json, typedefs: &BTreeMap<&str, &Json>) -> Result<Resource> {
    let type_name = str_field(raw, "cloudFormationType")?.to_owned();
    let cfn_name = str_field(raw, "name")?.to_owned();
    let struct_name = names::type_name(&cfn_name);
    let handle_name = format!("{struct_name}Handle");

    // Property types reachable from the properties, numbered in first-use order.
    let props = raw
        .get("properties")
        .and_then(Json::as_object)
        .context("no properties")?;
    let mut ids: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut add = |ty: &Json, ids: &mut Vec<String>| {
        collect_refs(ty, &mut |id| {
            if !index.contains_key(id) {
                index.insert(id.to_owned(), ids.len());
                ids.push(id.to_owned());
            }
        });
    };
    for p in props.values() {
        add(&p["type"], &mut ids);
    }
    let mut next = 0;
    while next < ids.len() {
        let def = typedefs
            .get(ids[next].as_str())
            .with_context(|| format!("property type {} does not exist", ids[next]))?;
        for p in def
            .get("properties")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            add(&p.1["type"], &mut ids);
        }
        next += 1;
    }
    let index: BTreeMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    let mut types = Vec::with_capacity(ids.len());
    let reserved_extra = [struct_name.clone(), handle_name.clone()];
    let mut used_names = BTreeSet::new();
    for id in &ids {
        let def = typedefs
            .get(id.as_str())
            .with_context(|| format!("property type {id} does not exist"))?;
        let cfn = str_field(def, "name")?.to_owned();
        let mut rust_name = names::type_name(&cfn);
        if names::RESERVED_TYPE_NAMES.contains(&rust_name.as_str())
            || reserved_extra.contains(&rust_name)
        {
            rust_name.push_str("Property");
        }
        let base = rust_name.clone();
        let mut n = 2;
        while !used_names.insert(rust_name.clone()) {
            rust_name = format!("{base}{n}");
            n += 1;
        }
        let properties = def
            .get("properties")
            .and_then(Json::as_object)
            .map(|p| load_properties(p, &index))
            .transpose()?
            .unwrap_or_default();
        types.push(TypeDef {
            cfn_name: cfn,
            rust_name,
            doc: doc_of(def),
            properties,
        });
    }
    let mut properties = load_properties(props, &index)?;
    mark_boxed(&mut types, &mut properties);

    let mut attributes: Vec<Attribute> = raw
        .get("attributes")
        .and_then(Json::as_object)
        .map(|attrs| {
            attrs
                .iter()
                .map(|(name, a)| {
                    Ok(Attribute {
                        cfn_name: name.clone(),
                        method: String::new(),
                        ty: attribute_type(&a["type"]),
                        doc: doc_of(a),
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    attributes.sort_by(|a, b| a.cfn_name.cmp(&b.cfn_name));
    names::attribute_methods(&mut attributes);

    let tags = match raw.get("tagInformation") {
        Some(Json::Object(info)) => {
            let property = info
                .get("tagPropertyName")
                .and_then(Json::as_str)
                .context("tag information without a property")?
                .to_owned();
            let variant = match info.get("variant").and_then(Json::as_str) {
                Some("standard") => TagVariant::Standard,
                Some("map") => TagVariant::Map,
                Some("asg") => TagVariant::AutoScalingGroup,
                other => bail!("unknown tag variant {other:?}"),
            };
            Some((property, variant))
        }
        _ => None,
    };
    let primary_identifier = raw
        .get("primaryIdentifier")
        .and_then(Json::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();

    Ok(Resource {
        module: names::module_name(&cfn_name),
        type_name,
        struct_name,
        handle_name,
        doc: doc_of(raw),
        properties,
        attributes,
        tags,
        types,
        primary_identifier,
    })
}

fn collect_refs(ty: &Json, found: &mut dyn FnMut(&str)) {
    match ty.get("type").and_then(Json::as_str) {
        Some("ref") => {
            if let Some(id) = ty.pointer("/reference/$ref").and_then(Json::as_str) {
                found(id);
            }
        }
        Some("array" | "map") => {
            if let Some(element) = ty.get("element") {
                collect_refs(element, found);
            }
        }
        Some("union") => {
            for t in ty
                .get("types")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                collect_refs(t, found);
            }
        }
        _ => {}
    }
}

fn load_type(ty: &Json, index: &BTreeMap<String, usize>) -> Result<Type> {
    Ok(match str_field(ty, "type")? {
        "string" | "date-time" => Type::String,
        "integer" => Type::Integer,
        "number" => Type::Number,
        "boolean" => Type::Boolean,
        "json" => Type::Json,
        "tag" => Type::Tag,
        "array" => Type::List(Box::new(load_type(&ty["element"], index)?)),
        "map" => Type::Map(Box::new(load_type(&ty["element"], index)?)),
        "ref" => {
            let id = ty
                .pointer("/reference/$ref")
                .and_then(Json::as_str)
                .context("ref without $ref")?;
            Type::Ref(
                *index
                    .get(id)
                    .with_context(|| format!("unknown type {id}"))?,
            )
        }
        "union" => Type::Union,
        other => bail!("unknown type kind {other:?}"),
    })
}

/// Attribute types only decide the accessor's return type: lists, scalars, or JSON for
/// structured values (whose property types need not be generated).
fn attribute_type(ty: &Json) -> Type {
    match ty.get("type").and_then(Json::as_str) {
        Some("string") => Type::String,
        Some("integer") => Type::Integer,
        Some("number") => Type::Number,
        Some("boolean") => Type::Boolean,
        Some("array") => Type::List(Box::new(Type::String)),
        _ => Type::Json,
    }
}

fn load_properties(
    props: &serde_json::Map<String, Json>,
    index: &BTreeMap<String, usize>,
) -> Result<Vec<Property>> {
    let mut out: Vec<Property> = props
        .iter()
        .map(|(name, p)| {
            Ok(Property {
                cfn_name: name.clone(),
                field: names::field_name(name),
                ty: load_type(&p["type"], index).with_context(|| format!("property {name}"))?,
                required: p.get("required").and_then(Json::as_bool).unwrap_or(false),
                replacement: match p.get("causesReplacement").and_then(Json::as_str) {
                    Some("yes") => Replacement::Always,
                    Some("maybe") => Replacement::Conditional,
                    _ => Replacement::Never,
                },
                doc: doc_of(p),
                default_value: p.get("defaultValue").map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                deprecated: p.get("deprecated").is_some_and(|d| !d.is_null()),
                boxed: false,
            })
        })
        .collect::<Result<_>>()?;
    out.sort_by(|a, b| a.cfn_name.cmp(&b.cfn_name));
    let mut fields = BTreeSet::new();
    for p in &mut out {
        let base = p.field.clone();
        let mut n = 2;
        while !fields.insert(p.field.clone()) {
            p.field = format!("{}_{n}", base.trim_start_matches("r#"));
            n += 1;
        }
    }
    Ok(out)
}

/// Marks the fields that hold a property type directly (not in a list or map) and close a cycle
/// of such fields: those are boxed, or the types would have infinite size.
fn mark_boxed(types: &mut [TypeDef], properties: &mut [Property]) {
    let n = types.len();
    let direct = |t: &TypeDef| -> Vec<usize> {
        t.properties
            .iter()
            .filter_map(|p| match p.ty {
                Type::Ref(i) => Some(i),
                _ => None,
            })
            .collect()
    };
    let edges: Vec<Vec<usize>> = types.iter().map(direct).collect();
    // reach[i]: types reachable from i through direct fields.
    let reach: Vec<BTreeSet<usize>> = (0..n)
        .map(|start| {
            let mut seen = BTreeSet::new();
            let mut stack = edges[start].clone();
            while let Some(x) = stack.pop() {
                if seen.insert(x) {
                    stack.extend(edges[x].iter().copied());
                }
            }
            seen
        })
        .collect();
    for (owner, t) in types.iter_mut().enumerate() {
        for p in &mut t.properties {
            if let Type::Ref(target) = p.ty {
                p.boxed = target == owner || reach[target].contains(&owner);
            }
        }
    }
    // Resource properties are never part of a cycle: the resource is not a property type.
    for p in properties {
        p.boxed = false;
    }
}
