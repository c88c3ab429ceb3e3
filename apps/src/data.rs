//! `<Prefix>-Data`: PostgreSQL, Redis and the agents' file system.

use omc_cdk::{App, Construct, RemovalPolicy, Result};
use omc_constructs::{
    AccessPointProps, CacheEngine, EfsFileSystem, EfsFileSystemProps, Key, KeyProps,
    PostgresVersion, Rds, RdsProps, Redis, RedisProps, Vpc,
};

use crate::config::Config;

/// The database's name.
pub(crate) const DATABASE_NAME: &str = "omc";
/// The access point of the agents' artifacts.
pub(crate) const ARTIFACTS: &str = "Artifacts";

/// The data stack's handles.
pub(crate) struct Data {
    pub(crate) database: Rds,
    pub(crate) cache: Redis,
    pub(crate) files: EfsFileSystem,
}

/// The data stack: RDS PostgreSQL in the database subnets with its master password managed in
/// Secrets Manager; ElastiCache Redis with encryption and an auth token from Secrets Manager;
/// an encrypted EFS file system with an access point for the agents' artifacts. Each has its
/// own security group that admits nothing until a service is allowed in.
pub(crate) fn data(app: &App, config: &Config, vpc: &Vpc) -> Result<Data> {
    let stack = crate::stack(app, config, "Data", "PostgreSQL, Redis, agent artifacts")?;
    let removal_policy = crate::data_removal_policy(config);
    let db = &config.database;
    let database = Rds::new(
        &stack,
        "Database",
        RdsProps {
            instance_class: db.instance_class.clone(),
            allocated_storage_gib: db.storage_gib,
            max_allocated_storage_gib: db.max_storage_gib,
            multi_az: db.multi_az,
            database_name: DATABASE_NAME.into(),
            backup_retention_days: db.backup_retention_days,
            deletion_protection: config.protect_data,
            removal_policy,
            performance_insights: db.performance_insights,
            enhanced_monitoring_seconds: db.enhanced_monitoring_seconds,
            ..RdsProps::new(vpc, PostgresVersion::V17_6)
        },
    )?;
    let token_key = if config.cache.token_key {
        Some(Key::new(
            &stack,
            "SecretsKey",
            KeyProps {
                description: Some(format!(
                    "Encrypts the secrets of OMC {} (the cache's auth token)",
                    config.stage.name()
                )),
                alias: Some(format!("alias/omc-{}/secrets", config.stage.name())),
                removal_policy: RemovalPolicy::Retain,
            },
        )?)
    } else {
        None
    };
    let cache = Redis::new(
        &stack,
        "Cache",
        RedisProps {
            engine: CacheEngine::Redis7_1,
            node_type: config.cache.node_type.clone(),
            replicas: config.cache.replicas,
            snapshot_retention_days: if config.protect_data { 7 } else { 0 },
            removal_policy,
            auth_token_key: token_key.as_ref(),
            ..RedisProps::new(vpc)
        },
    )?;
    if token_key.is_none()
        && let Some(secret) = cache.auth_token_secret()
    {
        secret.node().suppress(
            "secret-cmk",
            "Staging's cache token guards only staging's disposable cache and only staging's roles may read it; the AWS managed key encrypts it at rest. Production keeps its token under a customer-managed key.",
        )?;
    }
    // What the infrastructure review accepted for staging's cost (production is redundant).
    if !db.multi_az {
        database.node().suppress(
            "rds-multi-az",
            "Staging runs a single-AZ db.t3.micro for cost, as the infrastructure review decided; a failover or patch window takes staging down, which is acceptable. Production is multi-AZ.",
        )?;
    }
    if config.cache.replicas == 0 {
        cache.node().suppress(
            "elasticache-multi-az",
            "Staging runs one cache.t3.micro node for cost, as the infrastructure review decided; losing it only empties the cache. Production runs a replica with automatic failover.",
        )?;
    }
    let files = EfsFileSystem::new(
        &stack,
        "AgentFiles",
        EfsFileSystemProps {
            access_points: vec![(
                ARTIFACTS.into(),
                AccessPointProps::new("/artifacts", 1000, 1000),
            )],
            removal_policy: if config.protect_data {
                RemovalPolicy::Retain
            } else {
                RemovalPolicy::Destroy
            },
            ..EfsFileSystemProps::new(vpc)
        },
    )?;
    Ok(Data {
        database,
        cache,
        files,
    })
}
