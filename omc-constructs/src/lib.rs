//! High-level constructs for omc-cdk: each turns a few lines of intent into the resources a
//! careful engineer would write by hand, with secure and cost-aware defaults, and refuses
//! contradictory input with an error that names the construct path, the bad value and what
//! would be valid.
//!
//! Every construct has the shape `Type::new(scope, id, props) -> Result<Type>`; the props are a
//! plain struct whose optional fields document their defaults, and the returned handle is a
//! cheap `Clone` value with typed attributes. Handles of one stack can be used in another: the
//! references become exports and imports.
//!
//! ```
//! use omc_cdk::{App, Stack, StackProps};
//! use omc_constructs::{Key, KeyProps, Vpc, VpcProps, Rds, RdsProps, PostgresVersion, Connectable};
//!
//! let app = App::new();
//! let network = Stack::new(&app, "Network", StackProps::default())?;
//! // Production's checks want the flow logs under a customer-managed key.
//! let flow_log_key = Some(Key::new(&network, "LogsKey", KeyProps::default())?);
//! let vpc = Vpc::new(&network, "Vpc", VpcProps { flow_log_key, ..VpcProps::default() })?;
//! let data = Stack::new(&app, "Data", StackProps::default())?;
//! let db = Rds::new(&data, "Db", RdsProps {
//!     multi_az: true, // production (the default stage) wants a standby
//!     enhanced_monitoring_seconds: Some(60),
//!     ..RdsProps::new(&vpc, PostgresVersion::V17_6)
//! })?;
//! assert_eq!(db.connections().default_port(), Some(omc_constructs::Port::tcp(5432)));
//! let synthesis = app.synth()?;
//! assert_eq!(synthesis.stack("Data").unwrap().dependencies(), ["Network"]);
//! # Ok::<(), omc_cdk::Error>(())
//! ```
//!
//! Errors are [`omc_cdk::Error`], returned before the construct adds anything:
//!
//! - a refused prop is [`omc_cdk::Error::InvalidProp`]: the construct's path, the `field` as the
//!   props struct names it (`"max_azs"`; a field of a list element as `"subnets.mask"` or
//!   `"containers.port"`, the reason naming the element), the `value` as written, and the
//!   `reason`, the whole message (what is wrong and what is valid). When two props clash, the
//!   field is the one the fix is most likely on and the reason names both. Attributes structs
//!   (`VpcAttributes`) and method arguments (`Secret::field`'s `key`) report the same way.
//! - a refused schedule is [`omc_cdk::Error::InvalidSchedule`], with the
//!   [`ScheduleError`](omc_cdk::template::schedule::ScheduleError) as its source;
//! - props that are valid alone but clash with the app around them (the stack has no region,
//!   the VPC's subnets are in one zone, the load balancer already has a default route) are
//!   [`omc_cdk::Error::Conflict`].
//!
//! ```
//! use omc_cdk::{Error, testing};
//! use omc_constructs::{Vpc, VpcProps};
//!
//! let (_app, stack) = testing::stack()?;
//! let err = Vpc::new(&stack, "Vpc", VpcProps { max_azs: 7, ..VpcProps::default() }).unwrap_err();
//! assert!(matches!(&err, Error::InvalidProp { field: "max_azs", value, .. } if value == "7"));
//! assert_eq!(err.to_string(), "Test/Vpc: max_azs is 7; a VPC spans 1 to 6 availability zones");
//! # Ok::<(), Error>(())
//! ```

// Props are taken by value: that is the construct shape (`Type::new(scope, id, props)`), so
// callers can build them with struct update syntax.
#![allow(clippy::needless_pass_by_value)]

mod budget;
mod certificate;
mod cluster;
mod connections;
mod dns;
mod ecr;
mod efs;
mod eks_runner_cluster;
mod github;
mod iam;
mod ids;
mod kms;
mod load_balancer;
mod log_group;
mod monitoring;
mod peer;
mod rds;
mod redis;
mod s3;
mod scheduled_task;
mod secret;
mod security_baseline;
mod security_group;
mod task;
mod util;
mod vpc;
mod waf;
mod yaml;

mod fargate_service;

pub use omc_cdk;
pub use omc_cdk::Construct;
pub use omc_cfn as cfn;

pub use budget::{Budget, BudgetProps};
pub use certificate::{Certificate, CertificateProps};
pub use cluster::{Cluster, ClusterAttributes, ClusterProps, ContainerInsights};
pub use connections::{Connectable, Connections};
pub use dns::{AliasRecord, AliasRecordProps, HostedZone, HostedZoneAttributes};
pub use ecr::{EcrRepository, EcrRepositoryAttributes, EcrRepositoryProps};
pub use efs::{AccessPoint, AccessPointProps, EfsFileSystem, EfsFileSystemProps, ThroughputMode};
pub use eks_runner_cluster::{
    ARC_CHART_VERSION, ContainerMode, DEFAULT_RUNNER_VERSION, EksRunnerCluster,
    EksRunnerClusterProps, KubernetesVersion, PodResources, RUNNER_LABEL, RUNNER_STORAGE_CLASS,
    RUNNER_TAINT, RunnerNodesProps, SYSTEM_LABEL, SystemNodesProps,
};
pub use fargate_service::{
    AlbRoute, Autoscaling, CpuArchitecture, FargateService, FargateServiceProps,
};
pub use github::{
    DeployRoles, DeployRolesProps, GITHUB_OIDC_HOST, GitHubActionsRole, GitHubActionsRoleProps,
    GitHubOidcProvider, GitHubOidcProviderProps, GitHubSubject,
};
pub use iam::{Effect, PolicyStatement, Principal, Role, RoleProps};
pub use ids::{SecurityGroupId, SubnetId, VpcId};
pub use kms::{Key, KeyProps};
pub use load_balancer::{
    AccessLogs, ApplicationLoadBalancer, ApplicationLoadBalancerProps, Route, SslPolicy,
    TargetHealthCheck,
};
pub use log_group::{LogGroup, LogGroupProps, RETENTION_DAYS, Retention};
pub use monitoring::{Monitoring, MonitoringProps, SlackChannel};
pub use peer::{Peer, Port, Protocol};
pub use rds::{MONITORING_INTERVALS, POSTGRES_INSTANCE_CLASSES, PostgresVersion, Rds, RdsProps};
pub use redis::{CacheEngine, Redis, RedisProps};
pub use s3::{AccessLogBucket, AccessLogBucketProps, Bucket, BucketProps, ServerAccessLogs};
pub use scheduled_task::{Schedule, ScheduleTrigger, ScheduledTask, ScheduledTaskProps};
pub use secret::{GenerateSecret, Secret, SecretAttributes, SecretField, SecretProps};
pub use security_baseline::{DEFAULT_CONFIG_RULES, SecurityBaseline, SecurityBaselineProps};
pub use security_group::{SecurityGroup, SecurityGroupAttributes, SecurityGroupProps};
pub use task::{ContainerHealthCheck, ContainerImage, ContainerProps, EfsVolume};
pub use vpc::FlowLogTraffic;
pub use vpc::{SubnetGroup, SubnetKind, SubnetSelection, Vpc, VpcAttributes, VpcProps};
pub use waf::{
    COMMON_RULE_SET_RULES, MANAGED_RULE_GROUPS, WAF_LOG_GROUP_PREFIX, WebAcl, WebAclProps,
};
