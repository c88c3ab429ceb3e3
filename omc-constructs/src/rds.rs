//! RDS for PostgreSQL.

use omc_cdk::{Construct as _, RemovalPolicy, Result, Scope, TypedResource, Value, fns};
use omc_cfn::rds;

use crate::connections::{Connectable, Connections};
use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::kms::Key;
use crate::monitoring::{AlarmSpec, Monitoring, above, below};
use crate::peer::Port;
use crate::secret::Secret;
use crate::security_group::{SecurityGroup, SecurityGroupProps};
use crate::util;
use crate::vpc::{SubnetKind, Vpc};

macro_rules! postgres_versions {
    ($($variant:ident => $version:literal),* $(,)?) => {
        /// The PostgreSQL versions RDS can create (versions RDS has deprecated are not offered).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum PostgresVersion {
            $(
                #[doc = concat!("PostgreSQL ", $version)]
                $variant,
            )*
        }

        impl PostgresVersion {
            /// The version as RDS writes it, such as `16.9`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(PostgresVersion::$variant => $version,)*
                }
            }

            /// Every version.
            pub const ALL: &[PostgresVersion] = &[$(PostgresVersion::$variant),*];
        }
    };
}

postgres_versions! {
    V16_9 => "16.9", V16_10 => "16.10", V16_11 => "16.11", V16_12 => "16.12",
    V16_13 => "16.13", V16_14 => "16.14", V16_15 => "16.15",
    V17_5 => "17.5", V17_6 => "17.6", V17_7 => "17.7", V17_8 => "17.8", V17_9 => "17.9",
    V17_10 => "17.10", V17_11 => "17.11",
    V18_1 => "18.1", V18_2 => "18.2", V18_3 => "18.3", V18_4 => "18.4", V18_6 => "18.6",
}

impl PostgresVersion {
    /// The major version, such as `16`.
    pub fn major(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or("")
    }
}

/// The instance classes RDS offers for PostgreSQL in some region (from the data of cfn-lint
/// 1.58.0).
pub const POSTGRES_INSTANCE_CLASSES: &[&str] = &include!("rds_postgres_classes.in");

/// How a PostgreSQL database is created.
#[derive(Clone, Debug)]
// Independent on/off switches, as AWS CDK's `DatabaseInstanceProps` has them.
#[allow(clippy::struct_excessive_bools)]
pub struct RdsProps<'a> {
    /// The VPC.
    pub vpc: &'a Vpc,
    /// The PostgreSQL version.
    pub engine_version: PostgresVersion,
    /// The instance class. Default: `db.t4g.micro` (the smallest current generation).
    pub instance_class: String,
    /// Storage in GiB (gp3, encrypted). Default: 20.
    pub allocated_storage_gib: u32,
    /// Lets storage grow automatically up to this many GiB. Default: no autoscaling.
    pub max_allocated_storage_gib: Option<u32>,
    /// A standby in a second zone. Default: `false`.
    pub multi_az: bool,
    /// Where the database runs. Default: [`SubnetKind::Isolated`].
    pub subnets: SubnetKind,
    /// The database created at launch. Default: `app`.
    pub database_name: String,
    /// The master user's name; RDS keeps its password in Secrets Manager. Default: `dbadmin`.
    pub master_username: String,
    /// Days of automated backups (0 turns them off). Default: 7.
    pub backup_retention_days: u8,
    /// Whether deleting the instance is refused. Default: `true` (AWS CDK: `false`).
    pub deletion_protection: bool,
    /// What happens to the instance when it leaves the template or is replaced. Default:
    /// `Snapshot`.
    pub removal_policy: RemovalPolicy,
    /// Performance Insights, kept 7 days (free tier). Default: `false`.
    pub performance_insights: bool,
    /// Encrypts storage with this key. Default: the AWS managed key for RDS.
    pub kms_key: Option<&'a Key>,
    /// IAM database authentication: roles log in with short-lived tokens
    /// ([`Rds::grant_connect`]) besides passwords. Default: `true` (free; rule `rds-iam-auth`).
    pub iam_authentication: bool,
    /// Enhanced monitoring (the operating system's metrics, from inside the instance) every
    /// this many seconds: 1, 5, 10, 15, 30 or 60. A monitoring role is created. Costs the
    /// CloudWatch Logs ingestion of the metrics (about 8 KB per sample; at 60 s, about
    /// $0.17 a month). Default: off (rule `rds-enhanced-monitoring` requires it in production).
    pub enhanced_monitoring_seconds: Option<u8>,
    /// The port. Default: 5432.
    pub port: u16,
}

