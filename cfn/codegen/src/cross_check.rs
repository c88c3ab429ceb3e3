//! Compares the specification with the CloudFormation registry schemas that cfn-lint ships
//! (`cfnlint/data/schemas/providers/us-east-1.json` maps each type to
//! `resources/<hash>.json`): which types exist, which properties can be set, which are
//! required, which replace the resource (`createOnlyProperties`), which attributes exist
//! (`readOnlyProperties`).
//!
//! The two sources are expected to differ a little (AWS CDK patches known schema mistakes, and
//! the files are published at different times); the report says where.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value as Json;

use crate::model::{Replacement, Spec};

/// The registry schemas of the cfn-lint installed for the tests (`.tools/venv`).
pub(crate) fn find_cfn_lint_schemas() -> Result<PathBuf> {
    let root = crate::cfn_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let lib = root.join(".tools/venv/lib");
    for entry in std::fs::read_dir(&lib).with_context(|| {
        format!(
            "{} does not exist; run scripts/test once to install the pinned cfn-lint",
            lib.display()
        )
    })? {
        let dir = entry?.path().join("site-packages/cfnlint/data/schemas");
        if dir.exists() {
            return Ok(dir);
        }
    }
    anyhow::bail!("no cfn-lint schemas under {}", lib.display())
}

/// Differences for one resource type.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TypeDiff {
    pub(crate) only_in_spec: Vec<String>,
    pub(crate) only_in_registry: Vec<String>,
    pub(crate) required_differs: Vec<String>,
    pub(crate) replacement_differs: Vec<String>,
    pub(crate) attributes_only_in_spec: Vec<String>,
    pub(crate) attributes_only_in_registry: Vec<String>,
}

impl TypeDiff {
    fn is_empty(&self) -> bool {
        self == &TypeDiff::default()
    }
}

/// The comparison of every type.
pub(crate) struct Report {
    pub(crate) types_only_in_spec: Vec<String>,
    pub(crate) types_only_in_registry: Vec<String>,
    pub(crate) compared: usize,
    pub(crate) diffs: BTreeMap<String, TypeDiff>,
}

fn top_level(pointers: Option<&Json>) -> BTreeSet<String> {
    pointers
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter_map(|p| p.strip_prefix("/properties/"))
        .map(|p| p.replace('/', "."))
        .collect()
}

pub(crate) fn compare(spec: &Spec, schemas: &Path) -> Result<Report> {
    let providers: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(schemas.join("providers/us-east-1.json"))
            .context("reading providers/us-east-1.json")?,
    )?;
    let resources: BTreeMap<&str, &crate::model::Resource> = spec
        .services
        .iter()
        .flat_map(|s| &s.resources)
        .map(|r| (r.type_name.as_str(), r))
        .collect();
    let mut report = Report {
        types_only_in_spec: resources
            .keys()
            .filter(|t| !providers.contains_key(**t))
            .map(|t| (*t).to_owned())
            .collect(),
        types_only_in_registry: providers
            .keys()
            .filter(|t| !resources.contains_key(t.as_str()) && !t.ends_with("::MODULE"))
            .cloned()
            .collect(),
        compared: 0,
        diffs: BTreeMap::new(),
    };
    for (type_name, resource) in &resources {
        let Some(hash) = providers.get(*type_name) else {
            continue;
        };
        let path = schemas.join(format!("resources/{hash}.json"));
        let schema: Json = serde_json::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("parsing {}", path.display()))?;
        report.compared += 1;
        let read_only = top_level(schema.get("readOnlyProperties"));
        let create_only = top_level(schema.get("createOnlyProperties"));
        let required: BTreeSet<String> = schema
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect();
        let registry_props: BTreeSet<String> = schema
            .get("properties")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .filter(|k| !read_only.contains(k))
            .collect();
        let spec_props: BTreeSet<String> = resource
            .properties
            .iter()
            .map(|p| p.cfn_name.clone())
            .collect();
        let mut diff = TypeDiff {
            only_in_spec: spec_props.difference(&registry_props).cloned().collect(),
            only_in_registry: registry_props.difference(&spec_props).cloned().collect(),
            ..TypeDiff::default()
        };
        for p in &resource.properties {
            if !registry_props.contains(&p.cfn_name) {
                continue;
            }
            if p.required != required.contains(&p.cfn_name) {
                diff.required_differs.push(p.cfn_name.clone());
            }
            let always = p.replacement == Replacement::Always;
            if always != create_only.contains(&p.cfn_name) {
                diff.replacement_differs.push(p.cfn_name.clone());
            }
        }
        let spec_attrs: BTreeSet<String> = resource
            .attributes
            .iter()
            .map(|a| a.cfn_name.clone())
            .collect();
        diff.attributes_only_in_spec = spec_attrs.difference(&read_only).cloned().collect();
        diff.attributes_only_in_registry = read_only.difference(&spec_attrs).cloned().collect();
        if !diff.is_empty() {
            report.diffs.insert((*type_name).to_owned(), diff);
        }
    }
    Ok(report)
}

