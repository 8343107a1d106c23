"""The artifact bucket stack that `infragen deploy` uploads Lambda zips to."""

from __future__ import annotations

from awacs.aws import Policy
from troposphere import GetAtt, Join, Output, Ref, Sub, Template
from troposphere import s3

from infragen.stack.names import ARTIFACT_BUCKET_OUTPUT, ARTIFACT_BUCKET_RESOURCE
from infragen.stack.policies import VERSION, deny_insecure_transport_statement

NONCURRENT_VERSION_DAYS = 90

ACCESS_LOG_SKIP = {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": (
    "Holds only content-addressed build artifacts written by the deploy role; object-level "
    "access is in CloudTrail. A log bucket would need its own log bucket.")}]}}


def build_bootstrap() -> Template:
    t = Template(Description="infragen bootstrap: artifact bucket for Lambda code")
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
    return t
