//! `EksRunnerCluster`: cluster, node groups, add-ons, the cluster-autoscaler role, the Helm
//! values written beside the template, and bad input.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::{App, Environment, Json, Stack, StackProps};
use omc_constructs::{
    ContainerMode, EksRunnerCluster, EksRunnerClusterProps, Key, KeyProps, KubernetesVersion,
    Monitoring, MonitoringProps, PodResources, RunnerNodesProps, Vpc, VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The props of a runner cluster in `vpc` whose control-plane logs are under `key`, as
/// production's checks require.
fn logged<'a>(key: &'a Key, vpc: &'a Vpc, url: &str) -> EksRunnerClusterProps<'a> {
    EksRunnerClusterProps {
        log_key: Some(key),
        ..EksRunnerClusterProps::new(vpc, url)
    }
}

/// A stack, its VPC (flow logs under the key) and the key of its logs.
fn ci() -> (App, Stack, Vpc, Key) {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Ci",
        StackProps {
            env: Some(Environment::region("eu-central-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let key = Key::new(&stack, "LogsKey", KeyProps::default()).unwrap();
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            flow_log_key: Some(key.clone()),
            ..VpcProps::default()
        },
    )
    .unwrap();
    (app, stack, vpc, key)
}

fn nodegroup<'t>(t: &'t Template, name: &str) -> &'t Json {
    t.resources("AWS::EKS::Nodegroup")
        .into_iter()
        .map(|(_, r)| &r["Properties"])
        .find(|p| p["NodegroupName"] == name)
        .unwrap_or_else(|| panic!("no node group {name}"))
}

