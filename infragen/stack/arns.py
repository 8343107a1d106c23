"""ARN builders as `Fn::Sub` expressions, so templates stay region- and account-neutral."""

from __future__ import annotations

from troposphere import Sub

PREFIX = "arn:${AWS::Partition}"


def arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
    """Sub-ready ARN text, e.g. arn("ssm", "parameter/app/x")."""
    region_part = "${AWS::Region}" if region else ""
    account_part = "${AWS::AccountId}" if account else ""
    return f"{PREFIX}:{service}:{region_part}:{account_part}:{resource}"


def sub_arn(service: str, resource: str, **kwargs) -> Sub:
    return Sub(arn(service, resource, **kwargs))


def ssm_parameter_arn(name: str) -> Sub:
    """ARN of an SSM parameter whose name starts with '/'."""
    return sub_arn("ssm", "parameter" + name)


def log_group_arn(name: str) -> Sub:
    """ARN of a log group by name, without the ':*' suffix `GetAtt Arn` adds."""
    return sub_arn("logs", f"log-group:{name}")

