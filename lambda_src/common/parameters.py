"""SecureString parameters from SSM, decrypted and cached per container with a TTL.

A parameter that does not exist yields None ("unconfigured"); that answer is cached
too, so an unconfigured feature does not cost an SSM call per request. Values are
never logged: only parameter names are.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from common import aws, logs, settings

# Wall-clock time: a frozen container's monotonic clock may not advance between invocations.
_clock = time.time


class _Entry(NamedTuple):
    value: str | None
    expires_at: float


_cache: dict[str, _Entry] = {}


def get_secure_parameter(name: str) -> str | None:
    """Decrypted value of parameter `name`, or None when it does not exist."""
    now = _clock()
    entry = _cache.get(name)
    if entry is not None and now < entry.expires_at:
        return entry.value
    ttl = settings.parameter_ttl_seconds()
    value = _fetch(name)
    _cache[name] = _Entry(value, now + ttl)
    return value


def _fetch(name: str) -> str | None:
    ssm = aws.client("ssm")
    try:
        response = ssm.get_parameter(Name=name, WithDecryption=True)
    except ssm.exceptions.ParameterNotFound:
        logs.get_logger().warning("SSM parameter not found", extra={"parameter": name})
        return None
    return response["Parameter"]["Value"]


def get_named_by(variable: str) -> str | None:
    """Value of the parameter whose name is in env `variable`; None if either is missing."""
    name = settings.optional(variable)
    if name is None:
        logs.get_logger().warning("parameter variable is not set", extra={"variable": variable})
        return None
    return get_secure_parameter(name)