#[test]
fn defaults_give_a_private_encrypted_logged_cluster_that_scales_to_zero() -> TestResult {
    let (_app, stack, vpc, key) = ci();
    let cluster = EksRunnerCluster::new(
        &stack,
        "Runners",
        logged(&key, &vpc, "https://github.com/omc"),
    )?;
    assert_eq!(cluster.cluster_name(), "OMC-test");
    let t = Template::from_stack(&stack)?;
    let (_, eks) = t.resources("AWS::EKS::Cluster")[0];
    let p = &eks["Properties"];
    assert_eq!(p["Name"], "OMC-test");
    assert_eq!(p["ResourcesVpcConfig"]["EndpointPrivateAccess"], true);
    assert_eq!(p["ResourcesVpcConfig"]["EndpointPublicAccess"], false);
    assert_eq!(p["EncryptionConfig"][0]["Resources"], json!(["secrets"]));
    assert_eq!(
        p["Logging"]["ClusterLogging"]["EnabledTypes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(p["AccessConfig"]["AuthenticationMode"], "API");
    // One system node, runners from 0 to 10, tainted and labelled.
    let system = nodegroup(&t, "system");
    assert_eq!(system["InstanceTypes"], json!(["t3.medium"]));
    assert_eq!(
        system["ScalingConfig"],
        json!({"DesiredSize": 1, "MaxSize": 1, "MinSize": 1})
    );
    assert!(system.get("Taints").is_none());
    let runners = nodegroup(&t, "runners");
    assert_eq!(runners["InstanceTypes"], json!(["t3.large"]));
    assert_eq!(
        runners["ScalingConfig"],
        json!({"DesiredSize": 0, "MaxSize": 10, "MinSize": 0})
    );
    assert_eq!(runners["Labels"], json!({"omc.io/role": "runner"}));
    assert_eq!(
        runners["Taints"],
        json!([{"Effect": "NO_SCHEDULE", "Key": "omc.io/runner", "Value": "true"}])
    );
    // Node group tags do not reach the Auto Scaling group: cluster-autoscaler relies on the
    // tags EKS puts there and on eks:DescribeNodegroup, so the group carries none of its own.
    assert!(runners.get("Tags").is_none(), "{runners}");
    assert_eq!(runners["AmiType"], "AL2023_x86_64_STANDARD");
    // Standard support only (no extended-support charges), and the control plane's logs
    // expire: the log group exists before the cluster, which depends on it.
    assert_eq!(p["UpgradePolicy"], json!({"SupportType": "STANDARD"}));
    assert_eq!(p["Version"], "1.34");
    let (logs_id, logs) = t
        .resources("AWS::Logs::LogGroup")
        .into_iter()
        .find(|(_, r)| r["Properties"]["LogGroupName"] == "/aws/eks/OMC-test/cluster")
        .unwrap();
    assert_eq!(logs["Properties"]["RetentionInDays"], 30);
    assert!(
        eks["DependsOn"]
            .as_array()
            .unwrap()
            .contains(&json!(logs_id))
    );
    // The managed add-ons.
    let mut addons: Vec<&str> = t
        .resources("AWS::EKS::Addon")
        .into_iter()
        .map(|(_, r)| r["Properties"]["AddonName"].as_str().unwrap())
        .collect();
    addons.sort_unstable();
    // The EBS CSI driver serves the work volumes of the default Kubernetes container mode.
    assert_eq!(
        addons,
        [
            "aws-ebs-csi-driver",
            "coredns",
            "eks-pod-identity-agent",
            "kube-proxy",
            "vpc-cni"
        ]
    );
    // No admin access entries unless asked for.
    t.resource_count_is("AWS::EKS::AccessEntry", 0)?;
    Ok(())
}

#[test]
fn cluster_autoscaler_may_only_resize_the_runner_group() -> TestResult {
    let (_app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            admin_role_arns: vec![omc_cdk::arn::RoleArn::new(
                "arn:aws:iam::123456789012:role/admin",
            )?],
            ..logged(&key, &vpc, "https://github.com/omc")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let (_, role) = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("RunnersClusterAutoscalerRole"))
        .unwrap();
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "pods.eks.amazonaws.com"})
    );
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), 3);
    // Read-only calls anywhere, node groups of this cluster only, and the two calls that
    // change capacity only on the runner group.
    let reads = statements[0]["Action"].as_array().unwrap();
    assert!(reads.iter().all(|a| {
        let a = a.as_str().unwrap();
        a.contains(":Describe") || a.contains(":Get")
    }));
    assert_eq!(
        statements[1],
        json!({"Effect": "Allow", "Action": "eks:DescribeNodegroup",
               "Resource": {"Fn::Sub": "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/OMC-test/*"}})
    );
    assert_eq!(
        statements[2],
        json!({"Effect": "Allow", "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
               "Resource": {"Fn::Sub": "arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/eks-runners-*"},
               "Condition": {"StringEquals": {"aws:ResourceTag/eks:cluster-name": "OMC-test", "aws:ResourceTag/eks:nodegroup-name": "runners"}}})
    );
    t.has_resource_properties(
        "AWS::EKS::PodIdentityAssociation",
        json!({"Namespace": "kube-system", "ServiceAccount": "cluster-autoscaler"}),
    )?;
    t.has_resource_properties(
        "AWS::EKS::AccessEntry",
        json!({"PrincipalArn": "arn:aws:iam::123456789012:role/admin", "Type": "STANDARD"}),
    )?;
    Ok(())
}

