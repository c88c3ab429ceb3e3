//! Who may connect and on which ports: protocols, ports and peers (address ranges and
//! prefix lists).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use omc_cdk::Result;

/// Parses `a.b.c.d/n`; the address must be the network address of the range.
pub(crate) fn ipv4_network(cidr: &str) -> std::result::Result<Ipv4Net, String> {
    let (address, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| "is not a CIDR range such as \"10.0.0.0/16\"".to_owned())?;
    let address: Ipv4Addr = address
        .parse()
        .map_err(|_| "is not an IPv4 range such as \"10.0.0.0/16\"".to_owned())?;
    let net = prefix
        .parse::<u8>()
        .ok()
        .and_then(|prefix| Ipv4Net::new(address, prefix).ok())
        .ok_or_else(|| "has a prefix length outside 0 to 32".to_owned())?;
    if net.network() != address {
        return Err(format!(
            "is not a network address (host bits are set); did you mean \"{}\"?",
            net.trunc()
        ));
    }
    Ok(net)
}

/// Parses an IPv6 range such as `2001:db8::/32`; the address must be the network address.
pub(crate) fn ipv6_network(cidr: &str) -> std::result::Result<Ipv6Net, String> {
    let (address, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| "is not an IPv6 range such as \"2001:db8::/32\"".to_owned())?;
    let address: Ipv6Addr = address
        .parse()
        .map_err(|_| "is not an IPv6 range such as \"2001:db8::/32\"".to_owned())?;
    let net = prefix
        .parse::<u8>()
        .ok()
        .and_then(|prefix| Ipv6Net::new(address, prefix).ok())
        .ok_or_else(|| "has a prefix length outside 0 to 128".to_owned())?;
    if net.network() != address {
        return Err(format!(
            "is not a network address (host bits are set); did you mean \"{}\"?",
            net.trunc()
        ));
    }
    Ok(net)
}

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
            Peer::Ipv4(cidr) => ipv4_network(cidr).map(|_| ()).map_err(|why| {
                crate::util::invalid_prop(path, "peer", cidr, format!("peer {cidr:?}: {why}"))
            }),
            Peer::Ipv6(cidr) => ipv6_network(cidr).map(|_| ()).map_err(|why| {
                crate::util::invalid_prop(path, "peer", cidr, format!("peer {cidr:?}: {why}"))
            }),
            Peer::PrefixList(id) => {
                if id.starts_with("pl-") {
                    Ok(())
                } else {
                    Err(crate::util::invalid_prop(
                        path,
                        "peer",
                        id,
                        format!("prefix list {id:?} is not a prefix list id (\"pl-...\")"),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_must_be_network_addresses() {
        assert_eq!(
            ipv4_network("10.0.0.0/16").map(|n| (u32::from(n.network()), n.prefix_len())),
            Ok((0x0A00_0000, 16))
        );
        assert!(
            ipv4_network("10.0.0.1/16")
                .unwrap_err()
                .contains("did you mean \"10.0.0.0/16\"")
        );
        assert!(ipv4_network("10.0.0/16").is_err());
        assert!(ipv4_network("10.0.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(ipv4_network("10.0.0.0").is_err());
        assert!(ipv6_network("2001:db8::/32").is_ok());
        assert!(ipv6_network("::/0").is_ok());
        assert!(
            ipv6_network("2001:db8::1/32")
                .unwrap_err()
                .contains("did you mean \"2001:db8::/32\"")
        );
        assert!(
            ipv6_network("2001:db8::/129")
                .unwrap_err()
                .contains("0 to 128")
        );
        assert!(ipv6_network("2001:zz8::/32").is_err());
        assert!(ipv6_network("10.0.0.0/8").is_err());
    }
}
