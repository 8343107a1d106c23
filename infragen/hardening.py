"""Settings CloudFormation cannot express, applied by the CLI after a deploy."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from infragen.errors import AwsError


def lock_down_default_security_group(ec2, vpc_id: str) -> int:
    """Remove every rule of the VPC's default security group; return how many were removed.

    CloudFormation cannot manage a VPC's default group, yet anything launched without an explicit
    group lands in it and may talk to everything else there. Idempotent: a second call removes 0.
    """
    try:
        groups = ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])
        removed = 0
        for group in groups["SecurityGroups"]:
            if group["IpPermissions"]:
                ec2.revoke_security_group_ingress(GroupId=group["GroupId"],
                                                  IpPermissions=group["IpPermissions"])
                removed += len(group["IpPermissions"])
            if group["IpPermissionsEgress"]:
                ec2.revoke_security_group_egress(GroupId=group["GroupId"],
                                                 IpPermissions=group["IpPermissionsEgress"])
                removed += len(group["IpPermissionsEgress"])
    except (ClientError, BotoCoreError) as exc:
        reason = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else str(exc)
        raise AwsError(f"could not lock down the default security group of {vpc_id}: {reason}",
                       hint="the stack is deployed; grant ec2:DescribeSecurityGroups and "
                            "ec2:RevokeSecurityGroupIngress/Egress, then run `infragen harden`") from None
    return removed
