//! What differs between environments: sizes, counts, protection, images and schedules.
//!
//! Everything an environment decides is here, as data; the stacks (`network`, `data`,
//! `services`, `monitoring`, `security`) turn it into constructs. Staging is small and cheap;
//! production is redundant and protected.

use std::collections::BTreeMap;

use omc_cdk::Environment;

/// An environment of the OMC platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Staging: small, cheap, disposable.
    Staging,
    /// Production: redundant and protected.
    Production,
}

impl Stage {
    /// The lower-case name, used in tags and resource names.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Staging => "staging",
            Stage::Production => "production",
        }
    }

    /// The stage the checks apply (`omc_cdk::check`): staging's rules allow what the
    /// infrastructure review accepted for cost.
    pub fn check_stage(self) -> omc_cdk::Stage {
        match self {
            Stage::Staging => omc_cdk::Stage::Staging,
            Stage::Production => omc_cdk::Stage::Production,
        }
    }
}

/// A container image: an ECR repository of the registry. The tag an environment runs is never
/// configured here: it is the services stack's parameter `<Name>ImageTag`, without a default,
/// given on the first deploy (the deploy workflow passes the commit SHA) and kept by later
/// deploys that do not name it: `deploy --parameters OmcStaging-Services:BackendImageTag=<sha>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The repository's name in the registry, such as `omc-backend`.
    pub repository: String,
}

/// The tags an environment may deploy: a commit SHA (7 to 40 hex digits, what the deploy
/// workflow pushes) or a release version (`1.4.2`, `v1.4.2-rc.1`). Moving tags such as `latest`
/// or `stable` do not match, so what runs is always known, and the repositories' tags are
/// immutable, so a tag always means the same image.
pub const IMAGE_TAG_PATTERN: &str =
    "^([0-9a-f]{7,40}|v?[0-9]+[.][0-9]+[.][0-9]+([.+-][A-Za-z0-9.]+)?)$";

/// An environment's public name and the Route 53 hosted zone it is in. The zone is created once
/// by hand (it is where the domain is delegated to, and outlives every stack): `omc.example` in
/// the production account, and `staging.omc.example` in the staging account, delegated from it
/// with an NS record (README, one-time steps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainConfig {
    /// The name users reach, such as `staging.omc.example`.
    pub name: String,
    /// The hosted zone's id, such as `Z0521849ST4G1NG0MC001` (Route 53 console).
    pub hosted_zone_id: String,
    /// The hosted zone's domain.
    pub zone_name: String,
}

/// How many tasks a service runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskCount {
    /// A fixed number of tasks.
    Fixed(u32),
    /// Target tracking on CPU between `min` and `max` tasks.
    Autoscaling {
        /// Fewest tasks.
        min: u32,
        /// Most tasks.
        max: u32,
    },
}

/// The size of an ECS service or task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSize {
    /// Fargate CPU units (256 = 0.25 vCPU).
    pub cpu: u32,
    /// Memory in MiB (one of the values Fargate accepts for `cpu`).
    pub memory_mib: u32,
    /// Tasks to run (services only).
    pub count: TaskCount,
}

impl TaskSize {
    /// `count` tasks of `cpu` units and `memory_mib` MiB.
    pub const fn fixed(cpu: u32, memory_mib: u32, count: u32) -> TaskSize {
        TaskSize {
            cpu,
            memory_mib,
            count: TaskCount::Fixed(count),
        }
    }

    /// `min` to `max` tasks of `cpu` units and `memory_mib` MiB, scaled on CPU.
    pub const fn autoscaling(cpu: u32, memory_mib: u32, min: u32, max: u32) -> TaskSize {
        TaskSize {
            cpu,
            memory_mib,
            count: TaskCount::Autoscaling { min, max },
        }
    }
}

/// A cron-like collector: an ECS task started on a schedule by EventBridge Scheduler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledCollector {
    /// The construct id, such as `MarketDataCollector`.
    pub id: String,
    /// `cron(...)` fields or a `rate(...)`, such as `Schedule::cron("0 6 * * ? *")`.
    pub schedule: omc_constructs::Schedule,
    /// The collector's command in the collectors image.
    pub command: Vec<String>,
    /// CPU and memory (the count is ignored: one task per run).
    pub size: TaskSize,
}

