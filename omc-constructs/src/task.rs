//! Fargate task definitions, shared by services and scheduled tasks: containers, logs, roles
//! with least privilege, and EFS volumes.

use omc_cdk::{IndexMap, Pseudo, Result, Scope, Value, fns};
use omc_cfn::ecs;

use crate::connections::Connectable;
use crate::ecr::EcrRepository;
use crate::efs::AccessPoint;
use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::log_group::{LogGroup, LogGroupProps, Retention};
use crate::peer::{Peer, Port};
use crate::secret::SecretField;
use crate::security_group::{SecurityGroup, SecurityGroupProps};
use crate::util;
use crate::vpc::{SubnetKind, Vpc};

/// A container image.
#[derive(Clone, Debug, PartialEq)]
pub enum ContainerImage {
    /// An image in an ECR repository of the account: the execution role may pull exactly this
    /// repository. `repository_uri` is `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    Ecr {
        /// The repository URI.
        repository_uri: String,
        /// The tag, often a stack parameter so a deploy can roll a new image.
        tag: Value<String>,
    },
    /// An image in an ECR repository of the stack's own account and region, named without
    /// its host, so environment-agnostic stacks can use it.
    EcrRepository {
        /// The repository's name, such as `omc/backend`.
        name: String,
        /// The tag.
        tag: Value<String>,
    },
    /// An image of an [`EcrRepository`] handle ([`ContainerImage::from_repository`]): the
    /// execution role may pull exactly this repository. Its values may be another stack's
    /// (they become an export and an import) or literal ([`EcrRepository::from_attributes`]).
    Repository {
        /// The repository URI, without a tag.
        repository_uri: Value<String>,
        /// The repository ARN.
        repository_arn: Value<String>,
        /// The tag.
        tag: Value<String>,
    },
    /// An image from a public registry, such as `public.ecr.aws/docker/library/python:3.12`.
    Registry(Value<String>),
}

impl ContainerImage {
    /// An ECR image.
    pub fn ecr(repository_uri: impl Into<String>, tag: impl Into<Value<String>>) -> ContainerImage {
        ContainerImage::Ecr {
            repository_uri: repository_uri.into(),
            tag: tag.into(),
        }
    }

    /// An image of the repository `name` in the stack's own account and region.
    pub fn ecr_repository(
        name: impl Into<String>,
        tag: impl Into<Value<String>>,
    ) -> ContainerImage {
        ContainerImage::EcrRepository {
            name: name.into(),
            tag: tag.into(),
        }
    }

    /// An image of `repository` with `tag` (such as a commit SHA, often a stack parameter):
    /// the execution role may pull exactly that repository.
    ///
    /// ```
    /// use omc_cdk::{App, Stack, StackProps};
    /// use omc_constructs::{ContainerImage, EcrRepository, EcrRepositoryProps};
    ///
    /// let app = App::new();
    /// let stack = Stack::new(&app, "Images", StackProps::default())?;
    /// let repo = EcrRepository::new(&stack, "Backend", EcrRepositoryProps::new("omc-backend"))?;
    /// let image = ContainerImage::from_repository(&repo, "4f2a9c1");
    /// assert!(matches!(image, ContainerImage::Repository { .. }));
    /// # Ok::<(), omc_cdk::Error>(())
    /// ```
    pub fn from_repository(
        repository: &EcrRepository,
        tag: impl Into<Value<String>>,
    ) -> ContainerImage {
        ContainerImage::Repository {
            repository_uri: repository.repository_uri(),
            repository_arn: repository.repository_arn(),
            tag: tag.into(),
        }
    }

    /// An image from another registry.
    pub fn registry(image: impl Into<Value<String>>) -> ContainerImage {
        ContainerImage::Registry(image.into())
    }

    fn image(&self) -> Value<String> {
        match self {
            ContainerImage::Ecr {
                repository_uri,
                tag,
            } => fns::Sub::new()
                .text(repository_uri)
                .text(":")
                .var("Tag", tag.clone())
                .build(),
            ContainerImage::EcrRepository { name, tag } => fns::Sub::new()
                .pseudo(Pseudo::AccountId)
                .text(".dkr.ecr.")
                .pseudo(Pseudo::Region)
                .text(".")
                .pseudo(Pseudo::UrlSuffix)
                .text(&format!("/{name}:"))
                .var("Tag", tag.clone())
                .build(),
            ContainerImage::Repository {
                repository_uri,
                tag,
                ..
            } => match repository_uri.as_literal() {
                Some(uri) => fns::Sub::new().text(uri),
                None => fns::Sub::new().var("Repository", repository_uri.clone()),
            }
            .text(":")
            .var("Tag", tag.clone())
            .build(),
            ContainerImage::Registry(image) => image.clone(),
        }
    }

