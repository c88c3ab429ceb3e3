//! ElastiCache for Redis or Valkey: a replication group in private subnets.

use omc_cdk::{RemovalPolicy, Result, Scope, TypedResource, Value};
use omc_cfn::elasticache;

use crate::connections::{Connectable, Connections};
use crate::kms::Key;
use crate::monitoring::{AlarmSpec, Monitoring, above};
use crate::peer::Port;
use crate::secret::{GenerateSecret, Secret, SecretProps};
use crate::security_group::{SecurityGroup, SecurityGroupProps};
use crate::util;
use crate::vpc::{SubnetKind, Vpc};

/// The cache engine and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheEngine {
    /// Redis OSS 7.1.
    Redis7_1,
    /// Valkey 7.2.
    Valkey7_2,
    /// Valkey 8.0.
    Valkey8_0,
}

impl CacheEngine {
    fn engine(self) -> &'static str {
        match self {
            CacheEngine::Redis7_1 => "redis",
            CacheEngine::Valkey7_2 | CacheEngine::Valkey8_0 => "valkey",
        }
    }

    fn version(self) -> &'static str {
        match self {
            CacheEngine::Redis7_1 => "7.1",
            CacheEngine::Valkey7_2 => "7.2",
            CacheEngine::Valkey8_0 => "8.0",
        }
    }
}

/// How a cache is created.
#[derive(Clone, Debug)]
pub struct RedisProps<'a> {
    /// The VPC.
    pub vpc: &'a Vpc,
    /// Engine and version. Default: Redis 7.1.
    pub engine: CacheEngine,
    /// The node type. Default: `cache.t4g.micro`.
    pub node_type: String,
    /// Read replicas besides the primary (0 to 5); with any, failover is automatic and
    /// replicas are spread over zones. Default: 0.
    pub replicas: u8,
    /// Where the cache runs. Default: [`SubnetKind::Isolated`].
    pub subnets: SubnetKind,
    /// TLS between clients and the cache. Default: `true`.
    pub transit_encryption: bool,
    /// Requires clients to send an auth token, generated into a Secrets Manager secret (key
    /// `token`); needs transit encryption. Default: `true`.
    pub auth_token: bool,
    /// Encrypts the auth token's secret with this customer-managed key; the roles given
    /// read access to the secret get `kms:Decrypt` on it too. Default: the AWS managed key
    /// `aws/secretsmanager` (rule `secret-cmk` requires a customer-managed key in production).
    pub auth_token_key: Option<&'a Key>,
    /// Days of daily snapshots. Default: 1.
    pub snapshot_retention_days: u8,
    /// What happens to the cache when it leaves the template. Default: `Snapshot`.
    pub removal_policy: RemovalPolicy,
    /// The port. Default: 6379.
    pub port: u16,
}

impl<'a> RedisProps<'a> {
    /// A single-node encrypted Redis with an auth token, in `vpc`'s isolated subnets.
    pub fn new(vpc: &'a Vpc) -> RedisProps<'a> {
        RedisProps {
            vpc,
            engine: CacheEngine::Redis7_1,
            node_type: "cache.t4g.micro".into(),
            replicas: 0,
            subnets: SubnetKind::Isolated,
            transit_encryption: true,
            auth_token: true,
            auth_token_key: None,
            snapshot_retention_days: 1,
            removal_policy: RemovalPolicy::Snapshot,
            port: 6379,
        }
    }
}

/// A Redis (or Valkey) replication group: encrypted at rest and in transit, with an auth token
/// kept in Secrets Manager and passed to ElastiCache as a dynamic reference.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Vpc, VpcProps, Redis, RedisProps, SubnetGroup, SubnetKind};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Data", StackProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps {
///     subnets: vec![SubnetGroup::new("Db", SubnetKind::Isolated, 24)],
///     nat_gateways: 0,
///     ..VpcProps::default()
/// })?;
/// Redis::new(&stack, "Cache", RedisProps { replicas: 1, ..RedisProps::new(&vpc) })?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::ElastiCache::ReplicationGroup", json!({
///     "NumCacheClusters": 2, "AutomaticFailoverEnabled": true, "MultiAZEnabled": true,
///     "TransitEncryptionEnabled": true, "AtRestEncryptionEnabled": true
/// }))?;
/// let err = Redis::new(&stack, "Plain", RedisProps { transit_encryption: false, ..RedisProps::new(&vpc) }).unwrap_err();
/// assert!(err.to_string().contains("an auth token needs transit encryption"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Redis {
    group: elasticache::ReplicationGroupHandle,
    security_group: SecurityGroup,
    auth: Option<Secret>,
    port: u16,
    path: String,
    scope: Scope,
}

