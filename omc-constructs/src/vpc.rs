//! VPCs: subnets in up to six availability zones, routing, NAT gateways, an S3 gateway endpoint
//! and flow logs.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use omc_cdk::{Result, Scope, Tag, TypedResource, Value, fns};
use omc_cfn::ec2;

use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::ids::{SubnetId, VpcId};
use crate::log_group::{LogGroup, LogGroupProps, Retention};
use crate::peer::ipv4_network;
use crate::util;

/// What a subnet can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubnetKind {
    /// Routes to the internet gateway: load balancers and NAT gateways live here.
    Public,
    /// Routes to the internet through a NAT gateway: application tasks live here.
    PrivateWithEgress,
    /// No route outside the VPC: databases and caches live here.
    Isolated,
}

impl SubnetKind {
    fn name(self) -> &'static str {
        match self {
            SubnetKind::Public => "Public",
            SubnetKind::PrivateWithEgress => "Private",
            SubnetKind::Isolated => "Isolated",
        }
    }
}

/// One group of subnets: one subnet of this kind per availability zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetGroup {
    /// The group's name, used in construct ids (`<name>Subnet1`): letters and digits.
    pub name: String,
    /// What the subnets can reach.
    pub kind: SubnetKind,
    /// The prefix length of each subnet, such as 24 for 256 addresses.
    pub mask: u8,
}

impl SubnetGroup {
    /// A group named `name` of `kind`, each subnet a `/mask`.
    pub fn new(name: impl Into<String>, kind: SubnetKind, mask: u8) -> SubnetGroup {
        SubnetGroup {
            name: name.into(),
            kind,
            mask,
        }
    }
}

/// Which traffic flow logs record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowLogTraffic {
    /// Accepted and rejected traffic.
    All,
    /// Accepted traffic only.
    Accept,
    /// Rejected traffic only: what security reviews look at, at a fraction of the volume.
    Reject,
}

/// How a VPC is created. `VpcProps::default()` is a `10.0.0.0/16` VPC in two zones with public,
/// private and isolated subnets and one NAT gateway.
#[derive(Clone, Debug)]
pub struct VpcProps {
    /// The VPC's IPv4 range: a network address from `/16` to `/28`. Default: `10.0.0.0/16`.
    pub cidr: String,
    /// How many availability zones to span (1 to 6) when `availability_zones` is empty.
    /// Default: 2.
    pub max_azs: u8,
    /// The zones to use, by name. Default: the first `max_azs` zones of the stack's region
    /// (`Fn::GetAZs`), which works for environment-agnostic stacks.
    pub availability_zones: Vec<String>,
    /// The subnet groups, allocated in order from the start of the range without overlap.
    /// Default: `Public` /24, `Private` (with egress) /24 and `Isolated` /24 (AWS CDK has no
    /// isolated group by default; here databases and caches have a place without a route out).
    pub subnets: Vec<SubnetGroup>,
    /// NAT gateways, 0 to one per zone; private subnets route through their zone's gateway or,
    /// with fewer gateways than zones, share them round-robin. Default: 1.
    pub nat_gateways: u8,
    /// A gateway endpoint for S3 in the private and isolated route tables: free, and keeps S3
    /// traffic off the NAT gateways. Default: `true` (AWS CDK adds none).
    pub s3_gateway_endpoint: bool,
    /// Flow logs to CloudWatch Logs, kept 30 days. Default: `Some(FlowLogTraffic::Reject)`
    /// (AWS CDK records none).
    pub flow_logs: Option<FlowLogTraffic>,
    /// Encrypts the flow logs' log group with this customer-managed key (its policy is
    /// extended for CloudWatch Logs, once however many log groups use it). Default: none:
    /// CloudWatch Logs' own encryption, which the `logs-kms-key` check reports (an error in
    /// production).
    pub flow_log_key: Option<crate::Key>,
}