#[test]
fn helm_values_are_written_beside_the_template() -> TestResult {
    let (app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            version: KubernetesVersion::V1_34,
            runner_nodes: RunnerNodesProps {
                max: 4,
                ..RunnerNodesProps::default()
            },
            ..logged(&key, &vpc, "https://github.com/omc/platform")
        },
    )?;
    let synthesis = app.synth()?;
    let files = synthesis.stack("Ci").unwrap().files();
    let mut names = files.keys().collect::<Vec<_>>();
    names.sort();
    assert_eq!(
        names,
        [
            "arc-controller.values.yaml",
            "cluster-autoscaler.values.yaml",
            "runner-scale-set.values.yaml",
            "runner-storage-class.yaml"
        ]
    );
    let autoscaler = &files["cluster-autoscaler.values.yaml"];
    assert!(
        autoscaler.contains("autoDiscovery:\n  clusterName: \"OMC-test\""),
        "{autoscaler}"
    );
    assert!(
        autoscaler.contains("awsRegion: \"eu-central-1\""),
        "{autoscaler}"
    );
    assert!(
        autoscaler.contains("name: \"cluster-autoscaler\""),
        "{autoscaler}"
    );
    let runners = &files["runner-scale-set.values.yaml"];
    assert!(
        runners.contains("githubConfigUrl: \"https://github.com/omc/platform\""),
        "{runners}"
    );
    assert!(
        runners.contains("minRunners: 0\nmaxRunners: 4\n"),
        "{runners}"
    );
    assert!(
        runners.contains("nodeSelector:\n      omc.io/role: \"runner\""),
        "{runners}"
    );
    assert!(runners.contains("key: \"omc.io/runner\""), "{runners}");
    let t = Template::from_synthesized(synthesis.stack("Ci").unwrap());
    t.has_resource_properties("AWS::EKS::Cluster", json!({"Version": "1.34"}))?;
    Ok(())
}

#[test]
fn runner_cluster_bad_input() {
    let (_app, stack, vpc, key) = ci();
    let error = |props: EksRunnerClusterProps<'_>| {
        EksRunnerCluster::new(&stack, "Runners", props)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(EksRunnerClusterProps {
            runner_nodes: RunnerNodesProps {
                min: 5,
                max: 2,
                desired: 2,
                ..RunnerNodesProps::default()
            },
            ..logged(&key, &vpc, "https://github.com/omc")
        }),
        "Ci/Runners: the runner node group's min (5) is above its max (2); use min <= desired <= max"
    );
    assert_eq!(
        error(EksRunnerClusterProps {
            runner_nodes: RunnerNodesProps {
                desired: 11,
                ..RunnerNodesProps::default()
            },
            ..logged(&key, &vpc, "https://github.com/omc")
        }),
        "Ci/Runners: the runner node group's desired size (11) must be between min (0) and max (10)"
    );
    assert!(
        error(EksRunnerClusterProps {
            public_access_cidrs: vec!["0.0.0.0/0".into()],
            ..logged(&key, &vpc, "https://github.com/omc")
        })
        .contains("opens the API endpoint to the internet")
    );
    assert_eq!(
        error(logged(&key, &vpc, "github.com/omc")),
        "Ci/Runners: github_config_url \"github.com/omc\" must be an https URL such as \"https://github.com/omc\""
    );
    assert!(
        error(EksRunnerClusterProps {
            name: "-bad".into(),
            ..logged(&key, &vpc, "https://github.com/omc")
        })
        .contains("cluster name \"-bad\"")
    );
}

#[test]
fn instance_types_choose_the_ami_and_the_runner_pod_size() -> TestResult {
    let (app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            runner_nodes: RunnerNodesProps {
                instance_type: "m7g.xlarge".into(),
                ..RunnerNodesProps::default()
            },
            ..logged(&key, &vpc, "https://github.com/omc")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        nodegroup(&t, "runners")["AmiType"],
        "AL2023_ARM_64_STANDARD"
    );
    assert_eq!(nodegroup(&t, "system")["AmiType"], "AL2023_x86_64_STANDARD");
    // 4 vCPUs and 16 GiB: the pod asks for 3.5 vCPUs and 12 GiB.
    let files = app.synth()?.stack("Ci").unwrap().files().clone();
    let values = &files["runner-scale-set.values.yaml"];
    assert!(
        values.contains("cpu: \"3500m\"\n          memory: \"12288Mi\""),
        "{values}"
    );
    Ok(())
}