/// The PostgreSQL database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// RDS instance class.
    pub instance_class: String,
    /// A standby in a second zone.
    pub multi_az: bool,
    /// Allocated storage in GiB.
    pub storage_gib: u32,
    /// Storage autoscaling ceiling in GiB.
    pub max_storage_gib: Option<u32>,
    /// Days of automated backups.
    pub backup_retention_days: u8,
    /// Performance Insights (free tier: 7 days).
    pub performance_insights: bool,
    /// Enhanced monitoring (the operating system's metrics) every this many seconds.
    pub enhanced_monitoring_seconds: Option<u8>,
    /// Connections above which the connections alarm fires.
    pub max_connections_alarm: u32,
}

/// The Redis cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// ElastiCache node type.
    pub node_type: String,
    /// Read replicas (automatic failover with one or more).
    pub replicas: u8,
    /// The auth token's secret under a customer-managed key (`<Prefix>-Data`'s `SecretsKey`,
    /// about $1 a month) instead of the AWS managed key.
    pub token_key: bool,
}

/// The settings of one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Which environment.
    pub stage: Stage,
    /// Prefix of every stack name, such as `OmcStaging`.
    pub stack_prefix: String,
    /// Where the stacks deploy: the environment's own account and its region. `deploy`
    /// refuses credentials of any other account.
    pub env: Environment,
    /// The VPC's IPv4 range.
    pub vpc_cidr: String,
    /// NAT gateways: 1 in staging, one per availability zone in production.
    pub nat_gateways: u8,
    /// The database.
    pub database: DatabaseConfig,
    /// The cache.
    pub cache: CacheConfig,
    /// The FastAPI backend's image.
    pub backend_image: Image,
    /// The Vue.js frontend's image.
    pub frontend_image: Image,
    /// The collectors' image (scheduled and continuous collectors run different commands).
    pub collectors_image: Image,
    /// The agentic system's image.
    pub agents_image: Image,
    /// Where the images are.
    pub registry: RegistryConfig,
    /// The backend's size.
    pub backend: TaskSize,
    /// The frontend's size.
    pub frontend: TaskSize,
    /// The continuous collector's size.
    pub stream_collector: TaskSize,
    /// The agents' size.
    pub agents: TaskSize,
    /// The cron-like collectors.
    pub scheduled_collectors: Vec<ScheduledCollector>,
    /// The public name of the environment and its Route 53 hosted zone: the load balancer
    /// serves HTTPS with an ACM certificate for it (validated in the zone) and an alias record
    /// points it at the load balancer; HTTP only redirects.
    pub domain: DomainConfig,
    /// Requests one address may make in 5 minutes before the web application firewall blocks
    /// it.
    pub rate_limit_per_5_minutes: u32,
    /// CloudWatch log retention of the containers, in days.
    pub log_retention_days: u32,
    /// Deletion protection, termination protection and Snapshot/Retain policies on stateful
    /// resources. Off in staging, which is rebuilt at will.
    pub protect_data: bool,
    /// Where alarms, findings and budget alerts are e-mailed.
    pub alarm_email: Option<String>,
    /// The Slack channel AWS Chatbot posts them to, once the workspace is authorized in the
    /// Chatbot console (a one-time step). `None` until then.
    pub slack: Option<omc_constructs::SlackChannel>,
    /// The monthly budget's margin over the `cost` estimate, in percent: the budget alerts at
    /// 80 % and 100 % of `estimate × (1 + margin)`, rounded up to $10.
    pub budget_margin_percent: u32,
    /// CloudTrail, GuardDuty and AWS Config. Each environment has its own AWS account, and
    /// GuardDuty and Config allow one detector and one recorder per account and region.
    pub security_baseline: bool,
    /// The GitHub repository whose workflows deploy the environment (`owner/name`).
    pub github_repository: String,
    /// Tags of every resource.
    pub tags: BTreeMap<String, String>,
}

/// The production account. Each environment has an AWS account of its own: the security
/// stack's GuardDuty detector and Config recorder allow one per account and region, and a
/// mistake in staging cannot touch production. `deploy` checks the credentials' account
/// against these before it changes anything; `OMC_ACCOUNT` replaces them for a sandbox or a
/// local endpoint ([`crate::from_env`]).
pub const PRODUCTION_ACCOUNT: &str = "123456789012";
/// The staging account.
pub const STAGING_ACCOUNT: &str = "210987654321";
/// The account of the CI runner cluster: runners execute pull-request code, so they live
/// apart from both environments.
pub const CI_ACCOUNT: &str = "345678901234";

/// The account of the image registry: production's (see [`RegistryConfig`]).
pub const REGISTRY_ACCOUNT: &str = PRODUCTION_ACCOUNT;

fn image(name: &str) -> Image {
    Image {
        repository: name.into(),
    }
}

