"""A Lambda proxy response as API Gateway (REST) turns it into the HTTP answer, or why it cannot.

Each rule names the behaviour it mirrors ("Set up Lambda proxy integrations", output format;
"Binary media types for REST APIs"; the REST notes on remapped headers; Lambda's quotas).
"""

from __future__ import annotations

import base64
import binascii
import re

# Headers API Gateway answers with itself: a function's own value reaches the client renamed
# x-amzn-Remapped-<name> (the message framing and connection headers among those the REST notes
# list as remapped, and WWW-Authenticate, Server, Date, Authorization as clients see them remapped).
REMAPPED = frozenset({"authorization", "connection", "content-length", "date", "keep-alive",
                      "proxy-authenticate", "server", "te", "trailer", "transfer-encoding", "upgrade",
                      "www-authenticate"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP field name (RFC 9110)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no CR, LF or other controls in a value


class MalformedResponse(ValueError):
    """API Gateway's "Malformed Lambda proxy response": a 502."""


def proxy_response(response, *, binary_reply: bool) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a Lambda proxy response, or MalformedResponse: not an object, no
    final HTTP status (200-599) in statusCode, a body that is not a string, header maps of the wrong
    shape, a header name or value HTTP cannot carry, bad base64 in a body decoded as binary.

    `binary_reply`: the first media type of the request's Accept header is one of the API's binary
    media types; only then is an isBase64Encoded body decoded, else the client gets the base64 text.
    """
    if not isinstance(response, dict):
        raise MalformedResponse(f"the response is a {type(response).__name__}, not an object")
    status = response.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not a final HTTP status (200-599)")
    headers = _merged_headers(response.get("headers"), response.get("multiValueHeaders"))
    body = response.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponse(f"body is a {type(body).__name__}, not a string")
    data = (body or "").encode()
    if response.get("isBase64Encoded") and body and binary_reply:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedResponse("isBase64Encoded is true but body is not base64") from None
    if "content-type" not in {k.lower() for k, _ in headers}:
        headers.append(("Content-Type", "application/json"))  # API Gateway's default
    return status, headers, data


def _merged_headers(single, multi) -> list[tuple[str, str]]:
    """`multiValueHeaders` and `headers` merged into one list, a pair given in both once (as the
    proxy output format says); null values left out; framing headers remapped."""
    single = {} if single is None else single
    multi = {} if multi is None else multi
    if not isinstance(single, dict) or not isinstance(multi, dict) or not all(
            isinstance(v, list) for v in multi.values()):
        raise MalformedResponse("headers must be an object and multiValueHeaders an object of lists")
    pairs = [(str(k), _text(v)) for k, values in multi.items() for v in values if v is not None]
    seen = {(k.lower(), v) for k, v in pairs}
    pairs += [(str(k), _text(v)) for k, v in single.items()
              if v is not None and (str(k).lower(), _text(v)) not in seen]
    for name, value in pairs:
        if not _TOKEN.fullmatch(name) or _CONTROL.search(value):
            raise MalformedResponse(f"header {name!r}: {value!r} cannot be sent in HTTP")
    return [(f"x-amzn-Remapped-{k}" if k.lower() in REMAPPED else k, v) for k, v in pairs]


def _text(value) -> str:
    if isinstance(value, (dict, list)):
        raise MalformedResponse(f"header value {value!r} is not a scalar")
    return str(value).lower() if isinstance(value, bool) else str(value)
