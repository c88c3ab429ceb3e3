//! The schema registry of the typed resources: every type, replacement and tag data, typed
//! handles that reference and read attributes.

use omc_cdk::schema::{Replacement, TagVariant};
use omc_cfn::{ec2, ecs, schema};

#[test]
fn the_registry_describes_every_generated_type() {
    assert_eq!(schema::all().len(), schema::TYPE_COUNT);
    assert_eq!(
        schema::TYPE_COUNT,
        1_828,
        "the pinned specification describes 1,828 types"
    );
    let vpc = schema::find("AWS::EC2::VPC").unwrap();
    assert_eq!(
        vpc.property("CidrBlock").unwrap().replacement,
        Replacement::Always
    );
    assert_eq!(
        vpc.property("EnableDnsSupport").unwrap().replacement,
        Replacement::Never
    );
    assert!(vpc.has_attribute("VpcId") && vpc.has_attribute("Ipv6CidrBlocks"));
    assert!(!vpc.has_attribute("Arn"));
    assert_eq!(vpc.tags.unwrap().variant, TagVariant::Standard);
    let subnet = schema::find("AWS::EC2::Subnet").unwrap();
    assert!(subnet.property("VpcId").unwrap().required);
    assert!(!subnet.property("CidrBlock").unwrap().required);
    let nodegroup = schema::find("AWS::EKS::Nodegroup").unwrap();
    assert_eq!(nodegroup.tags.unwrap().variant, TagVariant::Map);
    let asg = schema::find("AWS::AutoScaling::AutoScalingGroup").unwrap();
    assert_eq!(asg.tags.unwrap().variant, TagVariant::AutoScalingGroup);
    assert!(schema::find("AWS::EC2::Nope").is_none());
    // Typed resources point at their entry.
    assert_eq!(
        ecs::TaskDefinition::schema().unwrap().type_name,
        "AWS::ECS::TaskDefinition"
    );
    assert_eq!(ec2::Vpc::TYPE_NAME, "AWS::EC2::VPC");
}

#[test]
fn eks_cluster_attributes_that_clash_get_distinct_accessors() {
    let app = omc_cdk::App::new();
    let stack = omc_cdk::Stack::new(&app, "Eks", omc_cdk::StackProps::default()).unwrap();
    let role = stack
        .add(
            "Role",
            omc_cfn::iam::Role::new(omc_cdk::Value::Lit(serde_json::json!({}))),
        )
        .unwrap();
    let cluster = stack
        .add(
            "Cluster",
            omc_cfn::eks::Cluster::new(
                omc_cfn::eks::cluster::ResourcesVpcConfig::new(vec!["subnet-1"]),
                role.attr_arn(),
            ),
        )
        .unwrap();
    let dotted = cluster.attr_certificate_authority_dot_data();
    let plain = cluster.attr_certificate_authority_data();
    let name = |v: &omc_cdk::Value<String>| match v.intrinsic() {
        Some(omc_cdk::Intrinsic::GetAtt { attribute, .. }) => attribute.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(name(&dotted), "CertificateAuthority.Data");
    assert_eq!(name(&plain), "CertificateAuthorityData");
}
