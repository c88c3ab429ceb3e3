//! The EKS cluster of self-hosted GitHub Actions runners: a system node group and a runner node
//! group that scales to zero. It is for CI runners only and offers no API for application
//! workloads (applications run on ECS).
//!
//! # Runners execute pull-request code
//!
//! Every job runs code from a pull request, so the cluster assumes a job may be hostile:
//!
//! - **IMDS is locked down.** Both node groups boot from an `AWS::EC2::LaunchTemplate` that
//!   requires `IMDSv2` tokens with a response hop limit of 1: a pod in its own network namespace
//!   is one hop too far to read the node role's credentials. (The template also holds the
//!   encrypted gp3 root volume: with a launch template, EKS refuses `DiskSize` and
//!   `RemoteAccess` on the node group.)
//! - **Runner nodes are dedicated.** They carry a `NoSchedule` taint that only runner pods
//!   tolerate, one runner pod fills a node, and Actions Runner Controller runners are ephemeral
//!   (a new pod for every job).
//! - **The runner image is pinned** ([`DEFAULT_RUNNER_VERSION`], never `latest`), and so are
//!   the charts ([`ARC_CHART_VERSION`]).
//!
//! # Container mode: Kubernetes by default, Docker-in-Docker when a workflow must build images
//!
//! Workflows use containers two ways: `docker build` (and `docker run`) in a step, and job
//! containers and `services:`. The runner scale set offers two modes ([`ContainerMode`]):
//!
//! - [`ContainerMode::Dind`]: a `docker:dind` sidecar gives each runner a Docker daemon, so
//!   `docker build`, `docker compose`, `container:` and `services:` work exactly as on
//!   GitHub-hosted runners. The sidecar is **privileged**: a job can take over its node
//!   (mount the host's disk, load kernel modules), and from the node reach everything the node
//!   can, including IMDS, whatever the hop limit. The blast radius is the runner node (which
//!   runs nothing else and is replaced as the group scales to zero) and the node role
//!   (ECR read-only, the VPC CNI's ENI calls, joining the cluster).
//! - [`ContainerMode::Kubernetes`]: no privilege at all. The runner's container hooks turn job
//!   containers and `services:` into pods on the runner's node, sharing the work directory
//!   through an ephemeral volume claim; the construct then installs the EBS CSI driver add-on
//!   (with a Pod Identity role) and writes the gp3, encrypted storage class the claims use
//!   ([`RUNNER_STORAGE_CLASS`]). The driver, one hop too far from IMDS like every pod, reads
//!   its instance and zone from the Kubernetes node objects instead. Every job must name a
//!   `container:`, and `docker build` does not work without extra tooling (Kaniko, rootless
//!   `BuildKit`).
//!
//! The default is Kubernetes mode, the one without privilege: a cluster that runs untrusted
//! code must opt in to privileged containers. The `ci` app opts in to Docker-in-Docker, since
//! the platform's workflows build images with `docker build`, and it relies on the dedicated
//! runner nodes above to contain a job that escapes.

use omc_cdk::{IndexMap, Node, Result, Scope, TypedResource, Value};
use omc_cfn::{ec2, eks};
use serde_json::json;

use crate::iam::{PolicyStatement, Principal, Role, RoleProps};
use crate::kms::{Key, KeyProps};
use crate::monitoring::{AlarmSpec, Monitoring, above};
use crate::util::{self, node};
use crate::vpc::{SubnetKind, Vpc};
use crate::yaml::to_yaml;

/// Kubernetes versions EKS runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KubernetesVersion {
    /// 1.31
    V1_31,
    /// 1.32
    V1_32,
    /// 1.33
    V1_33,
    /// 1.34
    V1_34,
}

impl KubernetesVersion {
    /// The version as EKS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            KubernetesVersion::V1_31 => "1.31",
            KubernetesVersion::V1_32 => "1.32",
            KubernetesVersion::V1_33 => "1.33",
            KubernetesVersion::V1_34 => "1.34",
        }
    }
}

/// The node group for cluster services (CoreDNS, the Actions Runner Controller,
/// cluster-autoscaler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemNodesProps {
    /// Instance type. Default: `t3.medium`.
    pub instance_type: String,
    /// How many nodes (fixed). Default: 1.
    pub count: u32,
    /// Root volume in GiB. Default: 20.
    pub disk_gib: u32,
}

impl Default for SystemNodesProps {
    fn default() -> Self {
        SystemNodesProps {
            instance_type: "t3.medium".into(),
            count: 1,
            disk_gib: 20,
        }
    }
}

/// The node group where runner pods run; cluster-autoscaler scales it between `min` and `max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerNodesProps {
    /// Instance type. Default: `t3.large`.
    pub instance_type: String,
    /// Fewest nodes. Default: 0 (no cost while no job runs).
    pub min: u32,
    /// Most nodes. Default: 10.
    pub max: u32,
    /// Nodes at creation. Default: 0.
    pub desired: u32,
    /// Spot instances (cheaper; a job can be interrupted). Default: `false`.
    pub spot: bool,
    /// Root volume in GiB. Default: 50.
    pub disk_gib: u32,
    /// CPU and memory each runner pod requests, one runner per node. Default: derived from
    /// `instance_type` (its vCPUs less half a vCPU, three quarters of its memory: 1500m and
    /// 6 GiB on a t3.large); required for instance types omc-constructs does not know.
    pub pod_resources: Option<PodResources>,
}

impl Default for RunnerNodesProps {
    fn default() -> Self {
        RunnerNodesProps {
            instance_type: "t3.large".into(),
            min: 0,
            max: 10,
            desired: 0,
            spot: false,
            disk_gib: 50,
            pod_resources: None,
        }
    }
}