impl<'a> RdsProps<'a> {
    /// A small PostgreSQL database in `vpc`'s isolated subnets.
    pub fn new(vpc: &'a Vpc, engine_version: PostgresVersion) -> RdsProps<'a> {
        RdsProps {
            vpc,
            engine_version,
            instance_class: "db.t4g.micro".into(),
            allocated_storage_gib: 20,
            max_allocated_storage_gib: None,
            multi_az: false,
            subnets: SubnetKind::Isolated,
            database_name: "app".into(),
            master_username: "dbadmin".into(),
            backup_retention_days: 7,
            deletion_protection: true,
            removal_policy: RemovalPolicy::Snapshot,
            performance_insights: false,
            kms_key: None,
            iam_authentication: true,
            enhanced_monitoring_seconds: None,
            port: 5432,
        }
    }
}

/// A PostgreSQL database on RDS.
///
/// Defines a subnet group in the chosen subnets, a security group without inbound rules (use
/// [`Connections::allow_default_port_from`] or `db.connections().allow_from(..)`), and an
/// encrypted gp3 `AWS::RDS::DBInstance` whose master password RDS generates and keeps in
/// Secrets Manager: no password ever appears in the template.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Vpc, VpcProps, Rds, RdsProps, PostgresVersion, SubnetGroup, SubnetKind};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Data", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps {
///     subnets: vec![SubnetGroup::new("Db", SubnetKind::Isolated, 24)],
///     nat_gateways: 0,
///     ..VpcProps::default()
/// })?;
/// let db = Rds::new(&stack, "Db", RdsProps { multi_az: true, ..RdsProps::new(&vpc, PostgresVersion::V17_6) })?;
/// let t = Template::from_stack(&stack)?;
/// t.has_resource("AWS::RDS::DBInstance", json!({
///     "Properties": {"Engine": "postgres", "EngineVersion": "17.6", "MultiAZ": true,
///                    "StorageEncrypted": true, "ManageMasterUserPassword": true},
///     "DeletionPolicy": "Snapshot"
/// }))?;
/// assert_eq!(db.secret().json_keys(), Some(vec!["password", "username"]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Rds {
    instance: rds::DbInstanceHandle,
    security_group: SecurityGroup,
    secret: Secret,
    iam_authentication: bool,
    port: u16,
    path: String,
    scope: Scope,
}

/// Orders instance sizes small to large: `micro` < `small` < `medium` < `large` <
/// `xlarge` < `2xlarge` < ... < `metal`.
fn size_rank(class: &str) -> (u32, String) {
    let size = class.rsplit_once('.').map_or(class, |(_, s)| s);
    let rank = match size {
        "nano" => 0,
        "micro" => 1,
        "small" => 2,
        "medium" => 3,
        "large" => 4,
        "xlarge" => 5,
        "metal" => u32::MAX,
        other => other
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<u32>().ok())
            .map_or(u32::MAX - 1, |n| 5 + n),
    };
    (rank, size.to_owned())
}