    /// The ECR repository ARN, checking the URI.
    fn repository_arn(&self, path: &str) -> Result<Option<Value<String>>> {
        let repository_uri = match self {
            ContainerImage::Ecr { repository_uri, .. } => repository_uri,
            ContainerImage::EcrRepository { name, .. } => {
                let ok = !name.is_empty()
                    && name.len() <= 256
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b)
                    });
                if !ok {
                    return Err(util::invalid_prop(
                        path,
                        "containers.image",
                        name,
                        format!(
                            "ECR repository name {name:?} must be lower-case letters, digits, '.', '_', '-' and '/', such as \"omc/backend\""
                        ),
                    ));
                }
                return Ok(Some(util::arn(
                    "ecr",
                    true,
                    true,
                    &format!("repository/{name}"),
                )));
            }
            ContainerImage::Repository { repository_arn, .. } => {
                return Ok(Some(repository_arn.clone()));
            }
            ContainerImage::Registry(_) => return Ok(None),
        };
        let parsed = repository_uri.split_once('/').and_then(|(host, name)| {
            let parts: Vec<&str> = host.split('.').collect();
            match parts.as_slice() {
                [account, "dkr", "ecr", region, "amazonaws", "com"]
                | [account, "dkr", "ecr", region, "amazonaws", "com", "cn"]
                    if account.len() == 12
                        && account.bytes().all(|b| b.is_ascii_digit())
                        && !name.is_empty()
                        && !name.contains(':') =>
                {
                    Some((*account, *region, name))
                }
                _ => None,
            }
        });
        let Some((account, region, name)) = parsed else {
            return Err(util::invalid_prop(
                path,
                "containers.image",
                repository_uri,
                format!(
                    "{repository_uri:?} is not an ECR repository URI such as \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/backend\" (the tag is given separately)"
                ),
            ));
        };
        Ok(Some(
            fns::Sub::new()
                .text("arn:")
                .pseudo(Pseudo::Partition)
                .text(&format!(":ecr:{region}:{account}:repository/{name}"))
                .build(),
        ))
    }
}

/// A container's health check, run by ECS inside the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerHealthCheck {
    /// The command, such as `["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"]`.
    pub command: Vec<String>,
    /// Seconds between checks (5 to 300). Default: 30.
    pub interval_seconds: u32,
    /// Seconds before a check fails (2 to 120). Default: 5.
    pub timeout_seconds: u32,
    /// Failures before the container is unhealthy (1 to 10). Default: 3.
    pub retries: u32,
    /// Seconds to ignore failures after start (0 to 300). Default: 10.
    pub start_period_seconds: u32,
}

impl ContainerHealthCheck {
    /// A shell command that exits 0 when healthy.
    pub fn shell(command: impl Into<String>) -> ContainerHealthCheck {
        ContainerHealthCheck {
            command: vec!["CMD-SHELL".into(), command.into()],
            interval_seconds: 30,
            timeout_seconds: 5,
            retries: 3,
            start_period_seconds: 10,
        }
    }
}

/// One container of a task.
#[derive(Clone, Debug)]
pub struct ContainerProps {
    /// The container's name.
    pub name: String,
    /// The image.
    pub image: ContainerImage,
    /// The port it listens on. Default: none.
    pub port: Option<u16>,
    /// Environment variables. Default: none.
    pub environment: IndexMap<String, Value<String>>,
    /// Environment variables from Secrets Manager (the execution role may read exactly
    /// these secrets). Default: none.
    pub secrets: IndexMap<String, SecretField>,
    /// Overrides the image's command. Default: the image's.
    pub command: Vec<String>,
    /// Health check. Default: none.
    pub health_check: Option<ContainerHealthCheck>,
    /// The task stops when this container stops. Default: `true`.
    pub essential: bool,
    /// Mounts the root file system read-only, with a writable `/tmp` volume. Default: `true`.
    pub readonly_root_filesystem: bool,
    /// More directories the image writes to under a read-only root, each a task-local volume
    /// (such as nginx's `/var/cache/nginx` and `/run`). Default: none.
    pub writable_paths: Vec<String>,
}

