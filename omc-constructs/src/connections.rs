//! Network connections between constructs: ports, peers, and the security group rules that
//! let one construct reach another.

use std::fmt;

use omc_cdk::Result;

use crate::security_group::SecurityGroup;

/// An IP protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// Every protocol.
    All,
}

/// A port or port range of a protocol.
///
/// ```
/// use omc_constructs::Port;
/// assert_eq!(Port::tcp(5432).to_string(), "TCP 5432");
/// assert_eq!(Port::tcp_range(8000, 8080).to_string(), "TCP 8000-8080");
/// assert_eq!(Port::all_traffic().to_string(), "all traffic");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Port {
    protocol: Protocol,
    from: i64,
    to: i64,
}

impl Port {
    /// One TCP port.
    pub fn tcp(port: u16) -> Port {
        Port {
            protocol: Protocol::Tcp,
            from: i64::from(port),
            to: i64::from(port),
        }
    }

    /// A TCP port range (inclusive).
    pub fn tcp_range(from: u16, to: u16) -> Port {
        Port {
            protocol: Protocol::Tcp,
            from: i64::from(from.min(to)),
            to: i64::from(from.max(to)),
        }
    }

    /// Every TCP port.
    pub fn all_tcp() -> Port {
        Port::tcp_range(0, 65535)
    }

    /// One UDP port.
    pub fn udp(port: u16) -> Port {
        Port {
            protocol: Protocol::Udp,
            from: i64::from(port),
            to: i64::from(port),
        }
    }

    /// Every protocol and port.
    pub fn all_traffic() -> Port {
        Port {
            protocol: Protocol::All,
            from: -1,
            to: -1,
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub(crate) fn ip_protocol(&self) -> &'static str {
        match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::All => "-1",
        }
    }

    pub(crate) fn first(self) -> i64 {
        self.from
    }

    pub(crate) fn last(self) -> i64 {
        self.to
    }

    /// A short label for construct ids, such as `Tcp5432`.
    pub(crate) fn label(&self) -> String {
        let protocol = match self.protocol {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Icmp => "Icmp",
            Protocol::All => return "AllTraffic".into(),
        };
        if self.from == self.to {
            format!("{protocol}{}", self.from)
        } else {
            format!("{protocol}{}To{}", self.from, self.to)
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Icmp => "ICMP",
            Protocol::All => return f.write_str("all traffic"),
        };
        if self.from == self.to {
            write!(f, "{protocol} {}", self.from)
        } else {
            write!(f, "{protocol} {}-{}", self.from, self.to)
        }
    }
}

/// Where traffic comes from or goes to, other than a construct: an address range or a prefix
/// list. Traffic to or from the whole internet (`0.0.0.0/0`) is only ever allowed through
/// [`Peer::any_ipv4`], never by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// An IPv4 range such as `10.0.0.0/16`.
    Ipv4(String),
    /// An IPv6 range.
    Ipv6(String),
    /// A managed prefix list id.
    PrefixList(String),
}

impl Peer {
    /// An IPv4 range, such as `10.0.0.0/8`.
    pub fn ipv4(cidr: impl Into<String>) -> Peer {
        Peer::Ipv4(cidr.into())
    }

    /// Every IPv4 address: the internet.
    pub fn any_ipv4() -> Peer {
        Peer::Ipv4("0.0.0.0/0".into())
    }

    /// An IPv6 range.
    pub fn ipv6(cidr: impl Into<String>) -> Peer {
        Peer::Ipv6(cidr.into())
    }

    /// Every IPv6 address.
    pub fn any_ipv6() -> Peer {
        Peer::Ipv6("::/0".into())
    }

    /// A managed prefix list.
    pub fn prefix_list(id: impl Into<String>) -> Peer {
        Peer::PrefixList(id.into())
    }

    pub(crate) fn label(&self) -> String {
        match self {
            Peer::Ipv4(c) if c == "0.0.0.0/0" => "AnyIpv4".into(),
            Peer::Ipv6(c) if c == "::/0" => "AnyIpv6".into(),
            // Kept whole (construct ids may hold '.' and ':'): 10.10.0.0/16 and
            // 101.0.0.0/16 must not share a rule id.
            Peer::Ipv4(c) | Peer::Ipv6(c) => c.replace('/', "m"),
            Peer::PrefixList(p) => p.clone(),
        }
    }

