//! `Vpc` and security groups: resources, CIDR allocation, NAT spreading, rules, bad input.
#![allow(clippy::unwrap_used)]

use omc_cdk::assertions::{Match, Template};
use omc_cdk::{App, Environment, Stack, StackProps, testing};
use omc_constructs::{
    Connectable, Peer, Port, SecurityGroup, SecurityGroupProps, SubnetGroup, SubnetKind, Vpc,
    VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn vpc_error(props: VpcProps) -> String {
    let (_app, stack) = testing::stack().unwrap();
    Vpc::new(&stack, "Vpc", props).unwrap_err().to_string()
}

#[test]
fn the_default_vpc() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let t = Template::from_stack(&stack)?;
    t.resource_count_is("AWS::EC2::VPC", 1)?;
    t.resource_count_is("AWS::EC2::Subnet", 6)?;
    t.resource_count_is("AWS::EC2::RouteTable", 6)?;
    t.resource_count_is("AWS::EC2::NatGateway", 1)?;
    t.resource_count_is("AWS::EC2::EIP", 1)?;
    t.resource_count_is("AWS::EC2::InternetGateway", 1)?;
    t.resource_count_is("AWS::EC2::FlowLog", 1)?;
    t.has_resource_properties(
        "AWS::EC2::FlowLog",
        json!({"TrafficType": "REJECT", "ResourceType": "VPC"}),
    )?;
    // The S3 gateway endpoint serves the private and isolated route tables.
    t.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        Match::object_like([
            ("VpcEndpointType", Match::from(json!("Gateway"))),
            (
                "RouteTableIds",
                Match::ArrayEquals(vec![Match::any_value(); 4]),
            ),
        ]),
    )?;
    // CDK's construct ids, so CDK-deployed VPCs keep their logical ids.
    assert!(t.resource("VpcPublicSubnet1Subnet5C2D37C4").is_some());
    assert!(t.resource("Vpc8378EB38").is_some());
    // No public IPs on launch, even in public subnets.
    t.all_resources_properties("AWS::EC2::Subnet", json!({"MapPublicIpOnLaunch": false}))?;
    // Zones come from Fn::GetAZs, so the stack stays environment-agnostic.
    t.has_resource_properties(
        "AWS::EC2::Subnet",
        json!({"AvailabilityZone": {"Fn::Select": [1, {"Fn::GetAZs": ""}]}, "CidrBlock": "10.0.1.0/24"}),
    )?;
    assert_eq!(
        vpc.subnets(SubnetKind::Isolated).unwrap().cidrs,
        ["10.0.4.0/24", "10.0.5.0/24"]
    );
    Ok(())
}

#[test]
fn one_nat_gateway_per_zone_serves_its_own_zone() -> TestResult {
    let (_app, stack) = testing::stack()?;
    Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            max_azs: 3,
            nat_gateways: 3,
            ..VpcProps::default()
        },
    )?;
    let t = Template::from_stack(&stack)?;
    t.resource_count_is("AWS::EC2::NatGateway", 3)?;
    // Each private subnet's default route goes to the NAT gateway in its own zone.
    let mut pairs: Vec<(String, String)> = t
        .resources("AWS::EC2::Route")
        .into_iter()
        .filter_map(|(id, r)| {
            let nat = r["Properties"]["NatGatewayId"]["Ref"].as_str()?;
            Some((id.to_owned(), nat.to_owned()))
        })
        .collect();
    pairs.sort();
    assert_eq!(pairs.len(), 3, "{pairs:?}");
    for (zone, (route, nat)) in (1..=3).zip(&pairs) {
        assert!(
            route.starts_with(&format!("VpcPrivateSubnet{zone}DefaultRoute")),
            "{route}"
        );
        assert!(
            nat.starts_with(&format!("VpcPublicSubnet{zone}NATGateway")),
            "{route} -> {nat}"
        );
    }
    Ok(())
}

