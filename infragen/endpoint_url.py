"""Endpoint URLs a user passes (`--endpoint-url`), checked without importing the AWS SDK."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")


def endpoint_url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint URL (http[s]://host[:port][/path]), or None."""
    example = "expected http(s)://HOST[:PORT], e.g. http://127.0.0.1:5000"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return f"{url!r} contains spaces or control characters; {example}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", …
        return f"{url!r} is not a valid URL ({exc}); {example}"
    if parts.scheme not in ("http", "https"):
        return f"{url!r} must start with http:// or https://; {example}"
    host = parts.hostname
    if not host:
        return f"{url!r} names no host; {example}"
    if port == 0 or (parts.netloc.endswith(":") and port is None):
        return f"{url!r} has no valid port; {example}"
    if parts.username is not None or parts.query or parts.fragment:
        return f"{url!r} must not carry credentials, a query or a fragment; {example}"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.fullmatch(host) or len(host) > 253:
            return f"{url!r}: {host!r} is not a valid host name; {example}"
    return None
