"""Make an event, a message or a log field safe to send to humans: no credentials, bounded size.

Three layers, applied to everything an alert or a log line carries:
- keys: a field whose name looks credential-bearing is dropped, at any depth (`is_sensitive`);
- bodies: a request `body` is parsed (base64-decoded first when `isBase64Encoded`) and scrubbed
  like the event, then re-serialised; a body that is not JSON is left out, only its size kept;
- values: inside any string, `password=…`, `"token": "…"`, `Bearer …`, JWTs, AWS access key ids
  and PEM private keys are replaced by `[redacted]` (`scrub_text`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from typing import Any

# Matched case-insensitively against every key with "-", "_", "." and spaces removed. Catches
# Authorization, Proxy-Authorization, X-Api-Key, Cookie, Set-Cookie, X-Amz-Security-Token,
# requestContext.identity.apiKey/accessKey, authorizer claims, client_secret, signing_key, ...
SENSITIVE_FRAGMENTS = (
    "auth",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "clientkey",
    "cookie",
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "credential",
    "signature",
    "session",
    "jwt",
    "bearer",
    "hmac",
)
SENSITIVE_NAMES = frozenset({"key", "pass", "pin", "sig", "otp"})  # only as the whole name
MAX_STRING_CHARS = 1024
MAX_LIST_ITEMS = 20
MAX_DEPTH = 6
MAX_EVENT_CHARS = 16 * 1024
REDACTED = "[redacted]"

_SEPARATORS = re.compile(r"[-_. ]")
# `name=value`, `name: value`, `"name": "value"` inside free text; the value goes when
# `is_sensitive(name)`. Linear time: a name starts only where a word starts, quantifiers never give back.
_NAME = re.compile(r"(?<![\w-])([\w-]++)[\"']?[ \t]*+[:=][ \t]*+")
_VALUE = re.compile(r"\"(?:[^\"\\]|\\.)*+\"|'[^']*+'|[^\s,;&}\]\"']++")
_SECRET_VALUES = re.compile(
    r"(?:\b[Bb]earer|\bBasic|\bDigest)\s+[\w\-.~+/=]{6,}"      # HTTP authorization schemes
    r"|\beyJ[\w-]+\.[\w-]+\.[\w-]*"                             # JSON web tokens
    r"|\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"           # AWS access key ids
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    re.DOTALL,
)


@functools.lru_cache(maxsize=4096)  # the same few field names, line after line
def is_sensitive(key: str) -> bool:
    """Whether a header or field named `key` could carry credentials."""
    folded = _SEPARATORS.sub("", key.lower())
    return folded in SENSITIVE_NAMES or any(fragment in folded for fragment in SENSITIVE_FRAGMENTS)


def scrub_text(text: str) -> str:
    """`text` with credential-looking values replaced by `[redacted]`."""
    text = _SECRET_VALUES.sub(REDACTED, text)
    kept, position = [], 0
    for name in _NAME.finditer(text):
        if name.start() < position or not is_sensitive(name[1]) or text.startswith(REDACTED, name.end()):
            continue
        value = _VALUE.match(text, name.end())
        if value:
            kept += [text[position:name.end()], REDACTED]
            position = value.end()
    return "".join(kept) + text[position:]


def scrub(value: Any, depth: int = 0) -> Any:
    """Copy of `value` without sensitive keys or values, long strings cut, lists and depth capped."""
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return "[truncated]"
        cleaned = {}
        for key, item in value.items():
            if is_sensitive(str(key)):
                continue
            if str(key).lower() == "body" and isinstance(item, str):
                item = safe_body(item, base64_encoded=value.get("isBase64Encoded") is True)
            cleaned[str(key)] = scrub(item, depth + 1)
        return cleaned
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return "[truncated]"
        kept = [scrub(v, depth + 1) for v in value[:MAX_LIST_ITEMS]]
        return kept + (["[truncated]"] if len(value) > MAX_LIST_ITEMS else [])
    if isinstance(value, str):
        return _cut(scrub_text(value))
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return _cut(scrub_text(repr(value)))


def safe_body(body: str, *, base64_encoded: bool = False) -> str:
    """A request body as scrubbed JSON text; a summary only when it is not JSON (or not decodable)."""
    if body == "":
        return body
    try:
        if base64_encoded:
            raw = base64.b64decode(body, validate=True)
        else:
            raw = body.encode("utf-8", "surrogatepass")
        parsed = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        size = len(body) * 3 // 4 if base64_encoded else len(body.encode("utf-8", "surrogatepass"))
        return f"[omitted: {size}-byte body that is not JSON]"
    return json.dumps(scrub(parsed), default=str, ensure_ascii=False)


def safe_event(event: Any) -> Any:
    """`scrub(event)`, or a prefix of its JSON when still above MAX_EVENT_CHARS."""
    cleaned = scrub(event)
    text = json.dumps(cleaned, default=str)
    if len(text) <= MAX_EVENT_CHARS:
        return cleaned
    return {"truncated": True, "prefix": text[:MAX_EVENT_CHARS]}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_STRING_CHARS else text[:MAX_STRING_CHARS] + "...[truncated]"
