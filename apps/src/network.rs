//! The network stack: a VPC across two availability zones with public, private-application and
//! private-database subnets, an internet gateway and NAT gateways.

use omc_cdk::{App, Error, RawResource, Result, Stack, Value, fns};
use serde_json::json;

use crate::config::Config;
use crate::{stack_props, tagged};

/// Availability zones the network spans.
pub const ZONES: u8 = 2;

/// What other stacks use of the network.
#[derive(Clone, Debug)]
pub struct Network {
    /// The VPC id.
    pub vpc_id: Value<String>,
    /// Public subnets (load balancer, NAT gateways), one per zone.
    pub public_subnets: Vec<Value<String>>,
    /// Private subnets with egress through NAT (ECS tasks), one per zone.
    pub app_subnets: Vec<Value<String>>,
    /// Isolated subnets without internet access (RDS, ElastiCache), one per zone.
    pub db_subnets: Vec<Value<String>>,
}

/// The first two octets of a `/16`, such as `10.0` for `10.0.0.0/16`.
fn prefix16(stack: &str, cidr: &str) -> Result<String> {
    let octets: Vec<u8> = cidr
        .strip_suffix("/16")
        .map(|ip| ip.split('.').filter_map(|o| o.parse().ok()).collect())
        .unwrap_or_default();
    match octets.as_slice() {
        [a, b, 0, 0] => Ok(format!("{a}.{b}")),
        _ => Err(Error::InvalidValue {
            path: stack.to_owned(),
            message: format!("vpc_cidr {cidr:?} must be a /16 network such as \"10.0.0.0/16\""),
        }),
    }
}

/// Creates the network stack.
pub fn network(app: &App, config: &Config) -> Result<Network> {
    let name = config.stack_name("Network");
    let stack = Stack::new(
        app,
        &name,
        stack_props(config, "OMC network: VPC, subnets, routes and NAT gateways"),
    )?;
    let prefix = prefix16(&name, &config.vpc_cidr)?;
    let scope = stack.child("Vpc")?;
    let vpc = scope.add(
        "Resource",
        tagged("AWS::EC2::VPC")
            .property("CidrBlock", config.vpc_cidr.as_str())
            .property("EnableDnsHostnames", true)
            .property("EnableDnsSupport", true)
            .property(
                "Tags",
                vec![json!({"Key": "Name", "Value": format!("{name}/Vpc")})],
            ),
    )?;
    let gateway = scope.add("InternetGateway", tagged("AWS::EC2::InternetGateway"))?;
    let attachment = scope.add(
        "GatewayAttachment",
        RawResource::new("AWS::EC2::VPCGatewayAttachment")
            .property("VpcId", vpc.reference())
            .property("InternetGatewayId", gateway.reference()),
    )?;

    let mut public_subnets = Vec::new();
    let mut app_subnets = Vec::new();
    let mut db_subnets = Vec::new();
    let groups: [(&str, u8, &mut Vec<Value<String>>); 3] = [
        ("Public", 0, &mut public_subnets),
        ("App", 10, &mut app_subnets),
        ("Db", 20, &mut db_subnets),
    ];
    let mut subnet_scopes = Vec::new();
    for (group, offset, ids) in groups {
        for zone in 0..ZONES {
            let id = format!("{group}Subnet{}", zone + 1);
            let subnet_scope = scope.child(&id)?;
            let third = offset + zone;
            let subnet = subnet_scope.add(
                "Subnet",
                tagged("AWS::EC2::Subnet")
                    .property("VpcId", vpc.reference())
                    .property("CidrBlock", format!("{prefix}.{third}.0/24"))
                    .property("AvailabilityZone", fns::select(zone, fns::get_azs("")))
                    .property("MapPublicIpOnLaunch", false)
                    .property(
                        "Tags",
                        vec![json!({"Key": "Name", "Value": format!("{name}/Vpc/{id}")})],
                    ),
            )?;
            ids.push(subnet.reference());
            subnet_scopes.push((group, zone, subnet_scope, subnet));
        }
    }

    // Public subnets route to the internet gateway; one NAT gateway per `nat_gateways`.
    let public_routes = scope.add(
        "PublicRouteTable",
        tagged("AWS::EC2::RouteTable").property("VpcId", vpc.reference()),
    )?;
    let default_route = scope.add(
        "PublicDefaultRoute",
        RawResource::new("AWS::EC2::Route")
            .property("RouteTableId", public_routes.reference())
            .property("DestinationCidrBlock", "0.0.0.0/0")
            .property("GatewayId", gateway.reference()),
    )?;
    default_route.add_depends_on(&attachment)?;
    let mut nat_gateways = Vec::new();
    for (group, zone, subnet_scope, subnet) in &subnet_scopes {
        if *group != "Public" {
            continue;
        }
        subnet_scope.add(
            "RouteTableAssociation",
            RawResource::new("AWS::EC2::SubnetRouteTableAssociation")
                .property("SubnetId", subnet.reference())
                .property("RouteTableId", public_routes.reference()),
        )?;
        if usize::from(*zone) < config.nat_gateways {
            let eip = subnet_scope.add("Eip", tagged("AWS::EC2::EIP").property("Domain", "vpc"))?;
            eip.add_depends_on(&attachment)?;
            let nat = subnet_scope.add(
                "NatGateway",
                tagged("AWS::EC2::NatGateway")
                    .property("SubnetId", subnet.reference())
                    .property("AllocationId", eip.get_att::<String>("AllocationId")),
            )?;
            nat_gateways.push(nat);
        }
    }

    // Application subnets leave through a NAT gateway (their zone's, if there is one).
    let db_routes = scope.add(
        "DbRouteTable",
        tagged("AWS::EC2::RouteTable").property("VpcId", vpc.reference()),
    )?;
    for (group, zone, subnet_scope, subnet) in &subnet_scopes {
        let route_table = match *group {
            "App" => {
                let table = subnet_scope.add(
                    "RouteTable",
                    tagged("AWS::EC2::RouteTable").property("VpcId", vpc.reference()),
                )?;
                if let Some(nat) = nat_gateways.get(usize::from(*zone) % nat_gateways.len().max(1))
                {
                    subnet_scope.add(
                        "DefaultRoute",
                        RawResource::new("AWS::EC2::Route")
                            .property("RouteTableId", table.reference())
                            .property("DestinationCidrBlock", "0.0.0.0/0")
                            .property("NatGatewayId", nat.reference()),
                    )?;
                }
                table
            }
            "Db" => db_routes.clone(),
            _ => continue,
        };
        subnet_scope.add(
            "RouteTableAssociation",
            RawResource::new("AWS::EC2::SubnetRouteTableAssociation")
                .property("SubnetId", subnet.reference())
                .property("RouteTableId", route_table.reference()),
        )?;
    }

    Ok(Network {
        vpc_id: vpc.reference(),
        public_subnets,
        app_subnets,
        db_subnets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slash_16_networks_are_accepted() {
        assert_eq!(prefix16("N", "10.1.0.0/16").unwrap(), "10.1");
        let err = prefix16("N", "10.1.0.0/20").unwrap_err();
        assert!(err.to_string().contains("must be a /16 network"), "{err}");
    }
}