/// What a runner pod requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodResources {
    /// Thousandths of a vCPU.
    pub cpu_millis: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
}

/// vCPUs and memory (GiB) of an instance type of a common family, for runner pod requests.
fn instance_size(instance_type: &str) -> Option<(u32, u32)> {
    let (family, size) = instance_type.split_once('.')?;
    if matches!(family, "t3" | "t3a" | "t4g") {
        return match size {
            "medium" => Some((2, 4)),
            "large" => Some((2, 8)),
            "xlarge" => Some((4, 16)),
            "2xlarge" => Some((8, 32)),
            _ => None,
        };
    }
    let memory_per_cpu = match family.trim_end_matches(['a', 'd', 'g', 'i', 'n']) {
        "m5" | "m6" | "m7" | "m8" => 4,
        "c5" | "c6" | "c7" | "c8" => 2,
        "r5" | "r6" | "r7" | "r8" => 8,
        _ => return None,
    };
    let cpus = match size {
        "large" => 2,
        "xlarge" => 4,
        other => other.strip_suffix("xlarge")?.parse::<u32>().ok()? * 4,
    };
    Some((cpus, cpus * memory_per_cpu))
}

/// Whether an instance type is Graviton (arm64): its family has a `g` after the generation,
/// such as `t4g`, `m7g`, `c7gn`, or is `a1`.
fn is_arm(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or_default();
    family == "a1"
        || family
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .starts_with('g')
}

/// The AL2023 AMI type for an instance type.
fn ami_type(instance_type: &str) -> &'static str {
    if is_arm(instance_type) {
        "AL2023_ARM_64_STANDARD"
    } else {
        "AL2023_x86_64_STANDARD"
    }
}

/// The Helm release and namespace of the Actions Runner Controller.
const CONTROLLER_RELEASE: &str = "arc";
const CONTROLLER_NAMESPACE: &str = "arc-systems";
/// The controller's service account, which the scale set names.
const CONTROLLER_SERVICE_ACCOUNT: &str = "arc-gha-rs-controller";
/// The namespace of the runner scale set and its runner pods.
const RUNNER_NAMESPACE: &str = "arc-runners";

/// The name of the system node group; its Auto Scaling group is `eks-system-<uuid>`.
const SYSTEM_GROUP: &str = "system";
/// The name of the runner node group; its Auto Scaling group is `eks-runners-<uuid>`.
const RUNNER_GROUP: &str = "runners";

/// A node group's launch template: `IMDSv2` only with a hop limit of 1, so that pods (one hop
/// further, in their own network namespace) cannot read the node role's credentials, and an
/// encrypted gp3 root volume. It names no AMI or instance type: the node group chooses those.
fn node_launch_template(
    scope: &Scope,
    id: &str,
    disk_gib: u32,
) -> Result<ec2::LaunchTemplateHandle> {
    scope.add(
        id,
        ec2::LaunchTemplate::new(ec2::launch_template::LaunchTemplateData {
            metadata_options: Some(
                ec2::launch_template::MetadataOptions {
                    http_endpoint: Some("enabled".into()),
                    http_tokens: Some("required".into()),
                    http_put_response_hop_limit: Some(1.into()),
                    ..ec2::launch_template::MetadataOptions::default()
                }
                .into(),
            ),
            block_device_mappings: Some(
                vec![ec2::launch_template::BlockDeviceMapping {
                    // The root device of the EKS AL2023 AMIs.
                    device_name: Some("/dev/xvda".into()),
                    ebs: Some(
                        ec2::launch_template::Ebs {
                            volume_size: Some(i64::from(disk_gib).into()),
                            volume_type: Some("gp3".into()),
                            encrypted: Some(true.into()),
                            delete_on_termination: Some(true.into()),
                            ..ec2::launch_template::Ebs::default()
                        }
                        .into(),
                    ),
                    ..ec2::launch_template::BlockDeviceMapping::default()
                }]
                .into(),
            ),
            ..ec2::launch_template::LaunchTemplateData::default()
        }),
    )
}

/// A node group's reference to its launch template (its latest version, so a change to the
/// template rolls the nodes).
fn launch_template_spec(
    template: &ec2::LaunchTemplateHandle,
) -> Value<eks::nodegroup::LaunchTemplateSpecification> {
    eks::nodegroup::LaunchTemplateSpecification {
        id: Some(template.reference()),
        version: Some(template.attr_latest_version_number()),
        ..eks::nodegroup::LaunchTemplateSpecification::default()
    }
    .into()
}

/// How the runner cluster is created.
#[derive(Clone, Debug)]
pub struct EksRunnerClusterProps<'a> {
    /// The VPC.
    pub vpc: &'a Vpc,
    /// The cluster's name. Default in [`EksRunnerClusterProps::new`]: `OMC-test`.
    pub name: String,
    /// Kubernetes version. Default: 1.34. The cluster stays on standard support: when a
    /// version leaves it, EKS upgrades the cluster rather than charging for extended support.
    pub version: KubernetesVersion,
    /// Days the control plane's logs (`/aws/eks/<name>/cluster`) are kept. Default: 30.
    pub log_retention: crate::Retention,
    /// Encrypts the control plane's log group with this customer-managed key (its policy is
    /// extended for CloudWatch Logs, once however many log groups use it). Default: none:
    /// CloudWatch Logs' own encryption, which the `logs-kms-key` check reports (an error in
    /// production).
    pub log_key: Option<&'a crate::Key>,
    /// Where the nodes run. Default: [`SubnetKind::PrivateWithEgress`].
    pub subnets: SubnetKind,
    /// The system node group. Default: 1x t3.medium.
    pub system_nodes: SystemNodesProps,
    /// The runner node group. Default: t3.large, 0 to 10 nodes.
    pub runner_nodes: RunnerNodesProps,
    /// IAM roles given cluster-admin through access entries. Default: none (then the creator of
    /// the cluster is admin).
    pub admin_role_arns: Vec<omc_cdk::arn::RoleArn>,
    /// Address ranges that may reach the public API endpoint. Default: none: the endpoint is
    /// private only.
    pub public_access_cidrs: Vec<String>,
    /// The GitHub organization or repository URL the runners register with.
    pub github_config_url: String,
    /// The Kubernetes secret with the GitHub App credentials (created when installing the
    /// runner scale set). Default: `arc-github-app`.
    pub github_config_secret: String,
    /// The runner scale set's name, which workflows use in `runs-on`. Default: `omc-runners`.
    pub runner_scale_set_name: String,
    /// How jobs get containers. Default: [`ContainerMode::Kubernetes`] with 20 GiB work
    /// volumes (no privileged container).
    pub container_mode: ContainerMode,
    /// The version tag of the runner image `ghcr.io/actions/actions-runner`, `x.y.z`.
    /// Default: [`DEFAULT_RUNNER_VERSION`]. `latest` is refused: a pinned image changes only
    /// when this value does.
    pub runner_version: String,
}

