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

/// A stack in us-east-1, which has six zones.
fn regional() -> (App, Stack) {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Test",
        StackProps {
            env: Some(Environment::region("us-east-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    (app, stack)
}

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
    let (_app, stack) = regional();
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
    let (_app, stack) = regional();
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
    // Flow logs under a key, as production's checks require.
    let logs_key = omc_constructs::Key::new(&data, "LogsKey", omc_constructs::KeyProps::default())?;
    let vpc = Vpc::new(
        &data,
        "Vpc",
        VpcProps {
            flow_log_key: Some(logs_key),
            ..VpcProps::default()
        },
    )?;
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

#[test]
fn nat_gateways_wait_for_the_internet_gateway() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let t = Template::from_stack(&stack)?;
    let attachment = t.resources("AWS::EC2::VPCGatewayAttachment")[0]
        .0
        .to_owned();
    let (_, eip) = t.resources("AWS::EC2::EIP")[0];
    assert_eq!(eip["DependsOn"], json!([attachment]));
    let (_, nat) = t.resources("AWS::EC2::NatGateway")[0];
    let depends: Vec<&str> = nat["DependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        depends
            .iter()
            .any(|d| d.starts_with("VpcPublicSubnet1DefaultRoute")),
        "{depends:?}"
    );
    assert!(
        depends
            .iter()
            .any(|d| d.starts_with("VpcPublicSubnet1RouteTableAssociation")),
        "{depends:?}"
    );
    // What internet-facing resources wait for, per subnet kind.
    let public: Vec<String> = vpc
        .internet_connectivity(SubnetKind::Public)
        .iter()
        .map(omc_cdk::Resource::node_path)
        .collect();
    assert_eq!(
        public,
        [
            "Test/Vpc/VPCGW",
            "Test/Vpc/PublicSubnet1/DefaultRoute",
            "Test/Vpc/VPCGW",
            "Test/Vpc/PublicSubnet2/DefaultRoute"
        ]
    );
    assert_eq!(
        vpc.internet_connectivity(SubnetKind::PrivateWithEgress)
            .len(),
        2
    );
    assert!(vpc.internet_connectivity(SubnetKind::Isolated).is_empty());
    Ok(())
}

#[test]
fn more_than_two_zones_need_a_region_that_has_them() {
    let err = vpc_error(VpcProps {
        max_azs: 3,
        nat_gateways: 1,
        ..VpcProps::default()
    });
    assert_eq!(
        err,
        "Test/Vpc: max_azs is 3, and the stack is environment-agnostic, so its region may have only two zones (us-west-1 has two); use max_azs: 2, or name the zones in availability_zones"
    );
    let app = App::new();
    let west = Stack::new(
        &app,
        "West",
        StackProps {
            env: Some(Environment::region("us-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let err = Vpc::new(
        &west,
        "Vpc",
        VpcProps {
            max_azs: 3,
            ..VpcProps::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("region us-west-1 has two availability zones"),
        "{err}"
    );
    let east = Stack::new(
        &app,
        "East",
        StackProps {
            env: Some(Environment::region("us-east-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    assert!(
        Vpc::new(
            &east,
            "Vpc",
            VpcProps {
                max_azs: 3,
                ..VpcProps::default()
            }
        )
        .is_ok()
    );
}

#[test]
fn rule_ids_never_merge_different_rules() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let sg = SecurityGroup::new(&stack, "Web", SecurityGroupProps::new(&vpc, "web"))?;
    // Without punctuation these ranges read alike; both rules must exist.
    sg.add_ingress_rule(&Peer::ipv4("10.10.0.0/16"), Port::tcp(443), "a")?;
    sg.add_ingress_rule(&Peer::ipv4("101.0.0.0/16"), Port::tcp(443), "b")?;
    sg.add_ingress_rule(&Peer::ipv4("10.10.0.0/16"), Port::tcp(443), "a again")?;
    // Groups whose paths differ only in punctuation.
    let a = SecurityGroup::new(&stack, "Api-1", SecurityGroupProps::new(&vpc, "api 1"))?;
    let b = SecurityGroup::new(&stack, "Api1", SecurityGroupProps::new(&vpc, "api 2"))?;
    sg.connections().allow_from(&a, Port::tcp(80), "from a")?;
    sg.connections().allow_from(&b, Port::tcp(80), "from b")?;
    let t = Template::from_stack(&stack)?;
    let cidrs: Vec<&str> = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .filter_map(|(_, r)| r["Properties"]["CidrIp"].as_str())
        .collect();
    assert_eq!(cidrs, ["10.10.0.0/16", "101.0.0.0/16"]);
    let sources = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .filter(|(_, r)| r["Properties"].get("SourceSecurityGroupId").is_some())
        .count();
    assert_eq!(sources, 2);
    Ok(())
}

#[test]
fn descriptions_use_only_what_ec2_accepts() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
    let err = SecurityGroup::new(
        &stack,
        "Db",
        SecurityGroupProps::new(&vpc, "Datenbank für App's"),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Test/Db: description \"Datenbank für App's\" contains 'ü'; EC2 accepts letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*"
    );
    let sg = SecurityGroup::new(&stack, "Web", SecurityGroupProps::new(&vpc, "web"))?;
    let err = sg
        .add_ingress_rule(&Peer::ipv4("10.0.0.0/8"), Port::tcp(80), "App → DB")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Test/Web: rule description \"App → DB\" contains '→'"),
        "{err}"
    );
    // Descriptions made from construct paths are cleaned instead.
    let rds = omc_constructs::Rds::new(
        &stack,
        "Kunden-Datenbank's",
        omc_constructs::RdsProps::new(&vpc, omc_constructs::PostgresVersion::V17_6),
    )?;
    let t = Template::from_stack(&stack)?;
    t.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        json!({"GroupDescription": "Test/Kunden-Datenbank-s PostgreSQL"}),
    )?;
    assert_eq!(rds.node_path(), "Test/Kunden-Datenbank's");
    Ok(())
}
