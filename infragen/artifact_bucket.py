"""Drift of the bootstrap stack: its artifact bucket deleted outside CloudFormation."""

from __future__ import annotations

from botocore.exceptions import ClientError

from infragen.deploy.aws_errors import aws_errors, code

_MISSING = {"404", "NoSuchBucket", "NotFound"}


def bucket_exists(s3, bucket: str) -> bool:
    """True unless S3 says the bucket does not exist (one HeadBucket call).

    A bucket S3 will not show (403) exists: uploads then report the access problem.
    """
    with aws_errors(f"Checking the artifact bucket {bucket}"):
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if code(exc) in _MISSING:
                return False
            if code(exc) not in {"403", "AccessDenied", "Forbidden"}:
                raise
    return True


def recovery_hint(bootstrap_stack: str) -> str:
    """Exactly how to get the bucket back: its stack is deleted and created again."""
    return (f"run `infragen bootstrap --replace-failed` (or `infragen deploy --replace-failed`): "
            f"it deletes stack {bootstrap_stack}, whose bucket is already gone, and creates it "
            f"again with the same bucket name; deployed functions keep running meanwhile")