impl<'a> EksRunnerClusterProps<'a> {
    /// The `OMC-test` runner cluster for `github_config_url`, in `vpc`'s private subnets.
    pub fn new(vpc: &'a Vpc, github_config_url: impl Into<String>) -> EksRunnerClusterProps<'a> {
        EksRunnerClusterProps {
            vpc,
            name: "OMC-test".into(),
            version: KubernetesVersion::V1_34,
            log_retention: crate::Retention::Days(30),
            log_key: None,
            subnets: SubnetKind::PrivateWithEgress,
            system_nodes: SystemNodesProps::default(),
            runner_nodes: RunnerNodesProps::default(),
            admin_role_arns: Vec::new(),
            public_access_cidrs: Vec::new(),
            github_config_url: github_config_url.into(),
            github_config_secret: "arc-github-app".into(),
            runner_scale_set_name: "omc-runners".into(),
            container_mode: ContainerMode::default(),
            runner_version: DEFAULT_RUNNER_VERSION.into(),
        }
    }
}

/// The version of the Actions Runner Controller charts (`gha-runner-scale-set-controller` and
/// `gha-runner-scale-set`) the values are written for; the install commands pin it.
pub const ARC_CHART_VERSION: &str = "0.14.2";

/// The runner image version (`ghcr.io/actions/actions-runner:<version>`) of
/// [`EksRunnerClusterProps::runner_version`] by default.
pub const DEFAULT_RUNNER_VERSION: &str = "2.336.0";

/// The storage class of the runners' work volumes in [`ContainerMode::Kubernetes`] (gp3,
/// encrypted, through the EBS CSI driver); synthesis writes it to
/// `<Stack>.runner-storage-class.yaml`.
pub const RUNNER_STORAGE_CLASS: &str = "omc-runner-work";

/// How jobs get containers (job containers, `services:`, `docker build`); see the module docs
/// for the trade-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerMode {
    /// Job containers and services become pods (`containerMode.type: kubernetes`); no
    /// privileged container. Each runner gets an ephemeral EBS work volume of
    /// `work_volume_gib`. Jobs must run in a `container:`; `docker build` does not work.
    Kubernetes {
        /// Size of each runner's work volume in GiB (1 to 1000).
        work_volume_gib: u32,
    },
    /// A privileged Docker daemon sidecar beside each runner (`containerMode.type: dind`):
    /// `docker build` and `services:` work unchanged, and a job can take over its node.
    Dind,
}

impl Default for ContainerMode {
    /// Kubernetes mode with a 20 GiB work volume: no privileged container.
    fn default() -> ContainerMode {
        ContainerMode::Kubernetes {
            work_volume_gib: 20,
        }
    }
}

/// The label of runner nodes, which runner pods select.
pub const RUNNER_LABEL: (&str, &str) = ("omc.io/role", "runner");
/// The label of system nodes.
pub const SYSTEM_LABEL: (&str, &str) = ("omc.io/role", "system");
/// The taint that keeps everything but runner pods off runner nodes.
pub const RUNNER_TAINT: &str = "omc.io/runner";

