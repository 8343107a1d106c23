"""What is deployed: the stack's state, template and resources, and whether a deploy would change it.

Botocore errors other than "stack does not exist" propagate; callers add context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from botocore.exceptions import ClientError

from infragen.deploy import stack_status
from infragen.deploy.aws_errors import is_missing_stack

_IAM_TYPES = {
    "AWS::IAM::AccessKey",
    "AWS::IAM::Group",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::UserToGroupAddition",
}
_IAM_NAME_PROPERTIES = {"RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName"}
_MASKED = "****"  # how CloudFormation shows NoEcho parameter values
_SSM_TYPE = "AWS::SSM::Parameter::Value<"  # resolved by CloudFormation at every deploy


@dataclass(frozen=True)
class DeployedStack:
    name: str
    stack_id: str
    status: str
    status_reason: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> stack_status.State:
        return stack_status.state(self.status)


def describe(cfn, name: str) -> DeployedStack | None:
    """The stack called `name` (or with that stack id), or None if there is none."""
    try:
        found = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if is_missing_stack(exc):
            return None
        raise
    if not found:
        return None
    stack = found[0]
    return DeployedStack(
        name=stack["StackName"],
        stack_id=stack["StackId"],
        status=stack["StackStatus"],
        status_reason=stack.get("StackStatusReason"),
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        tags={t["Key"]: t["Value"] for t in stack.get("Tags", [])},
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
    )


def deployed_template(cfn, name: str) -> dict:
    """The template the stack was last deployed with, as submitted (before transforms)."""
    body = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    return parse_template(body)


def parse_template(body: str | Mapping) -> dict:
    """A template as plain dicts, from a dict or JSON/YAML text (short-form tags expanded)."""
    if not isinstance(body, str):
        return json.loads(json.dumps(body))
    try:
        return json.loads(body)
    except ValueError:
        import cfn_flip  # YAML support (PyYAML): imported only for a YAML template

        return json.loads(json.dumps(cfn_flip.load(body)[0]))


def physical_ids(cfn, stack_id: str) -> dict[str, str]:
    """Logical id → physical id of every resource that has one."""
    ids: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for res in page["StackResourceSummaries"]:
            if res.get("PhysicalResourceId"):
                ids[res["LogicalResourceId"]] = res["PhysicalResourceId"]
    return ids


def required_capabilities(template: Mapping) -> list[str]:
    """The capabilities CloudFormation will demand for `template`, and no more."""
    caps = []
    resources = template.get("Resources", {}).values()
    iam = [r for r in resources if r.get("Type") in _IAM_TYPES]
    if iam:
        caps.append("CAPABILITY_IAM")
    if any(_IAM_NAME_PROPERTIES & set(r.get("Properties", {})) for r in iam):
        caps.append("CAPABILITY_NAMED_IAM")
    if _has_transform(template):
        caps.append("CAPABILITY_AUTO_EXPAND")
    return caps


def _has_transform(template: Mapping) -> bool:
    """A template-level Transform, or Fn::Transform anywhere (not a property that is called Transform)."""
    return "Transform" in template or _has_fn_transform(template)


def _has_fn_transform(node: Any) -> bool:
    if isinstance(node, dict):
        return "Fn::Transform" in node or any(map(_has_fn_transform, node.values()))
    if isinstance(node, list):
        return any(map(_has_fn_transform, node))
    return False


def is_unchanged(
    deployed: DeployedStack,
    deployed_template: Mapping,
    template_body: str,
    parameters: Mapping[str, str],
    tags: Mapping[str, str],
) -> bool:
    """True only if deploying would provably change nothing, so no change set is needed.

    Conservative: values CloudFormation resolves at deploy time (SSM parameter types,
    transforms) or hides (NoEcho) count as changed.
    """
    template = parse_template(template_body)
    declared = template.get("Parameters", {})
    resolved_late = any(p.get("Type", "").startswith(_SSM_TYPE) for p in declared.values())
    if resolved_late or _has_transform(template):
        return False
    if _MASKED in deployed.parameters.values():
        return False
    effective = {k: _as_parameter(p["Default"]) for k, p in declared.items() if "Default" in p} | dict(parameters)
    return (
        _canonical(template) == _canonical(deployed_template)
        and effective == deployed.parameters
        and dict(tags) == deployed.tags
    )


def parameter_differences(
    deployed: DeployedStack | None, parameters: Mapping[str, str], template: Mapping
) -> dict[str, tuple[str, str]]:
    """Parameters whose deployed value is known to differ from the one passed: name → (old, new).

    Values CloudFormation hides (NoEcho) or resolves at deploy time (SSM types) are left out:
    only a difference infragen can prove counts.
    """
    if deployed is None:
        return {}
    declared = template.get("Parameters", {})
    return {
        name: (deployed.parameters[name], value)
        for name, value in parameters.items()
        if name in deployed.parameters
        and deployed.parameters[name] not in (value, _MASKED)
        and not declared.get(name, {}).get("Type", "").startswith(_SSM_TYPE)
    }


def _as_parameter(default: Any) -> str:
    """A template Default as CloudFormation reports the parameter's value."""
    if isinstance(default, list):
        return ",".join(map(_as_parameter, default))
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
