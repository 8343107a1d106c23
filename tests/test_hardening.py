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