    /// Checks the address range.
    pub(crate) fn check(&self, path: &str) -> Result<()> {
        match self {
            Peer::Ipv4(cidr) => crate::vpc::parse_cidr(cidr)
                .map(|_| ())
                .map_err(|why| crate::util::invalid(path, format!("peer {cidr:?}: {why}"))),
            Peer::Ipv6(cidr) => {
                let ok = cidr.split_once('/').is_some_and(|(addr, len)| {
                    addr.contains(':') && len.parse::<u8>().is_ok_and(|l| l <= 128)
                });
                if ok {
                    Ok(())
                } else {
                    Err(crate::util::invalid(
                        path,
                        format!("peer {cidr:?} is not an IPv6 range such as \"2001:db8::/32\""),
                    ))
                }
            }
            Peer::PrefixList(id) => {
                if id.starts_with("pl-") {
                    Ok(())
                } else {
                    Err(crate::util::invalid(
                        path,
                        format!("prefix list {id:?} is not a prefix list id (\"pl-...\")"),
                    ))
                }
            }
        }
    }
}

/// Something with security groups that other constructs connect to or from.
pub trait Connectable {
    /// The security groups and default port.
    fn connections(&self) -> Connections;
}

/// The security groups of a construct and the port it listens on, for connection rules.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps};
/// use omc_constructs::{Vpc, VpcProps, SecurityGroup, SecurityGroupProps, Connectable, Port};
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Net", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
/// let web = SecurityGroup::new(&stack, "Web", SecurityGroupProps::new(&vpc, "web"))?;
/// let db = SecurityGroup::new(&stack, "Db", SecurityGroupProps::new(&vpc, "db"))?;
/// db.connections().allow_from(&web, Port::tcp(5432), "web to db")?;
/// let t = omc_cdk::assertions::Template::from_stack(&stack)?;
/// t.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)?;
/// t.resource_count_is("AWS::EC2::SecurityGroupEgress", 1)?; // web's outbound is restricted
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Connections {
    groups: Vec<SecurityGroup>,
    default_port: Option<Port>,
}

impl Connections {
    /// Connections through these security groups, listening on `default_port`.
    pub fn new(groups: Vec<SecurityGroup>, default_port: Option<Port>) -> Connections {
        Connections {
            groups,
            default_port,
        }
    }

    /// The security groups.
    pub fn security_groups(&self) -> &[SecurityGroup] {
        &self.groups
    }

    /// The port the construct listens on, if it has one.
    pub fn default_port(&self) -> Option<Port> {
        self.default_port
    }

    /// Lets `other` reach these security groups on `port`: an ingress rule on each of these
    /// groups and, where `other`'s group restricts outbound traffic, a matching egress rule.
    pub fn allow_from(
        &self,
        other: &impl Connectable,
        port: Port,
        description: &str,
    ) -> Result<()> {
        for source in other.connections().groups {
            for target in &self.groups {
                SecurityGroup::connect(&source, target, port, description)?;
            }
        }
        Ok(())
    }

    /// Lets `other` reach these groups on their default port.
    pub fn allow_default_port_from(
        &self,
        other: &impl Connectable,
        description: &str,
    ) -> Result<()> {
        let Some(port) = self.default_port else {
            let path = self
                .groups
                .first()
                .map(SecurityGroup::node_path)
                .unwrap_or_default();
            return Err(crate::util::invalid(
                path,
                "these connections have no default port; use allow_from with a port",
            ));
        };
        self.allow_from(other, port, description)
    }

    /// Lets these groups reach `other` on `port` (the same rules as `other.allow_from(self)`).
    pub fn allow_to(&self, other: &impl Connectable, port: Port, description: &str) -> Result<()> {
        other.connections().allow_from(self, port, description)
    }

    /// Lets these groups reach `other` on its default port.
    pub fn allow_to_default_port(&self, other: &impl Connectable, description: &str) -> Result<()> {
        other
            .connections()
            .allow_default_port_from(self, description)
    }

    /// Lets an address range reach these groups on `port`.
    pub fn allow_from_peer(&self, peer: &Peer, port: Port, description: &str) -> Result<()> {
        for group in &self.groups {
            group.add_ingress_rule(peer, port, description)?;
        }
        Ok(())
    }

    /// Lets these groups reach an address range on `port`.
    pub fn allow_to_peer(&self, peer: &Peer, port: Port, description: &str) -> Result<()> {
        for group in &self.groups {
            group.add_egress_rule(peer, port, description)?;
        }
        Ok(())
    }
}

impl Connectable for Connections {
    fn connections(&self) -> Connections {
        self.clone()
    }
}
