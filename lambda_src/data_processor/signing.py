"""HMAC-SHA256 signatures over the canonical JSON of processed items.

Canonical JSON: `json.dumps(items, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)` encoded as UTF-8. A client verifies by
re-serialising the response's `items` array the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

ALGORITHM = "HMAC-SHA256"


def canonical_json(value: Any) -> bytes:
    """The exact bytes that are signed."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign(key: str, value: Any) -> str:
    """Hex HMAC-SHA256 of `canonical_json(value)` under the UTF-8 bytes of `key`."""
    return hmac.new(key.encode("utf-8"), canonical_json(value), hashlib.sha256).hexdigest()
