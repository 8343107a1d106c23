"""The environment a deployed function gets, read from the rendered template."""

from __future__ import annotations

from typing import Callable

from infragen.stack.names import function_logical_id


def function_environment(template: dict, function: str,
                         resolve: Callable[[str], str | None]) -> dict[str, str]:
    """Variables of `function` with stack references resolved by `resolve(logical_id)`.

    An unresolvable reference becomes a readable placeholder, never a crash.
    """
    resource = template["Resources"][function_logical_id(function)]
    variables = resource["Properties"]["Environment"]["Variables"]
    resolved = {}
    for name, value in variables.items():
        if isinstance(value, str):
            resolved[name] = value
            continue
        logical_id = value.get("Ref") if isinstance(value, dict) else None
        physical = resolve(logical_id) if logical_id else None
        resolved[name] = physical or f"<unresolved {logical_id or value}: stack not deployed on this target>"
    return resolved


def stack_resolver(cfn, stack_name: str) -> Callable[[str], str | None]:
    """Resolve logical ids to physical ids of the deployed stack.

    None when the stack or the resource does not exist; any other failure is an AwsError.
    """
    from botocore.exceptions import ClientError

    from infragen.deploy.aws_errors import aws_errors, is_missing_stack

    def resolve(logical_id: str) -> str | None:
        with aws_errors(f"Reading {logical_id} of stack {stack_name}"):
            try:
                reply = cfn.describe_stack_resource(StackName=stack_name,
                                                    LogicalResourceId=logical_id)
            except ClientError as exc:
                if is_missing_stack(exc):  # also "Resource … does not exist for stack …"
                    return None
                raise
        return reply["StackResourceDetail"].get("PhysicalResourceId") or None

    return resolve