impl Default for VpcProps {
    fn default() -> Self {
        VpcProps {
            cidr: "10.0.0.0/16".into(),
            max_azs: 2,
            availability_zones: Vec::new(),
            subnets: vec![
                SubnetGroup::new("Public", SubnetKind::Public, 24),
                SubnetGroup::new("Private", SubnetKind::PrivateWithEgress, 24),
                SubnetGroup::new("Isolated", SubnetKind::Isolated, 24),
            ],
            nat_gateways: 1,
            s3_gateway_endpoint: true,
            flow_logs: Some(FlowLogTraffic::Reject),
            flow_log_key: None,
        }
    }
}

/// Regions with only two availability zones open to new VPCs.
const TWO_ZONE_REGIONS: &[&str] = &["us-west-1", "ca-west-1"];

/// The subnets of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct SubnetSelection {
    /// The group's name.
    pub name: String,
    /// What the subnets can reach.
    pub kind: SubnetKind,
    /// One subnet per zone, in zone order.
    pub subnet_ids: Vec<SubnetId>,
    /// Their route tables, in the same order (empty for imported VPCs).
    pub route_table_ids: Vec<Value<String>>,
    /// Their IPv4 ranges (empty when not known).
    pub cidrs: Vec<String>,
}

impl SubnetSelection {
    /// The subnet ids as a list value.
    pub fn ids(&self) -> omc_cdk::List<String> {
        self.subnet_ids
            .iter()
            .map(SubnetId::value)
            .collect::<Vec<_>>()
            .into()
    }
}

/// An existing VPC, for [`Vpc::from_attributes`].
#[derive(Clone, Debug, Default)]
pub struct VpcAttributes {
    /// The VPC id (`vpc-...`, or a parameter or import of one).
    pub vpc_id: Option<Value<String>>,
    /// The VPC's IPv4 range, if known.
    pub cidr: Option<String>,
    /// Its zones.
    pub availability_zones: Vec<String>,
    /// Public subnets, one per zone.
    pub public_subnet_ids: Vec<Value<String>>,
    /// Private subnets with egress, one per zone.
    pub private_subnet_ids: Vec<Value<String>>,
    /// Isolated subnets, one per zone.
    pub isolated_subnet_ids: Vec<Value<String>>,
}

/// A VPC.
///
/// Defines `AWS::EC2::VPC`, per group and zone a subnet with its route table, an internet
/// gateway when there are public subnets, NAT gateways with their Elastic IPs, an S3 gateway
/// endpoint and flow logs. Construct ids match AWS CDK's (`Vpc/PublicSubnet1/Subnet`, ...), so a
/// VPC deployed by CDK keeps its logical ids.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Vpc, VpcProps, SubnetGroup, SubnetKind};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Network", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps {
///     subnets: vec![
///         SubnetGroup::new("Public", SubnetKind::Public, 24),
///         SubnetGroup::new("App", SubnetKind::PrivateWithEgress, 22),
///         SubnetGroup::new("Db", SubnetKind::Isolated, 24),
///     ],
///     ..VpcProps::default()
/// })?;
/// assert_eq!(vpc.subnets(SubnetKind::PrivateWithEgress).unwrap().cidrs, ["10.0.4.0/22", "10.0.8.0/22"]);
/// let t = Template::from_stack(&stack)?;
/// t.resource_count_is("AWS::EC2::Subnet", 6)?;
/// t.resource_count_is("AWS::EC2::NatGateway", 1)?;
/// t.has_resource_properties("AWS::EC2::VPC", json!({"CidrBlock": "10.0.0.0/16"}))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Vpc {
    id: VpcId,
    cidr: Option<Value<String>>,
    availability_zones: Vec<Value<String>>,
    groups: Vec<SubnetSelection>,
    /// Per subnet kind, the resources that give it its route out (empty for imported VPCs).
    connectivity: Vec<(SubnetKind, omc_cdk::Resource)>,
    /// Where the construct created its resources (for an imported one: its own id).
    scope: Scope,
}

