"""Reads from the archive bucket."""

from shared import clients


def fetch(key: str) -> bytes:
    return clients.client("s3").get_object(Bucket="kinds-archive", Key=key)["Body"].read()
