"""Placeholder resource providers for types LocalStack's free edition does not emulate.

LocalStack "deploys them as a fallback" with the attribute value "unknown", which its own IAM
then refuses in policies ("Resource unknown must be in ARN format"), so templates like the
OMC app cannot be created. These providers create nothing either: they record the resource
with attributes shaped as on AWS (ARNs, host names, ports, ids) so everything that refers to
them can be created, updated and deleted. Test infrastructure for omc-cdk's deploy tests.
"""

import hashlib

from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
)

# Type -> (service, ARN resource prefix, Ref property, {attribute path: kind}).
# Kinds: "arn", "id", "name", "host", "port", "arnref" (the Ref value itself).
TYPES = {
    "AWS::RDS::DBInstance": ("rds", "db:", "DBInstanceIdentifier", {
        "Endpoint.Address": "host", "Endpoint.Port": "port:5432",
        "MasterUserSecret.SecretArn": "arn:secretsmanager:secret:", "DBInstanceArn": "arn",
        "DbiResourceId": "id"}),
    "AWS::RDS::DBSubnetGroup": ("rds", "subgrp:", "DBSubnetGroupName", {}),
    "AWS::ElastiCache::ReplicationGroup": ("elasticache", "replicationgroup:", "ReplicationGroupId", {
        "PrimaryEndPoint.Address": "host", "PrimaryEndPoint.Port": "port:6379",
        "ReaderEndPoint.Address": "host", "ReaderEndPoint.Port": "port:6379"}),
    "AWS::ElastiCache::SubnetGroup": ("elasticache", "subnetgroup:", "CacheSubnetGroupName", {}),
    "AWS::EFS::FileSystem": ("elasticfilesystem", "file-system/", "FileSystemId", {"Arn": "arn"}),
    "AWS::EFS::MountTarget": ("elasticfilesystem", "mount-target/", "Id", {"IpAddress": "ip"}),
    "AWS::EFS::AccessPoint": ("elasticfilesystem", "access-point/", "AccessPointId", {"Arn": "arn"}),
    "AWS::ECS::Cluster": ("ecs", "cluster/", "ClusterName", {"Arn": "arn"}),
    "AWS::ECS::ClusterCapacityProviderAssociations": ("ecs", "cluster/", "Cluster", {}),
    "AWS::ECS::TaskDefinition": ("ecs", "task-definition/", "TaskDefinitionArn:arn", {}),
    "AWS::ECS::Service": ("ecs", "service/", "ServiceArn:arn", {"Name": "name"}),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ("elasticloadbalancing", "loadbalancer/app/", "LoadBalancerArn:arn", {
        "LoadBalancerFullName": "fullname:app/", "DNSName": "host", "LoadBalancerName": "name",
        "CanonicalHostedZoneID": "id"}),
    "AWS::ElasticLoadBalancingV2::TargetGroup": ("elasticloadbalancing", "targetgroup/", "TargetGroupArn:arn", {
        "TargetGroupFullName": "fullname:targetgroup/", "TargetGroupName": "name"}),
    "AWS::ElasticLoadBalancingV2::Listener": ("elasticloadbalancing", "listener/app/", "ListenerArn:arn", {}),
    "AWS::ElasticLoadBalancingV2::ListenerRule": ("elasticloadbalancing", "listener-rule/app/", "RuleArn:arn", {}),
    "AWS::ApplicationAutoScaling::ScalableTarget": ("application-autoscaling", "scalable-target/", "Id", {}),
    "AWS::ApplicationAutoScaling::ScalingPolicy": ("autoscaling", "scalingPolicy:", "Arn:arn", {}),
    "AWS::EC2::SecurityGroupIngress": ("ec2", "security-group-rule/", "Id", {}),
    "AWS::EC2::SecurityGroupEgress": ("ec2", "security-group-rule/", "Id", {}),
    "AWS::EC2::FlowLog": ("ec2", "vpc-flow-log/", "Id", {}),
    "AWS::CloudWatch::Dashboard": ("cloudwatch", "dashboard/", "DashboardName", {}),
    "AWS::CloudTrail::Trail": ("cloudtrail", "trail/", "TrailName", {"Arn": "arn"}),
    "AWS::GuardDuty::Detector": ("guardduty", "detector/", "Id", {}),
    "AWS::Config::ConfigurationRecorder": ("config", "config-recorder/", "Name", {}),
    "AWS::Config::DeliveryChannel": ("config", "delivery-channel/", "Name", {}),
    "AWS::Config::ConfigRule": ("config", "config-rule/", "ConfigRuleName", {"Arn": "arn", "ConfigRuleId": "id"}),
    # The hosted zone of an environment exists outside the app (a one-time step), so its
    # records are recorded without a zone.
    "AWS::Route53::RecordSet": ("route53", "recordset/", "Id", {}),
    # LocalStack names a web ACL by "Name|Id|Scope": the placeholder gives it a name.
    "AWS::WAFv2::WebACL": ("wafv2", "regional/webacl/", "Id", {"Arn": "arn", "Name": "name"}),
    "AWS::WAFv2::WebACLAssociation": ("wafv2", "regional/webacl-association/", "Id", {}),
    "AWS::WAFv2::LoggingConfiguration": ("wafv2", "regional/logging/", "ResourceArn", {}),
    "AWS::Budgets::Budget": ("budgets", "budget/", "Id", {}),
}