impl Rds {
    /// Creates a database.
    pub fn new(scope: &Scope, id: &str, props: RdsProps<'_>) -> Result<Rds> {
        let path = util::path(scope, id);
        let fail = |field: &'static str, value: String, reason: String| {
            Err(util::invalid_prop(&path, field, value, reason))
        };
        if !POSTGRES_INSTANCE_CLASSES.contains(&props.instance_class.as_str()) {
            let family = props
                .instance_class
                .rsplit_once('.')
                .map_or(props.instance_class.as_str(), |(f, _)| f);
            let mut similar: Vec<&str> = POSTGRES_INSTANCE_CLASSES
                .iter()
                .copied()
                .filter(|c| c.rsplit_once('.').is_some_and(|(f, _)| f == family))
                .collect();
            similar.sort_by_key(|c| size_rank(c));
            return fail(
                "instance_class",
                props.instance_class.clone(),
                format!(
                    "instance class {:?} does not exist for PostgreSQL; {}",
                    props.instance_class,
                    if similar.is_empty() {
                        "use one such as db.t4g.micro, db.t3.micro, db.m7g.large or db.r7g.large"
                            .to_owned()
                    } else {
                        format!("in that family: {}", similar.join(", "))
                    }
                ),
            );
        }
        if !(20..=65_536).contains(&props.allocated_storage_gib) {
            return fail(
                "allocated_storage_gib",
                props.allocated_storage_gib.to_string(),
                format!(
                    "allocated_storage_gib is {}; gp3 storage is 20 to 65,536 GiB",
                    props.allocated_storage_gib
                ),
            );
        }
        if let Some(max) = props.max_allocated_storage_gib
            && (max <= props.allocated_storage_gib || max > 65_536)
        {
            return fail(
                "max_allocated_storage_gib",
                max.to_string(),
                format!(
                    "max_allocated_storage_gib ({max}) must be above allocated_storage_gib ({}) and at most 65,536",
                    props.allocated_storage_gib
                ),
            );
        }
        if props.port < 1150 {
            return fail(
                "port",
                props.port.to_string(),
                format!(
                    "port {} is not a port RDS accepts; use 1150 to 65535 (PostgreSQL's default is 5432)",
                    props.port
                ),
            );
        }
        if props.backup_retention_days > 35 {
            return fail(
                "backup_retention_days",
                props.backup_retention_days.to_string(),
                format!(
                    "backup_retention_days is {}; RDS keeps 0 to 35 days",
                    props.backup_retention_days
                ),
            );
        }
        if let Some(seconds) = props.enhanced_monitoring_seconds
            && !MONITORING_INTERVALS.contains(&seconds)
        {
            return fail(
                "enhanced_monitoring_seconds",
                seconds.to_string(),
                format!(
                    "enhanced monitoring every {seconds} s is not an interval RDS offers; use 1, 5, 10, 15, 30 or 60 (or None to turn it off)"
                ),
            );
        }
        let name_ok = |n: &str, max: usize| {
            !n.is_empty()
                && n.len() <= max
                && n.starts_with(|c: char| c.is_ascii_alphabetic())
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if !name_ok(&props.database_name, 63) {
            return fail(
                "database_name",
                props.database_name.clone(),
                format!(
                    "database_name {:?} must start with a letter and have up to 63 letters, digits and '_'",
                    props.database_name
                ),
            );
        }
        if !name_ok(&props.master_username, 63)
            || ["admin", "postgres", "rdsadmin"].contains(&props.master_username.as_str())
        {
            return fail(
                "master_username",
                props.master_username.clone(),
                format!(
                    "master_username {:?} must start with a letter, have up to 63 letters, digits and '_', and not be a reserved name (admin, postgres, rdsadmin)",
                    props.master_username
                ),
            );
        }
        let subnets = props
            .vpc
            .require(
                props.subnets,
                ("subnets", format!("{:?}", props.subnets)),
                &path,
            )?
            .clone();
        if subnets.subnet_ids.len() < 2 {
            return Err(util::conflict(
                &path,
                format!(
                    "an RDS subnet group needs subnets in at least two availability zones; the VPC's {:?} group has {}",
                    subnets.name,
                    subnets.subnet_ids.len()
                ),
            ));
        }
        let scope = scope.child(id)?;
        let subnet_group = scope.add(
            "SubnetGroup",
            rds::DbSubnetGroup::new(format!("Subnets of {}", scope.node_path()), subnets.ids()),
        )?;
        let security_group = SecurityGroup::new(
            &scope,
            "SecurityGroup",
            SecurityGroupProps::new(
                props.vpc,
                util::sg_text(&format!("{} PostgreSQL", scope.node_path())),
            ),
        )?;
        let monitoring_role = match props.enhanced_monitoring_seconds {
            Some(_) => Some(Role::new(
                &scope,
                "MonitoringRole",
                RoleProps {
                    managed_policy_arns: vec![util::managed_policy(
                        "service-role/AmazonRDSEnhancedMonitoringRole",
                    )?],
                    ..RoleProps::new(Principal::service("monitoring.rds.amazonaws.com"))
                },
            )?),
            None => None,
        };
        let instance = scope.add(
            "Resource",
            rds::DbInstance {
                engine: Some("postgres".into()),
                engine_version: Some(props.engine_version.as_str().into()),
                db_instance_class: Some(props.instance_class.as_str().into()),
                allocated_storage: Some(props.allocated_storage_gib.to_string().into()),
                max_allocated_storage: props.max_allocated_storage_gib.map(|m| i64::from(m).into()),
                storage_type: Some("gp3".into()),
                storage_encrypted: Some(true.into()),
                kms_key_id: props.kms_key.map(Key::key_arn),
                multi_az: Some(props.multi_az.into()),
                db_name: Some(props.database_name.as_str().into()),
                master_username: Some(props.master_username.as_str().into()),
                manage_master_user_password: Some(true.into()),
                db_subnet_group_name: Some(subnet_group.reference()),
                vpc_security_groups: Some(vec![security_group.security_group_id().value()].into()),
                port: Some(props.port.to_string().into()),
                publicly_accessible: Some(false.into()),
                backup_retention_period: Some(i64::from(props.backup_retention_days).into()),
                copy_tags_to_snapshot: Some(true.into()),
                deletion_protection: Some(props.deletion_protection.into()),
                auto_minor_version_upgrade: Some(true.into()),
                enable_performance_insights: props.performance_insights.then(|| true.into()),
                performance_insights_retention_period: props.performance_insights.then(|| 7.into()),
                enable_iam_database_authentication: Some(props.iam_authentication.into()),
                monitoring_interval: props
                    .enhanced_monitoring_seconds
                    .map(|s| i64::from(s).into()),
                monitoring_role_arn: monitoring_role.as_ref().map(Role::role_arn),
                ..rds::DbInstance::new()
            },
        )?;
        instance.apply_removal_policy(props.removal_policy);
        let secret = Secret::with_keys(
            scope.clone(),
            format!("{}/Secret", scope.node_path()),
            instance.attr_master_user_secret_secret_arn(),
            &["password", "username"],
        );
        Ok(Rds {
            instance,
            security_group,
            secret,
            iam_authentication: props.iam_authentication,
            port: props.port,
            path,
            scope,
        })
    }

