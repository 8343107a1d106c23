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

    None when the stack or the resource does not exist; any other failure is an AwsError. The
    resources are listed once, on the first lookup (list_stack_resources: the local emulator's
    describe_stack_resource fails for most resources of this stack).
    """
    from botocore.exceptions import ClientError

    from infragen.deploy.aws_errors import aws_errors, is_missing_stack
    from infragen.deploy.stacks import physical_ids

    found: dict[str, str] | None = None

    def resolve(logical_id: str) -> str | None:
        nonlocal found
        if found is None:
            with aws_errors(f"Reading {logical_id} of stack {stack_name}"):
                try:
                    found = physical_ids(cfn, stack_name)
                except ClientError as exc:
                    if not is_missing_stack(exc):
                        raise
                    found = {}
        return found.get(logical_id)

    return resolve
