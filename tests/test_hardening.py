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
