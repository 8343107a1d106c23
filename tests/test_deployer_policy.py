"""`infragen deployer-policy`: the deploy identity's least-privilege policy (issue 9, item 5).

The proof: a full deploy, diff, status and destroy of the example app against the emulator,
recording every AWS operation the CLI's clients make (tests/test_deploy_integration.py's ApiLog),
mapping each to its IAM actions (infragen/audit/mapping.py) and checking the policy allows each
one — and, where the call names its resource, on that resource. CloudFormation's own calls for
the resources are not made by the emulator: every resource type of the rendered templates must be
in RESOURCE_ACTIONS, and the policy must allow those actions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.audit import mapping
from infragen.cli import cli
from infragen.config import load_config
from infragen.deployer_policy import ACTION_CONTEXT, RESOURCE_ACTIONS, deployer_policy, document, role_template
from infragen.policy_model import matches
from infragen.render import bootstrap_template, stack_template
from tests.test_deploy_integration import api_log, project, run_cli  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"  # moto's account
REGION = "us-west-2"
# STS API Reference, GetCallerIdentity: "No permissions are required to perform this operation."
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "infragen.toml")


@pytest.fixture(scope="module")
def dev_policy(config) -> dict:
    return document(deployer_policy(config.env("dev"), ACCOUNT, sibling_stacks=("infragen-prod",)))


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def allows(policy: dict, action: str, resource: str | None = None, context: dict | None = None) -> bool:
    """Some Allow statement names the action (and, when given, the resource) and its Condition
    holds in the request's `context` (none given: only unconditional statements count)."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(matches(action, p, case_insensitive=True) for p in _listed(statement["Action"])):
            continue
        if resource is not None and not any(matches(resource, p) for p in _listed(statement["Resource"])):
            continue
        if _holds(statement.get("Condition", {}), context or {}):
            return True
    return False


def _holds(condition: dict, context: dict) -> bool:
    """IAM's evaluation of a Condition block: every operator, every key (a key absent from the
    request fails it); an operator the proof does not know counts as failing."""
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual, allowed = context.get(key), [str(v) for v in _listed(expected)]
            if actual is None:
                return False
            if operator == "StringEquals":
                held = actual in allowed
            elif operator == "StringLike":
                held = any(matches(actual, v) for v in allowed)
            elif operator == "Bool":
                held = actual.lower() in [v.lower() for v in allowed]
            else:
                return False
            if not held:
                return False
    return True


def statement(policy: dict, sid: str) -> dict:
    (found,) = [s for s in policy["Statement"] if s.get("Sid") == sid]
    return found


# --- the policy as written --------------------------------------------------------------------


def test_policy_is_json_with_named_actions_only(dev_policy):
    assert json.loads(json.dumps(dev_policy)) == dev_policy
    actions = [a for s in dev_policy["Statement"] for a in _listed(s["Action"])]
    assert actions and all("*" not in a and "?" not in a for a in actions)
    assert all(s["Effect"] == "Allow" for s in dev_policy["Statement"])


