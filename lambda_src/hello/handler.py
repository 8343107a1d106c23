"""GET /hello: a greeting read from an SSM SecureString parameter.

Entry point `handler.handler`. Reads `GREETING_PARAMETER` (parameter name) and
`ENVIRONMENT`; when the parameter is unset or missing it answers with
DEFAULT_GREETING and `"greetingConfigured": false`.
"""

from __future__ import annotations

from typing import Any

from common import apigw, parameters, settings
from common.runtime import api_handler

DEFAULT_GREETING = "Hello from infragen!"


def greet(request: apigw.Request) -> dict[str, Any]:
    """Build the greeting response."""
    greeting = parameters.get_named_by("GREETING_PARAMETER")
    return apigw.json_response(
        200,
        {
            "greeting": greeting or DEFAULT_GREETING,
            "greetingConfigured": greeting is not None,
            "environment": settings.environment(),
            "requestId": request.request_id,
        },
    )


handler = api_handler(greet)
