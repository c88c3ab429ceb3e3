//! What each resource type costs a month, from the price table and the usage assumptions.

use serde_json::Value as Json;

use super::{Assumptions, HOURS_PER_MONTH, Line};

/// Kilobytes of one enhanced-monitoring sample of an RDS instance (OS metrics with the
/// process list), as CloudWatch Logs ingests it.
const ENHANCED_MONITORING_SAMPLE_KB: f64 = 8.0;
use crate::prices::PriceTable;
use omc_cdk_template::ResourceView;
use omc_cdk_template::schedule::ScheduleExpression;

/// What a resource costs: nothing, lines of the price table, or not known.
pub(crate) enum Pricing {
    Free,
    Lines(Vec<Line>),
    NotPriced(String),
}

/// Types that cost nothing by themselves (their cost, if any, is in the resources they
/// configure), or whose free tier covers a platform's use (SNS, SQS, Scheduler invocations).
const FREE: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::VPCCidrBlock",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::EgressOnlyInternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::NetworkAcl",
    "AWS::EC2::NetworkAclEntry",
    "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::LaunchTemplate",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::OIDCProvider",
    "AWS::IAM::ServiceLinkedRole",
    "AWS::ECS::TaskDefinition",
    "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::ECS::CapacityProvider",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::ListenerCertificate",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBParameterGroup",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::RDS::OptionGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::ElastiCache::ParameterGroup",
    "AWS::EFS::MountTarget",
    "AWS::EFS::AccessPoint",
    "AWS::EKS::Addon",
    "AWS::EKS::AccessEntry",
    "AWS::EKS::PodIdentityAssociation",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Config::DeliveryChannel",
    "AWS::CloudTrail::Trail",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SSM::Parameter",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::KMS::Alias",
    "AWS::Logs::ResourcePolicy",
    "AWS::Logs::MetricFilter",
    "AWS::Logs::SubscriptionFilter",
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle",
    // The first two budgets of an account are free (each environment has its own account and
    // one budget); AWS Chatbot costs nothing beyond the SNS it reads.
    "AWS::Budgets::Budget",
    "AWS::Chatbot::SlackChannelConfiguration",
    // Public ACM certificates are free; private ones are billed by AWS Private CA.
    "AWS::CertificateManager::Certificate",
    // Associations and logging settings: the logs are priced at their log group.
    "AWS::WAFv2::WebACLAssociation",
    "AWS::WAFv2::LoggingConfiguration",
];

/// Whether a type is known to cost nothing by itself.
pub(crate) fn is_free(type_name: &str) -> bool {
    FREE.contains(&type_name)
}

/// Builds lines against one price table.
pub(crate) struct Pricer<'a> {
    pub(crate) table: &'a PriceTable,
    pub(crate) assumptions: &'a Assumptions,
}