#[test]
fn fewer_nat_gateways_than_zones_are_shared_round_robin() -> TestResult {
    let (_app, stack) = testing::stack()?;
    Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            max_azs: 3,
            nat_gateways: 2,
            ..VpcProps::default()
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let routes: Vec<String> = t
        .resources("AWS::EC2::Route")
        .into_iter()
        .filter_map(|(_, r)| {
            r["Properties"]["NatGatewayId"]["Ref"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(routes.len(), 3);
    assert!(routes[0].starts_with("VpcPublicSubnet1NATGateway"));
    assert!(routes[1].starts_with("VpcPublicSubnet2NATGateway"));
    assert!(
        routes[2].starts_with("VpcPublicSubnet1NATGateway"),
        "{routes:?}"
    );
    Ok(())
}

#[test]
fn explicit_zones_and_an_isolated_only_vpc() -> TestResult {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Eu",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )?;
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            availability_zones: vec!["eu-west-1a".into(), "eu-west-1c".into()],
            subnets: vec![SubnetGroup::new("Db", SubnetKind::Isolated, 26)],
            nat_gateways: 0,
            flow_logs: None,
            ..VpcProps::default()
        },
    )?;
    let t = Template::from_stack(&stack)?;
    t.resource_count_is("AWS::EC2::InternetGateway", 0)?;
    t.resource_count_is("AWS::EC2::Route", 0)?;
    t.has_resource_properties(
        "AWS::EC2::Subnet",
        json!({"AvailabilityZone": "eu-west-1c", "CidrBlock": "10.0.0.64/26"}),
    )?;
    assert_eq!(vpc.availability_zones().len(), 2);
    let err = Vpc::new(
        &stack,
        "Other",
        VpcProps {
            availability_zones: vec!["us-east-1a".into()],
            ..VpcProps::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("is not a zone of the stack's region"),
        "{err}"
    );
    Ok(())
}

#[test]
fn bad_cidrs_masks_and_nat_counts() {
    assert_eq!(
        vpc_error(VpcProps {
            cidr: "10.0.0.1/16".into(),
            ..VpcProps::default()
        }),
        "Test/Vpc: cidr \"10.0.0.1/16\" is not a network address (host bits are set); did you mean \"10.0.0.0/16\"?"
    );
    assert_eq!(
        vpc_error(VpcProps {
            cidr: "10.0.0.0/8".into(),
            ..VpcProps::default()
        }),
        "Test/Vpc: cidr \"10.0.0.0/8\" has a /8 prefix; a VPC range is /16 (65,536 addresses) to /28 (16 addresses)"
    );
    assert!(
        vpc_error(VpcProps {
            cidr: "10.0.0.0/29".into(),
            ..VpcProps::default()
        })
        .contains("has a /29 prefix")
    );
    assert!(
        vpc_error(VpcProps {
            cidr: "10.0.0/16".into(),
            ..VpcProps::default()
        })
        .contains("is not an IPv4 range")
    );
    assert_eq!(
        vpc_error(VpcProps {
            cidr: "10.0.0.0/24".into(),
            subnets: vec![SubnetGroup::new("Public", SubnetKind::Public, 16)],
            ..VpcProps::default()
        }),
        "Test/Vpc: subnet group \"Public\" has mask /16, which does not fit the VPC range 10.0.0.0/24: a subnet mask is longer than /24 and at most /28"
    );
    let err = vpc_error(VpcProps {
        cidr: "10.0.0.0/24".into(),
        subnets: vec![
            SubnetGroup::new("Public", SubnetKind::Public, 25),
            SubnetGroup::new("Private", SubnetKind::PrivateWithEgress, 25),
        ],
        ..VpcProps::default()
    });
    assert!(
        err.starts_with("Test/Vpc: the subnets do not fit: 2 groups in 2 zones need 512 addresses"),
        "{err}"
    );
    assert_eq!(
        vpc_error(VpcProps {
            nat_gateways: 3,
            ..VpcProps::default()
        }),
        "Test/Vpc: nat_gateways is 3, more than the 2 availability zones; use at most one per zone"
    );
    assert!(
        vpc_error(VpcProps {
            nat_gateways: 0,
            ..VpcProps::default()
        })
        .contains("PrivateWithEgress subnets route through NAT gateways, and nat_gateways is 0")
    );
    assert!(
        vpc_error(VpcProps {
            max_azs: 7,
            ..VpcProps::default()
        })
        .contains("max_azs is 7")
    );
}

#[test]
fn security_groups_allow_nothing_by_default() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    SecurityGroup::new(&stack, "Locked", SecurityGroupProps::new(&vpc, "locked"))?;
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        json!({"SecurityGroupEgress": [{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp"}]}),
    )?;
    t.all_resources_properties(
        "AWS::EC2::SecurityGroup",
        Match::object_like([("SecurityGroupIngress", Match::absent())]),
    )?;
    Ok(())
}

#[test]
fn connections_add_ingress_and_egress_once() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let app_sg = SecurityGroup::new(&stack, "App", SecurityGroupProps::new(&vpc, "app"))?;
    let open = SecurityGroup::new(
        &stack,
        "Open",
        SecurityGroupProps {
            allow_all_outbound: true,
            ..SecurityGroupProps::new(&vpc, "open")
        },
    )?;
    let db = SecurityGroup::new(&stack, "Db", SecurityGroupProps::new(&vpc, "db"))?;
    db.connections()
        .allow_from(&app_sg, Port::tcp(5432), "app")?;
    db.connections()
        .allow_from(&app_sg, Port::tcp(5432), "app again")?;
    db.connections()
        .allow_from(&open, Port::tcp(5432), "open")?;
    let t = Template::from_stack(&stack)?;
    t.resource_count_is("AWS::EC2::SecurityGroupIngress", 2)?;
    // Only the restricted group needs an egress rule.
    t.resource_count_is("AWS::EC2::SecurityGroupEgress", 1)?;
    t.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        json!({"FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp", "DestinationSecurityGroupId": {"Fn::GetAtt": ["Db5D02A0A9", "GroupId"]}}),
    )?;
    let err = db
        .add_ingress_rule(&Peer::ipv4("10.0.0.5/16"), Port::tcp(22), "x")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("peer \"10.0.0.5/16\": is not a network address"),
        "{err}"
    );
    Ok(())
}

#[test]
fn rules_between_stacks_go_to_the_later_stack() -> TestResult {
    let app = App::new();
    let data = Stack::new(&app, "Data", StackProps::default())?;
    let vpc = Vpc::new(&data, "Vpc", VpcProps::default())?;
    let db = SecurityGroup::new(&data, "Db", SecurityGroupProps::new(&vpc, "db"))?;
    let services = Stack::new(&app, "Services", StackProps::default())?;
    let web = SecurityGroup::new(&services, "Web", SecurityGroupProps::new(&vpc, "web"))?;
    // Written from the database's side: the rule still lands in Services.
    db.connections()
        .allow_from(&web, Port::tcp(5432), "web to db")?;
    let synthesis = app.synth()?;
    let data_t = Template::from_synthesized(synthesis.stack("Data").unwrap());
    let services_t = Template::from_synthesized(synthesis.stack("Services").unwrap());
    data_t.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)?;
    services_t.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)?;
    assert_eq!(
        synthesis.stack("Services").unwrap().dependencies(),
        ["Data"]
    );
    assert!(synthesis.stack("Data").unwrap().dependencies().is_empty());
    Ok(())
}
