"""Run parliament (an IAM policy linter) on every policy document of every rendered template.

Intrinsic functions are filled with example values first (parliament reads plain JSON). Fails on
any finding of MEDIUM severity or above, and on a LOW finding that ALLOWED_LOW below does not list
with its reason (the README repeats the list). Run in its own virtual environment (.ci/run).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from parliament import analyze_policy_string, enhance_finding

PARTITION, REGION, ACCOUNT = "aws", "us-west-2", "123456789012"
# Example physical values per resource type, for Ref and GetAtt Arn.
EXAMPLE_ARN = {
    "AWS::Logs::LogGroup": "arn:aws:logs:us-west-2:123456789012:log-group:/example/{id}:*",
    "AWS::KMS::Key": "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:us-west-2:123456789012:table/{id}",
    "AWS::SNS::Topic": "arn:aws:sns:us-west-2:123456789012:{id}",
    "AWS::S3::Bucket": "arn:aws:s3:::example-{lower}",
    "AWS::IAM::Role": "arn:aws:iam::123456789012:role/{id}",
}
EXAMPLE_REF = {"AWS::SNS::Topic": EXAMPLE_ARN["AWS::SNS::Topic"], "AWS::S3::Bucket": "example-{lower}",
               "AWS::DynamoDB::Table": "{id}", "AWS::KMS::Key": "1234abcd-12ab-34cd-56ef-1234567890ab",
               "AWS::ApiGateway::RestApi": "a1b2c3d4e5"}
# LOW findings that stay, each with its reason (README, "IAM details…", lists them too).
ENI_ACTIONS = {"ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
               "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"}
KEY_POLICY_STAR = ("in a key policy Resource \"*\" means this key only (AWS KMS Developer Guide, "
                   "\"Key policies\")")
ENI_STAR = ("Lambda creates a VPC function's network interfaces with its role before their ids "
            "exist; EC2 offers no narrower scope for them")


def allowed_low(finding, resource_type: str, kind: str) -> str | None:
    """The reason a LOW finding stays, or None."""
    if finding.issue != "RESOURCE_STAR":
        return None
    if resource_type == "AWS::KMS::Key" and kind == "resource":
        return KEY_POLICY_STAR
    if kind == "identity" and set(finding.detail) <= ENI_ACTIONS:
        return ENI_STAR
    return None


def example(resources: dict, logical_id: str, attribute: str | None) -> str:
    kind = resources.get(logical_id, {}).get("Type", "")
    table = EXAMPLE_ARN if attribute == "Arn" else EXAMPLE_REF
    pattern = table.get(kind, "example-{lower}")
    return pattern.format(id=logical_id, lower=logical_id.lower())


def fill(value, resources: dict):
    """The value with Ref, Fn::GetAtt, Fn::Sub and Fn::Join resolved to example strings."""
    if isinstance(value, list):
        return [fill(v, resources) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                "AWS::URLSuffix": "amazonaws.com"}.get(value["Ref"]) or example(resources, value["Ref"], None)
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return example(resources, logical_id, attribute)
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(fill(parts, resources))
    if set(value) == {"Fn::Sub"}:
        text, names = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        names = {k: fill(v, resources) for k, v in names.items()}

        def resolve(match):
            name = match.group(1)
            if name in names:
                return names[name]
            logical_id, _, attribute = name.partition(".")
            return fill({"Fn::GetAtt": [logical_id, attribute]} if attribute else {"Ref": name}, resources)

        return re.sub(r"\$\{([^}!]+)\}", resolve, text)
    return {k: fill(v, resources) for k, v in value.items()}


def policies(template: dict):
    """(resource, kind, document) for every policy document, intrinsics filled."""
    resources = template.get("Resources", {})
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            yield logical_id, "identity", fill(policy["PolicyDocument"], resources)
        # Trust policies are not read: parliament has no mode for them (a trust statement has
        # no Resource by design, which it reports as MALFORMED).
        if "PolicyDocument" in props:
            yield logical_id, "resource", fill(props["PolicyDocument"], resources)
        if "KeyPolicy" in props:
            key_policy = fill(props["KeyPolicy"], resources)
            yield logical_id, "resource", json.loads(key_policy) if isinstance(key_policy, str) else key_policy


def main(paths: list[Path]) -> int:
    failures, kept = [], []
    for path in paths:
        template = json.loads(path.read_text())
        for logical_id, kind, document in policies(template):
            resource_type = template["Resources"][logical_id]["Type"]
            policy = analyze_policy_string(json.dumps(document), ignore_private_auditors=True,
                                           include_community_auditors=False)
            for finding in map(enhance_finding, policy.findings):
                where = f"{path.name} {logical_id} ({kind})"
                severity = finding.severity
                line = f"{where}: {severity} {finding.issue} {json.dumps(finding.detail)[:300]}"
                if severity in ("MEDIUM", "HIGH", "CRITICAL"):
                    failures.append(line)
                elif reason := allowed_low(finding, resource_type, kind):
                    kept.append(f"{line} — kept: {reason}")
                else:
                    failures.append(line + " (LOW without a listed reason: fix it or list it)")
    for line in kept:
        print(line)
    for line in failures:
        print(line, file=sys.stderr)
    print(f"parliament: {len(paths)} templates, {len(failures)} finding(s) to fix, {len(kept)} kept")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main([Path(p) for p in sys.argv[1:]] or sorted(Path("templates_out").glob("*.json"))))
