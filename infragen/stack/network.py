"""VPC over two AZs: public subnets with NAT, private subnets for the functions, flow logs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from troposphere import GetAtt, GetAZs, Ref, Select, Tags, Template
from troposphere import ec2, iam

from awacs import logs
from awacs.aws import Allow, Policy, Statement

from infragen.config import EnvConfig
from infragen.stack.logs import add_log_group
from infragen.stack.names import VPC_RESOURCE, log_group_prefix
from infragen.stack.policies import VERSION, assume_role_policy, describe_log_groups_statement

AZ_COUNT = 2


@dataclass(frozen=True)
class Network:
    vpc: ec2.VPC
    private_subnets: tuple[ec2.Subnet, ...]
    lambda_security_group: ec2.SecurityGroup
    # Logical ids of the private subnets' default routes and route-table associations: a function
    # in the private subnets reaches SSM, SNS and X-Ray only once these exist.
    private_egress: tuple[str, ...]


def subnet_cidrs(vpc_cidr: str) -> tuple[list[str], list[str]]:
    """Split the VPC range into four equal blocks: two public, then two private."""
    blocks = [str(b) for b in ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=2)]
    return blocks[:AZ_COUNT], blocks[AZ_COUNT:]


def add_network(t: Template, cfg: EnvConfig, key) -> Network:
    vpc = t.add_resource(ec2.VPC(
        VPC_RESOURCE, CidrBlock=cfg.vpc_cidr, EnableDnsSupport=True, EnableDnsHostnames=True,
        Tags=Tags(Name=cfg.stack_name),
    ))
    igw = t.add_resource(ec2.InternetGateway("InternetGateway", Tags=Tags(Name=cfg.stack_name)))
    attachment = t.add_resource(ec2.VPCGatewayAttachment(
        "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw)))

    public_cidrs, private_cidrs = subnet_cidrs(cfg.vpc_cidr)
    public = [_subnet(t, cfg, vpc, "Public", az, cidr) for az, cidr in enumerate(public_cidrs)]
    private = [_subnet(t, cfg, vpc, "Private", az, cidr) for az, cidr in enumerate(private_cidrs)]

    public_routes = t.add_resource(ec2.RouteTable(
        "PublicRouteTable", VpcId=Ref(vpc), Tags=Tags(Name=f"{cfg.stack_name}-public")))
    t.add_resource(ec2.Route(
        "PublicDefaultRoute", RouteTableId=Ref(public_routes), DestinationCidrBlock="0.0.0.0/0",
        GatewayId=Ref(igw), DependsOn=attachment.title))
    for az, subnet in enumerate(public):
        t.add_resource(ec2.SubnetRouteTableAssociation(
            f"PublicSubnet{az + 1}RouteTableAssociation",
            SubnetId=Ref(subnet), RouteTableId=Ref(public_routes)))

    nats = [_nat_gateway(t, cfg, index, public[index], attachment)
            for index in range(cfg.nat_gateways)]
    egress = []
    for az, subnet in enumerate(private):
        routes = t.add_resource(ec2.RouteTable(
            f"PrivateRouteTable{az + 1}", VpcId=Ref(vpc),
            Tags=Tags(Name=f"{cfg.stack_name}-private-{az + 1}")))
        route = t.add_resource(ec2.Route(
            f"PrivateDefaultRoute{az + 1}", RouteTableId=Ref(routes),
            DestinationCidrBlock="0.0.0.0/0", NatGatewayId=Ref(nats[min(az, len(nats) - 1)])))
        association = t.add_resource(ec2.SubnetRouteTableAssociation(
            f"PrivateSubnet{az + 1}RouteTableAssociation",
            SubnetId=Ref(subnet), RouteTableId=Ref(routes)))
        egress += [route.title, association.title]

    security_group = t.add_resource(ec2.SecurityGroup(
        "FunctionSecurityGroup",
        GroupDescription="Lambda functions: no inbound traffic, outbound HTTPS only",
        VpcId=Ref(vpc),
        SecurityGroupEgress=[ec2.SecurityGroupRule(
            IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0",
            Description="HTTPS to AWS APIs (SSM, SNS, X-Ray) through the NAT gateway")],
        Tags=Tags(Name=f"{cfg.stack_name}-functions"),
    ))
    _add_flow_logs(t, cfg, vpc, key)
    return Network(vpc=vpc, private_subnets=tuple(private), lambda_security_group=security_group,
                   private_egress=tuple(egress))


def _subnet(t: Template, cfg: EnvConfig, vpc, kind: str, az: int, cidr: str) -> ec2.Subnet:
    return t.add_resource(ec2.Subnet(
        f"{kind}Subnet{az + 1}",
        VpcId=Ref(vpc),
        CidrBlock=cidr,
        AvailabilityZone=Select(az, GetAZs("")),
        MapPublicIpOnLaunch=False,
        Tags=Tags(Name=f"{cfg.stack_name}-{kind.lower()}-{az + 1}"),
    ))


def _nat_gateway(t: Template, cfg: EnvConfig, index: int, subnet, attachment) -> ec2.NatGateway:
    eip = t.add_resource(ec2.EIP(f"NatEip{index + 1}", Domain="vpc", DependsOn=attachment.title))
    return t.add_resource(ec2.NatGateway(
        f"NatGateway{index + 1}", AllocationId=GetAtt(eip, "AllocationId"), SubnetId=Ref(subnet),
        Tags=Tags(Name=f"{cfg.stack_name}-nat-{index + 1}")))


def _add_flow_logs(t: Template, cfg: EnvConfig, vpc, key) -> None:
    group = add_log_group(t, cfg, "FlowLogGroup", f"{log_group_prefix(cfg)}vpc-flow-logs", key)
    role = t.add_resource(iam.Role(
        "FlowLogRole",
        AssumeRolePolicyDocument=assume_role_policy("vpc-flow-logs.amazonaws.com",
                                                    source_account=True),
        Policies=[iam.Policy(PolicyName="deliver-flow-logs", PolicyDocument=Policy(
            Version=VERSION,
            Statement=[
                Statement(
                    Effect=Allow,
                    Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
                    Resource=[GetAtt(group, "Arn")],
                ),
                # AWS's flow-log role (Amazon VPC User Guide, "IAM role for publishing flow logs
                # to CloudWatch Logs") lists DescribeLogGroups; it has no resource type, so only
                # "*" authorises it.
                describe_log_groups_statement(),
            ],
        ))],
    ))
    t.add_resource(ec2.FlowLog(
        "VpcFlowLog", ResourceId=Ref(vpc), ResourceType="VPC", TrafficType="ALL",
        LogDestinationType="cloud-watch-logs", LogGroupName=Ref(group),
        DeliverLogsPermissionArn=GetAtt(role, "Arn")))
