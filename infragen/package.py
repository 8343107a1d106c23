"""Reproducible Lambda zips, uploaded to S3 under a content-addressed key."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from infragen.console import Console
from infragen.deploy.aws_errors import aws_errors, code, message
from infragen.errors import AwsError, UsageError

SHARED_PACKAGE = "common"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_FILE_ATTR = 0o100644 << 16
_DIR_ATTR = (0o040755 << 16) | 0x10  # 0x10: MS-DOS directory flag
_LEVEL = 9
_SKIPPED_DIRS = {"__pycache__"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class Artifact:
    """One function's zip: its bytes, their sha256 and the S3 key derived from it."""

    function: str
    data: bytes = field(repr=False)
    sha256: str
    key: str
    content_type: str = "application/zip"

    @property
    def size(self) -> int:
        return len(self.data)


def build_zip(function_dir: Path, shared_dirs: list[Path], function: str,
              prefix: str = "lambda") -> Artifact:
    """Zip `function_dir` at the zip root plus each shared package folder under its own name.

    The same files give the same bytes on any machine: sorted entries, 1980 timestamps,
    0644/0755 modes, fixed deflate level (same zlib assumed). Dotfiles, `__pycache__` and `*.pyc`
    are left out. A shared folder that does not exist is skipped (an app may have none). The key
    is `<prefix>/<function>/<sha256>.zip`.
    """
    if not function_dir.is_dir():
        raise UsageError(f"No source folder for function {function!r}: {function_dir} does not exist.")
    entries = dict(_entries(function_dir, ""))
    for shared_dir in shared_dirs:
        if not shared_dir.is_dir():
            continue
        if (function_dir / shared_dir.name).exists():
            raise UsageError(f"{function_dir / shared_dir.name} clashes with the shared package {shared_dir}.",
                             hint="rename one of them")
        entries[f"{shared_dir.name}/"] = None
        entries.update(_entries(shared_dir, f"{shared_dir.name}/"))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            _write_entry(archive, name, entries[name])
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    key = "/".join(part for part in (prefix.strip("/"), function, f"{digest}.zip") if part)
    return Artifact(function=function, data=data, sha256=digest, key=key)


def upload(s3, bucket: str, artifact: Artifact) -> bool:
    """Put the artifact unless its key already exists; return True if it was uploaded.

    The key holds the content hash, so an existing object is the same zip and is not sent again.
    It is encrypted with SSE-KMS under S3's key, as the bootstrap bucket's default encryption
    says; the header is sent anyway, for bucket policies that require it (and "AES256" here would
    override that default).
    """
    location = f"s3://{bucket}/{artifact.key}"
    try:
        s3.head_object(Bucket=bucket, Key=artifact.key)
        return False
    except ClientError as exc:
        if code(exc) not in {"404", "NoSuchKey", "NotFound"}:
            raise _s3_error(exc, "read", bucket, location, "s3:GetObject and s3:ListBucket") from exc
    except BotoCoreError as exc:
        raise AwsError(f"Could not check {location}: {exc}") from exc
    try:
        s3.put_object(Bucket=bucket, Key=artifact.key, Body=artifact.data, ContentType=artifact.content_type,
                      ServerSideEncryption="aws:kms")
    except ClientError as exc:
        needed = "s3:PutObject (plus kms:GenerateDataKey on the bucket's key if it is customer-managed)"
        raise _s3_error(exc, "upload", bucket, location, needed) from exc
    except BotoCoreError as exc:
        raise AwsError(f"Could not upload {location}: {exc}") from exc
    return True


def upload_all(s3, bucket: str, artifacts: dict[str, Artifact], console: Console) -> int:
    """Upload the zips S3 does not have yet, printing one line per function; return how many."""
    uploads = 0
    for function, artifact in artifacts.items():
        uploaded = upload(s3, bucket, artifact)
        uploads += uploaded
        verb = "uploaded" if uploaded else "skipped (already in S3)"
        console.echo(f"  {function}: {verb} ({_human_size(artifact.size)}, sha256 {artifact.sha256[:12]})")
    return uploads


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker (a versioned bucket must be empty to go)."""
    deleted = 0
    with aws_errors(f"Emptying s3://{bucket}"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if not doomed:
                continue
            # S3 answers 200 even when some keys could not be deleted; it lists those in Errors.
            refused = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True}).get("Errors", [])
            if refused:
                first = refused[0]
                raise AwsError(
                    f"Could not empty s3://{bucket}: {len(refused)} object version(s) refused, "
                    f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip(),
                    hint="Your AWS identity needs s3:DeleteObjectVersion on the bucket.",
                )
            deleted += len(doomed)
    return deleted


def _entries(folder: Path, arc_prefix: str) -> Iterator[tuple[str, Path | None]]:
    """Yield (archive name, file path or None for a directory) for the packable contents of `folder`."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        relative = Path(root).relative_to(folder).as_posix()
        base = arc_prefix if relative == "." else f"{arc_prefix}{relative}/"
        if base != arc_prefix:
            yield base, None
        for name in files:
            if not name.startswith(".") and Path(name).suffix not in _SKIPPED_SUFFIXES:
                yield f"{base}{name}", Path(root, name)


def _write_entry(archive: zipfile.ZipFile, name: str, path: Path | None) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.create_system = 3  # Unix, so the mode bits below are honoured
    if path is None:
        info.external_attr = _DIR_ATTR
        archive.writestr(info, b"")
    else:
        info.external_attr = _FILE_ATTR
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, path.read_bytes(), compresslevel=_LEVEL)


def _s3_error(exc: ClientError, action: str, bucket: str, location: str, needed: str) -> AwsError:
    error = code(exc)
    if error in {"403", "AccessDenied", "Forbidden"}:
        return AwsError(
            f"Access denied to {action} {location}.",
            hint=f"On bucket {bucket!r}, your AWS identity needs {needed}.",
        )
    if error == "NoSuchBucket":
        return AwsError(f"Artifact bucket {bucket!r} does not exist (deleted outside CloudFormation).",
                        hint="`infragen bootstrap --replace-failed` recreates its stack and bucket "
                             "(same name); then run this command again.")
    if error.startswith("KMS."):
        return AwsError(f"KMS refused to encrypt {location}: {error}.",
                        hint="Check the bucket's default encryption key and its key policy.")
    return AwsError(f"Could not {action} {location}: {error} {message(exc)}".rstrip())


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"