    /// The construct's path, such as `Data/Db`.
    pub fn node_path(&self) -> &str {
        &self.path
    }

    /// The endpoint's DNS name.
    pub fn endpoint_address(&self) -> Value<String> {
        self.instance.attr_endpoint_address()
    }

    /// The endpoint's port.
    pub fn endpoint_port(&self) -> Value<String> {
        self.instance.attr_endpoint_port()
    }

    /// The port as a number.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance identifier.
    pub fn instance_id(&self) -> Value<String> {
        self.instance.reference()
    }

    /// The secret RDS manages for the master user (keys `username` and `password`).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The database's security group.
    pub fn security_group(&self) -> &SecurityGroup {
        &self.security_group
    }

    /// The instance resource.
    pub fn resource(&self) -> &omc_cdk::Resource {
        self.instance.as_resource()
    }

    /// Lets `role` log in as the database user `user` with an IAM token
    /// (`rds-db:connect` on that user of this instance only). The user must exist in the
    /// database with the `rds_iam` role (`CREATE USER app; GRANT rds_iam TO app;`).
    ///
    /// Fails when IAM authentication is off ([`RdsProps::iam_authentication`]) or `user` is
    /// not a PostgreSQL user name.
    pub fn grant_connect(&self, role: &Role, user: &str) -> Result<()> {
        if !self.iam_authentication {
            return Err(util::conflict(
                &self.path,
                format!(
                    "cannot grant {} an IAM login as {user:?}: IAM authentication is off; set RdsProps::iam_authentication to true",
                    role.node().node_path()
                ),
            ));
        }
        let ok = !user.is_empty()
            && user.len() <= 63
            && user.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(util::invalid_prop(
                &self.path,
                "user",
                user,
                format!(
                    "database user {user:?} must start with a letter or '_' and have up to 63 letters, digits and '_'"
                ),
            ));
        }
        let resource = fns::join(
            "",
            [
                fns::sub("arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:"),
                self.instance.attr_dbi_resource_id(),
                Value::Lit(format!("/{user}")),
            ],
        );
        role.add_to_policy(PolicyStatement::allow(["rds-db:connect"], [resource]));
        Ok(())
    }
}

