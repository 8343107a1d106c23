"""The wrappers every handler shares: logging context, latency, error mapping and alerts."""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any, Callable

from common import alerts, logs
from common.apigw import HttpError, Request, error_response

GENERIC_ERROR = "Internal server error"

Endpoint = Callable[[Request], dict[str, Any]]
Job = Callable[[dict[str, Any]], Any]


def api_handler(endpoint: Endpoint) -> Callable[[Any, Any], dict[str, Any]]:
    """Turn `endpoint(request) -> response` into a Lambda `handler(event, context)`.

    `HttpError` becomes its 4xx response; any other exception becomes a generic 500
    carrying only the request id, and is logged and published to the error topic.
    """

    @functools.wraps(endpoint)
    def handler(event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        logger = logs.get_logger()
        request = Request.from_invocation(event, context)
        token = logs.bind_request(
            requestId=request.request_id, function=request.function_name, route=request.route
        )
        try:
            try:
                response = endpoint(request)
            except HttpError as error:
                logger.info("request rejected", extra={"reason": error.message})
                response = error_response(error.status, error.message, request.request_id)
            except Exception as error:
                logger.exception("unhandled error", extra={"errorType": type(error).__name__})
                alerts.notify_error(request, error)
                response = error_response(500, GENERIC_ERROR, request.request_id)
            logger.info(
                "request completed",
                extra={
                    "statusCode": response["statusCode"],
                    "latencyMs": round((time.perf_counter() - started) * 1000, 3),
                },
            )
            return response
        finally:
            logs.unbind_request(token)

    return handler


def event_handler(job: Job) -> Callable[[Any, Any], Any]:
    """Turn `job(event) -> result` into a handler for events that are not API requests.

    For EventBridge schedules and direct invocations: the same logging context and closing line
    as `api_handler` (route `schedule` or `invoke`). An exception is logged, published to the
    error topic and raised again, so Lambda counts the failure and retries the asynchronous call.
    """

    @functools.wraps(job)
    def handler(event: Any, context: Any) -> Any:
        started = time.perf_counter()
        logger = logs.get_logger()
        scheduled = isinstance(event, dict) and event.get("detail-type") == "Scheduled Event"
        request = dataclasses.replace(Request.from_invocation(event, context),
                                      route="schedule" if scheduled else "invoke")
        token = logs.bind_request(
            requestId=request.request_id, function=request.function_name, route=request.route
        )
        try:
            try:
                result = job(request.event)
            except Exception as error:
                logger.exception("unhandled error", extra={"errorType": type(error).__name__})
                alerts.notify_error(request, error)
                raise
            logger.info(
                "event completed",
                extra={"latencyMs": round((time.perf_counter() - started) * 1000, 3)},
            )
            return result
        finally:
            logs.unbind_request(token)

    return handler