impl Redis {
    /// Creates a cache.
    pub fn new(scope: &Scope, id: &str, props: RedisProps<'_>) -> Result<Redis> {
        let path = util::path(scope, id);
        let fail = |field: &'static str, value: String, reason: String| {
            Err(util::invalid_prop(&path, field, value, reason))
        };
        if props.auth_token && !props.transit_encryption {
            return fail("transit_encryption", "false".into(),
                "an auth token needs transit encryption; set transit_encryption: true or auth_token: false".into(),
            );
        }
        if props.replicas > 5 {
            return fail(
                "replicas",
                props.replicas.to_string(),
                format!(
                    "replicas is {}; a replication group has a primary and at most 5 replicas",
                    props.replicas
                ),
            );
        }
        if !props.node_type.starts_with("cache.") || props.node_type.split('.').count() != 3 {
            return fail(
                "node_type",
                props.node_type.clone(),
                format!(
                    "node type {:?} is not an ElastiCache node type such as \"cache.t4g.micro\"",
                    props.node_type
                ),
            );
        }
        if props.snapshot_retention_days > 35 {
            return fail(
                "snapshot_retention_days",
                props.snapshot_retention_days.to_string(),
                format!(
                    "snapshot_retention_days is {}; ElastiCache keeps at most 35",
                    props.snapshot_retention_days
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
        if props.replicas > 0 && subnets.subnet_ids.len() < 2 {
            return fail(
                "replicas",
                props.replicas.to_string(),
                format!(
                    "replicas fail over to another availability zone, and the {} subnets are in one; give the VPC two or more zones or set replicas: 0",
                    subnets.name
                ),
            );
        }
        let scope = scope.child(id)?;
        let subnet_group = scope.add(
            "SubnetGroup",
            elasticache::SubnetGroup::new(
                format!("Subnets of {}", scope.node_path()),
                subnets.ids(),
            ),
        )?;
        let security_group = SecurityGroup::new(
            &scope,
            "SecurityGroup",
            SecurityGroupProps::new(
                props.vpc,
                util::sg_text(&format!("{} cache", scope.node_path())),
            ),
        )?;
        let auth = if props.auth_token {
            Some(Secret::new(
                &scope,
                "AuthToken",
                SecretProps {
                    description: Some(format!("Auth token of {}", scope.node_path())),
                    generate: GenerateSecret {
                        length: 64,
                        ..GenerateSecret::json([], "token")
                    },
                    kms_key: props.auth_token_key,
                    ..SecretProps::default()
                },
            )?)
        } else {
            None
        };
        let replicated = props.replicas > 0;
        let group = scope.add(
            "Resource",
            elasticache::ReplicationGroup {
                engine: Some(props.engine.engine().into()),
                engine_version: Some(props.engine.version().into()),
                cache_node_type: Some(props.node_type.as_str().into()),
                num_cache_clusters: Some(i64::from(props.replicas + 1).into()),
                automatic_failover_enabled: Some(replicated.into()),
                multi_az_enabled: Some(replicated.into()),
                cache_subnet_group_name: Some(subnet_group.reference()),
                security_group_ids: Some(vec![security_group.security_group_id().value()].into()),
                port: Some(i64::from(props.port).into()),
                at_rest_encryption_enabled: Some(true.into()),
                transit_encryption_enabled: Some(props.transit_encryption.into()),
                auth_token: match &auth {
                    Some(secret) => Some(secret.field("token")?.dynamic_reference()),
                    None => None,
                },
                snapshot_retention_limit: Some(i64::from(props.snapshot_retention_days).into()),
                auto_minor_version_upgrade: Some(true.into()),
                ..elasticache::ReplicationGroup::new(format!("{} cache", scope.node_path()))
            },
        )?;
        group.apply_removal_policy(props.removal_policy);
        Ok(Redis {
            group,
            security_group,
            auth,
            port: props.port,
            path,
            scope,
        })
    }

    /// The construct's path, such as `Data/Db`.
    pub fn node_path(&self) -> &str {
        &self.path
    }

    /// The primary endpoint's DNS name.
    pub fn primary_endpoint_address(&self) -> Value<String> {
        self.group.attr_primary_end_point_address()
    }

    /// The primary endpoint's port.
    pub fn primary_endpoint_port(&self) -> Value<String> {
        self.group.attr_primary_end_point_port()
    }

    /// The secret holding the auth token (key `token`), when there is one.
    pub fn auth_token_secret(&self) -> Option<&Secret> {
        self.auth.as_ref()
    }

    /// The replication group's id.
    pub fn replication_group_id(&self) -> Value<String> {
        self.group.reference()
    }

    /// The cache's security group.
    pub fn security_group(&self) -> &SecurityGroup {
        &self.security_group
    }
}

impl Connectable for Redis {
    fn connections(&self) -> Connections {
        Connections::new(
            vec![self.security_group.clone()],
            Some(Port::tcp(self.port)),
        )
    }
}

impl omc_cdk::Construct for Redis {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}

// Alarms: what Monitoring watches of this construct.
impl Redis {
    /// Alarms for the primary's engine CPU and memory use above 80% for 15 minutes, and a
    /// dashboard widget.
    pub fn add_alarms(&self, monitoring: &Monitoring) -> Result<()> {
        let name = self.node_path();
        let group = util::alnum(name);
        // ElastiCache reports per node; the primary is node 001 of the group.
        let dims = vec![(
            "CacheClusterId",
            omc_cdk::fns::join("-", [self.replication_group_id(), "001".into()]),
        )];
        monitoring.alarm(
            &group,
            AlarmSpec {
                id: "Cpu",
                description: format!("{name}: engine CPU above 80% for 15 minutes"),
                namespace: "AWS/ElastiCache",
                metric: "EngineCPUUtilization",
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
                id: "Memory",
                description: format!("{name}: memory use above 80% for 15 minutes"),
                namespace: "AWS/ElastiCache",
                metric: "DatabaseMemoryUsagePercentage",
                dimensions: dims.clone(),
                statistic: "Average",
                period: 300,
                periods: 3,
                comparison: above(80.0),
                treat_missing: "missing",
            },
        )?;
        monitoring.widget(
            format!("{name}: CPU and memory"),
            &[
                ("AWS/ElastiCache", "EngineCPUUtilization", &dims, "Average"),
                (
                    "AWS/ElastiCache",
                    "DatabaseMemoryUsagePercentage",
                    &dims,
                    "Average",
                ),
            ],
        );
        Ok(())
    }
}
