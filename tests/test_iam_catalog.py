"""IAM actions looked up in the Service Authorization Reference data."""

import pytest

from infragen.iam_catalog import lookup


def test_action_is_found_case_insensitively_and_spelled_as_aws_does():
    info = lookup("S3:getobject")
    assert info.full_name == "s3:GetObject" and info.supports_resource_scoping
    assert "object" in info.resource_types


@pytest.mark.parametrize("action", ["s3:ListAllMyBuckets", "sts:GetCallerIdentity", "xray:PutTraceSegments"])
def test_actions_that_support_only_star(action):
    info = lookup(action)
    assert info is not None and not info.supports_resource_scoping and info.resource_types == ()


@pytest.mark.parametrize("action", ["dynamodb:Query", "kms:Decrypt", "lambda:InvokeFunction",
                                    "ssm:GetParameter", "sns:Publish"])
def test_actions_with_resource_level_permissions(action):
    assert lookup(action).supports_resource_scoping


@pytest.mark.parametrize("action", ["s3:GetObjekt", "nosuch:Thing", "s3:", "s3", ":GetObject", "",
                                    "s3:Get*", "s3:GetObject:x", "s3 :GetObject"])
def test_unknown_actions_are_none(action):
    assert lookup(action) is None