pub(crate) fn run(spec: &Spec, schemas: &Path) -> Result<bool> {
    let report = compare(spec, schemas)?;
    println!(
        "compared {} resource types with {}",
        report.compared,
        schemas.display()
    );
    println!(
        "types only in the specification: {} {:?}",
        report.types_only_in_spec.len(),
        report.types_only_in_spec
    );
    println!(
        "types only in the registry schemas: {} {:?}",
        report.types_only_in_registry.len(),
        report.types_only_in_registry
    );
    let count = |f: fn(&TypeDiff) -> usize| report.diffs.values().map(f).sum::<usize>();
    println!(
        "types with differences: {}; settable properties only in the specification: {}, only in the registry: {}; required differs: {}; replacement differs: {}",
        report.diffs.len(),
        count(|d| d.only_in_spec.len()),
        count(|d| d.only_in_registry.len()),
        count(|d| d.required_differs.len()),
        count(|d| d.replacement_differs.len()),
    );
    for (type_name, diff) in &report.diffs {
        println!("{type_name}: {diff:?}");
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The types the OMC infrastructure uses agree between the specification and the registry
    /// schemas of the pinned cfn-lint on which properties can be set and which are required.
    /// (Replacement flags differ in places: the specification marks conditional replacements
    /// that the registry's `createOnlyProperties` cannot express.)
    #[test]
    #[ignore = "needs cfn-lint (its registry schemas): scripts/test installs it and runs this test"]
    fn the_specification_agrees_with_cfn_lint_on_the_types_we_use() {
        let spec = crate::load_spec().unwrap();
        let schemas = find_cfn_lint_schemas().unwrap();
        let report = compare(&spec, &schemas).unwrap();
        assert!(report.compared > 1_700, "{}", report.compared);
        // Newer than the pinned specification: the registry schemas of cfn-lint 1.58.0 were
        // published later and know these properties already.
        let newer_in_registry = [
            ("AWS::ECS::Service", "GatewayConnectors"),
            ("AWS::CloudWatch::Alarm", "ActionConfiguration"),
        ];
        let used = [
            "AWS::EC2::VPC",
            "AWS::EC2::Subnet",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::RouteTable",
            "AWS::EC2::Route",
            "AWS::EC2::NatGateway",
            "AWS::EC2::EIP",
            "AWS::EC2::InternetGateway",
            "AWS::ECS::Cluster",
            "AWS::ECS::TaskDefinition",
            "AWS::ECS::Service",
            "AWS::EKS::Cluster",
            "AWS::EKS::Nodegroup",
            "AWS::RDS::DBInstance",
            "AWS::RDS::DBSubnetGroup",
            "AWS::ElastiCache::ReplicationGroup",
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "AWS::ElasticLoadBalancingV2::Listener",
            "AWS::ElasticLoadBalancingV2::ListenerRule",
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            "AWS::IAM::Role",
            "AWS::Logs::LogGroup",
            "AWS::SecretsManager::Secret",
            "AWS::Events::Rule",
            "AWS::EFS::FileSystem",
            "AWS::EFS::MountTarget",
            "AWS::EFS::AccessPoint",
            "AWS::CloudWatch::Alarm",
            "AWS::CloudTrail::Trail",
            "AWS::GuardDuty::Detector",
            "AWS::Config::ConfigRule",
        ];
        for type_name in used {
            assert!(
                !report.types_only_in_spec.contains(&type_name.to_owned()),
                "{type_name}"
            );
            let Some(diff) = report.diffs.get(type_name) else {
                continue;
            };
            let unexpected: Vec<&String> = diff
                .only_in_registry
                .iter()
                .filter(|p| !newer_in_registry.contains(&(type_name, p.as_str())))
                .collect();
            assert!(
                unexpected.is_empty(),
                "{type_name}: only in the registry: {unexpected:?}"
            );
            assert!(
                diff.only_in_spec.is_empty(),
                "{type_name}: only in the spec: {:?}",
                diff.only_in_spec
            );
            assert!(
                diff.required_differs.is_empty(),
                "{type_name}: required differs: {:?}",
                diff.required_differs
            );
        }
    }
}
