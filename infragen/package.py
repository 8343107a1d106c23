"""Reproducible Lambda zips, uploaded to S3 under a content-addressed key."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infragen.console import Console
from infragen.errors import AwsError, UsageError
from infragen.zipcheck import Problem, check_unzipped_size, verify_zip_entries

SHARED_PACKAGE = "common"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_FILE_ATTR = 0o100644 << 16
_DIR_ATTR = (0o040755 << 16) | 0x10  # 0x10: MS-DOS directory flag
_LEVEL = 9
_SKIPPED_DIRS = {"__pycache__"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}
_MAX_PROBLEMS = 20


@dataclass(frozen=True)
class SourceFile:
    """A regular file to zip and its size from stat (read only when zipped)."""

    path: Path
    size: int


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


def build_zip(function_dir: Path, shared_dirs: list[Path], function: str, prefix: str = "lambda", *,
              project_root: Path | None = None, handler: str = "handler.handler",
              runtime: str | None = None,
              extra_entries: Mapping[str, bytes | None] | None = None,
              verified_dir: Path | None = None) -> Artifact:
    """Zip `function_dir` at the zip root plus each shared package folder under its own name.

    The same files give the same bytes on any machine: sorted entries, 1980 timestamps,
    0644/0755 modes, fixed deflate level (same zlib assumed). Dotfiles, `__pycache__` and `*.pyc`
    are left out; nothing else is (see `source_entries`). A shared folder that does not exist is
    skipped (an app may have none). `extra_entries` (archive name → bytes, None for a directory)
    are added as they are, e.g. installed dependencies. Before any byte is zipped the whole
    content must fit Lambda's unzipped limit and serve `handler` with `runtime` (see
    infragen.zipcheck), else UsageError (exit 2); with `verified_dir`, a content that passed once
    is not analysed again (its digest is recorded there). The key is `<prefix>/<function>/<sha256>.zip`.
    """
    files = source_entries(function_dir, shared_dirs, function,
                           project_root or function_dir.parent.parent)
    extra = _with_parent_dirs(extra_entries or {})
    clashes = sorted(name for name in extra.keys() & files.keys() if not name.endswith("/"))
    if clashes:
        raise UsageError(f"Function {function!r}: added entries clash with files from {function_dir}: "
                         f"{', '.join(clashes[:5])}.", hint="rename the files, or leave them out of one side")
    sizes = {name: f.size for name, f in files.items() if f is not None}
    sizes.update((name, len(data)) for name, data in extra.items() if data is not None)
    too_big = check_unzipped_size(sizes, f"Function {function!r}")
    if too_big:
        raise UsageError(too_big, hint="move large data to S3 (or leave it out of the function's folder); "
                                       "nothing was uploaded")
    contents: dict[str, bytes | None] = dict(extra)
    for name, source in files.items():
        contents.setdefault(name, None if source is None or not name.endswith(".py") else _read(source.path))
    proof = _verification_key(contents, handler, runtime, set(extra))
    if verified_dir is None or not (verified_dir / proof).exists():
        _verify(function_dir, contents, handler, runtime, files, set(extra))
        if verified_dir is not None:
            try:
                verified_dir.mkdir(parents=True, exist_ok=True)
                (verified_dir / proof).touch()
            except OSError:
                pass  # only costs the next run a verification

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(contents):
            data = contents[name]
            if data is None and not name.endswith("/"):
                data = _read(files[name].path)
            _write_entry(archive, name, data)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    key = "/".join(part for part in (prefix.strip("/"), function, f"{digest}.zip") if part)
    return Artifact(function=function, data=data, sha256=digest, key=key)


def source_entries(function_dir: Path, shared_dirs: list[Path], function: str,
                   project_root: Path) -> dict[str, SourceFile | None]:
    """Archive name → file (None for a directory) for the function folder plus the shared ones.

    Symlinks are followed when they resolve inside `project_root`; one that points outside it,
    dangles or loops is refused, and so is an unreadable folder or any entry that is not a
    regular file or folder (FIFO, socket, device), whose reading could hang. Sizes come from
    stat: nothing is read here.
    """
    if not function_dir.is_dir():
        raise UsageError(f"No source folder for function {function!r}: {function_dir} does not exist.")
    roots = (project_root.resolve(),)
    entries = dict(_walk(function_dir, "", roots, frozenset({_identity(function_dir, roots)})))
    for shared_dir in shared_dirs:
        if not shared_dir.is_dir():
            continue
        if (function_dir / shared_dir.name).exists():
            raise UsageError(f"{function_dir / shared_dir.name} clashes with the shared package {shared_dir}.",
                             hint="rename one of them")
        entries[f"{shared_dir.name}/"] = None
        entries.update(_walk(shared_dir, f"{shared_dir.name}/", roots,
                             frozenset({_identity(shared_dir, roots)})))
    return entries


def upload(s3, bucket: str, artifact: Artifact) -> bool:
    """Put the artifact unless its key already exists; return True if it was uploaded.

    The key holds the content hash, so an existing object is the same zip and is not sent again.
    It is encrypted with SSE-KMS under S3's key, as the bootstrap bucket's default encryption
    says; the header is sent anyway, for bucket policies that require it (and "AES256" here would
    override that default).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from infragen.deploy.aws_errors import code

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
    from infragen.deploy.aws_errors import aws_errors

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


