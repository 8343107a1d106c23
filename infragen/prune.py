"""`infragen prune`: delete artifacts no deployed environment's stack references.

Zips and templates are content-addressed and never overwritten, so the bucket's noncurrent-version
rule never fires and the bucket only grows. An object is kept while any environment of this
project that uses the same artifact stack references it: a code-key parameter of its deployed
stack, or (for a template uploaded over the inline limit) the digest of its deployed template.
Objects younger than `--older-than` days are kept too (a deploy may be uploading them right now).
A deployed function keeps running when its zip is deleted (Lambda holds its own copy); only a
rollback to that code would need it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from infragen.config import Config, EnvConfig
from infragen.console import Console
from infragen.deploy.aws_errors import aws_errors
from infragen.errors import AwsError

DELETE_BATCH = 1000  # keys per DeleteObjects call (Amazon S3 API Reference)


@dataclass(frozen=True)
class Candidate:
    key: str
    version_id: str
    size: int
    last_modified: datetime


def referenced_keys(cfn, config: Config, cfg: EnvConfig) -> set[str]:
    """Keys the deployed stacks of every environment sharing `cfg`'s artifact stack point at."""
    from infragen.deploy import stacks
    from infragen.deploy.stack_status import State

    keys: set[str] = set()
    for env in config.envs:
        if env.bootstrap_stack != cfg.bootstrap_stack or env.region != cfg.region:
            continue
        with aws_errors(f"Reading stack {env.stack_name}"):
            deployed = stacks.describe(cfn, env.stack_name)
            if deployed is None or deployed.state is State.ABSENT:
                continue
            if deployed.state is State.BUSY:
                raise AwsError(f"stack {env.stack_name} is {deployed.status}: a deploy may be "
                               f"using artifacts right now; nothing was deleted",
                               hint="prune once it has finished")
            keys |= {v for v in deployed.parameters.values() if v.startswith(f"{env.artifact_prefix}/")}
            body = cfn.get_template(StackName=deployed.stack_id, TemplateStage="Original")["TemplateBody"]
        if isinstance(body, str):
            digest = hashlib.sha256(body.encode()).hexdigest()
            keys.add(f"{env.artifact_prefix}/templates/{env.stack_name}/{digest}.json")
    return keys


def candidates(s3, bucket: str, prefix: str, keep: set[str], older_than_days: float,
               now: datetime | None = None) -> list[Candidate]:
    """Every object version under `prefix` that is not kept, oldest first."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=older_than_days)
    found = []
    with aws_errors(f"Listing s3://{bucket}/{prefix}/"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
            for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if version["Key"] in keep or version["LastModified"] > cutoff:
                    continue
                found.append(Candidate(version["Key"], version.get("VersionId") or "null",
                                       version.get("Size", 0), version["LastModified"]))
    return sorted(found, key=lambda c: (c.last_modified, c.key))


def delete(s3, bucket: str, doomed: list[Candidate], console: Console) -> None:
    for start in range(0, len(doomed), DELETE_BATCH):
        batch = doomed[start:start + DELETE_BATCH]
        with aws_errors(f"Deleting from s3://{bucket}"):
            answer = s3.delete_objects(Bucket=bucket, Delete={"Quiet": True, "Objects": [
                {"Key": c.key, "VersionId": c.version_id} for c in batch]})
        console.record(f"deleted {len(batch) - len(answer.get('Errors', []))} object version(s) "
                       f"from s3://{bucket}")
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise AwsError(f"S3 refused to delete {len(answer['Errors'])} object version(s), e.g. "
                           f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}")