/// Allocates `count` blocks of each group's size, in order, each aligned to its size.
fn allocate(
    range: Ipv4Net,
    groups: &[SubnetGroup],
    count: usize,
) -> std::result::Result<Vec<Vec<String>>, String> {
    let prefix = range.prefix_len();
    let base = u64::from(u32::from(range.network()));
    let space = 1u64 << (32 - prefix);
    let mut next: u64 = 0;
    let mut out = Vec::new();
    for group in groups {
        let size = 1u64 << (32 - group.mask);
        let mut cidrs = Vec::new();
        for _ in 0..count {
            next = next.div_ceil(size) * size;
            if next + size > space {
                let needed: u64 = groups
                    .iter()
                    .map(|g| (1u64 << (32 - g.mask)) * count as u64)
                    .sum();
                return Err(format!(
                    "the subnets do not fit: {} groups in {count} zones need {needed} addresses (with alignment more), and /{prefix} has {space}; use larger masks or a larger range",
                    groups.len()
                ));
            }
            let subnet = u32::try_from(base + next)
                .ok()
                .and_then(|start| Ipv4Net::new(Ipv4Addr::from(start), group.mask).ok())
                .filter(|subnet| range.contains(subnet))
                .ok_or_else(|| {
                    format!("subnet mask /{} does not fit the range {range}", group.mask)
                })?;
            cidrs.push(subnet.to_string());
            next += size;
        }
        out.push(cidrs);
    }
    Ok(out)
}

