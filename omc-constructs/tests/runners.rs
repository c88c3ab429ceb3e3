//! `EksRunnerCluster`: cluster, node groups, add-ons, the cluster-autoscaler role, the Helm
//! values written beside the template, and bad input.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::{App, Environment, Json, Stack, StackProps};
use omc_constructs::{
    EksRunnerCluster, EksRunnerClusterProps, KubernetesVersion, PodResources, RunnerNodesProps,
    Vpc, VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn ci() -> (App, Stack, Vpc) {
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
    let vpc = Vpc::new(&stack, "Vpc", VpcProps::default()).unwrap();
    (app, stack, vpc)
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
    let (_app, stack, vpc) = ci();
    let cluster = EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps::new(&vpc, "https://github.com/omc"),
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
    assert_eq!(
        addons,
        ["coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    );
    // No admin access entries unless asked for.
    t.resource_count_is("AWS::EKS::AccessEntry", 0)?;
    Ok(())
}

#[test]
fn cluster_autoscaler_may_only_resize_the_runner_group() -> TestResult {
    let (_app, stack, vpc) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            admin_role_arns: vec![omc_cdk::arn::RoleArn::new(
                "arn:aws:iam::123456789012:role/admin",
            )?],
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
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
    let (app, stack, vpc) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            version: KubernetesVersion::V1_34,
            runner_nodes: RunnerNodesProps {
                max: 4,
                ..RunnerNodesProps::default()
            },
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc/platform")
        },
    )?;
    let synthesis = app.synth()?;
    let files = synthesis.stack("Ci").unwrap().files();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [
            "cluster-autoscaler.values.yaml",
            "runner-scale-set.values.yaml"
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
    let (_app, stack, vpc) = ci();
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
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
        }),
        "Ci/Runners: the runner node group's min (5) is above its max (2); use min <= desired <= max"
    );
    assert_eq!(
        error(EksRunnerClusterProps {
            runner_nodes: RunnerNodesProps {
                desired: 11,
                ..RunnerNodesProps::default()
            },
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
        }),
        "Ci/Runners: the runner node group's desired size (11) must be between min (0) and max (10)"
    );
    assert!(
        error(EksRunnerClusterProps {
            public_access_cidrs: vec!["0.0.0.0/0".into()],
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
        })
        .contains("opens the API endpoint to the internet")
    );
    assert_eq!(
        error(EksRunnerClusterProps::new(&vpc, "github.com/omc")),
        "Ci/Runners: github_config_url \"github.com/omc\" must be an https URL such as \"https://github.com/omc\""
    );
    assert!(
        error(EksRunnerClusterProps {
            name: "-bad".into(),
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
        })
        .contains("cluster name \"-bad\"")
    );
}

#[test]
fn instance_types_choose_the_ami_and_the_runner_pod_size() -> TestResult {
    let (app, stack, vpc) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps {
            runner_nodes: RunnerNodesProps {
                instance_type: "m7g.xlarge".into(),
                ..RunnerNodesProps::default()
            },
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
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
    let (_app, stack, vpc) = ci();
    let error = |runner_nodes: RunnerNodesProps| {
        EksRunnerCluster::new(
            &stack,
            "Runners",
            EksRunnerClusterProps {
                runner_nodes,
                ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
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
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
        },
    )
    .unwrap();
}

#[test]
fn one_runner_cluster_per_stack_and_two_zones_at_least() {
    let (_app, stack, vpc) = ci();
    EksRunnerCluster::new(
        &stack,
        "Runners",
        EksRunnerClusterProps::new(&vpc, "https://github.com/omc"),
    )
    .unwrap();
    let err = EksRunnerCluster::new(
        &stack,
        "Second",
        EksRunnerClusterProps {
            name: "other".into(),
            ..EksRunnerClusterProps::new(&vpc, "https://github.com/omc")
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

    let (_app, one_zone, _) = ci();
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
