"""The least-privilege IAM policy of the identity that runs `infragen deploy`/`diff`/`destroy`.

Built from the same names the stack uses (infragen.stack.names): CloudFormation on this
environment's stack and the bootstrap stack, the artifact bucket, `iam:PassRole` on the stack's
roles per service, and the calls CloudFormation makes with the caller's credentials to create,
update and delete the resource types the templates hold (RESOURCE_ACTIONS). Each group names the
narrowest resources AWS lets a policy name; an action the Service Authorization Reference gives no
resource type (e.g. `ec2:DescribeVpcs`, `kms:CreateKey`) only works with Resource "*", so such
actions are moved, automatically, to one statement on "*" (Sid `NoResourceType`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from awacs.aws import Action, Allow, Condition, Policy, Statement
from awacs.aws import Bool, StringEquals

from infragen import iam_catalog
from infragen.config import EnvConfig
from infragen.stack.names import WELCOME_LOG_GROUP, function_name, key_alias, log_group_prefix
from infragen.stack.policies import VERSION

# What CloudFormation does, with the caller's credentials, for each resource type of the templates
# (create, update, delete; reads it makes to stabilise). From each type's "Required permissions"
# (CloudFormation resource type schemas, handlers create/update/delete). The proof test checks
# that every type a rendered template holds is listed here and that the policy allows its actions.
RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "AWS::ApiGateway::Account": ("apigateway:GET", "apigateway:PATCH", "iam:PassRole"),
    "AWS::ApiGateway::ApiKey": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                                "apigateway:DELETE"),
    "AWS::ApiGateway::Deployment": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                                    "apigateway:DELETE"),
    # (the type's handlers also list iam:PassRole, checked only for an integration with
    # Credentials; infragen's proxy integrations have none: Lambda permissions let API Gateway in)
    "AWS::ApiGateway::Method": ("apigateway:PUT", "apigateway:GET", "apigateway:DELETE"),
    "AWS::ApiGateway::Model": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                               "apigateway:DELETE"),
    "AWS::ApiGateway::RequestValidator": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                                          "apigateway:DELETE"),
    "AWS::ApiGateway::Resource": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                                  "apigateway:DELETE"),
    "AWS::ApiGateway::RestApi": ("apigateway:POST", "apigateway:PUT", "apigateway:GET",
                                 "apigateway:PATCH", "apigateway:DELETE"),
    "AWS::ApiGateway::Stage": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                               "apigateway:DELETE"),
    "AWS::ApiGateway::UsagePlan": ("apigateway:POST", "apigateway:GET", "apigateway:PATCH",
                                   "apigateway:DELETE"),
    "AWS::ApiGateway::UsagePlanKey": ("apigateway:POST", "apigateway:GET", "apigateway:DELETE"),
    "AWS::CloudWatch::Alarm": ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms",
                               "cloudwatch:DeleteAlarms"),
    "AWS::DynamoDB::Table": ("dynamodb:CreateTable", "dynamodb:DescribeTable",
                             "dynamodb:UpdateTable", "dynamodb:DeleteTable",
                             "dynamodb:UpdateContinuousBackups", "dynamodb:DescribeContinuousBackups"),
    "AWS::EC2::EIP": ("ec2:AllocateAddress", "ec2:DescribeAddresses", "ec2:ReleaseAddress",
                      "ec2:CreateTags"),
    "AWS::EC2::FlowLog": ("ec2:CreateFlowLogs", "ec2:DescribeFlowLogs", "ec2:DeleteFlowLogs",
                          "iam:PassRole", "logs:CreateLogDelivery", "logs:DeleteLogDelivery"),
    "AWS::EC2::InternetGateway": ("ec2:CreateInternetGateway", "ec2:DescribeInternetGateways",
                                  "ec2:DeleteInternetGateway", "ec2:CreateTags"),
    "AWS::EC2::NatGateway": ("ec2:CreateNatGateway", "ec2:DescribeNatGateways",
                             "ec2:DeleteNatGateway", "ec2:CreateTags"),
    "AWS::EC2::Route": ("ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DescribeRouteTables",
                        "ec2:DeleteRoute"),
    "AWS::EC2::RouteTable": ("ec2:CreateRouteTable", "ec2:DescribeRouteTables",
                             "ec2:DeleteRouteTable", "ec2:CreateTags"),
    "AWS::EC2::SecurityGroup": ("ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups",
                                "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
                                "ec2:DeleteSecurityGroup", "ec2:CreateTags"),
    "AWS::EC2::Subnet": ("ec2:CreateSubnet", "ec2:DescribeSubnets", "ec2:ModifySubnetAttribute",
                         "ec2:DeleteSubnet", "ec2:CreateTags"),
    "AWS::EC2::SubnetRouteTableAssociation": ("ec2:AssociateRouteTable", "ec2:DescribeRouteTables",
                                              "ec2:DisassociateRouteTable"),
    "AWS::EC2::VPC": ("ec2:CreateVpc", "ec2:DescribeVpcs", "ec2:ModifyVpcAttribute",
                      "ec2:DescribeVpcAttribute", "ec2:DeleteVpc", "ec2:CreateTags"),
    "AWS::EC2::VPCGatewayAttachment": ("ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
                                       "ec2:DescribeInternetGateways"),
    "AWS::Events::Rule": ("events:PutRule", "events:DescribeRule", "events:PutTargets",
                          "events:RemoveTargets", "events:DeleteRule"),
    "AWS::IAM::Role": ("iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy", "iam:GetRolePolicy",
                       "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"),
    "AWS::KMS::Alias": ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases"),
    "AWS::KMS::Key": ("kms:CreateKey", "kms:DescribeKey", "kms:PutKeyPolicy", "kms:GetKeyPolicy",
                      "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:TagResource",
                      "kms:ScheduleKeyDeletion"),
    "AWS::Lambda::EventInvokeConfig": ("lambda:PutFunctionEventInvokeConfig",
                                       "lambda:GetFunctionEventInvokeConfig",
                                       "lambda:UpdateFunctionEventInvokeConfig",
                                       "lambda:DeleteFunctionEventInvokeConfig"),
    "AWS::Lambda::Function": ("lambda:CreateFunction", "lambda:GetFunction",
                              "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                              "lambda:DeleteFunction", "lambda:PutFunctionConcurrency",
                              "lambda:DeleteFunctionConcurrency", "lambda:TagResource",
                              "iam:PassRole", "s3:GetObject", "kms:CreateGrant", "kms:Encrypt",
                              "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
                              "ec2:DescribeVpcs"),
    "AWS::Lambda::Permission": ("lambda:AddPermission", "lambda:GetPolicy",
                                "lambda:RemovePermission"),
    "AWS::Logs::LogGroup": ("logs:CreateLogGroup", "logs:PutRetentionPolicy",
                            "logs:AssociateKmsKey", "logs:DescribeLogGroups",
                            "logs:DeleteLogGroup"),
    "AWS::S3::Bucket": ("s3:CreateBucket", "s3:PutEncryptionConfiguration",
                        "s3:PutBucketVersioning", "s3:PutBucketPublicAccessBlock",
                        "s3:PutBucketOwnershipControls", "s3:PutLifecycleConfiguration",
                        "s3:DeleteBucket"),
    "AWS::S3::BucketPolicy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
    "AWS::SNS::Subscription": ("sns:Subscribe", "sns:GetSubscriptionAttributes", "sns:Unsubscribe"),
    "AWS::SNS::Topic": ("sns:CreateTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                        "sns:TagResource", "sns:ListSubscriptionsByTopic", "sns:DeleteTopic"),
    "AWS::SNS::TopicPolicy": ("sns:SetTopicAttributes", "sns:GetTopicAttributes"),
}
# The request context of those actions where the policy's grant depends on it (its Condition):
# the service a role is passed to, and a KMS grant Lambda creates for the function it encrypts.
ACTION_CONTEXT: dict[tuple[str, str], dict[str, str]] = {
    ("AWS::ApiGateway::Account", "iam:PassRole"): {"iam:PassedToService": "apigateway.amazonaws.com"},
    ("AWS::EC2::FlowLog", "iam:PassRole"): {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"},
    ("AWS::Lambda::Function", "iam:PassRole"): {"iam:PassedToService": "lambda.amazonaws.com"},
    ("AWS::Lambda::Function", "kms:CreateGrant"): {"kms:GrantIsForAWSResource": "true"},
}


@dataclass(frozen=True)
class Group:
    """Actions allowed on the resources named; `condition` as awacs Condition arguments."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: tuple = field(default=())


