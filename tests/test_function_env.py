"""function_env.stack_resolver against botocore's Stubber (responses shaped as AWS sends them)."""

import boto3
import pytest
from botocore.stub import Stubber

from infragen.errors import AwsError
from infragen.function_env import stack_resolver

STACK = "infragen-dev"


@pytest.fixture
def cfn():
    client = boto3.client("cloudformation", region_name="us-west-2",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def _summary(logical_id, physical_id=None):
    summary = {"LogicalResourceId": logical_id, "ResourceType": "AWS::X::Y",
               "LastUpdatedTimestamp": "2026-01-01T00:00:00Z", "ResourceStatus": "CREATE_COMPLETE"}
    return summary | ({"PhysicalResourceId": physical_id} if physical_id else {})


def test_resources_are_listed_once_for_every_lookup(cfn):
    cfn.stubber.add_response("list_stack_resources", {"StackResourceSummaries": [
        _summary("Vpc", "vpc-1"), _summary("ErrorTopic", "arn:aws:sns:t"), _summary("Pending")]},
        {"StackName": STACK})
    resolve = stack_resolver(cfn, STACK)
    assert resolve("Vpc") == "vpc-1"
    assert resolve("ErrorTopic") == "arn:aws:sns:t"
    assert resolve("Pending") is None and resolve("Unknown") is None


def test_a_missing_stack_resolves_to_none(cfn):
    cfn.stubber.add_client_error("list_stack_resources", "ValidationError",
                                 f"Stack with id {STACK} does not exist", 400)
    assert stack_resolver(cfn, STACK)("Vpc") is None


def test_other_failures_are_aws_errors(cfn):
    cfn.stubber.add_client_error("list_stack_resources", "AccessDenied", "not allowed", 403)
    with pytest.raises(AwsError, match="Reading Vpc of stack infragen-dev failed: not allowed"):
        stack_resolver(cfn, STACK)("Vpc")
