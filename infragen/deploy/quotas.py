"""Account quotas a deploy would exceed, checked before anything is created.

Compares what the new template adds with what the deployed one already has, against the
account's figures:
- Lambda: reserved concurrency must leave the unreserved pool at AWS's minimum, 100 simultaneous
  executions (Lambda API Reference, PutFunctionConcurrency: "as long as you leave at least 100
  simultaneous executions unreserved"); an account whose total is below 100 (new accounts may
  have 10) can reserve nothing.
- Elastic IPs for the NAT gateways: EC2's `vpc-max-elastic-ips` account attribute.
- VPCs per region: Service Quotas `L-F678F1CE` (AWS default 5 when the quota cannot be read).
Only AWS has these quotas: a custom endpoint (the local emulator) skips the check with one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from infragen.console import Console
from infragen.deploy.aws_errors import aws_errors
from infragen.errors import DeployFailed

UNRESERVED_MINIMUM = 100
VPC_QUOTA_CODE = "L-F678F1CE"  # Amazon VPC: "VPCs per Region"
DEFAULT_VPCS_PER_REGION = 5


@dataclass(frozen=True)
class Needs:
    """What the new template adds over the deployed one."""
    reserved_concurrency: int  # net change of reserved executions
    elastic_ips: int
    vpcs: int


def needs(template: dict, deployed: dict | None) -> Needs:
    def count(t, type_):
        return sum(1 for r in (t or {}).get("Resources", {}).values() if r["Type"] == type_)

    def reserved(t):
        return sum(int(r.get("Properties", {}).get("ReservedConcurrentExecutions", 0))
                   for r in (t or {}).get("Resources", {}).values()
                   if r["Type"] == "AWS::Lambda::Function")

    return Needs(reserved_concurrency=reserved(template) - reserved(deployed),
                 elastic_ips=max(0, count(template, "AWS::EC2::EIP") - count(deployed, "AWS::EC2::EIP")),
                 vpcs=max(0, count(template, "AWS::EC2::VPC") - count(deployed, "AWS::EC2::VPC")))


def preflight(clients, rendered: str, deployed_stack, console: Console) -> None:
    """`check_quotas` for a deploy of `rendered` over the deployed stack (None: a first deploy)."""
    import json

    from infragen.deploy import stacks

    if clients.target.endpoint_url:
        console.echo(f"Quota pre-flight skipped: {clients.target.endpoint_url} is not AWS.")
        return
    from infragen.deploy.stack_status import State

    deployed = None
    if deployed_stack is not None and deployed_stack.state is State.READY:
        with aws_errors(f"Reading the template of stack {deployed_stack.name}"):
            deployed = stacks.deployed_template(clients.cloudformation, deployed_stack.stack_id)
    check_quotas(clients, json.loads(rendered), deployed, console)


def check_quotas(clients, template: dict, deployed: dict | None, console: Console) -> None:
    """Raise DeployFailed (exit 1), naming the figures and the quota to raise, when the deploy would not fit."""
    need = needs(template, deployed)
    problems = []
    if need.reserved_concurrency > 0:
        problems += _lambda_problems(clients.lambda_, need.reserved_concurrency)
    if need.elastic_ips:
        problems += _eip_problems(clients.ec2, need.elastic_ips)
    if need.vpcs:
        problems += _vpc_problems(clients.ec2, clients.service_quotas, need.vpcs)
    if problems:
        raise DeployFailed("the deploy would exceed account quotas in "
                            f"{clients.target.region}; nothing was created:\n  " + "\n  ".join(problems),
                            hint="raise the quota in the Service Quotas console (or free capacity), "
                                 "or lower what infragen.toml asks for; then deploy again")


def _lambda_problems(lam, added: int) -> list[str]:
    with aws_errors("Reading the Lambda account settings"):
        limit = lam.get_account_settings()["AccountLimit"]
    total, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    floor = min(UNRESERVED_MINIMUM, total)
    if unreserved - added >= floor:
        return []
    return [f"Lambda concurrency: this deploy reserves {added} more executions; the account has "
            f"{unreserved} unreserved of {total}, and AWS keeps at least {floor} unreserved. Raise "
            f"\"Concurrent executions\" (Service Quotas, AWS Lambda) to at least "
            f"{total + added - (unreserved - floor)}, or lower reserved_concurrency "
            f"(it is optional: leave it out for no reservation)"]


def _eip_problems(ec2, added: int) -> list[str]:
    with aws_errors("Reading the Elastic IP quota"):
        attributes = ec2.describe_account_attributes(AttributeNames=["vpc-max-elastic-ips"])
        quota = int(attributes["AccountAttributes"][0]["AttributeValues"][0]["AttributeValue"])
        used = len(ec2.describe_addresses(Filters=[{"Name": "domain", "Values": ["vpc"]}])["Addresses"])
    if used + added <= quota:
        return []
    return [f"Elastic IPs: the NAT gateways need {added} more; {used} of {quota} are allocated. "
            f"Release unused ones or raise \"EC2-VPC Elastic IPs\" (Service Quotas, Amazon EC2), "
            f"or set nat_gateways = 1"]


def _vpc_problems(ec2, quotas, added: int) -> list[str]:
    with aws_errors("Counting the VPCs"):
        used = sum(len(page["Vpcs"]) for page in ec2.get_paginator("describe_vpcs").paginate())
    try:
        quota = int(quotas.get_service_quota(ServiceCode="vpc", QuotaCode=VPC_QUOTA_CODE)
                    ["Quota"]["Value"])
        source = ""
    except ClientError:  # no permission or no such quota record: AWS's documented default
        quota, source = DEFAULT_VPCS_PER_REGION, " (AWS's default; the quota could not be read)"
    if used + added <= quota:
        return []
    return [f"VPCs: this stack creates {added}; {used} of {quota}{source} exist in the region. "
            f"Delete unused ones or raise \"VPCs per Region\" (Service Quotas, Amazon VPC)"]