#[test]
fn runner_pods_must_fit_their_nodes() {
    let (_app, stack, vpc, key) = ci();
    let error = |runner_nodes: RunnerNodesProps| {
        EksRunnerCluster::new(
            &stack,
            "Runners",
            EksRunnerClusterProps {
                runner_nodes,
                ..logged(&key, &vpc, "https://github.com/omc")
            },
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        error(RunnerNodesProps {
            instance_type: "x2iedn.xlarge".into(),
            ..RunnerNodesProps::default()
        }),
        "Ci/Runners: the runner pods' requests cannot be derived from instance type \"x2iedn.xlarge\"; set runner_nodes.pod_resources"
    );
    assert_eq!(
        error(RunnerNodesProps {
            pod_resources: Some(PodResources {
                cpu_millis: 2000,
                memory_mib: 4096
            }),
            ..RunnerNodesProps::default()
        }),
        "Ci/Runners: runner pods requesting 2000m CPU and 4096 MiB do not fit on a t3.large (2 vCPUs, 8 GiB) once the node's own reservations are made; request less"
    );
    // Explicit requests for an unknown type are taken as given.
    EksRunnerCluster::new(
        &stack,
        "Custom",
        EksRunnerClusterProps {
            runner_nodes: RunnerNodesProps {
                instance_type: "x2iedn.xlarge".into(),
                pod_resources: Some(PodResources {
                    cpu_millis: 3000,
                    memory_mib: 100_000,
                }),
                ..RunnerNodesProps::default()
            },
            ..logged(&key, &vpc, "https://github.com/omc")
        },
    )
    .unwrap();
}

#[test]
fn one_runner_cluster_per_stack_and_two_zones_at_least() {
    let (_app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        logged(&key, &vpc, "https://github.com/omc"),
    )
    .unwrap();
    let err = EksRunnerCluster::new(
        &stack,
        "Second",
        EksRunnerClusterProps {
            name: "other".into(),
            ..logged(&key, &vpc, "https://github.com/omc")
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Ci/Second: stack Ci already has a runner cluster (its Helm values are written beside the template); put this one in a stack of its own"
    );
    // Nothing of the refused cluster was added.
    let t = Template::from_stack(&stack).unwrap();
    assert_eq!(t.resources("AWS::EKS::Cluster").len(), 1);

    let (_app, one_zone, _, _) = ci();
    let small = Vpc::new(
        &one_zone,
        "Small",
        VpcProps {
            max_azs: 1,
            ..VpcProps::default()
        },
    )
    .unwrap();
    let err = EksRunnerCluster::new(
        &one_zone,
        "Runners",
        EksRunnerClusterProps::new(&small, "https://github.com/omc"),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "Ci/Runners: EKS needs subnets in at least two availability zones, and the Private group has 1; give the VPC max_azs: 2 or more"
    );
}

/// The files synthesis writes beside the template of stack `Ci`.
fn files_of(app: &App) -> std::collections::BTreeMap<String, String> {
    let synthesis = app.synth().unwrap();
    synthesis
        .stack("Ci")
        .unwrap()
        .files()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn nodes_boot_from_launch_templates_that_keep_pods_away_from_imds() -> TestResult {
    let (_app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        logged(&key, &vpc, "https://github.com/omc"),
    )?;
    let t = Template::from_stack(&stack)?;
    let templates = t.resources("AWS::EC2::LaunchTemplate");
    assert_eq!(templates.len(), 2);
    for (group, disk) in [("system", 20), ("runners", 50)] {
        let nodes = nodegroup(&t, group);
        // The node group boots from the latest version of its own template...
        let id = nodes["LaunchTemplate"]["Id"]["Ref"].as_str().unwrap();
        assert_eq!(
            nodes["LaunchTemplate"],
            json!({"Id": {"Ref": id}, "Version": {"Fn::GetAtt": [id, "LatestVersionNumber"]}})
        );
        // ... and sets none of what EKS refuses beside a launch template.
        assert!(nodes.get("DiskSize").is_none(), "{nodes}");
        assert!(nodes.get("RemoteAccess").is_none(), "{nodes}");
        let data = &t.resource(id).unwrap()["Properties"]["LaunchTemplateData"];
        // IMDSv2 only, one hop: a pod in its own network namespace gets no answer.
        assert_eq!(
            data["MetadataOptions"],
            json!({"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"})
        );
        assert_eq!(
            data["BlockDeviceMappings"],
            json!([{"DeviceName": "/dev/xvda", "Ebs": {
                "DeleteOnTermination": true, "Encrypted": true, "VolumeSize": disk, "VolumeType": "gp3"
            }}])
        );
        // The node group picks the AMI and the instance type.
        assert!(data.get("ImageId").is_none() && data.get("InstanceType").is_none());
    }
    let system_template = &nodegroup(&t, "system")["LaunchTemplate"]["Id"];
    assert_ne!(
        system_template,
        &nodegroup(&t, "runners")["LaunchTemplate"]["Id"]
    );
    Ok(())
}

#[test]
fn kubernetes_mode_is_the_default_and_brings_its_work_volumes() -> TestResult {
    let (app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        logged(&key, &vpc, "https://github.com/omc"),
    )?;
    let t = Template::from_stack(&stack)?;
    let files = files_of(&app);
    let values = &files["runner-scale-set.values.yaml"];
    assert!(
        values.contains(
            "containerMode:\n  type: \"kubernetes\"\n  kubernetesModeWorkVolumeClaim:\n    accessModes:\n    - \"ReadWriteOnce\"\n    storageClassName: \"omc-runner-work\"\n    resources:\n      requests:\n        storage: \"20Gi\"\n"
        ),
        "{values}"
    );
    assert!(
        values.contains("\n# Create the work volumes' storage class: kubectl apply -f Ci.runner-storage-class.yaml\n# helm install"),
        "{values}"
    );
    let class = &files["runner-storage-class.yaml"];
    assert!(
        class.ends_with(
            "apiVersion: \"storage.k8s.io/v1\"\nkind: \"StorageClass\"\nmetadata:\n  name: \"omc-runner-work\"\nprovisioner: \"ebs.csi.aws.com\"\nvolumeBindingMode: \"WaitForFirstConsumer\"\nreclaimPolicy: \"Delete\"\nparameters:\n  type: \"gp3\"\n  encrypted: \"true\"\n"
        ),
        "{class}"
    );
    // The CSI driver's controller gets its role through Pod Identity.
    let (_, addon) = t
        .resources("AWS::EKS::Addon")
        .into_iter()
        .find(|(_, r)| r["Properties"]["AddonName"] == "aws-ebs-csi-driver")
        .unwrap();
    let association = &addon["Properties"]["PodIdentityAssociations"][0];
    assert_eq!(association["ServiceAccount"], "ebs-csi-controller-sa");
    let role_id = association["RoleArn"]["Fn::GetAtt"][0].as_str().unwrap();
    let role = &t.resource(role_id).unwrap()["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "pods.eks.amazonaws.com"})
    );
    assert_eq!(
        role["ManagedPolicyArns"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}])
    );
    Ok(())
}

#[test]
fn dind_mode_runs_docker_beside_the_runner_on_runner_nodes() -> TestResult {
    let (app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            container_mode: ContainerMode::Dind,
            ..logged(&key, &vpc, "https://github.com/omc")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    // No work volumes: no EBS CSI driver, no storage class.
    assert!(
        t.resources("AWS::EKS::Addon")
            .iter()
            .all(|(_, r)| r["Properties"]["AddonName"] != "aws-ebs-csi-driver")
    );
    let files = files_of(&app);
    assert!(!files.contains_key("runner-storage-class.yaml"));
    let values = &files["runner-scale-set.values.yaml"];
    let body = values
        .lines()
        .filter(|l| !l.starts_with('#'))
        .fold(String::new(), |body, l| body + l + "\n");
    assert_eq!(
        body,
        "githubConfigUrl: \"https://github.com/omc\"
githubConfigSecret: \"arc-github-app\"
runnerScaleSetName: \"omc-runners\"
minRunners: 0
maxRunners: 10
controllerServiceAccount:
  namespace: \"arc-systems\"
  name: \"arc-gha-rs-controller\"
containerMode:
  type: \"dind\"
template:
  spec:
    nodeSelector:
      omc.io/role: \"runner\"
    tolerations:
    - key: \"omc.io/runner\"
      operator: \"Equal\"
      value: \"true\"
      effect: \"NoSchedule\"
    containers:
    - name: \"runner\"
      image: \"ghcr.io/actions/actions-runner:2.336.0\"
      command:
      - \"/home/runner/run.sh\"
      resources:
        requests:
          cpu: \"1500m\"
          memory: \"6144Mi\"
"
    );
    assert!(
        values.contains("helm install omc-runners oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set --version 0.14.2 -n arc-runners"),
        "{values}"
    );
    assert!(!values.contains("storage-class"), "{values}");
    Ok(())
}

#[test]
fn the_controller_runs_on_system_nodes_with_pinned_charts() -> TestResult {
    let (app, stack, vpc, key) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            runner_version: "2.330.1".into(),
            ..logged(&key, &vpc, "https://github.com/omc")
        },
    )?;
    let files = files_of(&app);
    let controller = &files["arc-controller.values.yaml"];
    assert!(
        controller.contains("# helm install arc oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller --version 0.14.2 -n arc-systems --create-namespace -f this-file\n"),
        "{controller}"
    );
    assert!(
        controller.ends_with(
            "replicaCount: 1\nserviceAccount:\n  create: true\n  name: \"arc-gha-rs-controller\"\nnodeSelector:\n  omc.io/role: \"system\"\ntolerations: []\nresources:\n  requests:\n    cpu: \"100m\"\n    memory: \"128Mi\"\n  limits:\n    memory: \"512Mi\"\nflags:\n  logLevel: \"info\"\n  logFormat: \"json\"\n"
        ),
        "{controller}"
    );
    let runners = &files["runner-scale-set.values.yaml"];
    assert!(
        runners.contains("image: \"ghcr.io/actions/actions-runner:2.330.1\""),
        "{runners}"
    );
    // The scale set finds the controller's service account by the release the comment installs.
    assert!(
        runners.contains("name: \"arc-gha-rs-controller\""),
        "{runners}"
    );
    Ok(())
}