impl Pricer<'_> {
    fn line(&self, description: String, quantity: f64, key: &str) -> Result<Line, String> {
        let price = self.table.get(key).ok_or_else(|| {
            format!(
                "{} has no price {key:?}; add it with its source",
                self.table.file
            )
        })?;
        Ok(Line {
            description,
            quantity,
            unit: price.unit.clone(),
            price_key: key.to_owned(),
            unit_price: price.price,
            monthly: quantity * price.price,
        })
    }

    fn assume(&self, key: &str) -> f64 {
        self.assumptions.get(key)
    }

    /// The monthly cost of one resource.
    pub(crate) fn price(&self, view: &ResourceView<'_>) -> Pricing {
        let type_name = view.type_name();
        if is_free(type_name) {
            return Pricing::Free;
        }
        let result = match type_name {
            "AWS::EC2::NatGateway" => self.nat_gateway(),
            "AWS::EC2::EIP" => self
                .line(
                    "public IPv4 address".into(),
                    HOURS_PER_MONTH,
                    "public_ipv4.hour",
                )
                .map(|l| vec![l]),
            "AWS::EC2::VPCEndpoint" => self.vpc_endpoint(view),
            "AWS::EC2::FlowLog" => self.flow_log(view),
            "AWS::EC2::Instance" => self.instance(view),
            "AWS::EC2::Volume" => self.volume(view),
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => self.load_balancer(view),
            "AWS::ECS::Service" => self.service(view),
            "AWS::ECS::Cluster" => self.container_insights(view),
            "AWS::Scheduler::Schedule" => self.schedule(view),
            "AWS::Events::Rule" => Self::event_rule(view),
            "AWS::RDS::DBInstance" => self.database(view),
            "AWS::ElastiCache::ReplicationGroup" | "AWS::ElastiCache::CacheCluster" => {
                self.cache(view)
            }
            "AWS::EFS::FileSystem" => {
                let gb = self.assume("efs_gb");
                self.line(
                    format!("{gb} GB stored (efs_gb)"),
                    gb,
                    "efs.standard.gb_month",
                )
                .map(|l| vec![l])
            }
            "AWS::S3::Bucket" => {
                let gb = self.assume("s3_gb");
                self.line(
                    format!("{gb} GB stored (s3_gb)"),
                    gb,
                    "s3.standard.gb_month",
                )
                .map(|l| vec![l])
            }
            "AWS::ECR::Repository" => {
                let gb = self.assume("ecr_gb");
                self.line(
                    format!("{gb} GB of images stored (ecr_gb)"),
                    gb,
                    "ecr.storage.gb_month",
                )
                .map(|l| vec![l])
            }
            "AWS::EKS::Cluster" => self
                .line("control plane".into(), HOURS_PER_MONTH, "eks.cluster.hour")
                .map(|l| vec![l]),
            "AWS::EKS::Nodegroup" => self.node_group(view),
            "AWS::CloudWatch::Alarm" => self
                .line("alarm".into(), 1.0, "cloudwatch.alarm.month")
                .map(|l| vec![l]),
            "AWS::CloudWatch::Dashboard" => self
                .line("dashboard".into(), 1.0, "cloudwatch.dashboard.month")
                .map(|l| vec![l]),
            "AWS::Logs::LogGroup" => self.log_group(view),
            "AWS::WAFv2::WebACL" => self.web_acl(view),
            "AWS::Route53::RecordSet" => Self::record_set(view),
            "AWS::SecretsManager::Secret" => self
                .line("secret".into(), 1.0, "secretsmanager.secret.month")
                .map(|l| vec![l]),
            "AWS::KMS::Key" => self
                .line("customer managed key".into(), 1.0, "kms.key.month")
                .map(|l| vec![l]),
            "AWS::GuardDuty::Detector" => {
                let events = self.assume("guardduty_events_million");
                let gb = self.assume("guardduty_log_gb");
                (|| {
                    Ok(vec![
                        self.line(
                            format!(
                                "{events} million management events (guardduty_events_million)"
                            ),
                            events,
                            "guardduty.events.million",
                        )?,
                        self.line(
                            format!("{gb} GB of flow and DNS logs (guardduty_log_gb)"),
                            gb,
                            "guardduty.logs.gb",
                        )?,
                    ])
                })()
            }
            "AWS::Config::ConfigurationRecorder" => {
                let items = self.assume("config_items");
                self.line(
                    format!("{items} configuration items recorded (config_items)"),
                    items,
                    "config.item",
                )
                .map(|l| vec![l])
            }
            "AWS::Config::ConfigRule" => {
                let n = self.assume("config_evaluations");
                self.line(
                    format!("{n} evaluations (config_evaluations)"),
                    n,
                    "config.evaluation",
                )
                .map(|l| vec![l])
            }
            other => Err(format!("the price table does not know {other}")),
        };
        match result {
            Ok(lines) if lines.is_empty() => Pricing::Free,
            Ok(lines) => Pricing::Lines(lines),
            Err(reason) => Pricing::NotPriced(reason),
        }
    }

    fn nat_gateway(&self) -> Result<Vec<Line>, String> {
        // A public gateway's Elastic IP is priced at the EIP.
        let gb = self.assume("nat_gb");
        Ok(vec![
            self.line("NAT gateway".into(), HOURS_PER_MONTH, "nat_gateway.hour")?,
            self.line(format!("{gb} GB processed (nat_gb)"), gb, "nat_gateway.gb")?,
        ])
    }

    fn vpc_endpoint(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        match view.text("VpcEndpointType") {
            None | Some("Gateway") => Ok(Vec::new()),
            Some("Interface") => {
                let zones = count(view.prop("SubnetIds")).max(1.0);
                Ok(vec![self.line(
                    format!("interface endpoint in {zones} AZ(s)"),
                    HOURS_PER_MONTH * zones,
                    "vpc_endpoint.interface.hour",
                )?])
            }
            Some(other) => Err(format!("{other} endpoints are not in the price table")),
        }
    }

    fn flow_log(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        match view.text("LogDestinationType") {
            None | Some("cloud-watch-logs") => {
                let gb = self.assume("flow_log_gb");
                Ok(vec![self.line(
                    format!("{gb} GB delivered to CloudWatch Logs (flow_log_gb)"),
                    gb,
                    "logs.vended.gb",
                )?])
            }
            Some(other) => Err(format!(
                "flow logs delivered to {other} are not in the price table"
            )),
        }
    }

    fn instance(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        let kind = view
            .text("InstanceType")
            .ok_or("the instance type is not a literal")?;
        Ok(vec![self.line(
            format!("{kind} instance"),
            HOURS_PER_MONTH,
            &format!("ec2.{kind}.hour"),
        )?])
    }

    fn volume(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        let size = number(view.value("Size")).ok_or("the volume size is not a literal")?;
        let kind = view.text("VolumeType").unwrap_or("gp2");
        Ok(vec![self.line(
            format!("{size} GB {kind}"),
            size,
            &format!("ebs.{kind}.gb_month"),
        )?])
    }

    fn load_balancer(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        if !matches!(view.text("Type"), None | Some("application")) {
            return Err(format!(
                "{} load balancers are not in the price table",
                view.text("Type").unwrap_or("these")
            ));
        }
        let lcu = self.assume("alb_lcu");
        let mut lines = vec![
            self.line("load balancer".into(), HOURS_PER_MONTH, "alb.hour")?,
            self.line(
                format!("{lcu} LCU on average (alb_lcu)"),
                lcu * HOURS_PER_MONTH,
                "alb.lcu.hour",
            )?,
        ];
        if view.text("Scheme") != Some("internal") {
            let zones = count(view.prop("Subnets"))
                .max(count(view.prop("SubnetMappings")))
                .max(2.0);
            lines.push(self.line(
                format!("{zones} public IPv4 addresses (one per AZ)"),
                zones * HOURS_PER_MONTH,
                "public_ipv4.hour",
            )?);
        }
        Ok(lines)
    }

    /// vCPU-hours and GB-hours of Fargate for `task_hours` hours of the task definition.
    fn fargate(
        &self,
        view: &ResourceView<'_>,
        definition: Option<&Json>,
        task_hours: f64,
        what: &str,
    ) -> Result<Vec<Line>, String> {
        let task = definition
            .and_then(|d| view.resolve(d))
            .ok_or("its task definition is not in this app")?;
        let cpu = number(task.value("Cpu")).ok_or("the task's Cpu is not a literal")?;
        let memory = number(task.value("Memory")).ok_or("the task's Memory is not a literal")?;
        let arch = if task.text("RuntimePlatform.CpuArchitecture") == Some("ARM64") {
            "arm"
        } else {
            "x86"
        };
        let (vcpu, gb) = (cpu / 1024.0, memory / 1024.0);
        Ok(vec![
            self.line(
                format!("{what}: {vcpu} vCPU"),
                vcpu * task_hours,
                &format!("fargate.{arch}.vcpu.hour"),
            )?,
            self.line(
                format!("{what}: {gb} GB"),
                gb * task_hours,
                &format!("fargate.{arch}.gb.hour"),
            )?,
        ])
    }

    fn service(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        let fargate = match view.text("LaunchType") {
            Some("FARGATE") => true,
            Some(_) => false,
            None => view
                .prop("CapacityProviderStrategy")
                .is_none_or(only_fargate),
        };
        if !fargate {
            if view.prop("CapacityProviderStrategy").is_some() {
                return Err(
                    "Fargate Spot and EC2 capacity providers are not in the price table".into(),
                );
            }
            return Ok(Vec::new()); // EC2 launch type: the instances carry the cost
        }
        // Autoscaling: the minimum runs all month.
        let scaled = view.referrers().into_iter().find_map(|(target, _)| {
            (target.type_name() == "AWS::ApplicationAutoScaling::ScalableTarget")
                .then(|| number(target.value("MinCapacity")))
                .flatten()
        });
        let (count, how) = match scaled {
            Some(min) => (min, "autoscaling minimum"),
            None => (
                number(view.value("DesiredCount")).unwrap_or(1.0),
                "desired count",
            ),
        };
        self.fargate(
            view,
            view.prop("TaskDefinition"),
            count * HOURS_PER_MONTH,
            &format!("{count} task(s) ({how})"),
        )
    }

    fn container_insights(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        let setting = omc_cdk_template::container_insights(view);
        match setting {
            Some("enabled") => {}
            Some("enhanced") => {
                return Err("Container Insights with enhanced observability is billed per observation, which the price table does not have".into());
            }
            _ => return Ok(Vec::new()),
        }
        #[allow(clippy::cast_precision_loss)]
        let services = view
            .referrers()
            .iter()
            .filter(|(r, _)| r.type_name() == "AWS::ECS::Service")
            .count() as f64;
        let cluster = self.assume("container_insights_cluster_metrics");
        let per_service = self.assume("container_insights_service_metrics");
        Ok(vec![self.line(
            format!(
                "Container Insights: {cluster} cluster metrics (container_insights_cluster_metrics) + {per_service} per service (container_insights_service_metrics) × {services} services"
            ),
            cluster + per_service * services,
            "cloudwatch.metric.month",
        )?])
    }

    fn schedule(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        if view.text("State") == Some("DISABLED") {
            return Ok(Vec::new());
        }
        let Some(ecs) = view.prop("Target.EcsParameters") else {
            return Ok(Vec::new()); // invocations: the first 14 million a month are free
        };
        let fargate = match ecs.get("LaunchType").and_then(Json::as_str) {
            Some(kind) => kind == "FARGATE",
            None => ecs.get("CapacityProviderStrategy").is_none_or(only_fargate),
        };
        if !fargate {
            return Err("tasks on EC2 or Fargate Spot capacity are not in the price table".into());
        }
        let expression = view
            .text("ScheduleExpression")
            .ok_or("the schedule expression is not a literal")?;
        // The parser `ScheduledTask` validates with: whatever it accepts is priced.
        let runs = ScheduleExpression::parse(expression)
            .map_err(|e| format!("schedule {expression}: {e}"))?
            .runs_per_month();
        let tasks = number(ecs.get("TaskCount").and_then(|v| view.literal(v))).unwrap_or(1.0);
        let minutes = self.assume("scheduled_task_minutes");
        self.fargate(
            view,
            ecs.get("TaskDefinitionArn"),
            runs * tasks * minutes / 60.0,
            &format!(
                "{} runs of {minutes} min (scheduled_task_minutes) × {tasks} task(s), {expression}",
                round(runs)
            ),
        )
    }

    fn event_rule(view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        let starts_tasks = view.prop("Targets").is_some_and(|t| {
            super::items(t)
                .iter()
                .any(|t| t.get("EcsParameters").is_some())
        });
        if starts_tasks {
            Err("ECS tasks started by EventBridge rules are not priced; ScheduledTask (EventBridge Scheduler) is".into())
        } else {
            Ok(Vec::new())
        }
    }

    fn database(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        if view.prop("DBClusterIdentifier").is_some() {
            return Err("Aurora instances are not in the price table".into());
        }
        let engine = view.text("Engine").ok_or("the engine is not a literal")?;
        let class = view
            .text("DBInstanceClass")
            .ok_or("the instance class is not a literal")?;
        let multi = view.flag("MultiAZ") == Some(true);
        let copies = if multi { 2.0 } else { 1.0 };
        let az = if multi {
            " (multi-AZ: a standby at the same price)"
        } else {
            ""
        };
        let mut lines = vec![self.line(
            format!("{class} {engine} instance{az}"),
            copies * HOURS_PER_MONTH,
            &format!("rds.{engine}.{class}.hour"),
        )?];
        let storage = number(view.value("AllocatedStorage")).unwrap_or(20.0);
        match view.text("StorageType").unwrap_or("gp2") {
            "gp2" | "gp3" => lines.push(self.line(
                format!("{storage} GB storage{az}"),
                copies * storage,
                "rds.storage.gp.gb_month",
            )?),
            other => return Err(format!("{other} storage is not in the price table")),
        }
        let interval = number(view.value("MonitoringInterval")).unwrap_or(0.0);
        if interval > 0.0 {
            // Enhanced monitoring writes one sample per interval to CloudWatch Logs
            // (RDSOSMetrics): about 8 KB with the process list, billed as ingestion.
            let samples = HOURS_PER_MONTH * 3600.0 / interval;
            let gb =
                (samples * ENHANCED_MONITORING_SAMPLE_KB / 1_000_000.0 * 100.0).round() / 100.0;
            lines.push(self.line(
                format!("enhanced monitoring every {interval} s: {gb} GB of OS metrics ingested"),
                gb,
                "logs.ingest.gb",
            )?);
        }
        if view.flag("ManageMasterUserPassword") == Some(true) {
            // RDS keeps the master password in a Secrets Manager secret of its own.
            lines.push(self.line(
                "master password secret managed by RDS".into(),
                1.0,
                "secretsmanager.secret.month",
            )?);
        }
        Ok(lines)
    }

    fn cache(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        let kind = view
            .text("CacheNodeType")
            .ok_or("the node type is not a literal")?;
        let nodes = if view.type_name() == "AWS::ElastiCache::CacheCluster" {
            number(view.value("NumCacheNodes")).unwrap_or(1.0)
        } else if view.prop("NumNodeGroups").is_some()
            || view.prop("ReplicasPerNodeGroup").is_some()
        {
            number(view.value("NumNodeGroups")).unwrap_or(1.0)
                * (number(view.value("ReplicasPerNodeGroup")).unwrap_or(0.0) + 1.0)
        } else {
            number(view.value("NumCacheClusters")).unwrap_or(1.0)
        };
        Ok(vec![self.line(
            format!("{nodes} × {kind} node(s)"),
            nodes * HOURS_PER_MONTH,
            &format!("elasticache.{kind}.hour"),
        )?])
    }

    fn node_group(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        if view.text("CapacityType") == Some("SPOT") {
            return Err("Spot node groups are not in the price table (Spot prices vary)".into());
        }
        let kind = view
            .prop("InstanceTypes")
            .and_then(|t| super::items(t).first().and_then(|v| view.literal(v)))
            .and_then(Json::as_str)
            .ok_or(
                "the node group's instance type is not a literal (launch templates are not priced)",
            )?;
        let desired = number(view.value("ScalingConfig.DesiredSize"));
        let min = number(view.value("ScalingConfig.MinSize")).unwrap_or(0.0);
        let max = number(view.value("ScalingConfig.MaxSize")).unwrap_or(0.0);
        let always = desired.unwrap_or(min).max(min);
        // The disk: the launch template's root volume when the node group boots from one,
        // else `DiskSize` (EKS's default: 20 GB gp2).
        let template = view
            .prop("LaunchTemplate.Id")
            .or_else(|| view.prop("LaunchTemplate.Name"))
            .and_then(|id| view.resolve(id));
        let volume = template.as_ref().and_then(|t| {
            let mappings = t.prop("LaunchTemplateData.BlockDeviceMappings")?;
            super::items(mappings)
                .into_iter()
                .filter_map(|m| t.literal(m))
                .find_map(|m| m.get("Ebs").cloned())
        });
        let (disk, disk_type) = match &volume {
            Some(ebs) => (
                number(ebs.get("VolumeSize")).unwrap_or(20.0),
                ebs.get("VolumeType")
                    .and_then(Json::as_str)
                    .unwrap_or("gp2")
                    .to_owned(),
            ),
            None => (
                number(view.value("DiskSize")).unwrap_or(20.0),
                "gp2".to_owned(),
            ),
        };
        if disk_type != "gp2" && disk_type != "gp3" {
            return Err(format!(
                "the node group's {disk_type} volumes are not in the price table (gp2 and gp3 are)"
            ));
        }
        let (hours, what) = if always > 0.0 {
            (
                always * HOURS_PER_MONTH,
                format!("{always} × {kind} node(s)"),
            )
        } else if max > 0.0 {
            let hours = self.assume("scale_to_zero_node_hours");
            (
                hours,
                format!(
                    "{kind} nodes scaled from zero: {hours} node-hours (scale_to_zero_node_hours)"
                ),
            )
        } else {
            return Ok(Vec::new());
        };
        Ok(vec![
            self.line(what, hours, &format!("ec2.{kind}.hour"))?,
            self.line(
                format!("{disk} GB {disk_type} disk per node"),
                disk * hours / HOURS_PER_MONTH,
                &format!("ebs.{disk_type}.gb_month"),
            )?,
        ])
    }

    fn web_acl(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        // Each rule, and each rule group a rule references, is one rule.
        let rules = count(view.prop("Rules"));
        let requests = self.assume("waf_requests_million");
        Ok(vec![
            self.line("web ACL".into(), 1.0, "waf.web_acl.month")?,
            self.line(
                format!("{rules} rules (a managed rule group is one)"),
                rules,
                "waf.rule.month",
            )?,
            self.line(
                format!("{requests} million requests inspected (waf_requests_million)"),
                requests,
                "waf.requests.million",
            )?,
        ])
    }

    fn record_set(view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        if view.prop("AliasTarget").is_some() {
            // Queries of alias records that point at AWS resources are free; the hosted zone
            // is not in the template.
            Ok(Vec::new())
        } else {
            Err("queries of records other than aliases are billed per million, which the price table does not have".into())
        }
    }

    fn log_group(&self, view: &ResourceView<'_>) -> Result<Vec<Line>, String> {
        // Flow logs into this group are priced as vended logs at the flow log.
        let vended = view
            .referrers()
            .iter()
            .any(|(r, _)| r.type_name() == "AWS::EC2::FlowLog");
        let gb = if vended {
            self.assume("flow_log_gb")
        } else {
            self.assume("log_gb")
        };
        let days = number(view.value("RetentionInDays")).map_or(365.0, |d| d.min(365.0));
        let stored = gb * days * 12.0 / 365.0;
        let mut lines = Vec::new();
        if !vended {
            lines.push(self.line(format!("{gb} GB ingested (log_gb)"), gb, "logs.ingest.gb")?);
        }
        lines.push(self.line(
            format!(
                "up to {} GB stored ({} days kept; billed compressed, so at most this)",
                round(stored),
                days
            ),
            stored,
            "logs.storage.gb_month",
        )?);
        Ok(lines)
    }
}