def test_cloudformation_only_on_this_environment_and_the_bootstrap_stack(dev_policy):
    cfn = statement(dev_policy, "CloudFormationOnTheseStacks")
    assert cfn["Resource"] == [f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/infragen-dev/*",
                               f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/infragen-bootstrap/*"]
    assert {"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
            "cloudformation:DeleteStack"} <= set(cfn["Action"])
    prod = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/infragen-prod/x"
    assert not allows(dev_policy, "cloudformation:DeleteStack", prod)
    # destroy --include-bootstrap and prune only read the other environments' stacks
    assert statement(dev_policy, "ReadSiblingStacks")["Action"] == [
        "cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:ListStackResources"]
    assert allows(dev_policy, "cloudformation:DescribeStacks", prod)


def test_artifacts_only_in_the_bootstrap_bucket_under_the_prefix(dev_policy):
    bucket = f"arn:aws:s3:::infragen-bootstrap-{ACCOUNT}-{REGION}"
    assert statement(dev_policy, "ArtifactBucket")["Resource"] == [bucket]
    assert statement(dev_policy, "ArtifactObjects")["Resource"] == [f"{bucket}/infragen/*"]
    assert allows(dev_policy, "s3:PutObject", f"{bucket}/infragen/hello/abc.zip")
    assert not allows(dev_policy, "s3:PutObject", f"{bucket}/elsewhere/abc.zip")
    assert not allows(dev_policy, "s3:PutObject", "arn:aws:s3:::another-bucket/infragen/x.zip")


def test_pass_role_only_the_stacks_roles_and_only_to_their_service(dev_policy):
    passes = {s["Sid"]: s for s in dev_policy["Statement"] if s["Action"] == ["iam:PassRole"]}
    assert {sid: (s["Resource"], s["Condition"]) for sid, s in passes.items()} == {
        "PassRoleToLambda": ([f"arn:aws:iam::{ACCOUNT}:role/infragen-dev-*"],
                             {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        "PassRoleToFlowLogs": ([f"arn:aws:iam::{ACCOUNT}:role/infragen-dev-*"],
                               {"StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}}),
        "PassRoleToApiGateway": ([f"arn:aws:iam::{ACCOUNT}:role/infragen-bootstrap-*"],
                                 {"StringEquals": {"iam:PassedToService": "apigateway.amazonaws.com"}}),
    }
    assert not allows(dev_policy, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/admin")


def test_functions_and_parameters_named_exactly(dev_policy):
    assert statement(dev_policy, "Functions")["Resource"] == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:infragen-dev-hello",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:infragen-dev-data-processor"]
    assert statement(dev_policy, "FunctionParameters")["Resource"] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/infragen/dev/data_processor/signing-key",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/infragen/dev/hello/greeting"]


def test_lambda_environment_grant_only_for_aws_resources(dev_policy):
    grant = statement(dev_policy, "LambdaEnvironmentGrant")
    assert grant["Action"] == ["kms:CreateGrant"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_star_resource_only_for_actions_without_a_resource_type(dev_policy):
    from infragen import iam_catalog

    for s in dev_policy["Statement"]:
        unscoped = [a for a in _listed(s["Action"]) if not iam_catalog.lookup(a).supports_resource_scoping]
        if "*" in _listed(s["Resource"]):
            assert s["Sid"] == "NoResourceType" and unscoped == _listed(s["Action"])
        else:
            assert unscoped == [], s["Sid"]


def test_role_template_trusts_the_given_principal(config):
    template = role_template(config.env("prod"))
    role = template["Resources"]["DeployRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": {"Ref": "DeployPrincipalArn"}}
    policy = role["Policies"][0]["PolicyDocument"]
    assert statement(policy, "CloudFormationOnTheseStacks")["Resource"][0] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:us-west-2:${AWS::AccountId}:stack/infragen-prod/*"}


def test_cli_prints_the_policy_and_needs_an_account_for_json():
    config = str(ROOT / "infragen.toml")
    result = CliRunner().invoke(cli, ["deployer-policy", "--config", config, "--account", ACCOUNT])
    assert result.exit_code == 0, result.output
    assert statement(json.loads(result.output), "Functions")
    refused = CliRunner().invoke(cli, ["deployer-policy", "--config", config])
    assert refused.exit_code == 2 and "--account" in refused.output
    cfn = CliRunner().invoke(cli, ["deployer-policy", "--config", config, "--env", "prod", "--format", "cfn"])
    assert cfn.exit_code == 0 and json.loads(cfn.output)["Resources"]["DeployRole"]


# --- the proof --------------------------------------------------------------------------------


def _resource(service: str, params: dict) -> list[str]:
    """ARNs the call names, for the calls whose resource is in their parameters ([] otherwise)."""
    if service == "cloudformation" and "StackName" in params:
        name = params["StackName"]
        return [name if name.startswith("arn:") else
                f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/id"]
    if service == "s3" and "Bucket" in params:
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if "Key" in params:
            return [f"{bucket}/{params['Key']}"]
        if "Delete" in params:
            return [f"{bucket}/{o['Key']}" for o in params["Delete"]["Objects"]]
        return [bucket]
    if service == "lambda" and "FunctionName" in params:
        return [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{params['FunctionName']}"]
    if service == "ssm" and "Name" in params:
        return [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{params['Name']}"]
    return []


def test_the_policy_allows_every_call_of_deploy_diff_status_prune_destroy(project, moto_endpoint, api_log,
                                                                     dev_policy):
    # (command, flags, exit code): `secrets status` exits 1 while the parameters are not set
    commands = ((["deploy"], ["--yes", "--wait-timeout", "60"], 0), (["diff"], [], 0),
                (["status"], [], 0), (["secrets", "status"], ["--env", "dev"], 1),
                (["prune"], ["--yes", "--older-than", "0"], 0),
                (["destroy"], ["--yes", "--include-bootstrap", "--wait-timeout", "60"], 0))
    calls: list[tuple[str, str, dict]] = []
    for words, flags, code in commands:
        run = run_cli(api_log, *words, "--config", str(project), "--endpoint-url", moto_endpoint, *flags)
        assert run.exit_code == code, run.output
        calls += run.params
    operations = {(service, op) for service, op, _ in calls}
    assert {("cloudformation", "ExecuteChangeSet"), ("s3", "PutObject"),
            ("cloudformation", "DeleteStack")} <= operations  # the recording saw the lifecycle

    refused = []
    for service, operation, params in calls:
        actions = [a.split("@")[0] for a in mapping.actions(service, operation)]
        assert actions, f"{service}:{operation} maps to no IAM action"
        for action in actions:
            resources = _resource(service, params) or [None]
            refused += [(action, r) for r in resources
                        if action not in NEEDS_NO_PERMISSION and not allows(dev_policy, action, r)]
    assert refused == []


def _rendered_types(config) -> set[str]:
    types = set()
    for text in [bootstrap_template(config.env("dev").bootstrap)] + [
            stack_template(config.env(name)) for name in config.env_names]:
        types |= {r["Type"] for r in json.loads(text)["Resources"].values()}
    return types


def test_the_policy_allows_what_cloudformation_does_for_each_resource_type(config):
    types = _rendered_types(config)
    assert types - set(RESOURCE_ACTIONS) == set(), "add the new types' actions to RESOURCE_ACTIONS"
    for name in config.env_names:
        policy = document(deployer_policy(config.env(name), ACCOUNT))
        missing = [(t, a) for t in sorted(types) for a in RESOURCE_ACTIONS[t]
                   if not allows(policy, a, context=ACTION_CONTEXT.get((t, a)))]
        assert missing == [], name


def test_each_conditional_grant_is_what_some_resource_type_needs_and_no_more(config, dev_policy):
    conditional = [s for s in dev_policy["Statement"] if "Condition" in s]
    assert conditional  # PassRole per service, Lambda's environment grant
    for statement in conditional:
        single = {"Statement": [statement]}
        assert any(allows(single, a, context=c) for (_, a), c in ACTION_CONTEXT.items()), statement["Sid"]
    assert not allows(dev_policy, "iam:PassRole")  # to no service in particular: refused
    assert not allows(dev_policy, "iam:PassRole", context={"iam:PassedToService": "ec2.amazonaws.com"})
    assert not allows(dev_policy, "kms:CreateGrant", context={"kms:GrantIsForAWSResource": "false"})


def test_optional_resource_types_are_allowed_when_the_config_declares_them(config):
    from dataclasses import replace

    from infragen.config import TableConfig

    dev = config.env("dev")
    scheduled = replace(dev.functions[0], schedule="rate(5 minutes)")
    cfg = replace(dev, tables=(TableConfig("orders", "id"),), functions=(scheduled, *dev.functions[1:]))
    policy = document(deployer_policy(cfg, ACCOUNT))
    assert allows(policy, "dynamodb:CreateTable",
                  f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/infragen-dev-OrdersTable-X")
    assert allows(policy, "events:PutRule",
                  f"arn:aws:events:{REGION}:{ACCOUNT}:rule/infragen-dev-HelloSchedule-X")
    assert not allows(document(deployer_policy(dev, ACCOUNT)), "dynamodb:CreateTable")


def test_role_template_passes_cfn_lint(config):
    from infragen.lint import lint_text

    for name in config.env_names:
        cfg = config.env(name)
        text = json.dumps(role_template(cfg, ("infragen-other",)), indent=2)
        assert lint_text(text, f"deployer-{name}.json", cfg.region) == []