impl ContainerProps {
    /// A container with a name and image.
    pub fn new(name: impl Into<String>, image: ContainerImage) -> ContainerProps {
        ContainerProps {
            name: name.into(),
            image,
            port: None,
            environment: IndexMap::new(),
            secrets: IndexMap::new(),
            command: Vec::new(),
            health_check: None,
            essential: true,
            readonly_root_filesystem: true,
            writable_paths: Vec::new(),
        }
    }
}

/// The task-local volume of a container's writable path: `<container>-var-cache-nginx`.
fn writable_volume(container: &str, path: &str) -> String {
    let slug: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{container}-{slug}")
}

/// An EFS access point mounted into the task's containers, with IAM authorization and TLS.
#[derive(Clone, Debug)]
pub struct EfsVolume<'a> {
    /// The access point.
    pub access_point: &'a AccessPoint,
    /// Where it is mounted.
    pub container_path: String,
    /// Mounted read-only. Default in [`EfsVolume::new`]: `false`.
    pub read_only: bool,
}

impl<'a> EfsVolume<'a> {
    /// A read-write mount of `access_point` at `container_path`.
    pub fn new(access_point: &'a AccessPoint, container_path: impl Into<String>) -> EfsVolume<'a> {
        EfsVolume {
            access_point,
            container_path: container_path.into(),
            read_only: false,
        }
    }
}

/// CPU architectures Fargate runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuArchitecture {
    /// x86-64.
    X86_64,
    /// Graviton (about 20% cheaper per vCPU-hour).
    Arm64,
}

/// The memory sizes Fargate accepts for a CPU size, in MiB.
fn valid_memory(cpu: u32) -> Option<Vec<u32>> {
    let range = |from: u32, to: u32, step: usize| (from..=to).step_by(step).collect();
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122_880, 8192),
        _ => return None,
    })
}

pub(crate) fn check_size(path: &str, cpu: u32, memory: u32) -> Result<()> {
    let Some(valid) = valid_memory(cpu) else {
        return Err(util::invalid_prop(
            path,
            "cpu",
            cpu,
            format!(
                "cpu {cpu} is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units"
            ),
        ));
    };
    if !valid.contains(&memory) {
        let list: Vec<String> = valid.iter().map(u32::to_string).collect();
        return Err(util::invalid_prop(
            path,
            "memory_mib",
            memory,
            format!(
                "Fargate does not run {cpu} CPU units with {memory} MiB; with {cpu} CPU units the memory is one of {} MiB",
                list.join(", ")
            ),
        ));
    }
    Ok(())
}

pub(crate) struct TaskSpec<'a, 'v> {
    pub(crate) cpu: u32,
    pub(crate) memory_mib: u32,
    pub(crate) containers: &'a [ContainerProps],
    pub(crate) volumes: &'a [EfsVolume<'v>],
    pub(crate) log_retention: Retention,
    pub(crate) log_key: Option<&'v crate::Key>,
    pub(crate) architecture: CpuArchitecture,
    pub(crate) https_egress: bool,
}

pub(crate) struct BuiltTask {
    pub(crate) definition: ecs::TaskDefinitionHandle,
    pub(crate) execution_role: Role,
    pub(crate) task_role: Role,
    pub(crate) log_group: LogGroup,
}