/// Whether a capacity provider strategy uses on-demand Fargate only.
fn only_fargate(strategy: &Json) -> bool {
    super::items(strategy)
        .iter()
        .all(|p| p.get("CapacityProvider").and_then(Json::as_str) == Some("FARGATE"))
}

/// A literal number (JSON number or numeric string).
fn number(value: Option<&Json>) -> Option<f64> {
    match value? {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// How many items a list property has (0 when absent).
#[allow(clippy::cast_precision_loss)]
fn count(value: Option<&Json>) -> f64 {
    value
        .and_then(Json::as_array)
        .map_or(0.0, |l| l.len() as f64)
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{Assumptions, Estimate, estimate, tables_for};
    use omc_cdk_template::{StackInput, Stage};

    fn estimate_of(resources: &serde_json::Value, assumptions: &Assumptions) -> Estimate {
        let template = json!({ "Resources": resources });
        let regions = ["us-east-1".to_owned()];
        let stacks = [StackInput {
            name: "Edge",
            template: &template,
            stage: Stage::Production,
            paths: None,
        }];
        estimate(&stacks, &regions, &tables_for(None, &regions), assumptions).expect("an estimate")
    }

    #[test]
    fn web_acls_pay_per_acl_rule_and_request() {
        let resources = json!({
            "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
                "Scope": "REGIONAL",
                "Rules": [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}, {"Name": "d"}],
            }},
            "Association": {"Type": "AWS::WAFv2::WebACLAssociation"},
            "Logging": {"Type": "AWS::WAFv2::LoggingConfiguration"},
            "Certificate": {"Type": "AWS::CertificateManager::Certificate"},
            "Alias": {"Type": "AWS::Route53::RecordSet", "Properties": {
                "Name": "omc.example", "Type": "A",
                "AliasTarget": {"DNSName": "x", "HostedZoneId": "Z1"},
            }},
            "Plain": {"Type": "AWS::Route53::RecordSet", "Properties": {
                "Name": "txt.omc.example", "Type": "TXT", "ResourceRecords": ["\"x\""],
            }},
        });
        let e = estimate_of(&resources, &Assumptions::default());
        let stack = &e.stacks[0];
        // Free: the association, the logging configuration, the certificate, the alias.
        let ids: Vec<&str> = stack
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        assert_eq!(ids, ["Acl", "Plain"]);
        let acl = &stack.resources[0];
        let lines: Vec<(&str, f64)> = acl
            .lines
            .iter()
            .map(|l| (l.price_key.as_str(), l.quantity))
            .collect();
        assert_eq!(
            lines,
            [
                ("waf.web_acl.month", 1.0),
                ("waf.rule.month", 4.0),
                ("waf.requests.million", 10.0)
            ]
        );
        // $5 + 4 × $1 + 10 × $0.60.
        assert!((acl.monthly() - 15.0).abs() < 1e-9, "{}", acl.monthly());
        assert!(
            stack.resources[1]
                .not_priced
                .as_deref()
                .is_some_and(|why| why.contains("other than aliases"))
        );

        let mut busy = Assumptions::default();
        busy.set("waf_requests_million", 100.0)
            .expect("a known key");
        let e = estimate_of(&resources, &busy);
        assert!((e.stacks[0].resources[0].monthly() - 69.0).abs() < 1e-9);
    }

    #[test]
    fn ecr_repositories_pay_for_the_assumed_stored_images() {
        let resources = json!({"Repo": {"Type": "AWS::ECR::Repository", "Properties": {}}});
        // 5 GB (the default ecr_gb) at $0.10 per GB-month.
        let e = estimate_of(&resources, &Assumptions::default());
        assert!((e.monthly() - 0.50).abs() < 1e-9, "{}", e.monthly());
        let mut more = Assumptions::default();
        more.set("ecr_gb", 40.0).expect("a known key");
        let e = estimate_of(&resources, &more);
        assert!((e.monthly() - 4.0).abs() < 1e-9, "{}", e.monthly());
        assert!(!super::is_free("AWS::ECR::Repository"));
    }
}