/// An EKS cluster for self-hosted GitHub Actions runners that scales to zero.
///
/// Defines the cluster (all control-plane log types, secrets encrypted with a KMS key, API
/// access entries, private endpoint unless public ranges are given), its IAM roles, the
/// managed add-ons vpc-cni, coredns, kube-proxy and eks-pod-identity-agent (and
/// aws-ebs-csi-driver in [`ContainerMode::Kubernetes`]), a system node group and a runner node
/// group (runner label, `NoSchedule` taint), each booting from a launch template that keeps
/// pods away from the instance metadata service, and a Pod Identity role for
/// cluster-autoscaler that may only change the runner group. Synthesis writes beside the
/// template, each file headed by its install command with pinned chart versions:
///
/// - `<Stack>.cluster-autoscaler.values.yaml`: Helm values for cluster-autoscaler; they name
///   the region, so the stack needs an environment with one;
/// - `<Stack>.arc-controller.values.yaml`: Helm values for the Actions Runner Controller
///   (`gha-runner-scale-set-controller`, on the system nodes), installed first;
/// - `<Stack>.runner-storage-class.yaml` (Kubernetes mode only): the work volumes' storage
///   class, applied with `kubectl`;
/// - `<Stack>.runner-scale-set.values.yaml`: Helm values for the runner scale set
///   (`gha-runner-scale-set`): container mode, pinned runner image, node selector, toleration
///   and requests of the runner pods.
///
/// [`EksRunnerCluster::add_alarms`] sends node failures to a [`Monitoring`] topic.
///
/// ```
/// use omc_cdk::{App, Environment, Stack, StackProps, assertions::Template};
/// use omc_constructs::{ContainerMode, Key, KeyProps, Vpc, VpcProps, EksRunnerCluster, EksRunnerClusterProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let env = Some(Environment::region("eu-central-1"));
/// let stack = Stack::new(&app, "Ci", StackProps { env, ..StackProps::default() })?;
/// // Production's checks want every log group under a customer-managed key.
/// let logs_key = Key::new(&stack, "LogsKey", KeyProps::default())?;
/// let vpc = Vpc::new(&stack, "Vpc", VpcProps { flow_log_key: Some(logs_key.clone()), ..VpcProps::default() })?;
/// EksRunnerCluster::new(&stack, "Runners", EksRunnerClusterProps {
///     container_mode: ContainerMode::Dind,
///     log_key: Some(&logs_key),
///     ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
/// })?;
/// let t = Template::from_stack(&stack)?;
/// t.has_resource_properties("AWS::EKS::Nodegroup", json!({
///     "ScalingConfig": {"MinSize": 0, "MaxSize": 10, "DesiredSize": 0},
///     "Taints": [{"Key": "omc.io/runner", "Effect": "NO_SCHEDULE"}]
/// }))?;
/// t.has_resource_properties("AWS::EC2::LaunchTemplate", json!({"LaunchTemplateData": {
///     "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
/// }}))?;
/// let files = app.synth()?.stack("Ci").unwrap().files().clone();
/// let values = &files["runner-scale-set.values.yaml"];
/// assert!(values.contains("minRunners: 0"));
/// assert!(values.contains("containerMode:\n  type: \"dind\""));
/// assert!(values.contains("image: \"ghcr.io/actions/actions-runner:2.336.0\""));
/// assert!(files["arc-controller.values.yaml"].contains("--version 0.14.2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct EksRunnerCluster {
    cluster: eks::ClusterHandle,
    name: String,
    /// Where the construct created its resources.
    scope: omc_cdk::Scope,
}