impl Vpc {
    /// Creates a VPC.
    pub fn new(scope: &Scope, id: &str, props: VpcProps) -> Result<Vpc> {
        let path = util::path(scope, id);
        let fail = |field: &'static str, value: String, reason: String| {
            Err(util::invalid_prop(&path, field, value, reason))
        };
        let range = match ipv4_network(&props.cidr) {
            Ok(range) => range,
            Err(why) => {
                return fail(
                    "cidr",
                    props.cidr.clone(),
                    format!("cidr {:?} {why}", props.cidr),
                );
            }
        };
        let prefix = range.prefix_len();
        if !(16..=28).contains(&prefix) {
            return fail(
                "cidr",
                props.cidr.clone(),
                format!(
                    "cidr {:?} has a /{prefix} prefix; a VPC range is /16 (65,536 addresses) to /28 (16 addresses)",
                    props.cidr
                ),
            );
        }
        let zone_count = if props.availability_zones.is_empty() {
            if !(1..=6).contains(&props.max_azs) {
                return fail(
                    "max_azs",
                    props.max_azs.to_string(),
                    format!(
                        "max_azs is {}; a VPC spans 1 to 6 availability zones",
                        props.max_azs
                    ),
                );
            }
            // Fn::GetAZs lists the region's zones at deploy time; a few regions have two.
            let region = util::literal_region(&scope.stack());
            let two_zone_region = region
                .as_deref()
                .is_some_and(|r| TWO_ZONE_REGIONS.contains(&r));
            if props.max_azs > 2 && (region.is_none() || two_zone_region) {
                return fail("max_azs", props.max_azs.to_string(), format!(
                    "max_azs is {}, and {}; use max_azs: 2, or name the zones in availability_zones",
                    props.max_azs,
                    match region {
                        Some(r) => format!("region {r} has two availability zones"),
                        None => "the stack is environment-agnostic, so its region may have only two zones (us-west-1 has two)".to_owned(),
                    }
                ));
            }
            usize::from(props.max_azs)
        } else {
            if props.availability_zones.len() > 6 {
                return fail(
                    "availability_zones",
                    format!("{:?}", props.availability_zones),
                    format!(
                        "{} availability zones given; a VPC spans 1 to 6",
                        props.availability_zones.len()
                    ),
                );
            }
            let region = util::literal_region(&scope.stack());
            for zone in &props.availability_zones {
                let in_region = region
                    .as_deref()
                    .is_none_or(|r| zone.strip_prefix(r).is_some_and(|rest| rest.len() == 1));
                if !in_region {
                    return fail(
                        "availability_zones",
                        zone.clone(),
                        format!(
                            "availability zone {zone:?} is not a zone of the stack's region {region:?}"
                        ),
                    );
                }
            }
            props.availability_zones.len()
        };
        if props.subnets.is_empty() {
            return fail(
                "subnets",
                "[]".into(),
                "a VPC needs at least one subnet group".into(),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for group in &props.subnets {
            if group.name.is_empty() || !group.name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return fail(
                    "subnets.name",
                    group.name.clone(),
                    format!(
                        "subnet group name {:?} must be letters and digits",
                        group.name
                    ),
                );
            }
            if !names.insert(group.name.as_str()) {
                return fail(
                    "subnets.name",
                    group.name.clone(),
                    format!("two subnet groups are named {:?}", group.name),
                );
            }
            if group.mask <= prefix || group.mask > 28 {
                return fail(
                    "subnets.mask",
                    group.mask.to_string(),
                    format!(
                        "subnet group {:?} has mask /{}, which does not fit the VPC range {}: a subnet mask is longer than /{prefix} and at most /28",
                        group.name, group.mask, props.cidr
                    ),
                );
            }
        }
        let has = |kind: SubnetKind| props.subnets.iter().any(|g| g.kind == kind);
        if usize::from(props.nat_gateways) > zone_count {
            return fail(
                "nat_gateways",
                props.nat_gateways.to_string(),
                format!(
                    "nat_gateways is {}, more than the {zone_count} availability zones; use at most one per zone",
                    props.nat_gateways
                ),
            );
        }
        if props.nat_gateways > 0 && !has(SubnetKind::Public) {
            return fail("nat_gateways", props.nat_gateways.to_string(),
                "NAT gateways live in public subnets, and there is no Public subnet group; add one or set nat_gateways to 0".into(),
            );
        }
        if props.nat_gateways == 0 && has(SubnetKind::PrivateWithEgress) {
            return fail("nat_gateways", props.nat_gateways.to_string(),
                "PrivateWithEgress subnets route through NAT gateways, and nat_gateways is 0; use Isolated subnets or add a NAT gateway".into(),
            );
        }
        let cidrs = match allocate(range, &props.subnets, zone_count) {
            Ok(cidrs) => cidrs,
            Err(why) => {
                let masks: Vec<u8> = props.subnets.iter().map(|g| g.mask).collect();
                return fail("subnets.mask", format!("{masks:?}"), why);
            }
        };

        let scope = scope.child(id)?;
        let name_tag = |suffix: &str| {
            Tag::new(
                "Name",
                if suffix.is_empty() {
                    scope.node_path()
                } else {
                    format!("{}/{suffix}", scope.node_path())
                },
            )
        };
        let vpc = scope.add(
            "Resource",
            ec2::Vpc {
                cidr_block: Some(props.cidr.as_str().into()),
                enable_dns_hostnames: Some(true.into()),
                enable_dns_support: Some(true.into()),
                instance_tenancy: Some("default".into()),
                tags: Some(vec![name_tag("")].into()),
                ..ec2::Vpc::new()
            },
        )?;
        let zones: Vec<Value<String>> = if props.availability_zones.is_empty() {
            (0..zone_count)
                .map(|i| fns::select(u8::try_from(i).unwrap_or(0), fns::get_azs("")))
                .collect()
        } else {
            props
                .availability_zones
                .iter()
                .map(|z| Value::from(z.as_str()))
                .collect()
        };

        let internet = if has(SubnetKind::Public) {
            let gateway = scope.add(
                "IGW",
                ec2::InternetGateway {
                    tags: Some(vec![name_tag("")].into()),
                },
            )?;
            let attachment = scope.add(
                "VPCGW",
                ec2::VpcGatewayAttachment {
                    internet_gateway_id: Some(gateway.reference()),
                    ..ec2::VpcGatewayAttachment::new(vpc.reference())
                },
            )?;
            Some((gateway, attachment))
        } else {
            None
        };

        // Subnets and their route tables; public ones first so NAT gateways exist before
        // private routes need them.
        let mut groups = Vec::new();
        let mut connectivity = Vec::new();
        let mut nat_gateways: Vec<Value<String>> = Vec::new();
        let mut order: Vec<usize> = (0..props.subnets.len()).collect();
        order.sort_by_key(|&i| usize::from(props.subnets[i].kind != SubnetKind::Public));
        let mut built: Vec<Option<SubnetSelection>> = vec![None; props.subnets.len()];
        for gi in order {
            let group = &props.subnets[gi];
            let mut selection = SubnetSelection {
                name: group.name.clone(),
                kind: group.kind,
                subnet_ids: Vec::new(),
                route_table_ids: Vec::new(),
                cidrs: cidrs[gi].clone(),
            };
            for (zi, zone) in zones.iter().enumerate() {
                let sid = format!("{}Subnet{}", group.name, zi + 1);
                let sub = scope.child(&sid)?;
                let subnet = sub.add(
                    "Subnet",
                    ec2::Subnet {
                        cidr_block: Some(cidrs[gi][zi].as_str().into()),
                        availability_zone: Some(zone.clone()),
                        map_public_ip_on_launch: Some(false.into()),
                        tags: Some(
                            vec![
                                name_tag(&sid),
                                Tag::new("omc:subnet-name", group.name.as_str()),
                                Tag::new("omc:subnet-type", group.kind.name()),
                            ]
                            .into(),
                        ),
                        ..ec2::Subnet::new(vpc.reference())
                    },
                )?;
                let table = sub.add(
                    "RouteTable",
                    ec2::RouteTable {
                        tags: Some(vec![name_tag(&sid)].into()),
                        ..ec2::RouteTable::new(vpc.reference())
                    },
                )?;
                let association = sub.add(
                    "RouteTableAssociation",
                    ec2::SubnetRouteTableAssociation::new(table.reference(), subnet.reference()),
                )?;
                match group.kind {
                    SubnetKind::Public => {
                        let mut public_route = None;
                        if let Some((gateway, attachment)) = &internet {
                            let route = sub.add(
                                "DefaultRoute",
                                ec2::Route {
                                    destination_cidr_block: Some("0.0.0.0/0".into()),
                                    gateway_id: Some(gateway.reference()),
                                    ..ec2::Route::new(table.reference())
                                },
                            )?;
                            route.add_depends_on(attachment.as_resource())?;
                            connectivity
                                .push((SubnetKind::Public, attachment.as_resource().clone()));
                            connectivity.push((SubnetKind::Public, route.as_resource().clone()));
                            public_route = Some(route);
                        }
                        if zi < usize::from(props.nat_gateways)
                            && nat_gateways.len() < usize::from(props.nat_gateways)
                        {
                            let eip = sub.add(
                                "EIP",
                                ec2::Eip {
                                    domain: Some("vpc".into()),
                                    tags: Some(vec![name_tag(&sid)].into()),
                                    ..ec2::Eip::new()
                                },
                            )?;
                            let nat = sub.add(
                                "NATGateway",
                                ec2::NatGateway {
                                    subnet_id: Some(subnet.reference()),
                                    allocation_id: Some(eip.attr_allocation_id()),
                                    tags: Some(vec![name_tag(&sid)].into()),
                                    ..ec2::NatGateway::new()
                                },
                            )?;
                            // An Elastic IP in a VPC needs the internet gateway attached,
                            // and a NAT gateway needs its subnet's route to it.
                            if let Some((_, attachment)) = &internet {
                                eip.add_depends_on(attachment.as_resource())?;
                            }
                            if let Some(route) = &public_route {
                                nat.add_depends_on(route.as_resource())?;
                            }
                            nat.add_depends_on(association.as_resource())?;
                            nat_gateways.push(nat.reference());
                        }
                    }
                    SubnetKind::PrivateWithEgress => {
                        let nat = nat_gateways[zi % nat_gateways.len()].clone();
                        let route = sub.add(
                            "DefaultRoute",
                            ec2::Route {
                                destination_cidr_block: Some("0.0.0.0/0".into()),
                                nat_gateway_id: Some(nat),
                                ..ec2::Route::new(table.reference())
                            },
                        )?;
                        connectivity
                            .push((SubnetKind::PrivateWithEgress, route.as_resource().clone()));
                    }
                    SubnetKind::Isolated => {}
                }
                selection.subnet_ids.push(SubnetId::of(subnet.reference()));
                selection.route_table_ids.push(table.reference());
            }
            built[gi] = Some(selection);
        }
        groups.extend(built.into_iter().flatten());

        if props.s3_gateway_endpoint {
            let tables: Vec<Value<String>> = groups
                .iter()
                .filter(|g| g.kind != SubnetKind::Public)
                .flat_map(|g| g.route_table_ids.clone())
                .collect();
            if !tables.is_empty() {
                scope.add(
                    "S3",
                    ec2::VpcEndpoint {
                        vpc_endpoint_type: Some("Gateway".into()),
                        service_name: Some(fns::sub("com.amazonaws.${AWS::Region}.s3")),
                        route_table_ids: Some(tables.into()),
                        ..ec2::VpcEndpoint::new(vpc.reference())
                    },
                )?;
            }
        }

        if let Some(traffic) = props.flow_logs {
            let flow = scope.child("FlowLog")?;
            let group = LogGroup::new(
                &flow,
                "LogGroup",
                LogGroupProps {
                    kms_key: props.flow_log_key.as_ref(),
                    ..LogGroupProps::new(Retention::Days(30))
                },
            )?;
            let role = Role::new(
                &flow,
                "IAMRole",
                RoleProps {
                    statements: vec![PolicyStatement::allow(
                        [
                            "logs:CreateLogStream",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                        ],
                        [group.log_group_arn()],
                    )],
                    ..RoleProps::new(Principal::ServiceForAccount(
                        "vpc-flow-logs.amazonaws.com".into(),
                    ))
                },
            )?;
            flow.add(
                "FlowLog",
                ec2::FlowLog {
                    traffic_type: Some(
                        match traffic {
                            FlowLogTraffic::All => "ALL",
                            FlowLogTraffic::Accept => "ACCEPT",
                            FlowLogTraffic::Reject => "REJECT",
                        }
                        .into(),
                    ),
                    log_destination_type: Some("cloud-watch-logs".into()),
                    log_group_name: Some(group.log_group_name()),
                    deliver_logs_permission_arn: Some(role.role_arn()),
                    tags: Some(vec![name_tag("")].into()),
                    ..ec2::FlowLog::new(vpc.reference(), "VPC")
                },
            )?;
        }

        Ok(Vpc {
            id: VpcId::of(vpc.reference()),
            cidr: Some(vpc.attr_cidr_block()),
            availability_zones: zones,
            groups,
            connectivity,
            scope,
        })
    }

