//! EFS file systems: encrypted, mounted from private subnets, TLS-only, with access points.

use omc_cdk::{IndexMap, RemovalPolicy, Result, Scope, TypedResource, Value};
use omc_cfn::efs;

use crate::connections::{Connectable, Connections};
use crate::kms::Key;
use crate::peer::Port;
use crate::security_group::{SecurityGroup, SecurityGroupProps};
use crate::util;
use crate::vpc::{SubnetKind, Vpc};

/// How throughput is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThroughputMode {
    /// Scales with the size stored, with bursts: cheapest for small file systems.
    Bursting,
    /// Scales with use, billed per GB transferred.
    Elastic,
}

/// A directory of the file system that clients mount as their root, owned by a POSIX user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPointProps {
    /// The directory, such as `/artifacts`; created on first use.
    pub path: String,
    /// The POSIX user id files are written as.
    pub uid: u32,
    /// The POSIX group id.
    pub gid: u32,
    /// Octal permissions of the directory when created. Default in [`AccessPointProps::new`]:
    /// `750`.
    pub permissions: String,
}

impl AccessPointProps {
    /// A directory owned by `uid:gid` with permissions `750`.
    pub fn new(path: impl Into<String>, uid: u32, gid: u32) -> AccessPointProps {
        AccessPointProps {
            path: path.into(),
            uid,
            gid,
            permissions: "750".into(),
        }
    }
}

/// How a file system is created.
#[derive(Clone, Debug)]
pub struct EfsFileSystemProps<'a> {
    /// The VPC.
    pub vpc: &'a Vpc,
    /// Where the mount targets are (one per zone). Default: [`SubnetKind::PrivateWithEgress`].
    pub subnets: SubnetKind,
    /// Throughput billing. Default: [`ThroughputMode::Bursting`].
    pub throughput_mode: ThroughputMode,
    /// Moves files not read for this many days to Infrequent Access (1, 7, 14, 30, 60, 90,
    /// 180, 270 or 365). Default: 30.
    pub transition_to_ia_days: Option<u32>,
    /// Daily AWS Backup of the file system. Default: `true`.
    pub backups: bool,
    /// Encrypts with this key. Default: the AWS managed key for EFS (always encrypted).
    pub kms_key: Option<&'a Key>,
    /// Access points, by name. Default: none.
    pub access_points: Vec<(String, AccessPointProps)>,
    /// What happens to the file system when it leaves the template. Default: `Retain`.
    pub removal_policy: RemovalPolicy,
}