def _token(request) -> str:
    digest = hashlib.sha256(f"{request.stack_name}/{request.logical_resource_id}".encode())
    return digest.hexdigest()[:12]


def _set(model: dict, path: str, value) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        model = model.setdefault(part, {})
    model[parts[-1]] = value


def _provider(type_name: str) -> type:
    service, prefix, ref, attributes = TYPES[type_name]
    ref_property, _, ref_kind = ref.partition(":")

    def values(request) -> dict:
        token = _token(request)
        name = f"{request.logical_resource_id.lower()[:40]}-{token}"
        arn = f"arn:aws:{service}:{request.region_name}:{request.account_id}:{prefix}{name}"
        out = {ref_property: arn if ref_kind == "arn" else (
            # Ref of an association is the cluster it associates: keep what the template gave.
            request.desired_state.get(ref_property) or name)}
        for path, kind in attributes.items():
            kind, _, extra = kind.partition(":")
            if kind == "arn" and extra:
                # "arn:<service>:<prefix>" makes an ARN of another service.
                other, _, other_prefix = extra.partition(":")
                value = f"arn:aws:{other}:{request.region_name}:{request.account_id}:{other_prefix}{name}"
            else:
                value = {
                    "arn": arn,
                    "id": token,
                    "name": name,
                    "host": f"{name}.{service}.local",
                    "port": extra or "443",
                    "ip": "10.0.0.10",
                    "fullname": f"{extra}{name}/{token}",
                }[kind]
            _set(out, path, value)
        return out

    class Placeholder(ResourceProvider):
        TYPE = type_name
        SCHEMA = {
            "typeName": type_name,
            "properties": {},
            "primaryIdentifier": [f"/properties/{ref_property}"],
            "readOnlyProperties": [f"/properties/{p.split('.')[0]}" for p in attributes],
        }

        def create(self, request):
            model = dict(request.desired_state)
            model.update(values(request))
            return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

        def update(self, request):
            model = dict(request.desired_state)
            model.update(values(request))
            return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

        def delete(self, request):
            return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=request.desired_state)

        def read(self, request):
            raise NotImplementedError

    Placeholder.__name__ = "Placeholder_" + type_name.replace("::", "_")
    return Placeholder


def _plugin(type_name: str) -> type:
    class Plugin(CloudFormationResourceProviderPlugin):
        name = type_name

        def __init__(self):
            self.factory = None

        def load(self):
            self.factory = _provider(type_name)

    Plugin.__name__ = "Plugin_" + type_name.replace("::", "_")
    return Plugin


for _type in TYPES:
    globals()["Plugin_" + _type.replace("::", "_")] = _plugin(_type)