impl EksRunnerCluster {
    /// Creates the runner cluster.
    pub fn new(
        scope: &Scope,
        id: &str,
        props: EksRunnerClusterProps<'_>,
    ) -> Result<EksRunnerCluster> {
        let path = util::path(scope, id);
        let fail = |field: &'static str, value: String, reason: String| {
            Err(util::invalid_prop(&path, field, value, reason))
        };
        let name_ok = !props.name.is_empty()
            && props.name.len() <= 100
            && props.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && props
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return fail(
                "name",
                props.name.clone(),
                format!(
                    "cluster name {:?} must be 1 to 100 letters, digits, '-' and '_', starting with a letter or digit",
                    props.name
                ),
            );
        }
        let runners = &props.runner_nodes;
        if runners.min > runners.max {
            return fail(
                "runner_nodes.min",
                runners.min.to_string(),
                format!(
                    "the runner node group's min ({}) is above its max ({}); use min <= desired <= max",
                    runners.min, runners.max
                ),
            );
        }
        if !(runners.min..=runners.max).contains(&runners.desired) {
            return fail(
                "runner_nodes.desired",
                runners.desired.to_string(),
                format!(
                    "the runner node group's desired size ({}) must be between min ({}) and max ({})",
                    runners.desired, runners.min, runners.max
                ),
            );
        }
        if runners.max == 0 {
            return fail(
                "runner_nodes.max",
                "0".into(),
                "the runner node group's max must be at least 1".into(),
            );
        }
        let pod_resources = match (runners.pod_resources, instance_size(&runners.instance_type)) {
            (Some(resources), _) => resources,
            (None, Some((cpus, memory_gib))) => PodResources {
                cpu_millis: cpus * 1000 - 500,
                memory_mib: memory_gib * 1024 * 3 / 4,
            },
            (None, None) => {
                return fail(
                    "runner_nodes.pod_resources",
                    "None".into(),
                    format!(
                        "the runner pods' requests cannot be derived from instance type {:?}; set runner_nodes.pod_resources",
                        runners.instance_type
                    ),
                );
            }
        };
        if let Some((cpus, memory_gib)) = instance_size(&runners.instance_type)
            && (pod_resources.cpu_millis >= cpus * 1000
                || pod_resources.memory_mib >= memory_gib * 1024)
        {
            return fail(
                "runner_nodes.pod_resources",
                format!("{pod_resources:?}"),
                format!(
                    "runner pods requesting {}m CPU and {} MiB do not fit on a {} ({cpus} vCPUs, {memory_gib} GiB) once the node's own reservations are made; request less",
                    pod_resources.cpu_millis, pod_resources.memory_mib, runners.instance_type
                ),
            );
        }
        if props.system_nodes.count == 0 {
            return fail("system_nodes.count", "0".into(), "the system node group needs at least one node (CoreDNS and the controllers run there)".into());
        }
        for cidr in &props.public_access_cidrs {
            crate::peer::ipv4_network(cidr).map_err(|why| {
                util::invalid_prop(
                    &path,
                    "public_access_cidrs",
                    cidr,
                    format!("public access range {cidr:?} {why}"),
                )
            })?;
            if cidr == "0.0.0.0/0" {
                return fail("public_access_cidrs", cidr.clone(),
                    "public_access_cidrs contains 0.0.0.0/0, which opens the API endpoint to the internet; list the ranges that need it".into(),
                );
            }
        }
        if !props.github_config_url.starts_with("https://") {
            return fail(
                "github_config_url",
                props.github_config_url.clone(),
                format!(
                    "github_config_url {:?} must be an https URL such as \"https://github.com/omc\"",
                    props.github_config_url
                ),
            );
        }
        let version = props.runner_version.as_str();
        let version_ok = {
            let parts: Vec<&str> = version.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        if version.is_empty() {
            return fail(
                "runner_version",
                String::new(),
                format!(
                    "runner_version is empty; give the runner image's version tag, such as \"{DEFAULT_RUNNER_VERSION}\""
                ),
            );
        }
        if version == "latest" {
            return fail(
                "runner_version",
                version.to_owned(),
                format!(
                    "runner_version \"latest\" is not pinned: the runner image would change under running CI; give a version tag such as \"{DEFAULT_RUNNER_VERSION}\""
                ),
            );
        }
        if !version_ok {
            return fail(
                "runner_version",
                version.to_owned(),
                format!(
                    "runner_version {version:?} is not a version tag of the runner image; give x.y.z, such as \"{DEFAULT_RUNNER_VERSION}\""
                ),
            );
        }
        if let ContainerMode::Kubernetes { work_volume_gib } = props.container_mode
            && !(1..=1000).contains(&work_volume_gib)
        {
            return fail(
                "container_mode.work_volume_gib",
                work_volume_gib.to_string(),
                format!(
                    "the runners' work volume of {work_volume_gib} GiB is out of range; give 1 to 1000 GiB"
                ),
            );
        }
        // The cluster-autoscaler chart defaults to us-east-1: the values must name the region.
        let Some(region) = util::literal_region(&scope.stack()) else {
            return Err(util::conflict(
                &path,
                "the cluster-autoscaler Helm values need the region, and the stack is environment-agnostic; give the stack an Environment with a region",
            ));
        };
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
                    "EKS needs subnets in at least two availability zones, and the {} group has {}; give the VPC max_azs: 2 or more",
                    subnets.name,
                    subnets.subnet_ids.len()
                ),
            ));
        }
        let stack = scope.stack();
        if stack.has_file("cluster-autoscaler.values.yaml") {
            return Err(util::conflict(
                &path,
                format!(
                    "stack {} already has a runner cluster (its Helm values are written beside the template); put this one in a stack of its own",
                    stack.name()
                ),
            ));
        }
        crate::log_group::check_retention(&path, "log_retention", props.log_retention)?;
        let scope = scope.child(id)?;

        // EKS writes the control plane's logs here; created first, it gets a retention.
        let control_plane_logs = crate::LogGroup::new(
            &scope,
            "ControlPlaneLogs",
            crate::LogGroupProps {
                name: Some(format!("/aws/eks/{}/cluster", props.name)),
                kms_key: props.log_key,
                ..crate::LogGroupProps::new(props.log_retention)
            },
        )?;

        let key = Key::new(
            &scope,
            "SecretsKey",
            KeyProps {
                description: Some(format!("Encrypts Kubernetes secrets of {}", props.name)),
                ..KeyProps::default()
            },
        )?;
        let cluster_role = Role::new(
            &scope,
            "ClusterRole",
            RoleProps {
                managed_policy_arns: vec![util::managed_policy("AmazonEKSClusterPolicy")?],
                ..RoleProps::new(Principal::service("eks.amazonaws.com"))
            },
        )?;
        cluster_role.add_to_policy(PolicyStatement::allow(
            [
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
            ],
            [key.key_arn()],
        ));
        let public = !props.public_access_cidrs.is_empty();
        let cluster = scope.add(
            "Resource",
            eks::Cluster {
                name: Some(props.name.as_str().into()),
                version: Some(props.version.as_str().into()),
                logging: Some(
                    eks::cluster::Logging {
                        cluster_logging: Some(
                            eks::cluster::ClusterLogging {
                                enabled_types: Some(
                                    [
                                        "api",
                                        "audit",
                                        "authenticator",
                                        "controllerManager",
                                        "scheduler",
                                    ]
                                    .iter()
                                    .map(|t| eks::cluster::LoggingTypeConfig {
                                        r#type: Some((*t).into()),
                                    })
                                    .collect::<Vec<_>>()
                                    .into(),
                                ),
                            }
                            .into(),
                        ),
                    }
                    .into(),
                ),
                encryption_config: Some(
                    vec![eks::cluster::EncryptionConfig {
                        provider: Some(
                            eks::cluster::Provider {
                                key_arn: Some(key.key_arn()),
                            }
                            .into(),
                        ),
                        resources: Some(vec!["secrets"].into()),
                    }]
                    .into(),
                ),
                upgrade_policy: Some(
                    eks::cluster::UpgradePolicy {
                        support_type: Some("STANDARD".into()),
                    }
                    .into(),
                ),
                access_config: Some(
                    eks::cluster::AccessConfig {
                        authentication_mode: Some("API".into()),
                        bootstrap_cluster_creator_admin_permissions: Some(
                            props.admin_role_arns.is_empty().into(),
                        ),
                    }
                    .into(),
                ),
                ..eks::Cluster::new(
                    eks::cluster::ResourcesVpcConfig {
                        endpoint_private_access: Some(true.into()),
                        endpoint_public_access: Some(public.into()),
                        public_access_cidrs: public.then(|| {
                            props
                                .public_access_cidrs
                                .iter()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .into()
                        }),
                        ..eks::cluster::ResourcesVpcConfig::new(subnets.ids())
                    },
                    cluster_role.role_arn(),
                )
            },
        )?;

        cluster.add_depends_on(control_plane_logs.resource())?;

        let node_role = Role::new(
            &scope,
            "NodeRole",
            RoleProps {
                managed_policy_arns: vec![
                    util::managed_policy("AmazonEKSWorkerNodePolicy")?,
                    util::managed_policy("AmazonEKS_CNI_Policy")?,
                    util::managed_policy("AmazonEC2ContainerRegistryReadOnly")?,
                ],
                ..RoleProps::new(Principal::service("ec2.amazonaws.com"))
            },
        )?;
        let system = &props.system_nodes;
        let system_template =
            node_launch_template(&scope, "SystemNodesLaunchTemplate", system.disk_gib)?;
        let system_group = scope.add(
            "SystemNodes",
            eks::Nodegroup {
                nodegroup_name: Some(SYSTEM_GROUP.into()),
                instance_types: Some(vec![system.instance_type.as_str()].into()),
                ami_type: Some(ami_type(&system.instance_type).into()),
                capacity_type: Some("ON_DEMAND".into()),
                launch_template: Some(launch_template_spec(&system_template)),
                scaling_config: Some(
                    eks::nodegroup::ScalingConfig {
                        min_size: Some(i64::from(system.count).into()),
                        max_size: Some(i64::from(system.count).into()),
                        desired_size: Some(i64::from(system.count).into()),
                    }
                    .into(),
                ),
                labels: Some(
                    IndexMap::from([(SYSTEM_LABEL.0.to_owned(), Value::from(SYSTEM_LABEL.1))])
                        .into(),
                ),
                update_config: Some(
                    eks::nodegroup::UpdateConfig {
                        max_unavailable: Some(1.into()),
                        ..eks::nodegroup::UpdateConfig::default()
                    }
                    .into(),
                ),
                ..eks::Nodegroup::new(cluster.reference(), node_role.role_arn(), subnets.ids())
            },
        )?;
        // Cluster-autoscaler discovers the group by the tags EKS puts on its Auto Scaling
        // group, and learns its labels and taint for scaling from zero through
        // eks:DescribeNodegroup (node group tags do not reach the Auto Scaling group).
        let runner_group_name = RUNNER_GROUP;
        let runner_template =
            node_launch_template(&scope, "RunnerNodesLaunchTemplate", runners.disk_gib)?;
        scope.add(
            "RunnerNodes",
            eks::Nodegroup {
                nodegroup_name: Some(runner_group_name.into()),
                instance_types: Some(vec![runners.instance_type.as_str()].into()),
                ami_type: Some(ami_type(&runners.instance_type).into()),
                capacity_type: Some(if runners.spot { "SPOT" } else { "ON_DEMAND" }.into()),
                launch_template: Some(launch_template_spec(&runner_template)),
                scaling_config: Some(
                    eks::nodegroup::ScalingConfig {
                        min_size: Some(i64::from(runners.min).into()),
                        max_size: Some(i64::from(runners.max).into()),
                        desired_size: Some(i64::from(runners.desired).into()),
                    }
                    .into(),
                ),
                labels: Some(
                    IndexMap::from([(RUNNER_LABEL.0.to_owned(), Value::from(RUNNER_LABEL.1))])
                        .into(),
                ),
                taints: Some(
                    vec![eks::nodegroup::Taint {
                        key: Some(RUNNER_TAINT.into()),
                        value: Some("true".into()),
                        effect: Some("NO_SCHEDULE".into()),
                    }]
                    .into(),
                ),
                update_config: Some(
                    eks::nodegroup::UpdateConfig {
                        max_unavailable: Some(1.into()),
                        ..eks::nodegroup::UpdateConfig::default()
                    }
                    .into(),
                ),
                ..eks::Nodegroup::new(cluster.reference(), node_role.role_arn(), subnets.ids())
            },
        )?;

        let mut pod_identity_agent = None;
        for (addon, id) in [
            ("vpc-cni", "VpcCniAddon"),
            ("kube-proxy", "KubeProxyAddon"),
            ("coredns", "CoreDnsAddon"),
            ("eks-pod-identity-agent", "PodIdentityAgentAddon"),
        ] {
            let resource = scope.add(
                id,
                eks::Addon {
                    resolve_conflicts: Some("OVERWRITE".into()),
                    ..eks::Addon::new(addon, cluster.reference())
                },
            )?;
            if addon == "coredns" {
                // CoreDNS needs nodes to become active.
                resource.add_depends_on(system_group.as_resource())?;
            }
            if addon == "eks-pod-identity-agent" {
                pod_identity_agent = Some(resource);
            }
        }
        if let ContainerMode::Kubernetes { .. } = props.container_mode {
            // The runners' work volumes are EBS volumes the CSI driver creates and attaches.
            let ebs_csi = Role::new(
                &scope,
                "EbsCsiDriverRole",
                RoleProps {
                    description: Some(format!("EBS CSI driver of {}", props.name)),
                    managed_policy_arns: vec![util::managed_policy(
                        "service-role/AmazonEBSCSIDriverPolicy",
                    )?],
                    ..RoleProps::new(Principal::EksPodIdentity)
                },
            )?;
            let addon = scope.add(
                "EbsCsiDriverAddon",
                eks::Addon {
                    resolve_conflicts: Some("OVERWRITE".into()),
                    pod_identity_associations: Some(
                        vec![eks::addon::PodIdentityAssociation::new(
                            ebs_csi.role_arn(),
                            "ebs-csi-controller-sa",
                        )]
                        .into(),
                    ),
                    ..eks::Addon::new("aws-ebs-csi-driver", cluster.reference())
                },
            )?;
            addon.add_depends_on(system_group.as_resource())?;
            if let Some(agent) = &pod_identity_agent {
                addon.add_depends_on(agent.as_resource())?;
            }
        }
        for (i, admin) in props.admin_role_arns.iter().enumerate() {
            scope.add(
                &format!("Admin{}", i + 1),
                eks::AccessEntry {
                    r#type: Some("STANDARD".into()),
                    access_policies: Some(
                        vec![eks::access_entry::AccessPolicy::new(
                            eks::access_entry::AccessScope::new("cluster"),
                            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                        )]
                        .into(),
                    ),
                    ..eks::AccessEntry::new(cluster.reference(), admin.value())
                },
            )?;
        }

        // cluster-autoscaler: read everything, change only the runner group.
        let autoscaler = Role::new(
            &scope,
            "ClusterAutoscalerRole",
            RoleProps {
                description: Some(format!("cluster-autoscaler of {}", props.name)),
                statements: vec![
                    PolicyStatement::allow(
                        [
                            "autoscaling:DescribeAutoScalingGroups",
                            "autoscaling:DescribeAutoScalingInstances",
                            "autoscaling:DescribeLaunchConfigurations",
                            "autoscaling:DescribeScalingActivities",
                            "autoscaling:DescribeTags",
                            "ec2:DescribeImages",
                            "ec2:DescribeInstanceTypes",
                            "ec2:DescribeLaunchTemplateVersions",
                            "ec2:GetInstanceTypesFromInstanceRequirements",
                        ],
                        ["*".into()],
                    ),
                    PolicyStatement::allow(
                        ["eks:DescribeNodegroup"],
                        [util::arn(
                            "eks",
                            true,
                            true,
                            &format!("nodegroup/{}/*", props.name),
                        )],
                    ),
                    PolicyStatement::allow(
                        [
                            "autoscaling:SetDesiredCapacity",
                            "autoscaling:TerminateInstanceInAutoScalingGroup",
                        ],
                        // EKS names a managed node group's Auto Scaling group
                        // `eks-<node group>-<uuid>`; the tags narrow it to this cluster.
                        [util::arn(
                            "autoscaling",
                            true,
                            true,
                            &format!(
                                "autoScalingGroup:*:autoScalingGroupName/eks-{runner_group_name}-*"
                            ),
                        )],
                    )
                    .with_condition(Node::map([(
                        "StringEquals",
                        Node::map([
                            (
                                "aws:ResourceTag/eks:cluster-name",
                                node(props.name.as_str()),
                            ),
                            (
                                "aws:ResourceTag/eks:nodegroup-name",
                                node(runner_group_name),
                            ),
                        ]),
                    )])),
                ],
                ..RoleProps::new(Principal::EksPodIdentity)
            },
        )?;
        let association = scope.add(
            "ClusterAutoscalerIdentity",
            eks::PodIdentityAssociation::new(
                cluster.reference(),
                "kube-system",
                autoscaler.role_arn(),
                "cluster-autoscaler",
            ),
        )?;
        if let Some(agent) = &pod_identity_agent {
            association.add_depends_on(agent.as_resource())?;
        }

        // Helm values, so installing the charts needs no hand-written configuration.
        let autoscaler_values = json!({
            "cloudProvider": "aws",
            "autoDiscovery": {"clusterName": props.name},
            "rbac": {"serviceAccount": {"create": true, "name": "cluster-autoscaler"}},
            "nodeSelector": {SYSTEM_LABEL.0: SYSTEM_LABEL.1},
            "extraArgs": {
                "balance-similar-node-groups": true,
                "expander": "least-waste",
                "skip-nodes-with-system-pods": false,
                "scale-down-unneeded-time": "5m",
                "scale-down-delay-after-add": "5m"
            },
            "awsRegion": region
        });
        let container_mode = match props.container_mode {
            ContainerMode::Dind => json!({"type": "dind"}),
            ContainerMode::Kubernetes { work_volume_gib } => json!({
                "type": "kubernetes",
                "kubernetesModeWorkVolumeClaim": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": RUNNER_STORAGE_CLASS,
                    "resources": {"requests": {"storage": format!("{work_volume_gib}Gi")}}
                }
            }),
        };
        let runner_values = json!({
            "githubConfigUrl": props.github_config_url,
            "githubConfigSecret": props.github_config_secret,
            "runnerScaleSetName": props.runner_scale_set_name,
            "minRunners": 0,
            "maxRunners": runners.max,
            "controllerServiceAccount": {
                "namespace": CONTROLLER_NAMESPACE,
                "name": CONTROLLER_SERVICE_ACCOUNT
            },
            "containerMode": container_mode,
            "template": {
                "spec": {
                    "nodeSelector": {RUNNER_LABEL.0: RUNNER_LABEL.1},
                    "tolerations": [{
                        "key": RUNNER_TAINT,
                        "operator": "Equal",
                        "value": "true",
                        "effect": "NoSchedule"
                    }],
                    "containers": [{
                        "name": "runner",
                        "image": format!("ghcr.io/actions/actions-runner:{}", props.runner_version),
                        "command": ["/home/runner/run.sh"],
                        "resources": {"requests": {
                            "cpu": format!("{}m", pod_resources.cpu_millis),
                            "memory": format!("{}Mi", pod_resources.memory_mib)
                        }}
                    }]
                }
            }
        });
        let controller_values = json!({
            "replicaCount": 1,
            // Named here so that the scale set's `controllerServiceAccount` matches whatever the
            // release is called.
            "serviceAccount": {"create": true, "name": CONTROLLER_SERVICE_ACCOUNT},
            "nodeSelector": {SYSTEM_LABEL.0: SYSTEM_LABEL.1},
            // System nodes carry no taint: nothing to tolerate, and the runner taint must not be.
            "tolerations": [],
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"memory": "512Mi"}
            },
            "flags": {"logLevel": "info", "logFormat": "json"}
        });
        stack.add_file(
            "cluster-autoscaler.values.yaml",
            format!(
                "# Helm values for cluster-autoscaler on {name}, written by omc-cdk from {path}.\n# helm install cluster-autoscaler autoscaler/cluster-autoscaler -n kube-system -f this-file\n{}",
                to_yaml(&autoscaler_values),
                name = props.name
            ),
        )?;
        stack.add_file(
            "arc-controller.values.yaml",
            format!(
                "# Helm values for the Actions Runner Controller on {name}, written by omc-cdk from {path}.\n# Install it before the runner scale set:\n# helm install {CONTROLLER_RELEASE} oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller --version {ARC_CHART_VERSION} -n {CONTROLLER_NAMESPACE} --create-namespace -f this-file\n{}",
                to_yaml(&controller_values),
                name = props.name
            ),
        )?;
        let storage_step = match props.container_mode {
            ContainerMode::Kubernetes { .. } => {
                stack.add_file(
                    "runner-storage-class.yaml",
                    format!(
                        "# The storage class of the runners' work volumes on {name}, written by omc-cdk from {path}.\n# kubectl apply -f this-file\n{}",
                        to_yaml(&json!({
                            "apiVersion": "storage.k8s.io/v1",
                            "kind": "StorageClass",
                            "metadata": {"name": RUNNER_STORAGE_CLASS},
                            "provisioner": "ebs.csi.aws.com",
                            "volumeBindingMode": "WaitForFirstConsumer",
                            "reclaimPolicy": "Delete",
                            "parameters": {"type": "gp3", "encrypted": "true"}
                        })),
                        name = props.name
                    ),
                )?;
                format!(
                    "\n# Create the work volumes' storage class: kubectl apply -f {}.runner-storage-class.yaml",
                    stack.name()
                )
            }
            ContainerMode::Dind => String::new(),
        };
        stack.add_file(
            "runner-scale-set.values.yaml",
            format!(
                "# Helm values for the Actions Runner Controller runner scale set on {name}, written by omc-cdk\n# from {path}. First install the controller ({stack}.arc-controller.values.yaml),\n# then create the namespace {RUNNER_NAMESPACE} and in it the secret {secret:?} with the GitHub App\n# credentials.{storage_step}\n# helm install {set} oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set --version {ARC_CHART_VERSION} -n {RUNNER_NAMESPACE} --create-namespace -f this-file\n{}",
                to_yaml(&runner_values),
                name = props.name,
                secret = props.github_config_secret,
                set = props.runner_scale_set_name,
                stack = stack.name()
            ),
        )?;
        Ok(EksRunnerCluster {
            scope: scope.clone(),
            cluster,
            name: props.name,
        })
    }

    /// The cluster's name.
    pub fn cluster_name(&self) -> &str {
        &self.name
    }

    /// The cluster's ARN.
    pub fn cluster_arn(&self) -> Value<String> {
        self.cluster.attr_arn()
    }

    /// The API server endpoint.
    pub fn endpoint(&self) -> Value<String> {
        self.cluster.attr_endpoint()
    }
}

