"""Typed access to the environment-variable contract set by the CloudFormation template.

Values are read at call time (not import time) so a container always sees its own
configuration and local runs can set variables per invocation.
"""

from __future__ import annotations

import logging
import os

DEFAULT_PARAMETER_TTL_SECONDS = 300.0
DEFAULT_LOG_LEVEL = "INFO"


class SettingError(ValueError):
    """A variable of the environment contract holds a value that cannot be used."""


def environment() -> str:
    """Deployment environment name (`ENVIRONMENT`), e.g. "dev"."""
    return os.environ.get("ENVIRONMENT") or "unknown"


def log_level() -> int:
    """Numeric level for `LOG_LEVEL`; unknown or missing names mean INFO."""
    name = (os.environ.get("LOG_LEVEL") or DEFAULT_LOG_LEVEL).strip().upper()
    return logging.getLevelNamesMapping().get(name, logging.INFO)


def parameter_ttl_seconds() -> float:
    """Cache lifetime for SSM parameters (`PARAMETER_TTL_SECONDS`, default 300, 0 = no cache)."""
    raw = os.environ.get("PARAMETER_TTL_SECONDS")
    if raw is None or not raw.strip():
        return DEFAULT_PARAMETER_TTL_SECONDS
    try:
        ttl = float(raw)
    except ValueError:
        raise SettingError(f"PARAMETER_TTL_SECONDS must be a number, got {raw!r}") from None
    if not 0 <= ttl < float("inf"):
        raise SettingError(f"PARAMETER_TTL_SECONDS must be >= 0, got {raw!r}")
    return ttl


def positive_int(name: str) -> int:
    """Required positive integer variable `name`."""
    raw = os.environ.get(name)
    try:
        value = int(raw or "")
    except ValueError:
        raise SettingError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise SettingError(f"{name} must be a positive integer, got {raw!r}")
    return value


def optional(name: str) -> str | None:
    """Value of `name`, or None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None
