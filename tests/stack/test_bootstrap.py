"""Issue 9 #1: the bootstrap stack owns the account-and-region API Gateway setting."""

import json

import pytest

from infragen.config import BootstrapSettings
from infragen.render import bootstrap_template
from tests.stack.helpers import as_list, props, resources_of


def _bootstrap(manage=True, days=365):
    return json.loads(bootstrap_template(BootstrapSettings(manage, days)))


def test_the_account_setting_waits_for_its_role():
    t = _bootstrap()
    account = t["Resources"]["ApiGatewayAccount"]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}
    names = list(t["Resources"])
    assert names.index("ApiGatewayLoggingRole") < names.index("ApiGatewayAccount")
    # made only once the deploy says the role exists (propagation: infragen/deploy/account.py)
    assert account["Condition"] == "SetAccount"
    assert t["Conditions"]["SetAccount"] == {"Fn::Equals": [{"Ref": "SetApiGatewayAccount"}, "true"]}
    assert t["Parameters"]["SetApiGatewayAccount"]["Default"] == "false"
    assert t["Outputs"]["ApiGatewayLoggingRoleArn"]["Value"] == {
        "Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}


def test_the_role_is_deleted_with_the_stack_not_retained():
    """One role per account and region, owned by the bootstrap stack: no orphan per environment."""
    role = _bootstrap()["Resources"]["ApiGatewayLoggingRole"]
    assert "DeletionPolicy" not in role and "UpdateReplacePolicy" not in role
    assert "RoleName" not in role["Properties"]


def test_the_role_only_writes_logs():
    [policy] = props(_bootstrap(), "ApiGatewayLoggingRole")["Policies"]
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in as_list(s["Action"])}
    assert actions == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                       "logs:PutLogEvents", "logs:DescribeLogGroups"}
    [lookup] = [s for s in policy["PolicyDocument"]["Statement"]
                if "logs:DescribeLogGroups" in as_list(s["Action"])]
    assert lookup["Resource"] == ["*"] and lookup["Action"] == ["logs:DescribeLogGroups"]


@pytest.mark.parametrize("days", [30, 365])
def test_welcome_log_group_is_precreated_with_retention(days):
    t = _bootstrap(days=days)
    group = t["Resources"]["ApiGatewayWelcomeLogGroup"]
    assert group["Properties"] == {"LogGroupName": "/aws/apigateway/welcome", "RetentionInDays": days}
    assert group["Condition"] == "CreateWelcomeLogGroup"
    assert t["Parameters"]["CreateWelcomeLogGroup"]["Default"] == "true"


def test_unmanaged_bootstrap_is_the_bucket_alone():
    t = _bootstrap(manage=False)
    assert set(t["Resources"]) == {"ArtifactBucket", "ArtifactBucketPolicy"}
    assert "Parameters" not in t and "Conditions" not in t


def test_committed_bootstrap_matches_the_example_app(config, bootstrap):
    """The example app manages the setting; the welcome group keeps logs as long as prod does."""
    assert resources_of(bootstrap, "AWS::ApiGateway::Account")
    assert props(bootstrap, "ApiGatewayWelcomeLogGroup")["RetentionInDays"] == max(
        cfg.log_retention_days for cfg in config.envs)
