"""Make an event safe to send to humans: drop credential-bearing keys, cap its size."""

from __future__ import annotations

import json
from typing import Any

# Matched case-insensitively against every key, with "_" read as "-". Catches
# Authorization, Proxy-Authorization, X-Api-Key, Cookie, Set-Cookie,
# X-Amz-Security-Token, requestContext.identity.apiKey/accessKey, authorizer claims.
SENSITIVE_FRAGMENTS = (
    "auth",
    "api-key",
    "apikey",
    "accesskey",
    "cookie",
    "token",
    "secret",
    "password",
    "credential",
    "signature",
    "session",
)
MAX_STRING_CHARS = 1024
MAX_LIST_ITEMS = 20
MAX_DEPTH = 6
MAX_EVENT_CHARS = 16 * 1024


def is_sensitive(key: str) -> bool:
    """Whether a header or field named `key` could carry credentials."""
    folded = key.lower().replace("_", "-")
    return any(fragment in folded for fragment in SENSITIVE_FRAGMENTS)


def scrub(value: Any, depth: int = 0) -> Any:
    """Copy of `value` without sensitive keys, long strings cut, lists and depth capped."""
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return "[truncated]"
        return {
            str(k): scrub(v, depth + 1) for k, v in value.items() if not is_sensitive(str(k))
        }
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return "[truncated]"
        kept = [scrub(v, depth + 1) for v in value[:MAX_LIST_ITEMS]]
        return kept + (["[truncated]"] if len(value) > MAX_LIST_ITEMS else [])
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        return value[:MAX_STRING_CHARS] + "...[truncated]"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)[:MAX_STRING_CHARS]


def safe_event(event: Any) -> Any:
    """`scrub(event)`, or a prefix of its JSON when still above MAX_EVENT_CHARS."""
    cleaned = scrub(event)
    text = json.dumps(cleaned, default=str)
    if len(text) <= MAX_EVENT_CHARS:
        return cleaned
    return {"truncated": True, "prefix": text[:MAX_EVENT_CHARS]}
