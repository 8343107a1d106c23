"""POST /data: validate, normalise and sign a batch of items.

Entry point `handler.handler`. Body `{"data": [item, ...]}` (see items.py for the
item rules). At most `BATCH_SIZE` items are processed; the response says how many
were received, processed and left over, returns the processed items and, when the
`SIGNING_KEY_PARAMETER` parameter exists, their HMAC-SHA256 `signature`.
"""

from __future__ import annotations

from typing import Any

import items
import signing
from common import apigw, parameters, settings
from common.apigw import HttpError
from common.runtime import api_handler

MAX_BODY_BYTES = 256 * 1024  # measured on the decoded body


def process(request: apigw.Request) -> dict[str, Any]:
    """Build the processing response."""
    received = _data(request.event)
    batch_size = settings.positive_int("BATCH_SIZE")
    processed = [items.normalise(item) for item in received[:batch_size]]
    body: dict[str, Any] = {
        "received": len(received),
        "processed": len(processed),
        "leftOver": len(received) - len(processed),
        "items": processed,
        "requestId": request.request_id,
    }
    key = parameters.get_named_by("SIGNING_KEY_PARAMETER")
    body["signingConfigured"] = key is not None
    if key is not None:
        body["signature"] = signing.sign(key, processed)
        body["signatureAlgorithm"] = signing.ALGORITHM
    return apigw.json_response(200, body)


def _data(event: dict[str, Any]) -> list[Any]:
    payload = apigw.json_body(event, max_bytes=MAX_BODY_BYTES)
    if not isinstance(payload, dict) or "data" not in payload:
        raise HttpError(400, "body must be a JSON object with a 'data' list")
    data = payload["data"]
    if not isinstance(data, list):
        raise HttpError(400, "'data' must be a list")
    try:
        items.validate(data)
    except items.InvalidItem as error:
        raise HttpError(400, str(error)) from None
    return data


handler = api_handler(process)