#[test]
fn the_runner_image_and_work_volume_are_checked() {
    let (_app, stack, vpc, key) = ci();
    let error = |props: EksRunnerClusterProps<'_>| {
        EksRunnerCluster::new(&stack, "Runners", props)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let with_version = |version: &str| EksRunnerClusterProps {
        runner_version: version.into(),
        ..logged(&key, &vpc, "https://github.com/omc")
    };
    assert_eq!(
        error(with_version("latest")),
        "Ci/Runners: runner_version \"latest\" is not pinned: the runner image would change under running CI; give a version tag such as \"2.336.0\""
    );
    assert_eq!(
        error(with_version("")),
        "Ci/Runners: runner_version is empty; give the runner image's version tag, such as \"2.336.0\""
    );
    for bad in ["v2.336.0", "2.336", "2.336.0-ubuntu", "2..0"] {
        assert_eq!(
            error(with_version(bad)),
            format!(
                "Ci/Runners: runner_version {bad:?} is not a version tag of the runner image; give x.y.z, such as \"2.336.0\""
            )
        );
    }
    assert_eq!(
        error(EksRunnerClusterProps {
            container_mode: ContainerMode::Kubernetes { work_volume_gib: 0 },
            ..logged(&key, &vpc, "https://github.com/omc")
        }),
        "Ci/Runners: the runners' work volume of 0 GiB is out of range; give 1 to 1000 GiB"
    );
    // Nothing of the refused clusters was added.
    assert_eq!(
        Template::from_stack(&stack)
            .unwrap()
            .resources("AWS::EKS::Cluster")
            .len(),
        0
    );
}

