"""API Gateway REST (v1) proxy integration: reading requests and building responses."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

JSON_HEADERS = {"Content-Type": "application/json"}


class HttpError(Exception):
    """A client error: becomes a 4xx response with `message` as its JSON error."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Request:
    """What a function needs from one invocation."""

    event: dict[str, Any]
    request_id: str
    route: str
    function_name: str

    @classmethod
    def from_invocation(cls, event: Any, context: Any) -> Request:
        """Build from the raw Lambda arguments; tolerant of malformed events."""
        event = event if isinstance(event, dict) else {}
        request_context = _dict(event.get("requestContext"))
        request_id = request_context.get("requestId")
        if not isinstance(request_id, str) or not request_id:
            request_id = str(getattr(context, "aws_request_id", None) or "unknown")
        method = _text(event.get("httpMethod"), "-")
        resource = _text(event.get("resource") or event.get("path"), "-")
        return cls(
            event=event,
            request_id=request_id,
            route=f"{method} {resource}",
            function_name=str(getattr(context, "function_name", None) or "unknown"),
        )


def json_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """A proxy-integration response with a JSON body."""
    return {
        "statusCode": status,
        "headers": dict(JSON_HEADERS),
        "body": json.dumps(body, allow_nan=False),
        "isBase64Encoded": False,
    }


def error_response(status: int, message: str, request_id: str) -> dict[str, Any]:
    """A JSON error response: `{"error": message, "requestId": ...}`."""
    return json_response(status, {"error": message, "requestId": request_id})


def body_bytes(event: dict[str, Any], *, max_bytes: int) -> bytes:
    """The decoded request body; 400 when absent or bad base64, 413 above `max_bytes`."""
    body = event.get("body")
    if body is None or body == "":
        raise HttpError(400, "request body is required")
    if not isinstance(body, str):
        raise HttpError(400, "request body must be a string")
    if event.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise HttpError(400, "request body is not valid base64") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise HttpError(413, f"request body exceeds {max_bytes} bytes")
    return raw


def json_body(event: dict[str, Any], *, max_bytes: int) -> Any:
    """The request body parsed as strict JSON (no NaN/Infinity); 400 when it is not JSON."""
    raw = body_bytes(event, max_bytes=max_bytes)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpError(400, "request body is not valid JSON") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default