/// The platform's ECR repositories, one per image, in the stack `OmcRegistry` of the production
/// app. They live in the production account: production never depends on an account of lower
/// trust, staging pulls from it read-only (the repository policy names the environments'
/// accounts), and the image a release deploys is the very image staging ran (same SHA tag,
/// immutable), promoted without a rebuild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryConfig {
    /// The account holding the repositories.
    pub account: String,
    /// Their region.
    pub region: String,
    /// Accounts whose ECS tasks may pull.
    pub pull_accounts: Vec<String>,
    /// Images kept per repository (the newest), untagged ones expire after a day.
    pub keep_images: u32,
}

impl RegistryConfig {
    /// The OMC registry: production's account, us-east-1, pulled by staging and production.
    pub fn omc() -> RegistryConfig {
        RegistryConfig {
            account: REGISTRY_ACCOUNT.into(),
            region: "us-east-1".into(),
            pull_accounts: vec![STAGING_ACCOUNT.into(), PRODUCTION_ACCOUNT.into()],
            keep_images: 50,
        }
    }
}

fn tags(stage: Stage) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("Project".to_owned(), "omc".to_owned()),
        ("Environment".to_owned(), stage.name().to_owned()),
        ("ManagedBy".to_owned(), "omc-cdk".to_owned()),
    ])
}

fn command(module: &str) -> Vec<String> {
    ["python", "-m", module].map(str::to_owned).to_vec()
}

fn scheduled_collectors() -> Vec<ScheduledCollector> {
    use omc_constructs::Schedule;
    vec![
        ScheduledCollector {
            id: "MarketDataCollector".into(),
            schedule: Schedule::rate(15, "minutes"),
            command: command("collectors.market_data"),
            size: TaskSize::fixed(256, 512, 1),
        },
        ScheduledCollector {
            id: "FilingsCollector".into(),
            schedule: Schedule::cron("0 6 * * ? *"),
            command: command("collectors.filings"),
            size: TaskSize::fixed(512, 1024, 1),
        },
    ]
}

impl Config {
    /// Staging: one NAT gateway, single-AZ `db.t3.micro`, one `cache.t3.micro` node, one task
    /// per service, 30 days of logs, nothing protected.
    pub fn staging() -> Config {
        Config {
            stage: Stage::Staging,
            stack_prefix: "OmcStaging".into(),
            env: Environment::new(STAGING_ACCOUNT, "us-east-1"),
            vpc_cidr: "10.0.0.0/16".into(),
            nat_gateways: 1,
            database: DatabaseConfig {
                instance_class: "db.t3.micro".into(),
                multi_az: false,
                storage_gib: 20,
                max_storage_gib: None,
                backup_retention_days: 7,
                performance_insights: false,
                // Costs about $0.20 a month at 60 s (CloudWatch Logs ingestion): cheap
                // enough that staging has it too, where database problems are first seen.
                enhanced_monitoring_seconds: Some(60),
                // PostgreSQL allows about 110 connections on a 1 GiB instance.
                max_connections_alarm: 80,
            },
            cache: CacheConfig {
                node_type: "cache.t3.micro".into(),
                replicas: 0,
                token_key: false,
            },
            backend_image: image("omc-backend"),
            frontend_image: image("omc-frontend"),
            collectors_image: image("omc-collectors"),
            agents_image: image("omc-agents"),
            registry: RegistryConfig::omc(),
            backend: TaskSize::fixed(512, 1024, 1),
            frontend: TaskSize::fixed(256, 512, 1),
            stream_collector: TaskSize::fixed(256, 512, 1),
            agents: TaskSize::fixed(512, 1024, 1),
            scheduled_collectors: scheduled_collectors(),
            domain: DomainConfig {
                name: "staging.omc.example".into(),
                hosted_zone_id: "Z0521849ST4G1NG0MC001".into(),
                zone_name: "staging.omc.example".into(),
            },
            rate_limit_per_5_minutes: 2000,
            log_retention_days: 30,
            protect_data: false,
            alarm_email: Some("platform-alerts+staging@omc.example".into()),
            slack: None,
            budget_margin_percent: 25,
            security_baseline: true,
            github_repository: "omc/omc".into(),
            tags: tags(Stage::Staging),
        }
    }