/// The enhanced monitoring intervals RDS offers, in seconds.
pub const MONITORING_INTERVALS: [u8; 6] = [1, 5, 10, 15, 30, 60];

impl Connectable for Rds {
    fn connections(&self) -> Connections {
        Connections::new(
            vec![self.security_group.clone()],
            Some(Port::tcp(self.port)),
        )
    }
}

impl omc_cdk::Construct for Rds {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}

// Alarms: what Monitoring watches of this construct.
impl Rds {
    /// Alarms for CPU above 80% for 15 minutes, free storage under 2 GiB, and more than
    /// `max_connections` connections; and a dashboard widget.
    pub fn add_alarms(&self, monitoring: &Monitoring, max_connections: u32) -> Result<()> {
        let name = self.node_path();
        let group = util::alnum(name);
        let dims = vec![("DBInstanceIdentifier", self.instance_id())];
        monitoring.alarm(
            &group,
            AlarmSpec {
                id: "Cpu",
                description: format!("{name}: CPU above 80% for 15 minutes"),
                namespace: "AWS/RDS",
                metric: "CPUUtilization",
                dimensions: dims.clone(),
                statistic: "Average",
                period: 300,
                periods: 3,
                comparison: above(80.0),
                treat_missing: "missing",
            },
        )?;
        monitoring.alarm(
            &group,
            AlarmSpec {
                id: "FreeStorage",
                description: format!("{name}: less than 2 GiB of free storage"),
                namespace: "AWS/RDS",
                metric: "FreeStorageSpace",
                dimensions: dims.clone(),
                statistic: "Minimum",
                period: 300,
                periods: 1,
                comparison: below(2.0 * 1024.0 * 1024.0 * 1024.0),
                treat_missing: "missing",
            },
        )?;
        monitoring.alarm(
            &group,
            AlarmSpec {
                id: "Connections",
                description: format!("{name}: more than {max_connections} connections"),
                namespace: "AWS/RDS",
                metric: "DatabaseConnections",
                dimensions: dims.clone(),
                statistic: "Maximum",
                period: 300,
                periods: 2,
                comparison: above(f64::from(max_connections)),
                treat_missing: "missing",
            },
        )?;
        monitoring.widget(
            format!("{name}: CPU and connections"),
            &[
                ("AWS/RDS", "CPUUtilization", &dims, "Average"),
                ("AWS/RDS", "DatabaseConnections", &dims, "Maximum"),
            ],
        );
        monitoring.widget(
            format!("{name}: free storage"),
            &[("AWS/RDS", "FreeStorageSpace", &dims, "Minimum")],
        );
        Ok(())
    }
}
