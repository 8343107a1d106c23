"""The environment a deployed function gets, read from the rendered template."""

from __future__ import annotations

from typing import Callable

from infragen.stack.names import camel


def function_environment(template: dict, function: str,
                         resolve: Callable[[str], str | None]) -> dict[str, str]:
    """Variables of `function` with stack references resolved by `resolve(logical_id)`.

    An unresolvable reference becomes a readable placeholder, never a crash.
    """
    resource = template["Resources"][f"{camel(function)}Function"]
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
    """Resolve logical ids to physical ids of the deployed stack; None when it is not there."""
    from botocore.exceptions import BotoCoreError, ClientError

    def resolve(logical_id: str) -> str | None:
        try:
            reply = cfn.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)
        except (ClientError, BotoCoreError):
            return None
        return reply["StackResourceDetail"].get("PhysicalResourceId") or None

    return resolve