    /// A VPC created elsewhere, as the construct `id` in `scope` (which creates nothing).
    pub fn from_attributes(scope: &Scope, id: &str, attributes: VpcAttributes) -> Result<Vpc> {
        let scope = scope.child(id)?;
        let Some(vpc_id) = attributes.vpc_id else {
            return Err(util::invalid_prop(
                scope.node_path(),
                "vpc_id",
                "None",
                "VpcAttributes needs the vpc_id",
            ));
        };
        let shown = util::shown(&vpc_id);
        let vpc_id = VpcId::given(vpc_id).map_err(|why| {
            util::invalid_prop(scope.node_path(), "vpc_id", shown, format!("vpc_id {why}"))
        })?;
        let zones = attributes.availability_zones.len();
        let mut groups = Vec::new();
        for (kind, field, ids) in [
            (
                SubnetKind::Public,
                "public_subnet_ids",
                attributes.public_subnet_ids,
            ),
            (
                SubnetKind::PrivateWithEgress,
                "private_subnet_ids",
                attributes.private_subnet_ids,
            ),
            (
                SubnetKind::Isolated,
                "isolated_subnet_ids",
                attributes.isolated_subnet_ids,
            ),
        ] {
            if ids.is_empty() {
                continue;
            }
            if zones > 0 && ids.len() != zones {
                let shown: Vec<String> = ids.iter().map(util::shown).collect();
                return Err(util::invalid_prop(
                    scope.node_path(),
                    field,
                    format!("{shown:?}"),
                    format!(
                        "{} {} subnets given for {zones} availability zones; give one per zone",
                        ids.len(),
                        kind.name()
                    ),
                ));
            }
            groups.push(SubnetSelection {
                name: kind.name().into(),
                kind,
                subnet_ids: ids
                    .into_iter()
                    .map(|id| {
                        let shown = util::shown(&id);
                        SubnetId::given(id).map_err(|why| {
                            util::invalid_prop(
                                scope.node_path(),
                                field,
                                shown,
                                format!("{} subnet id {why}", kind.name()),
                            )
                        })
                    })
                    .collect::<Result<_>>()?,
                route_table_ids: Vec::new(),
                cidrs: Vec::new(),
            });
        }
        Ok(Vpc {
            id: vpc_id,
            cidr: attributes.cidr.map(Value::from),
            availability_zones: attributes
                .availability_zones
                .iter()
                .map(|z| Value::from(z.as_str()))
                .collect(),
            groups,
            connectivity: Vec::new(),
            scope,
        })
    }

