//! What differs between environments: sizes, counts, names and images.

use std::collections::BTreeMap;

use omc_cdk::Environment;

/// An environment of the OMC platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Staging: small and cheap.
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
}

/// A container image: repository and default tag. The tag is a stack parameter, so a deploy can
/// roll a new image without a code change (`--parameters BackendImageTag=v1.2.3`).
#[derive(Clone, Debug)]
pub struct Image {
    /// The repository, such as `123456789012.dkr.ecr.us-east-1.amazonaws.com/omc-backend`.
    pub repository: String,
    /// The tag used when no parameter value is given.
    pub default_tag: String,
}

/// One ECS service's size.
#[derive(Clone, Debug)]
pub struct ServiceSize {
    /// Fargate CPU units (256 = 0.25 vCPU).
    pub cpu: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Running tasks.
    pub desired_count: u32,
}

/// The settings of one environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Which environment.
    pub stage: Stage,
    /// Prefix of every stack name, such as `OmcStaging`.
    pub stack_prefix: String,
    /// Where the stacks deploy.
    pub env: Environment,
    /// The VPC's IPv4 range.
    pub vpc_cidr: String,
    /// NAT gateways: 1 in staging, one per availability zone in production.
    pub nat_gateways: usize,
    /// RDS instance class.
    pub db_instance_class: String,
    /// Whether RDS runs a standby in a second zone.
    pub db_multi_az: bool,
    /// Allocated database storage in GiB.
    pub db_storage_gib: u32,
    /// ElastiCache node type.
    pub cache_node_type: String,
    /// The FastAPI backend's image.
    pub backend_image: Image,
    /// The Vue.js frontend's image.
    pub frontend_image: Image,
    /// The backend's size.
    pub backend: ServiceSize,
    /// The frontend's size.
    pub frontend: ServiceSize,
    /// CloudWatch log retention in days.
    pub log_retention_days: u32,
    /// Whether stateful resources refuse deletion.
    pub deletion_protection: bool,
    /// Tags of every resource.
    pub tags: BTreeMap<String, String>,
}

fn image(name: &str) -> Image {
    Image {
        repository: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"),
        default_tag: "latest".into(),
    }
}

fn tags(stage: Stage) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("Project".to_owned(), "omc".to_owned()),
        ("Environment".to_owned(), stage.name().to_owned()),
        ("ManagedBy".to_owned(), "omc-cdk".to_owned()),
    ])
}

impl Config {
    /// Staging: one NAT gateway, single-AZ database, one task per service.
    pub fn staging() -> Config {
        Config {
            stage: Stage::Staging,
            stack_prefix: "OmcStaging".into(),
            env: Environment::region("us-east-1"),
            vpc_cidr: "10.0.0.0/16".into(),
            nat_gateways: 1,
            db_instance_class: "db.t3.micro".into(),
            db_multi_az: false,
            db_storage_gib: 20,
            cache_node_type: "cache.t3.micro".into(),
            backend_image: image("omc-backend"),
            frontend_image: image("omc-frontend"),
            backend: ServiceSize {
                cpu: 512,
                memory_mib: 1024,
                desired_count: 1,
            },
            frontend: ServiceSize {
                cpu: 256,
                memory_mib: 512,
                desired_count: 1,
            },
            log_retention_days: 30,
            deletion_protection: false,
            tags: tags(Stage::Staging),
        }
    }

    /// Production: a NAT gateway per zone, multi-AZ database, two tasks per service, deletion
    /// protection and longer log retention.
    pub fn production() -> Config {
        Config {
            stage: Stage::Production,
            stack_prefix: "OmcProduction".into(),
            nat_gateways: 2,
            db_multi_az: true,
            db_storage_gib: 50,
            backend: ServiceSize {
                cpu: 1024,
                memory_mib: 2048,
                desired_count: 2,
            },
            frontend: ServiceSize {
                cpu: 256,
                memory_mib: 512,
                desired_count: 2,
            },
            log_retention_days: 365,
            deletion_protection: true,
            tags: tags(Stage::Production),
            ..Config::staging()
        }
    }

    /// A stack name: the prefix and a part, such as `OmcStaging-Network`.
    pub fn stack_name(&self, part: &str) -> String {
        format!("{}-{part}", self.stack_prefix)
    }
}
