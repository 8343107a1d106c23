"""The bootstrap stack, one per account and region: the artifact bucket `infragen deploy` uploads
Lambda zips to and, when managed, API Gateway's account-wide CloudWatch role."""

from __future__ import annotations

from awacs import logs
from awacs.aws import Allow, Policy, Statement
from troposphere import Equals, GetAtt, Join, Output, Parameter, Ref, Sub, Template
from troposphere import apigateway as apigw
from troposphere import iam, s3
from troposphere.logs import LogGroup

from infragen.config import BootstrapSettings
from infragen.stack.arns import arn
from infragen.stack.names import (
    API_GATEWAY_ACCOUNT_PARAMETER,
    API_GATEWAY_LOG_ROLE,
    API_GATEWAY_LOG_ROLE_OUTPUT,
    ARTIFACT_BUCKET_OUTPUT,
    ARTIFACT_BUCKET_RESOURCE,
    WELCOME_LOG_GROUP,
    WELCOME_LOG_GROUP_PARAMETER,
)
from infragen.stack.policies import (
    VERSION,
    assume_role_policy,
    deny_insecure_transport_statement,
    describe_log_groups_statement,
)

NONCURRENT_VERSION_DAYS = 90

ACCESS_LOG_SKIP = {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": (
    "Holds only content-addressed build artifacts written by the deploy role; object-level "
    "access is in CloudTrail. A log bucket would need its own log bucket.")}]}}


WELCOME_SKIP = {"checkov": {"skip": [{"id": "CKV_AWS_158", "comment": (
    "Holds only the one message API Gateway writes when the account's log role is set; no API "
    "data. A customer-managed key for it would be a second key per account and region.")}]}}


def build_bootstrap(settings: BootstrapSettings = BootstrapSettings()) -> Template:
    t = Template(Description="infragen bootstrap: artifact bucket for Lambda code"
                 + (", API Gateway CloudWatch role" if settings.manage_api_gateway_account else ""))
    bucket = t.add_resource(s3.Bucket(
        ARTIFACT_BUCKET_RESOURCE,
        # An explicit, account- and region-unique name: stable across updates.
        BucketName=Sub("${AWS::StackName}-${AWS::AccountId}-${AWS::Region}"),
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[
            s3.ServerSideEncryptionRule(
                ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                    SSEAlgorithm="aws:kms"),
                BucketKeyEnabled=True,
            )]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True,
            RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        # Current objects are what deployed stacks point at, so only old versions expire.
        LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[s3.LifecycleRule(
            Id="expire-old-versions",
            Status="Enabled",
            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                NoncurrentDays=NONCURRENT_VERSION_DAYS),
            AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                DaysAfterInitiation=7),
        )]),
        Metadata=ACCESS_LOG_SKIP,
    ))
    t.add_resource(s3.BucketPolicy(
        "ArtifactBucketPolicy",
        Bucket=Ref(bucket),
        PolicyDocument=Policy(Version=VERSION, Statement=[deny_insecure_transport_statement(
            "s3", [GetAtt(bucket, "Arn"), Join("", [GetAtt(bucket, "Arn"), "/*"])])]),
    ))
    t.add_output(Output(ARTIFACT_BUCKET_OUTPUT, Value=Ref(bucket),
                        Description="Bucket the deploy uploads Lambda zips to"))
    if settings.manage_api_gateway_account:
        _add_api_gateway_account(t, settings)
    return t


def _add_api_gateway_account(t: Template, settings: BootstrapSettings) -> None:
    """The account-and-region API Gateway setting (AWS::ApiGateway::Account: "only one per region
    per account"), its role, and the log group API Gateway writes to when the setting changes.

    The account setting waits for its role in two ways. Its GetAtt of the role orders it after the
    role. IAM
    is eventually consistent (IAM User Guide, "Changes that I make are not always immediately
    visible"), and API Gateway validates the role when the setting is made, so a setting made
    seconds after the role was created fails intermittently (aws-cdk#2194, rain#163): the deploy
    therefore sets it (`SetApiGatewayAccount=true`) only once the role exists in the deployed
    stack — on first creation in a second update right after the first (infragen/deploy/account.py).
    """
    t.add_parameter(Parameter(
        API_GATEWAY_ACCOUNT_PARAMETER, Type="String", AllowedValues=["true", "false"],
        Default="false", Description="true once the role exists: set the account's CloudWatch role"))
    t.add_parameter(Parameter(
        WELCOME_LOG_GROUP_PARAMETER, Type="String", AllowedValues=["true", "false"], Default="true",
        Description=f"false when {WELCOME_LOG_GROUP} exists outside this stack (retention is then "
                    "set by the deploy)"))
    t.add_condition("SetAccount", Equals(Ref(API_GATEWAY_ACCOUNT_PARAMETER), "true"))
    t.add_condition("CreateWelcomeLogGroup", Equals(Ref(WELCOME_LOG_GROUP_PARAMETER), "true"))
    # API Gateway creates /aws/apigateway/welcome when the setting is made, unencrypted by a
    # customer key and never expiring; created here first, it has a retention and an owner.
    t.add_resource(LogGroup(
        "ApiGatewayWelcomeLogGroup", Condition="CreateWelcomeLogGroup",
        LogGroupName=WELCOME_LOG_GROUP, RetentionInDays=settings.log_retention_days,
        Metadata=WELCOME_SKIP))
    role = t.add_resource(iam.Role(
        API_GATEWAY_LOG_ROLE,
        Description="API Gateway (account-and-region setting) writes execution and access logs",
        # No aws:SourceAccount condition: AWS documents this role's trust without one, and
        # setting the account's log role validates that API Gateway can assume it.
        AssumeRolePolicyDocument=assume_role_policy("apigateway.amazonaws.com"),
        Policies=[iam.Policy(PolicyName="push-api-logs", PolicyDocument=Policy(
            Version=VERSION,
            # The actions of AWS's AmazonAPIGatewayPushToCloudWatchLogs policy (API Gateway
            # Developer Guide, "Set up CloudWatch logging for REST APIs") minus its reads
            # (GetLogEvents, FilterLogEvents): API Gateway only writes. The role serves every API in
            # this account and region, so it is scoped to log groups of this account and region.
            # DescribeLogGroups has no resource type: only "*" authorises it.
            Statement=[
                Statement(
                    Effect=Allow,
                    Action=[logs.CreateLogGroup, logs.CreateLogStream, logs.DescribeLogStreams,
                            logs.PutLogEvents],
                    Resource=[Sub(arn("logs", "log-group:*"))],
                ),
                describe_log_groups_statement(),
            ],
        ))],
    ))
    # GetAtt makes the setting depend on the role (an explicit DependsOn would repeat it: cfn-lint
    # W3005); the SetAccount condition makes it wait for the role's propagation (see above).
    t.add_resource(apigw.Account(
        "ApiGatewayAccount", Condition="SetAccount", CloudWatchRoleArn=GetAtt(role, "Arn")))
    t.add_output(Output(API_GATEWAY_LOG_ROLE_OUTPUT, Value=GetAtt(role, "Arn"),
                        Description="The role API Gateway logs with in this account and region"))