#[test]
fn node_failures_reach_the_alarm_topic() -> TestResult {
    let (app, stack, vpc, key) = ci();
    let cluster = EksRunnerCluster::new(
        &stack,
        "Runners",
        logged(&key, &vpc, "https://github.com/omc"),
    )?;
    let monitoring = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: Some("ops@example.com".into()),
            ..MonitoringProps::default()
        },
    )?;
    cluster.add_alarms(&monitoring)?;
    let t = Template::from_stack(&stack)?;
    let (topic_id, _) = t.resources("AWS::SNS::Topic")[0];
    let topic = json!({"Ref": topic_id});
    // Launch and terminate failures of both node groups' Auto Scaling groups.
    let (_, rule) = t.resources("AWS::Events::Rule")[0];
    assert_eq!(
        rule["Properties"]["EventPattern"],
        json!({
            "source": ["aws.autoscaling"],
            "detail-type": ["EC2 Instance Launch Unsuccessful", "EC2 Instance Terminate Unsuccessful"],
            "detail": {"AutoScalingGroupName": [{"prefix": "eks-system-"}, {"prefix": "eks-runners-"}]}
        })
    );
    assert_eq!(
        rule["Properties"]["Targets"],
        json!([{"Arn": topic, "Id": "AlarmTopic"}])
    );
    assert_eq!(rule["Properties"]["State"], "ENABLED");
    // EventBridge may publish to the topic and use its key.
    let (_, policy) = t.resources("AWS::SNS::TopicPolicy")[0];
    assert_eq!(policy["Properties"]["Topics"], json!([topic]));
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let events = statements
        .iter()
        .find(|s| s["Principal"] == json!({"Service": "events.amazonaws.com"}))
        .unwrap();
    assert_eq!(events["Action"], "sns:Publish");
    assert_eq!(events["Resource"], topic);
    assert_eq!(
        events["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    );
    // Replacing the topic's default policy must not lock out the CloudWatch alarms.
    assert!(
        statements
            .iter()
            .any(|s| s["Principal"] == json!({"Service": "cloudwatch.amazonaws.com"}))
    );
    let (_, key) = t
        .resources("AWS::KMS::Key")
        .into_iter()
        .find(|(id, _)| id.starts_with("MonitoringTopicKey"))
        .unwrap();
    let key_statements = key["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap();
    let events_key = key_statements
        .iter()
        .find(|s| s["Principal"] == json!({"Service": "events.amazonaws.com"}))
        .unwrap();
    assert_eq!(
        events_key["Action"],
        json!(["kms:Decrypt", "kms:GenerateDataKey*"])
    );
    // Pods that stay unschedulable for 15 minutes: the system node is gone, or runner nodes
    // cannot launch.
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        json!({
            "Namespace": "AWS/EKS",
            "MetricName": "scheduler_pending_pods_UNSCHEDULABLE",
            "Dimensions": [{"Name": "ClusterName", "Value": "OMC-test"}],
            "Statistic": "Minimum",
            "Period": 300,
            "EvaluationPeriods": 3,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [topic]
        }),
    )?;
    // A second rule reuses the topic policy; attaching the alarms twice is refused.
    monitoring.add_event_rule("Other", "other events", json!({"source": ["aws.ec2"]}))?;
    let t = Template::from_stack(&stack)?;
    t.resource_count_is("AWS::SNS::TopicPolicy", 1)?;
    t.resource_count_is("AWS::Events::Rule", 2)?;
    assert_eq!(
        cluster.add_alarms(&monitoring).unwrap_err().to_string(),
        "Ci/Monitoring/CiRunnersNodeFailures: a construct with id \"CiRunnersNodeFailures\" already exists in this scope; give the new construct a different id"
    );
    // The whole app passes the checks.
    app.synth()?;
    Ok(())
}
