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


# Parameter Store's answers when the parameter's KMS key cannot decrypt it (disabled, pending
# deletion after a destroy, or not usable by this role).
_KEY_ERRORS = ("InvalidKeyId", "KMSInvalidStateException", "KMS.KMSInvalidStateException",
               "KMS.DisabledException", "KMS.NotFoundException", "KMS.AccessDeniedException")


def _fetch(name: str) -> str | None:
    ssm = aws.client("ssm")
    try:
        response = ssm.get_parameter(Name=name, WithDecryption=True)
    except ssm.exceptions.ParameterNotFound:
        logs.get_logger().warning("SSM parameter not found", extra={"parameter": name})
        return None
    except ssm.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _KEY_ERRORS:
            logs.get_logger().error(
                "SSM parameter cannot be decrypted: its KMS key is disabled, deleted or not the "
                "stack's current key; write it again with `infragen secrets set`",
                extra={"parameter": name, "errorCode": code})
        raise
    return response["Parameter"]["Value"]


def get_named_by(variable: str) -> str | None:
    """Value of the parameter whose name is in env `variable`; None if either is missing."""
    name = settings.optional(variable)
    if name is None:
        logs.get_logger().warning("parameter variable is not set", extra={"variable": variable})
        return None
    return get_secure_parameter(name)