fn check_containers(path: &str, containers: &[ContainerProps]) -> Result<()> {
    if containers.is_empty() {
        return Err(util::invalid_prop(
            path,
            "containers",
            "[]",
            "a task needs at least one container",
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for c in containers {
        let ok = !c.name.is_empty()
            && c.name.len() <= 255
            && c.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(util::invalid_prop(
                path,
                "containers.name",
                &c.name,
                format!(
                    "container name {:?} must be 1 to 255 letters, digits, '-' and '_'",
                    c.name
                ),
            ));
        }
        if !names.insert(c.name.as_str()) {
            return Err(util::invalid_prop(
                path,
                "containers.name",
                &c.name,
                format!("two containers are named {:?}", c.name),
            ));
        }
        let mut writable = std::collections::BTreeSet::new();
        for dir in &c.writable_paths {
            let fail = |why: &str| {
                Err(util::invalid_prop(
                    path,
                    "containers.writable_paths",
                    dir,
                    format!("container {:?}: writable path {dir:?} {why}", c.name),
                ))
            };
            if !c.readonly_root_filesystem {
                return fail(
                    "is only needed with readonly_root_filesystem: the whole root is writable",
                );
            }
            if !dir.starts_with('/') || dir.trim_matches('/').is_empty() || dir.contains("..") {
                return fail(
                    "must be an absolute directory other than `/`, such as \"/var/cache/nginx\"",
                );
            }
            if dir.trim_end_matches('/') == "/tmp" {
                return fail("is writable already (every read-only root gets a /tmp volume)");
            }
            if !writable.insert(writable_volume(&c.name, dir)) {
                return fail("is listed twice");
            }
        }
        if c.port == Some(0) {
            return Err(util::invalid_prop(
                path,
                "containers.port",
                0,
                format!("container {:?}: port 0 is not a port", c.name),
            ));
        }
        let keys = (c
            .environment
            .keys()
            .map(|key| ("containers.environment", key)))
        .chain(c.secrets.keys().map(|key| ("containers.secrets", key)));
        for (field, key) in keys {
            let ok = !key.is_empty()
                && !key.starts_with(|ch: char| ch.is_ascii_digit())
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(util::invalid_prop(
                    path,
                    field,
                    key,
                    format!(
                        "container {:?}: environment variable name {key:?} must be letters, digits and '_', not starting with a digit",
                        c.name
                    ),
                ));
            }
        }
        if let Some(key) = c.environment.keys().find(|k| c.secrets.contains_key(*k)) {
            return Err(util::invalid_prop(
                path,
                "containers.secrets",
                key,
                format!(
                    "container {:?}: {key:?} is both an environment variable and a secret",
                    c.name
                ),
            ));
        }
        if let Some(hc) = &c.health_check {
            let bad = if hc.command.is_empty() {
                Some(("containers.health_check.command", "[]".to_owned()))
            } else if !(5..=300).contains(&hc.interval_seconds) {
                Some((
                    "containers.health_check.interval_seconds",
                    hc.interval_seconds.to_string(),
                ))
            } else if !(2..=120).contains(&hc.timeout_seconds) {
                Some((
                    "containers.health_check.timeout_seconds",
                    hc.timeout_seconds.to_string(),
                ))
            } else if !(1..=10).contains(&hc.retries) {
                Some(("containers.health_check.retries", hc.retries.to_string()))
            } else if hc.start_period_seconds > 300 {
                Some((
                    "containers.health_check.start_period_seconds",
                    hc.start_period_seconds.to_string(),
                ))
            } else {
                None
            };
            if let Some((field, value)) = bad {
                return Err(util::invalid_prop(
                    path,
                    field,
                    value,
                    format!(
                        "container {:?}: health check needs a command, interval 5-300 s, timeout 2-120 s, retries 1-10, start period 0-300 s",
                        c.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Checks a task before anything is created, so a refused construct leaves nothing behind;
/// returns the ECR repository ARNs the execution role may pull from.
pub(crate) fn check_spec(
    path: &str,
    spec: &TaskSpec<'_, '_>,
) -> Result<Vec<Option<Value<String>>>> {
    check_size(path, spec.cpu, spec.memory_mib)?;
    check_containers(path, spec.containers)?;
    crate::log_group::check_retention(path, "log_retention", spec.log_retention)?;
    let repositories = spec
        .containers
        .iter()
        .map(|c| c.image.repository_arn(path))
        .collect::<Result<Vec<_>>>()?;
    for volume in spec.volumes {
        if !volume.container_path.starts_with('/') {
            return Err(util::invalid_prop(
                path,
                "volumes.container_path",
                &volume.container_path,
                format!(
                    "EFS volume path {:?} must be absolute",
                    volume.container_path
                ),
            ));
        }
    }
    Ok(repositories)
}

/// What services and scheduled tasks share: the construct's scope, its task definition and roles,
/// and its security group (HTTPS out for image pulls, secrets, logs and AWS APIs; NFS to the
/// file systems of its volumes).
pub(crate) struct TaskParts {
    pub(crate) scope: Scope,
    pub(crate) task: BuiltTask,
    pub(crate) security_group: SecurityGroup,
    /// What must exist before a task starts: the subnets' route out (to pull the image) and
    /// the mount targets of its file systems.
    pub(crate) start_after: Vec<omc_cdk::Resource>,
}

/// Checks `spec`, then creates the construct `id` with its task definition and security group.
pub(crate) fn new_task(
    scope: &Scope,
    id: &str,
    path: &str,
    vpc: &Vpc,
    subnets: SubnetKind,
    spec: &TaskSpec<'_, '_>,
) -> Result<TaskParts> {
    check_spec(path, spec)?;
    let scope = scope.child(id)?;
    let task = task_definition(&scope, path, spec)?;
    let security_group = SecurityGroup::new(
        &scope,
        "SecurityGroup",
        SecurityGroupProps::new(vpc, util::sg_text(&format!("{path} tasks"))),
    )?;
    if spec.https_egress {
        security_group.add_egress_rule(
            &Peer::any_ipv4(),
            Port::tcp(443),
            "HTTPS out: image pulls, secrets, logs and AWS APIs",
        )?;
    }
    for volume in spec.volumes {
        volume
            .access_point
            .file_system()
            .connections()
            .allow_default_port_from(&security_group, "Tasks to EFS")?;
    }
    let mut start_after = vpc.internet_connectivity(subnets);
    for volume in spec.volumes {
        start_after.extend(
            volume
                .access_point
                .file_system()
                .mount_targets()
                .iter()
                .cloned(),
        );
    }
    Ok(TaskParts {
        scope,
        task,
        security_group,
        start_after,
    })
}

fn task_definition(scope: &Scope, path: &str, spec: &TaskSpec<'_, '_>) -> Result<BuiltTask> {
    let repositories = check_spec(path, spec)?;

    let log_group = LogGroup::new(
        scope,
        "Logs",
        LogGroupProps {
            kms_key: spec.log_key,
            ..LogGroupProps::new(spec.log_retention)
        },
    )?;
    let execution_role = Role::new(
        scope,
        "ExecutionRole",
        RoleProps {
            description: Some(format!(
                "Pulls images, writes logs and reads secrets for {path}"
            )),
            ..RoleProps::new(Principal::service("ecs-tasks.amazonaws.com"))
        },
    )?;
    let task_role = Role::new(
        scope,
        "TaskRole",
        RoleProps {
            description: Some(format!("What the containers of {path} may do")),
            ..RoleProps::new(Principal::service("ecs-tasks.amazonaws.com"))
        },
    )?;
    // Least privilege for the execution role: exactly these repositories, this log group,
    // these secrets.
    let repositories: Vec<Value<String>> = repositories.into_iter().flatten().collect();
    if !repositories.is_empty() {
        execution_role.add_to_policy(PolicyStatement::allow(
            ["ecr:GetAuthorizationToken"],
            ["*".into()],
        ));
        let mut unique = Vec::new();
        for arn in repositories {
            if !unique.contains(&arn) {
                unique.push(arn);
            }
        }
        execution_role.add_to_policy(PolicyStatement::allow(
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            unique,
        ));
    }
    log_group.grant_write(&execution_role);
    for container in spec.containers {
        for field in container.secrets.values() {
            field.secret().grant_read(&execution_role);
        }
    }

    let mut volumes = Vec::new();
    for (i, volume) in spec.volumes.iter().enumerate() {
        let ap = volume.access_point;
        let fs = ap.file_system();
        let mut actions = vec!["elasticfilesystem:ClientMount"];
        if !volume.read_only {
            actions.push("elasticfilesystem:ClientWrite");
        }
        task_role.add_to_policy(
            PolicyStatement::allow(actions, [fs.file_system_arn()]).with_condition(
                omc_cdk::Node::map([(
                    "StringEquals",
                    omc_cdk::Node::map([(
                        "elasticfilesystem:AccessPointArn",
                        util::node(ap.access_point_arn()),
                    )]),
                )]),
            ),
        );
        volumes.push(ecs::task_definition::Volume {
            name: Some(format!("efs{}", i + 1).into()),
            efs_volume_configuration: Some(
                ecs::task_definition::EfsVolumeConfiguration {
                    transit_encryption: Some("ENABLED".into()),
                    authorization_config: Some(
                        ecs::task_definition::AuthorizationConfig {
                            access_point_id: Some(ap.access_point_id()),
                            iam: Some("ENABLED".into()),
                        }
                        .into(),
                    ),
                    ..ecs::task_definition::EfsVolumeConfiguration::new(fs.file_system_id())
                }
                .into(),
            ),
            ..ecs::task_definition::Volume::default()
        });
    }
    let needs_tmp = spec.containers.iter().any(|c| c.readonly_root_filesystem);
    if needs_tmp {
        volumes.push(ecs::task_definition::Volume {
            name: Some("tmp".into()),
            ..ecs::task_definition::Volume::default()
        });
    }
    for c in spec.containers {
        for dir in &c.writable_paths {
            volumes.push(ecs::task_definition::Volume {
                name: Some(writable_volume(&c.name, dir).into()),
                ..ecs::task_definition::Volume::default()
            });
        }
    }

    let stack = scope.stack();
    let containers: Vec<ecs::task_definition::ContainerDefinition> = spec
        .containers
        .iter()
        .map(|c| {
            let mut mounts: Vec<ecs::task_definition::MountPoint> = spec
                .volumes
                .iter()
                .enumerate()
                .map(|(i, v)| ecs::task_definition::MountPoint {
                    container_path: Some(v.container_path.as_str().into()),
                    source_volume: Some(format!("efs{}", i + 1).into()),
                    read_only: Some(v.read_only.into()),
                })
                .collect();
            if c.readonly_root_filesystem {
                mounts.push(ecs::task_definition::MountPoint {
                    container_path: Some("/tmp".into()),
                    source_volume: Some("tmp".into()),
                    read_only: Some(false.into()),
                });
            }
            for dir in &c.writable_paths {
                mounts.push(ecs::task_definition::MountPoint {
                    container_path: Some(dir.as_str().into()),
                    source_volume: Some(writable_volume(&c.name, dir).into()),
                    read_only: Some(false.into()),
                });
            }
            ecs::task_definition::ContainerDefinition {
                essential: Some(c.essential.into()),
                readonly_root_filesystem: Some(c.readonly_root_filesystem.into()),
                port_mappings: c.port.map(|p| {
                    vec![ecs::task_definition::PortMapping {
                        container_port: Some(i64::from(p).into()),
                        protocol: Some("tcp".into()),
                        ..ecs::task_definition::PortMapping::default()
                    }]
                    .into()
                }),
                environment: (!c.environment.is_empty()).then(|| {
                    c.environment
                        .iter()
                        .map(|(k, v)| ecs::task_definition::KeyValuePair {
                            name: Some(k.as_str().into()),
                            value: Some(v.clone()),
                        })
                        .collect::<Vec<_>>()
                        .into()
                }),
                secrets: (!c.secrets.is_empty()).then(|| {
                    c.secrets
                        .iter()
                        .map(|(k, v)| ecs::task_definition::Secret::new(k.as_str(), v.value_from()))
                        .collect::<Vec<_>>()
                        .into()
                }),
                command: (!c.command.is_empty()).then(|| {
                    c.command
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .into()
                }),
                health_check: c.health_check.as_ref().map(|hc| {
                    ecs::task_definition::HealthCheck {
                        command: Some(
                            hc.command
                                .iter()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .into(),
                        ),
                        interval: Some(i64::from(hc.interval_seconds).into()),
                        timeout: Some(i64::from(hc.timeout_seconds).into()),
                        retries: Some(i64::from(hc.retries).into()),
                        start_period: Some(i64::from(hc.start_period_seconds).into()),
                    }
                    .into()
                }),
                mount_points: (!mounts.is_empty()).then(|| mounts.into()),
                log_configuration: Some(
                    ecs::task_definition::LogConfiguration {
                        options: Some(
                            IndexMap::from([
                                ("awslogs-group".to_owned(), log_group.log_group_name()),
                                ("awslogs-region".to_owned(), stack.region()),
                                ("awslogs-stream-prefix".to_owned(), c.name.as_str().into()),
                            ])
                            .into(),
                        ),
                        ..ecs::task_definition::LogConfiguration::new("awslogs")
                    }
                    .into(),
                ),
                ..ecs::task_definition::ContainerDefinition::new(c.image.image(), c.name.as_str())
            }
        })
        .collect();

    let definition = scope.add(
        "TaskDefinition",
        ecs::TaskDefinition {
            cpu: Some(spec.cpu.to_string().into()),
            memory: Some(spec.memory_mib.to_string().into()),
            network_mode: Some("awsvpc".into()),
            requires_compatibilities: Some(vec!["FARGATE"].into()),
            runtime_platform: Some(
                ecs::task_definition::RuntimePlatform {
                    cpu_architecture: Some(
                        match spec.architecture {
                            CpuArchitecture::X86_64 => "X86_64",
                            CpuArchitecture::Arm64 => "ARM64",
                        }
                        .into(),
                    ),
                    operating_system_family: Some("LINUX".into()),
                }
                .into(),
            ),
            execution_role_arn: Some(execution_role.role_arn()),
            task_role_arn: Some(task_role.role_arn()),
            container_definitions: Some(containers.into()),
            volumes: (!volumes.is_empty()).then(|| volumes.into()),
            ..ecs::TaskDefinition::new()
        },
    )?;
    Ok(BuiltTask {
        definition,
        execution_role,
        task_role,
        log_group,
    })
}
