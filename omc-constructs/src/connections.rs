//! Network connections between constructs: ports, peers, and the security group rules that
//! let one construct reach another.

use omc_cdk::Result;

use crate::peer::{Peer, Port};
use crate::security_group::SecurityGroup;

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
            return Err(crate::util::conflict(
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

impl Connectable for SecurityGroup {
    fn connections(&self) -> Connections {
        Connections::new(vec![self.clone()], None)
    }
}