    /// Production: the same instance sizes as staging (the review's `db.t3.micro` and
    /// `cache.t3.micro`; raise them here when load demands), with a NAT gateway per zone, a
    /// multi-AZ database with more storage and backups, a Redis replica with automatic
    /// failover, two or more tasks per web service with autoscaling, a year of logs,
    /// and protected data.
    pub fn production() -> Config {
        let staging = Config::staging();
        Config {
            stage: Stage::Production,
            stack_prefix: "OmcProduction".into(),
            env: Environment::new(PRODUCTION_ACCOUNT, "us-east-1"),
            vpc_cidr: "10.1.0.0/16".into(),
            nat_gateways: 2,
            database: DatabaseConfig {
                multi_az: true,
                storage_gib: 50,
                max_storage_gib: Some(200),
                backup_retention_days: 14,
                ..staging.database.clone()
            },
            cache: CacheConfig {
                replicas: 1,
                token_key: true,
                ..staging.cache.clone()
            },
            backend: TaskSize::autoscaling(1024, 2048, 2, 6),
            frontend: TaskSize::autoscaling(256, 512, 2, 4),
            stream_collector: TaskSize::fixed(512, 1024, 1),
            agents: TaskSize::fixed(1024, 2048, 2),
            domain: DomainConfig {
                name: "omc.example".into(),
                hosted_zone_id: "Z0938271PR0DUCT10N0MC".into(),
                zone_name: "omc.example".into(),
            },
            log_retention_days: 365,
            protect_data: true,
            alarm_email: Some("platform-alerts@omc.example".into()),
            tags: tags(Stage::Production),
            ..staging
        }
    }

    /// The same environment in another account (`OMC_ACCOUNT`). Only the stacks' account
    /// changes: the registry and the hosted zone stay as configured.
    #[must_use]
    pub fn in_account(mut self, account: Option<&str>) -> Config {
        if let Some(account) = account {
            self.env.account = Some(account.to_owned());
        }
        self
    }

    /// The bucket of templates too large to pass inline, which `bootstrap --bucket-name` creates
    /// once per account: `omc-cdk-toolkit-<account>-<region>`.
    pub fn template_bucket(&self) -> String {
        format!(
            "omc-cdk-toolkit-{}-{}",
            self.env.account.as_deref().unwrap_or_default(),
            self.env.region.as_deref().unwrap_or_default()
        )
    }

    /// A stack name: the prefix and a part, such as `OmcStaging-Network`.
    pub fn stack_name(&self, part: &str) -> String {
        format!("{}-{part}", self.stack_prefix)
    }
}

/// The CI runner cluster's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CiConfig {
    /// The stack's name.
    pub stack_name: String,
    /// Where it deploys.
    pub env: Environment,
    /// Its VPC's range (separate from the applications' VPCs).
    pub vpc_cidr: String,
    /// The GitHub organization or repository the runners serve.
    pub github_config_url: String,
    /// IAM roles that administer the cluster (install and upgrade the Helm charts).
    pub admin_role_arns: Vec<String>,
    /// Ranges that may reach the Kubernetes API from outside the VPC; empty keeps it private.
    pub api_access_cidrs: Vec<String>,
    /// Most runner nodes.
    pub max_runner_nodes: u32,
    /// Where node failures and the cluster's alarms are sent.
    pub alarm_email: String,
    /// The monthly budget's margin over the `cost` estimate, in percent.
    pub budget_margin_percent: u32,
    /// Tags of every resource.
    pub tags: BTreeMap<String, String>,
}

impl CiConfig {
    /// The same cluster in another account (`OMC_ACCOUNT`). Only the stack's account changes:
    /// the admin roles stay as configured.
    #[must_use]
    pub fn in_account(mut self, account: Option<&str>) -> CiConfig {
        if let Some(account) = account {
            self.env.account = Some(account.to_owned());
        }
        self
    }

    /// `OMC-test`: 1 system node (t3.medium), 0 to 10 runner nodes (t3.large).
    pub fn omc_test() -> CiConfig {
        CiConfig {
            stack_name: "OmcCi-Runners".into(),
            env: Environment::new(CI_ACCOUNT, "us-east-1"),
            vpc_cidr: "10.100.0.0/16".into(),
            github_config_url: "https://github.com/omc".into(),
            admin_role_arns: vec![format!("arn:aws:iam::{CI_ACCOUNT}:role/omc-platform-admin")],
            api_access_cidrs: Vec::new(),
            max_runner_nodes: 10,
            alarm_email: "platform-alerts+ci@omc.example".into(),
            budget_margin_percent: 25,
            tags: BTreeMap::from([
                ("Project".to_owned(), "omc".to_owned()),
                ("Environment".to_owned(), "ci".to_owned()),
                ("ManagedBy".to_owned(), "omc-cdk".to_owned()),
            ]),
        }
    }
}
