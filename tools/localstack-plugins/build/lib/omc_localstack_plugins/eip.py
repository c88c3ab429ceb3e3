"""AWS::EC2::EIP on LocalStack's own EC2: AllocateAddress on create, ReleaseAddress on delete.

Ref gives the public IP and Fn::GetAtt AllocationId the allocation id, as on AWS, so NAT
gateways that take the allocation id can be created.
"""

from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
)

SCHEMA = {
    "typeName": "AWS::EC2::EIP",
    "properties": {
        "AllocationId": {"type": "string"},
        "PublicIp": {"type": "string"},
        "Domain": {"type": "string"},
        "Tags": {"type": "array"},
        "InstanceId": {"type": "string"},
        "NetworkBorderGroup": {"type": "string"},
    },
    "createOnlyProperties": ["/properties/Domain", "/properties/NetworkBorderGroup"],
    "readOnlyProperties": ["/properties/PublicIp", "/properties/AllocationId"],
    "primaryIdentifier": ["/properties/PublicIp", "/properties/AllocationId"],
}


class EipProvider(ResourceProvider):
    TYPE = "AWS::EC2::EIP"
    SCHEMA = SCHEMA

    def create(self, request):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        params = {"Domain": model.get("Domain") or "vpc"}
        if model.get("Tags"):
            params["TagSpecifications"] = [
                {"ResourceType": "elastic-ip", "Tags": model["Tags"]}
            ]
        response = ec2.allocate_address(**params)
        model["AllocationId"] = response["AllocationId"]
        model["PublicIp"] = response["PublicIp"]
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def read(self, request):
        raise NotImplementedError

    def update(self, request):
        # Only tags can change in place; LocalStack keeps the allocation.
        model = request.desired_state
        previous = request.previous_state or {}
        model["AllocationId"] = previous.get("AllocationId")
        model["PublicIp"] = previous.get("PublicIp")
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def delete(self, request):
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        if model.get("AllocationId"):
            try:
                ec2.release_address(AllocationId=model["AllocationId"])
            except ec2.exceptions.ClientError:
                pass
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


class EipProviderPlugin(CloudFormationResourceProviderPlugin):
    name = "AWS::EC2::EIP"

    def __init__(self):
        self.factory = None

    def load(self):
        self.factory = EipProvider