def artifact_bucket_name(cfg: EnvConfig, account: str) -> str:
    """The bootstrap template's `${AWS::StackName}-${AWS::AccountId}-${AWS::Region}`."""
    return f"{cfg.bootstrap_stack}-{account}-{cfg.region}"


def groups(cfg: EnvConfig, account: str, partition: str = "aws",
           sibling_stacks: tuple[str, ...] = ()) -> list[Group]:
    """The policy's statements before unscoped actions are split out. `sibling_stacks`: the other
    environments' stacks on the same bootstrap stack (`destroy --include-bootstrap` and `prune`
    read them)."""
    region = cfg.region

    def arn(service: str, resource: str, *, in_region: bool = True, with_account: bool = True) -> str:
        return (f"arn:{partition}:{service}:{region if in_region else ''}:"
                f"{account if with_account else ''}:{resource}")

    stacks = (cfg.stack_name, cfg.bootstrap_stack)
    bucket = arn("s3", artifact_bucket_name(cfg, account), in_region=False, with_account=False)
    owned_roles = tuple(arn("iam", f"role/{s}-*", in_region=False) for s in stacks)
    functions = tuple(arn("lambda", f"function:{function_name(cfg, fn.name)}") for fn in cfg.functions)
    parameters = sorted({name for fn in cfg.functions for _, name in fn.parameters})
    log_groups = [arn("logs", f"log-group:{log_group_prefix(cfg)}*")]
    if cfg.manage_api_gateway_account:
        log_groups.append(arn("logs", f"log-group:{WELCOME_LOG_GROUP}"))
    apigw = (f"arn:{partition}:apigateway:{region}::/{path}" for path in (
        "restapis", "restapis/*", "apikeys", "apikeys/*", "usageplans", "usageplans/*", "tags/*"))

    result = [
        Group("CloudFormationOnTheseStacks", (
            "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
            "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
            "cloudformation:ListStackResources", "cloudformation:GetTemplate",
            "cloudformation:UpdateStack", "cloudformation:DeleteStack"),
            tuple(arn("cloudformation", f"stack/{s}/*") for s in stacks)),
        Group("ArtifactBucket", (
            "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation",
            *_type_actions("s3", "AWS::S3::Bucket", "AWS::S3::BucketPolicy")), (bucket,)),
        # Zips and templates; CloudFormation reads the code with the caller's credentials.
        Group("ArtifactObjects", (
            "s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject",
            "s3:DeleteObjectVersion"), (f"{bucket}/{cfg.artifact_prefix}/*",)),
        Group("RolesOfTheseStacks", (
            *_type_actions("iam", "AWS::IAM::Role"), "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies", "iam:TagRole", "iam:UntagRole"), owned_roles),
        Group("PassRoleToLambda", ("iam:PassRole",),
              (arn("iam", f"role/{cfg.stack_name}-*", in_region=False),),
              (StringEquals, {"iam:PassedToService": "lambda.amazonaws.com"})),
        Group("PassRoleToFlowLogs", ("iam:PassRole",),
              (arn("iam", f"role/{cfg.stack_name}-*", in_region=False),),
              (StringEquals, {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"})),
        Group("Functions", (
            *_type_actions("lambda", "AWS::Lambda::Function", "AWS::Lambda::Permission",
                           "AWS::Lambda::EventInvokeConfig"),
            "lambda:GetFunctionConfiguration", "lambda:ListTags", "lambda:UntagResource",
            "lambda:GetAccountSettings"), functions),
        Group("ApiGateway", _type_actions("apigateway", *[
            t for t in RESOURCE_ACTIONS if t.startswith("AWS::ApiGateway::") and not t.endswith("Account")]),
            tuple(apigw)),
        Group("Network", (
            *_type_actions("ec2", *[t for t in RESOURCE_ACTIONS if t.startswith("AWS::EC2::")]),
            "ec2:DeleteTags", "ec2:RevokeSecurityGroupIngress", "ec2:DescribeAvailabilityZones",
            "ec2:DescribeAccountAttributes", "ec2:DescribeNetworkInterfaces"),
            # EC2 ids are chosen by AWS: the account and region are the narrowest names.
            (arn("ec2", "*"),)),
        Group("LogGroups", (
            *_type_actions("logs", "AWS::Logs::LogGroup"), "logs:DeleteRetentionPolicy",
            "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
            "logs:ListTagsForResource", "logs:CreateLogDelivery", "logs:DeleteLogDelivery"),
            tuple(log_groups)),
        # Key ids are chosen by AWS: keys of this account and region; the alias is the stack's.
        Group("Key", (
            *_type_actions("kms", "AWS::KMS::Key", "AWS::KMS::Alias"), "kms:UntagResource",
            "kms:ListResourceTags", "kms:UpdateKeyDescription", "kms:Encrypt"),
            (arn("kms", "key/*"), arn("kms", f"{key_alias(cfg)}"))),
        # Lambda's environment encryption: a grant Lambda creates with the deployer's credentials.
        Group("LambdaEnvironmentGrant", ("kms:CreateGrant",), (arn("kms", "key/*"),),
              (Bool, {"kms:GrantIsForAWSResource": "true"})),
        Group("ErrorTopic", (
            *_type_actions("sns", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription"),
            "sns:UntagResource"), (arn("sns", f"{cfg.stack_name}-*"),)),
        Group("Alarms", (*_type_actions("cloudwatch", "AWS::CloudWatch::Alarm"),
                         "cloudwatch:TagResource", "cloudwatch:UntagResource"),
              (arn("cloudwatch", f"alarm:{cfg.stack_name}-*"),)),
        Group("FunctionParameters", (
            "ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:DeleteParameter",
            "ssm:DeleteParameters", "ssm:AddTagsToResource", "ssm:DescribeParameters"),
            tuple(arn("ssm", f"parameter{name}") for name in parameters)),
        Group("Quotas", ("servicequotas:GetServiceQuota",),
              tuple(arn("servicequotas", f"{code}/*") for code in ("lambda", "ec2", "vpc"))),
    ]
    if sibling_stacks:
        result.append(Group("ReadSiblingStacks", ("cloudformation:DescribeStacks",
                                                  "cloudformation:GetTemplate",
                                                  "cloudformation:ListStackResources"),
                            tuple(arn("cloudformation", f"stack/{s}/*") for s in sibling_stacks)))
    if cfg.manage_api_gateway_account:
        result += [
            Group("ApiGatewayAccountSetting", _type_actions("apigateway", "AWS::ApiGateway::Account"),
                  (f"arn:{partition}:apigateway:{region}::/account",)),
            Group("PassRoleToApiGateway", ("iam:PassRole",),
                  (arn("iam", f"role/{cfg.bootstrap_stack}-*", in_region=False),),
                  (StringEquals, {"iam:PassedToService": "apigateway.amazonaws.com"})),
        ]
    if cfg.tables:
        result.append(Group("Tables", (*_type_actions("dynamodb", "AWS::DynamoDB::Table"),
                                       "dynamodb:TagResource", "dynamodb:UntagResource",
                                       "dynamodb:ListTagsOfResource"),
                            (arn("dynamodb", f"table/{cfg.stack_name}-*"),)))
    if any(fn.schedule for fn in cfg.functions):
        result.append(Group("Schedules", _type_actions("events", "AWS::Events::Rule") + (
            "events:TagResource", "events:UntagResource"),
            (arn("events", f"rule/{cfg.stack_name}-*"),)))
    return result


def _type_actions(service: str, *resource_types: str) -> tuple[str, ...]:
    """The RESOURCE_ACTIONS of these types that belong to `service`, in order, once each."""
    found: list[str] = []
    for resource_type in resource_types:
        for action in RESOURCE_ACTIONS[resource_type]:
            if action.startswith(f"{service}:") and action != "iam:PassRole" and action not in found:
                found.append(action)
    return tuple(found)


def _scoping(action: str) -> bool:
    info = iam_catalog.lookup(action)
    if info is None:
        raise ValueError(f"{action} is not an IAM action")
    return info.supports_resource_scoping


def deployer_policy(cfg: EnvConfig, account: str, partition: str = "aws",
                    sibling_stacks: tuple[str, ...] = ()) -> Policy:
    """The policy; actions AWS gives no resource type are gathered in one statement on "*"."""
    statements = []
    unscoped: list[str] = []
    for group in groups(cfg, account, partition, sibling_stacks):
        scoped = [a for a in group.actions if _scoping(a)]
        unscoped += [a for a in group.actions if a not in scoped and a not in unscoped]
        if scoped:
            statements.append(_statement(group.sid, scoped, list(group.resources), group.condition))
    if unscoped:
        statements.append(_statement("NoResourceType", unscoped, ["*"]))
    return Policy(Version=VERSION, Statement=statements)


def document(policy: Policy) -> dict:
    """The policy as the JSON document IAM takes."""
    return json.loads(policy.to_json())


def _statement(sid: str, actions: list[str], resources: list[str], condition: tuple = ()) -> Statement:
    kwargs = {"Condition": Condition(condition[0](condition[1]))} if condition else {}
    return Statement(Sid=sid, Effect=Allow, Action=[Action(*a.split(":", 1)) for a in actions],
                     Resource=resources, **kwargs)


def sibling_stacks(config, cfg: EnvConfig) -> tuple[str, ...]:
    """The other environments' stacks deploying from the same bootstrap stack."""
    return tuple(env.stack_name for env in config.envs
                 if env.bootstrap_stack == cfg.bootstrap_stack and env.stack_name != cfg.stack_name)


def role_template(cfg: EnvConfig, siblings: tuple[str, ...] = ()) -> dict:
    """A CloudFormation template with the deploy role (trusting a parameter's principal) and the
    policy, account and partition left to the template (Fn::Sub)."""
    policy = _sub(document(deployer_policy(cfg, "${AWS::AccountId}", "${AWS::Partition}", siblings)))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"infragen deploy role for {cfg.stack_name}",
        "Parameters": {"DeployPrincipalArn": {
            "Type": "String", "AllowedPattern": r"arn:aws[a-z-]*:(iam|sts)::\d{12}:.+",
            "Description": "ARN of the CI principal (role or user) allowed to assume the deploy role"}},
        "Resources": {"DeployRole": {"Type": "AWS::IAM::Role", "Properties": {
            "Description": f"Runs infragen deploy/diff/destroy for {cfg.stack_name}",
            "AssumeRolePolicyDocument": {"Version": VERSION, "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": {"Ref": "DeployPrincipalArn"}},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "infragen-deploy", "PolicyDocument": policy}]}}},
        "Outputs": {"DeployRoleArn": {"Value": {"Fn::GetAtt": ["DeployRole", "Arn"]}}},
    }


def _sub(value):
    """Every string holding `${AWS::…}` becomes an Fn::Sub."""
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    if isinstance(value, str) and "${AWS::" in value:
        return {"Fn::Sub": value}
    return value


def render(config, env_name: str, fmt: str, account: str | None) -> str:
    """The policy (json, for `account`) or the role template (cfn) of one environment, as JSON."""
    cfg = config.env(env_name)
    siblings = sibling_stacks(config, cfg)
    if fmt == "cfn":
        return json.dumps(role_template(cfg, siblings), indent=2)
    return json.dumps(document(deployer_policy(cfg, account, sibling_stacks=siblings)), indent=2)