impl<'a> EfsFileSystemProps<'a> {
    /// An encrypted file system in `vpc`'s private subnets.
    pub fn new(vpc: &'a Vpc) -> EfsFileSystemProps<'a> {
        EfsFileSystemProps {
            vpc,
            subnets: SubnetKind::PrivateWithEgress,
            throughput_mode: ThroughputMode::Bursting,
            transition_to_ia_days: Some(30),
            backups: true,
            kms_key: None,
            access_points: Vec::new(),
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// An access point of an [`EfsFileSystem`].
#[derive(Clone, Debug, PartialEq)]
pub struct AccessPoint {
    id: Value<String>,
    arn: Value<String>,
    file_system: EfsFileSystem,
    /// The access point resource's scope.
    scope: Scope,
}

impl AccessPoint {
    /// The access point's id.
    pub fn access_point_id(&self) -> Value<String> {
        self.id.clone()
    }

    /// The access point's ARN.
    pub fn access_point_arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// The file system.
    pub fn file_system(&self) -> &EfsFileSystem {
        &self.file_system
    }
}

/// An EFS file system.
///
/// Defines `AWS::EFS::FileSystem` (encrypted, with a policy that refuses clients without TLS),
/// a security group, a mount target per zone and the access points.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Vpc, VpcProps, EfsFileSystem, EfsFileSystemProps, AccessPointProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Files", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps::default())?;
/// let fs = EfsFileSystem::new(&stack, "Artifacts", EfsFileSystemProps {
///     access_points: vec![("Agents".into(), AccessPointProps::new("/agents", 1000, 1000))],
///     ..EfsFileSystemProps::new(&vpc)
/// })?;
/// assert!(fs.access_point("Agents").is_some());
/// let t = Template::from_stack(&stack)?;
/// t.resource_count_is("AWS::EFS::MountTarget", 2)?;
/// t.has_resource_properties("AWS::EFS::FileSystem", json!({"Encrypted": true, "BackupPolicy": {"Status": "ENABLED"}}))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EfsFileSystem {
    file_system_id: Value<String>,
    file_system_arn: Value<String>,
    security_group: Option<SecurityGroupRef>,
    access_points: IndexMap<String, (Value<String>, Value<String>, Scope)>,
    mount_targets: MountTargets,
    /// Where the construct created its resources.
    scope: omc_cdk::Scope,
}

/// Mount target resources, compared by path.
#[derive(Clone, Debug, Default)]
struct MountTargets(Vec<omc_cdk::Resource>);

impl PartialEq for MountTargets {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.node_path() == b.node_path())
    }
}

/// A security group kept by value, compared by path.
#[derive(Clone, Debug)]
struct SecurityGroupRef(SecurityGroup);

impl PartialEq for SecurityGroupRef {
    fn eq(&self, other: &Self) -> bool {
        self.0.node_path() == other.0.node_path()
    }
}

const IA_DAYS: [u32; 9] = [1, 7, 14, 30, 60, 90, 180, 270, 365];

impl EfsFileSystem {
    /// Creates a file system.
    pub fn new(scope: &Scope, id: &str, props: EfsFileSystemProps<'_>) -> Result<EfsFileSystem> {
        let path = util::path(scope, id);
        let transition = match props.transition_to_ia_days {
            None => None,
            Some(days) if IA_DAYS.contains(&days) => Some(if days == 1 {
                "AFTER_1_DAY".to_owned()
            } else {
                format!("AFTER_{days}_DAYS")
            }),
            Some(days) => {
                return Err(util::invalid_prop(
                    &path,
                    "transition_to_ia_days",
                    days,
                    format!(
                        "transition_to_ia_days is {days}; EFS accepts 1, 7, 14, 30, 60, 90, 180, 270 or 365"
                    ),
                ));
            }
        };
        for (name, ap) in &props.access_points {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(util::invalid_prop(
                    &path,
                    "access_points",
                    name,
                    format!("access point name {name:?} must be letters and digits"),
                ));
            }
            if !ap.path.starts_with('/') || ap.path.len() > 100 {
                return Err(util::invalid_prop(
                    &path,
                    "access_points.path",
                    &ap.path,
                    format!(
                        "access point {name:?}: path {:?} must be absolute and at most 100 characters",
                        ap.path
                    ),
                ));
            }
            let octal = ap.permissions.len() >= 3
                && ap.permissions.len() <= 4
                && ap.permissions.bytes().all(|b| (b'0'..=b'7').contains(&b));
            if !octal {
                return Err(util::invalid_prop(
                    &path,
                    "access_points.permissions",
                    &ap.permissions,
                    format!(
                        "access point {name:?}: permissions {:?} must be octal, such as \"750\"",
                        ap.permissions
                    ),
                ));
            }
        }
        let subnets = props
            .vpc
            .require(
                props.subnets,
                ("subnets", format!("{:?}", props.subnets)),
                &path,
            )?
            .clone();
        let scope = scope.child(id)?;
        let security_group = SecurityGroup::new(
            &scope,
            "SecurityGroup",
            SecurityGroupProps::new(
                props.vpc,
                util::sg_text(&format!("{} NFS", scope.node_path())),
            ),
        )?;
        let file_system = scope.add(
            "Resource",
            efs::FileSystem {
                encrypted: Some(true.into()),
                kms_key_id: props.kms_key.map(Key::key_arn),
                performance_mode: Some("generalPurpose".into()),
                throughput_mode: Some(
                    match props.throughput_mode {
                        ThroughputMode::Bursting => "bursting",
                        ThroughputMode::Elastic => "elastic",
                    }
                    .into(),
                ),
                lifecycle_policies: transition.map(|t| {
                    vec![efs::file_system::LifecyclePolicy {
                        transition_to_ia: Some(t.into()),
                        ..efs::file_system::LifecyclePolicy::default()
                    }]
                    .into()
                }),
                backup_policy: Some(
                    efs::file_system::BackupPolicy::new(if props.backups {
                        "ENABLED"
                    } else {
                        "DISABLED"
                    })
                    .into(),
                ),
                file_system_policy: Some(Value::Lit(serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                    }]
                }))),
                ..efs::FileSystem::new()
            },
        )?;
        file_system.apply_removal_policy(props.removal_policy);
        let mut mount_targets = Vec::new();
        for (i, subnet) in subnets.subnet_ids.iter().enumerate() {
            let target = scope.add(
                &format!("MountTarget{}", i + 1),
                efs::MountTarget::new(
                    file_system.reference(),
                    vec![security_group.security_group_id().value()],
                    subnet.value(),
                ),
            )?;
            mount_targets.push(target.as_resource().clone());
        }
        let mut access_points = IndexMap::new();
        for (name, ap) in props.access_points {
            let resource = scope.add(
                &name,
                efs::AccessPoint {
                    posix_user: Some(
                        efs::access_point::PosixUser::new(ap.gid.to_string(), ap.uid.to_string())
                            .into(),
                    ),
                    root_directory: Some(
                        efs::access_point::RootDirectory {
                            path: Some(ap.path.as_str().into()),
                            creation_info: Some(
                                efs::access_point::CreationInfo::new(
                                    ap.gid.to_string(),
                                    ap.uid.to_string(),
                                    ap.permissions.as_str(),
                                )
                                .into(),
                            ),
                        }
                        .into(),
                    ),
                    ..efs::AccessPoint::new(file_system.reference())
                },
            )?;
            access_points.insert(
                name,
                (
                    resource.attr_access_point_id(),
                    resource.attr_arn(),
                    resource.scope().clone(),
                ),
            );
        }
        Ok(EfsFileSystem {
            scope: scope.clone(),
            file_system_id: file_system.reference(),
            file_system_arn: file_system.attr_arn(),
            security_group: Some(SecurityGroupRef(security_group)),
            access_points,
            mount_targets: MountTargets(mount_targets),
        })
    }

    /// The file system's id.
    pub fn file_system_id(&self) -> Value<String> {
        self.file_system_id.clone()
    }

    /// The file system's ARN.
    pub fn file_system_arn(&self) -> Value<String> {
        self.file_system_arn.clone()
    }

    /// The access point with this name.
    pub fn access_point(&self, name: &str) -> Option<AccessPoint> {
        self.access_points
            .get(name)
            .map(|(id, arn, scope)| AccessPoint {
                id: id.clone(),
                arn: arn.clone(),
                file_system: self.clone(),
                scope: scope.clone(),
            })
    }
}

impl EfsFileSystem {
    /// The mount targets: tasks that mount the file system wait for them.
    pub(crate) fn mount_targets(&self) -> &[omc_cdk::Resource] {
        &self.mount_targets.0
    }
}

impl Connectable for EfsFileSystem {
    fn connections(&self) -> Connections {
        Connections::new(
            self.security_group.iter().map(|g| g.0.clone()).collect(),
            Some(Port::tcp(2049)),
        )
    }
}

impl omc_cdk::Construct for EfsFileSystem {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}

impl omc_cdk::Construct for AccessPoint {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
