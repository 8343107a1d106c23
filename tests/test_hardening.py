import botocore.session
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from infragen.errors import AwsError
from infragen.hardening import lock_down_default_security_group


def test_default_security_group_loses_every_rule_once(aws_clients):
    ec2 = aws_clients.ec2
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    [group] = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert group["IpPermissions"] or group["IpPermissionsEgress"]

    assert lock_down_default_security_group(ec2, vpc_id) > 0
    [after] = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert after["IpPermissions"] == [] and after["IpPermissionsEgress"] == []
    assert lock_down_default_security_group(ec2, vpc_id) == 0


# --- L9: the hint follows the kind of failure ---------------------------------------------------------


def _ec2(endpoint_url=None):
    return botocore.session.get_session().create_client(
        "ec2", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x",
        endpoint_url=endpoint_url, config=Config(retries={"max_attempts": 1}, connect_timeout=1))


def test_a_lost_connection_is_not_blamed_on_permissions():
    with pytest.raises(AwsError) as error:
        lock_down_default_security_group(_ec2("http://127.0.0.1:9"), "vpc-1")  # nothing listens there
    text = str(error.value)
    assert "could not be reached" in text and "once the connection is back" in text
    assert "ec2:" not in text and "denied" not in text and error.value.exit_code == 3


@pytest.mark.parametrize("error_code, expected, unexpected", [
    ("UnauthorizedOperation", "ec2:DescribeSecurityGroups", "reached"),
    ("AuthFailure", "credentials were refused", "ec2:Describe"),
    ("RequestLimitExceeded", "throttled", "ec2:Describe"),
    ("InternalError", "InternalError", "ec2:Describe"),
])
def test_aws_refusals_get_the_hint_of_their_kind(error_code, expected, unexpected):
    ec2 = _ec2()
    with Stubber(ec2) as stub:
        stub.add_client_error("describe_security_groups", error_code, "no", 400)
        with pytest.raises(AwsError) as error:
            lock_down_default_security_group(ec2, "vpc-1")
    assert expected in str(error.value) and unexpected not in str(error.value)


# --- the VPC id comes from the stack's outputs on AWS: no listing of its resources ------------------


def test_on_aws_a_deploy_hardens_from_the_vpc_output_without_listing_resources():
    from types import SimpleNamespace

    from infragen.console import Console
    from infragen.deploy.flow import DeployOutcome
    from infragen.stack_commands import _harden

    ec2, cfn = _ec2(), botocore.session.get_session().create_client(
        "cloudformation", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    outcome = DeployOutcome("infragen-dev", changed=False, status="UPDATE_COMPLETE",
                            outputs={"VpcId": "vpc-0abc", "ApiUrl": "https://x"}, outputs_are_resources=False)
    cfg = SimpleNamespace(stack_name="infragen-dev")
    with Stubber(ec2) as ec2_stub, Stubber(cfn):  # no CloudFormation call may be made
        ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [{
            "GroupId": "sg-1", "GroupName": "default", "VpcId": "vpc-0abc", "IpPermissions": [],
            "IpPermissionsEgress": []}]}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-0abc"]},
                                                       {"Name": "group-name", "Values": ["default"]}]})
        _harden(SimpleNamespace(ec2=ec2, cloudformation=cfn), cfg, {"Resources": {"Vpc": {}}}, outcome,
                Console())
        ec2_stub.assert_no_pending_responses()
