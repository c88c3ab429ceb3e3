//! What the engine works on: the stacks of a synthesis a command selects, and the toolkit
//! stack that `bootstrap` creates.

use std::collections::BTreeSet;

use omc_cdk_core::{App, Synthesis, SynthesizedStack};

use crate::engine::PlannedStack;

/// Which way selection extends: the stacks a stack needs, or the stacks that need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extend {
    /// The stacks a stack needs (deploy, diff).
    Dependencies,
    /// The stacks that need it (destroy).
    Dependents,
}

/// The selected stacks, extended unless `exclusively`, in deploy order.
pub fn select<'s>(
    synthesis: &'s Synthesis,
    patterns: &[String],
    exclusively: bool,
    extend: Extend,
) -> Result<Vec<&'s SynthesizedStack>, String> {
    let selected = synthesis.select(patterns)?;
    let mut names: BTreeSet<&str> = selected.iter().map(|s| s.name()).collect();
    if !exclusively {
        loop {
            let before = names.len();
            for stack in synthesis.stacks() {
                match extend {
                    Extend::Dependencies => {
                        if names.contains(stack.name()) {
                            let deps: Vec<&str> =
                                stack.dependencies().iter().map(String::as_str).collect();
                            names.extend(deps);
                        }
                    }
                    Extend::Dependents => {
                        if stack
                            .dependencies()
                            .iter()
                            .any(|d| names.contains(d.as_str()))
                        {
                            names.insert(stack.name());
                        }
                    }
                }
            }
            if names.len() == before {
                break;
            }
        }
    }
    Ok(synthesis
        .stacks()
        .iter()
        .filter(|s| names.contains(s.name()))
        .collect())
}

/// The stacks a command works on: those matching `patterns` (all when empty) and, unless
/// `exclusively`, the stacks they depend on (or, for `destroy`, the stacks that depend on
/// them), in deploy order.
pub fn plan(
    synthesis: &Synthesis,
    patterns: &[String],
    exclusively: bool,
    destroy: bool,
) -> Result<Vec<PlannedStack>, String> {
    let extend = if destroy {
        Extend::Dependents
    } else {
        Extend::Dependencies
    };
    Ok(planned(&select(synthesis, patterns, exclusively, extend)?))
}

/// The synthesized stacks as the engine takes them.
pub fn planned(stacks: &[&SynthesizedStack]) -> Vec<PlannedStack> {
    let names: BTreeSet<&str> = stacks.iter().map(|s| s.name()).collect();
    stacks
        .iter()
        .map(|s| PlannedStack {
            name: s.name().to_owned(),
            template: s.template().to_owned(),
            sha256: s.sha256().to_owned(),
            tags: s.tags().clone(),
            termination_protection: s.termination_protection(),
            execution_role: s.execution_role().map(str::to_owned),
            dependencies: s
                .dependencies()
                .iter()
                .filter(|d| names.contains(d.as_str()))
                .cloned()
                .collect(),
            region: s.env().and_then(|e| e.region.clone()),
            account: s.env().and_then(|e| e.account.clone()),
        })
        .collect()
}

/// The toolkit stack: an encrypted, versioned, private, TLS-only bucket for large templates.
pub fn toolkit_app(stack_name: &str, bucket_name: Option<&str>) -> omc_cdk_core::Result<App> {
    use omc_cdk_core::{OutputProps, RawResource, Stack, StackProps};
    use serde_json::json;
    let app = App::new();
    let stack = Stack::new(
        &app,
        stack_name,
        StackProps {
            description: Some(
                "omc-cdk toolkit: the bucket deploy uploads large templates to".into(),
            ),
            ..StackProps::default()
        },
    )?;
    let mut bucket = RawResource::new("AWS::S3::Bucket")
        .property(
            "BucketEncryption",
            json!({"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
        )
        .property("VersioningConfiguration", json!({"Status": "Enabled"}))
        .property(
            "PublicAccessBlockConfiguration",
            json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}),
        )
        .property(
            "OwnershipControls",
            json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
        )
        .property(
            "LifecycleConfiguration",
            // Keys are content hashes, so an object is never overwritten with other content:
            // templates expire by age (CloudFormation reads one only while it creates a change
            // set, and deploy uploads it again when it needs it), the versions that leaves
            // behind a day later.
            json!({"Rules": [{"Id": "ExpireOldTemplates", "Status": "Enabled",
                "ExpirationInDays": 30,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}),
        );
    if let Some(name) = bucket_name {
        bucket = bucket.property("BucketName", name);
    }
    let bucket = stack.add("TemplateBucket", bucket)?;
    bucket.apply_removal_policy(omc_cdk_core::RemovalPolicy::Retain);
    bucket.suppress(
        "s3-access-logs",
        "The bucket holds only copies of the templates deploy uploads, which are in the repository and expire after 30 days; server access logs would need a second bucket in every bootstrapped account and region",
    )?;
    let arn = bucket.get_att::<String>("Arn");
    stack.add(
        "TemplateBucketPolicy",
        RawResource::new("AWS::S3::BucketPolicy")
            .property("Bucket", bucket.reference())
            .property(
                "PolicyDocument",
                omc_cdk_core::Node::map([
                    ("Version", omc_cdk_core::IntoNode::into_node("2012-10-17")),
                    (
                        "Statement",
                        omc_cdk_core::Node::List(vec![omc_cdk_core::Node::map([
                            (
                                "Sid",
                                omc_cdk_core::IntoNode::into_node("DenyInsecureTransport"),
                            ),
                            ("Effect", omc_cdk_core::IntoNode::into_node("Deny")),
                            (
                                "Principal",
                                omc_cdk_core::IntoNode::into_node(json!({"AWS": "*"})),
                            ),
                            ("Action", omc_cdk_core::IntoNode::into_node("s3:*")),
                            (
                                "Resource",
                                omc_cdk_core::Node::List(vec![
                                    omc_cdk_core::IntoNode::into_node(arn.clone()),
                                    omc_cdk_core::IntoNode::into_node(omc_cdk_core::fns::join(
                                        "",
                                        [arn, "/*".into()],
                                    )),
                                ]),
                            ),
                            (
                                "Condition",
                                omc_cdk_core::IntoNode::into_node(
                                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                                ),
                            ),
                        ])]),
                    ),
                ]),
            ),
    )?;
    stack.add_output(
        "BucketName",
        bucket.reference(),
        OutputProps {
            description: Some("Where deploy uploads templates over 51,200 bytes".into()),
            ..OutputProps::default()
        },
    )?;
    Ok(app)
}
