//! The data stack: RDS PostgreSQL and ElastiCache Redis in the isolated subnets, with their
//! credentials in Secrets Manager.

use omc_cdk::{App, RemovalPolicy, Result, Stack, Value, fns};
use serde_json::json;

use crate::config::Config;
use crate::network::Network;
use crate::{stack_props, tagged};

/// PostgreSQL's port.
pub const DB_PORT: u16 = 5432;
/// Redis's port.
pub const CACHE_PORT: u16 = 6379;
/// The application database's name.
pub const DB_NAME: &str = "omc";

/// What other stacks use of the data stores.
#[derive(Clone, Debug)]
pub struct Data {
    /// The database's endpoint address.
    pub db_address: Value<String>,
    /// The database's port.
    pub db_port: Value<String>,
    /// The ARN of the secret RDS manages for the master user (`username`, `password`).
    pub db_secret_arn: Value<String>,
    /// The database's security group id.
    pub db_security_group: Value<String>,
    /// The Redis primary endpoint address.
    pub cache_address: Value<String>,
    /// The Redis port.
    pub cache_port: Value<String>,
    /// The ARN of the secret holding the Redis auth token (key `token`).
    pub cache_secret_arn: Value<String>,
    /// The cache's security group id.
    pub cache_security_group: Value<String>,
}

/// Creates the data stack.
pub fn data(app: &App, config: &Config, network: &Network) -> Result<Data> {
    let stack = Stack::new(
        app,
        &config.stack_name("Data"),
        stack_props(config, "OMC data: RDS PostgreSQL and ElastiCache Redis"),
    )?;
    let stage = config.stage.name();

    let db = stack.child("Db")?;
    let subnet_group = db.add(
        "SubnetGroup",
        tagged("AWS::RDS::DBSubnetGroup")
            .property(
                "DBSubnetGroupDescription",
                format!("OMC {stage} database subnets"),
            )
            .property("SubnetIds", network.db_subnets.clone()),
    )?;
    let db_sg = db.add(
        "SecurityGroup",
        tagged("AWS::EC2::SecurityGroup")
            .property("GroupDescription", format!("OMC {stage} PostgreSQL"))
            .property("VpcId", network.vpc_id.clone())
            .property(
                "SecurityGroupEgress",
                vec![json!({
                    "CidrIp": "255.255.255.255/32",
                    "Description": "No outbound traffic",
                    "IpProtocol": "icmp",
                    "FromPort": 252,
                    "ToPort": 86
                })],
            ),
    )?;
    let instance = db.add(
        "Resource",
        tagged("AWS::RDS::DBInstance")
            .property("Engine", "postgres")
            .property("EngineVersion", "17.6")
            .property("DBInstanceClass", config.db_instance_class.as_str())
            .property("AllocatedStorage", config.db_storage_gib.to_string())
            .property("StorageType", "gp3")
            .property("StorageEncrypted", true)
            .property("MultiAZ", config.db_multi_az)
            .property("DBName", DB_NAME)
            .property("MasterUsername", "omc")
            .property("ManageMasterUserPassword", true)
            .property("DBSubnetGroupName", subnet_group.reference())
            .property(
                "VPCSecurityGroups",
                vec![db_sg.get_att::<String>("GroupId")],
            )
            .property("PubliclyAccessible", false)
            .property("BackupRetentionPeriod", 7)
            .property("CopyTagsToSnapshot", true)
            .property("DeletionProtection", config.deletion_protection)
            .property("AutoMinorVersionUpgrade", true),
    )?;
    instance.apply_removal_policy(RemovalPolicy::Snapshot);

    let cache = stack.child("Cache")?;
    let cache_subnets = cache.add(
        "SubnetGroup",
        tagged("AWS::ElastiCache::SubnetGroup")
            .property("Description", format!("OMC {stage} Redis subnets"))
            .property("SubnetIds", network.db_subnets.clone()),
    )?;
    let cache_sg = cache.add(
        "SecurityGroup",
        tagged("AWS::EC2::SecurityGroup")
            .property("GroupDescription", format!("OMC {stage} Redis"))
            .property("VpcId", network.vpc_id.clone())
            .property(
                "SecurityGroupEgress",
                vec![json!({
                    "CidrIp": "255.255.255.255/32",
                    "Description": "No outbound traffic",
                    "IpProtocol": "icmp",
                    "FromPort": 252,
                    "ToPort": 86
                })],
            ),
    )?;
    let token = cache.add(
        "AuthToken",
        tagged("AWS::SecretsManager::Secret")
            .property("Description", format!("OMC {stage} Redis auth token"))
            .property(
                "GenerateSecretString",
                json!({
                    "SecretStringTemplate": "{}",
                    "GenerateStringKey": "token",
                    "PasswordLength": 64,
                    "ExcludePunctuation": true
                }),
            ),
    )?;
    let replicas = if config.db_multi_az { 2 } else { 1 };
    let group = cache.add(
        "Resource",
        tagged("AWS::ElastiCache::ReplicationGroup")
            .property("ReplicationGroupDescription", format!("OMC {stage} Redis"))
            .property("Engine", "redis")
            .property("EngineVersion", "7.1")
            .property("CacheNodeType", config.cache_node_type.as_str())
            .property("NumCacheClusters", replicas)
            .property("AutomaticFailoverEnabled", replicas > 1)
            .property("MultiAZEnabled", replicas > 1)
            .property("Port", i64::from(CACHE_PORT))
            .property("CacheSubnetGroupName", cache_subnets.reference())
            .property(
                "SecurityGroupIds",
                vec![cache_sg.get_att::<String>("GroupId")],
            )
            .property("AtRestEncryptionEnabled", true)
            .property("TransitEncryptionEnabled", true)
            .property(
                "AuthToken",
                fns::sub_with(
                    "{{resolve:secretsmanager:${Secret}:SecretString:token}}",
                    [("Secret", token.reference())],
                ),
            ),
    )?;
    group.apply_removal_policy(RemovalPolicy::Snapshot);

    Ok(Data {
        db_address: instance.get_att("Endpoint.Address"),
        db_port: instance.get_att("Endpoint.Port"),
        db_secret_arn: instance.get_att("MasterUserSecret.SecretArn"),
        db_security_group: db_sg.get_att("GroupId"),
        cache_address: group.get_att("PrimaryEndPoint.Address"),
        cache_port: group.get_att("PrimaryEndPoint.Port"),
        cache_secret_arn: token.reference(),
        cache_security_group: cache_sg.get_att("GroupId"),
    })
}