    /// The VPC id.
    pub fn vpc_id(&self) -> VpcId {
        self.id.clone()
    }

    /// The VPC's IPv4 range, unless it is an imported VPC whose range was not given.
    pub fn vpc_cidr(&self) -> Option<Value<String>> {
        self.cidr.clone()
    }

    /// The resources that give subnets of `kind` their route out: for public subnets the
    /// internet gateway attachment and the default routes, for private subnets with egress
    /// the routes to the NAT gateways; none for isolated subnets and imported VPCs. Resources
    /// that need the internet when they are created (an internet-facing load balancer, a
    /// service pulling its image) depend on these, as AWS CDK's `internetConnectivityEstablished`.
    pub fn internet_connectivity(&self, kind: SubnetKind) -> Vec<omc_cdk::Resource> {
        self.connectivity
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The availability zones, in order.
    pub fn availability_zones(&self) -> &[Value<String>] {
        &self.availability_zones
    }

    /// Every subnet group.
    pub fn subnet_groups(&self) -> &[SubnetSelection] {
        &self.groups
    }

    /// The first subnet group of a kind.
    pub fn subnets(&self, kind: SubnetKind) -> Option<&SubnetSelection> {
        self.groups.iter().find(|g| g.kind == kind)
    }

    /// The subnet group with this name.
    pub fn subnet_group(&self, name: &str) -> Option<&SubnetSelection> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The first group of a kind, or an error for the construct at `path` that needs it.
    /// `field` is the prop of that construct that chose the kind, `value` its value.
    pub(crate) fn require(
        &self,
        kind: SubnetKind,
        (field, value): (&'static str, String),
        path: &str,
    ) -> Result<&SubnetSelection> {
        self.subnets(kind).ok_or_else(|| {
            let have: Vec<String> = self
                .groups
                .iter()
                .map(|g| format!("{} ({:?})", g.name, g.kind))
                .collect();
            util::invalid_prop(
                path,
                field,
                value,
                format!(
                    "the VPC has no {kind:?} subnets (it has {}); add a SubnetGroup of that kind or choose another kind",
                    if have.is_empty() { "none".into() } else { have.join(", ") }
                ),
            )
        })
    }
}

impl omc_cdk::Construct for Vpc {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_aligned_and_in_order() {
        let groups = [
            SubnetGroup::new("A", SubnetKind::Public, 24),
            SubnetGroup::new("B", SubnetKind::PrivateWithEgress, 22),
            SubnetGroup::new("C", SubnetKind::Isolated, 26),
        ];
        let cidrs = allocate(ipv4_network("10.0.0.0/16").unwrap(), &groups, 2).unwrap();
        assert_eq!(cidrs[0], ["10.0.0.0/24", "10.0.1.0/24"]);
        assert_eq!(cidrs[1], ["10.0.4.0/22", "10.0.8.0/22"]);
        assert_eq!(cidrs[2], ["10.0.12.0/26", "10.0.12.64/26"]);
        let err = allocate(
            ipv4_network("10.0.0.0/24").unwrap(),
            &[SubnetGroup::new("A", SubnetKind::Public, 25)],
            3,
        )
        .unwrap_err();
        assert!(err.contains("do not fit"), "{err}");
    }
}