def _walk(folder: Path, arc_prefix: str, roots: tuple[Path, ...],
          ancestors: frozenset[tuple[int, int]]) -> Iterator[tuple[str, SourceFile | None]]:
    try:
        with os.scandir(folder) as scan:
            children = sorted(entry.name for entry in scan)
    except OSError as exc:
        raise _unreadable(folder, exc) from exc
    for name in children:
        if name.startswith(".") or name in _SKIPPED_DIRS or Path(name).suffix in _SKIPPED_SUFFIXES:
            continue
        path = folder / name
        mode, identity, size = _target(path, roots)
        if stat.S_ISDIR(mode):
            if identity in ancestors:
                raise UsageError(f"{path} is a symlink to a folder that contains it (a loop).",
                                 hint="remove the link, or point it at a folder outside this tree")
            yield f"{arc_prefix}{name}/", None
            yield from _walk(path, f"{arc_prefix}{name}/", roots, ancestors | {identity})
        elif stat.S_ISREG(mode):
            yield f"{arc_prefix}{name}", SourceFile(path, size)
        else:
            raise _special(path, mode)


def _target(path: Path, roots: tuple[Path, ...]) -> tuple[int, tuple[int, int], int]:
    """(mode, (device, inode), size) of what `path` names, following a symlink that stays in `roots`."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            real = _link_target(path, roots)
            info = real.stat()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    return info.st_mode, (info.st_dev, info.st_ino), info.st_size


def _identity(folder: Path, roots: tuple[Path, ...]) -> tuple[int, int]:
    return _target(folder, roots)[1]


def _link_target(path: Path, roots: tuple[Path, ...]) -> Path:
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise UsageError(f"{path} is a symlink to {os.readlink(path)}, which does not exist.",
                         hint="fix or remove the link; infragen never leaves files out silently") from None
    except (RuntimeError, OSError) as exc:  # RuntimeError/ELOOP: a symlink loop
        raise UsageError(f"{path} is a symlink that cannot be resolved ({exc}).",
                         hint="fix or remove the link") from None
    if not any(real.is_relative_to(root) for root in roots):
        raise UsageError(f"{path} is a symlink to {real}, outside the project ({roots[0]}).",
                         hint="copy the files into the function's folder instead of linking them; "
                              "a zip must not depend on files outside the project")
    return real


def _read(path: Path) -> bytes:
    """The file's bytes; opened without blocking and refused unless it is a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _special(path, mode)
        try:
            return handle.read()
        except OSError as exc:
            raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: OSError) -> UsageError:
    return UsageError(f"Cannot read {path}: {exc.strerror or exc}.",
                      hint="make it readable (chmod) or move it out of lambda_src/; "
                           "infragen never leaves files out of a zip silently")


def _special(path: Path, mode: int) -> UsageError:
    kind = ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
            else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file")
    return UsageError(f"{path} is a {kind}, not a regular file; it cannot go into a Lambda zip.",
                      hint="move it out of lambda_src/")


def _with_parent_dirs(entries: Mapping[str, bytes | None]) -> dict[str, bytes | None]:
    """`entries` plus a directory entry for every folder they sit in, as the source tree gets."""
    complete = dict(entries)
    for name in entries:
        parts = name.rstrip("/").split("/")
        if not name or name.startswith("/") or "\\" in name or any(p in {"", ".", ".."} for p in parts):
            raise UsageError(f"Added zip entry {name!r} is not a relative path inside the zip.",
                             hint="use forward-slash paths without '.', '..' or empty parts")
        if entries[name] is None and not name.endswith("/"):
            raise UsageError(f"Added zip entry {name!r} has no content.",
                             hint="give a file's bytes; only a name ending in '/' (a folder) may be None")
        for depth in range(1, len(parts)):
            complete.setdefault("/".join(parts[:depth]) + "/", None)
    return complete


def _verification_key(contents: dict[str, bytes | None], handler: str, runtime: str | None,
                      added: set[str]) -> str:
    """Digest of what the verification reads: every name, the sources' bytes (added entries by
    name and size: installed requirements are keyed by their own cache), the handler, the runtime."""
    digest = hashlib.sha256(f"{handler}\0{runtime}\0".encode())
    for name in sorted(contents):
        data = contents[name]
        digest.update(name.encode() + b"\0")
        if data is not None:
            digest.update(str(len(data)).encode() if name in added else hashlib.sha256(data).digest())
    return digest.hexdigest()


def _verify(function_dir: Path, contents: dict[str, bytes | None], handler: str, runtime: str | None,
            files: dict[str, SourceFile | None], added: set[str]) -> None:
    problems = verify_zip_entries(contents, handler, runtime=runtime, third_party=added)
    if not problems:
        return

    def where(problem: Problem) -> str:
        source = files.get(problem.file)
        if not problem.file:
            place = "handler setting"
        elif source:
            place = str(source.path)
        else:
            place = f"{problem.file} (added to the zip)" if problem.file in added else str(function_dir / problem.file)
        return f"{place}:{problem.line}" if problem.line else place

    lines = [f"  {where(p)}: {p.message}" for p in problems[:_MAX_PROBLEMS]]
    if len(problems) > _MAX_PROBLEMS:
        lines.append(f"  … and {len(problems) - _MAX_PROBLEMS} more")
    raise UsageError(
        f"Function {function_dir.name!r} cannot serve its handler {handler!r} "
        f"({runtime or 'local Python'}); nothing was uploaded:\n" + "\n".join(lines),
        hint="fix the files named above; put a missing module in the function's folder or in "
             "lambda_src/common/ (third-party packages: the function's requirements.txt), or guard an "
             "optional import with try/except ImportError")


def _write_entry(archive: zipfile.ZipFile, name: str, data: bytes | None) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.create_system = 3  # Unix, so the mode bits below are honoured
    if name.endswith("/"):
        info.external_attr = _DIR_ATTR
        archive.writestr(info, b"")
    else:
        info.external_attr = _FILE_ATTR
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data or b"", compresslevel=_LEVEL)


def _s3_error(exc, action: str, bucket: str, location: str, needed: str) -> AwsError:
    from infragen.deploy.aws_errors import code, message

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