// Alarms: what Monitoring watches of this construct.
impl EksRunnerCluster {
    /// Alerts when nodes fail, and adds a dashboard widget:
    ///
    /// - an EventBridge rule on Auto Scaling's `EC2 Instance Launch Unsuccessful` and
    ///   `EC2 Instance Terminate Unsuccessful` events of the two node groups' Auto Scaling
    ///   groups (EKS names them `eks-system-<uuid>` and `eks-runners-<uuid>`; the rule matches
    ///   those prefixes), sent to the alarm topic;
    /// - an alarm when pods stay unschedulable for 15 minutes (`scheduler_pending_pods_UNSCHEDULABLE`
    ///   of `AWS/EKS`, which EKS publishes for free): the system node is gone or full, or the
    ///   runner group cannot grow (a scale-up from zero takes a few minutes).
    ///
    /// A CloudWatch alarm on the system node group itself would need a metric of its Auto
    /// Scaling group, and there is none without Container Insights: EKS creates that group
    /// with a generated name CloudFormation does not return, and without group metrics
    /// collection (`GroupInServiceInstances`), which CloudFormation cannot turn on for it.
    ///
    /// The node group names are fixed, so the rule also matches node groups of those names of
    /// other clusters in the account and region (the CI account has one).
    pub fn add_alarms(&self, monitoring: &Monitoring) -> Result<()> {
        let group = util::alnum(&self.scope.node_path());
        let name = self.scope.node_path();
        monitoring.add_event_rule(
            &format!("{group}NodeFailures"),
            format!(
                "{name}: EC2 could not launch or terminate a node of the runner cluster {}",
                self.name
            ),
            json!({
                "source": ["aws.autoscaling"],
                "detail-type": [
                    "EC2 Instance Launch Unsuccessful",
                    "EC2 Instance Terminate Unsuccessful"
                ],
                "detail": {
                    "AutoScalingGroupName": [
                        {"prefix": format!("eks-{SYSTEM_GROUP}-")},
                        {"prefix": format!("eks-{RUNNER_GROUP}-")}
                    ]
                }
            }),
        )?;
        let cluster = vec![("ClusterName", Value::from(self.name.as_str()))];
        monitoring.alarm(
            &group,
            AlarmSpec {
                id: "UnschedulablePods",
                description: format!(
                    "{name}: pods of {} stay unschedulable: the system node is gone or full, or runner nodes cannot launch",
                    self.name
                ),
                namespace: "AWS/EKS",
                metric: "scheduler_pending_pods_UNSCHEDULABLE",
                dimensions: cluster.clone(),
                statistic: "Minimum",
                period: 300,
                periods: 3,
                comparison: above(1.0),
                treat_missing: "notBreaching",
            },
        )?;
        monitoring.widget(
            format!("{name}: pending pods"),
            &[
                ("AWS/EKS", "scheduler_pending_pods", &cluster, "Maximum"),
                (
                    "AWS/EKS",
                    "scheduler_pending_pods_UNSCHEDULABLE",
                    &cluster,
                    "Maximum",
                ),
            ],
        );
        Ok(())
    }
}

impl omc_cdk::Construct for EksRunnerCluster {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
