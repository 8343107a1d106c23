"""Settings CloudFormation cannot express, applied and verified by the CLI after every deploy."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from infragen.deploy.aws_errors import code, kind_of_failure, message
from infragen.errors import AwsError

_RERUN = "the stack is deployed; run `infragen harden` to finish"


def lock_down_default_security_group(ec2, vpc_id: str) -> int:
    """Verify the VPC's default security group has no rules, removing any; return how many were removed.

    CloudFormation cannot manage a VPC's default group, yet anything launched without an explicit
    group lands in it and may talk to everything else there. One describe call when it is
    already locked down; idempotent.
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
        raise hardening_error(exc, vpc_id) from None
    return removed


def hardening_error(exc: ClientError | BotoCoreError, vpc_id: str) -> AwsError:
    """The failure as the user must act on it: permissions only when AWS said so."""
    what = f"could not lock down the default security group of {vpc_id}"
    kind = kind_of_failure(exc)
    if kind == "denied":
        return AwsError(f"{what}: access denied ({code(exc)})",
                        hint=f"{_RERUN} once your identity has ec2:DescribeSecurityGroups and "
                             "ec2:RevokeSecurityGroupIngress/Egress")
    if kind == "credentials":
        return AwsError(f"{what}: the credentials were refused ({code(exc)})",
                        hint=f"{_RERUN} with valid credentials")
    if kind == "unreachable":
        return AwsError(f"{what}: EC2 could not be reached ({exc})",
                        hint=f"{_RERUN} once the connection is back")
    if kind == "throttled":
        return AwsError(f"{what}: throttled by EC2 ({code(exc)})", hint=f"{_RERUN} in a minute")
    detail = f"{code(exc)}: {message(exc)}" if isinstance(exc, ClientError) else str(exc)
    return AwsError(f"{what}: {detail}", hint=_RERUN)
