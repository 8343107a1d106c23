"""Error notifications to the SNS topic named by `ERROR_TOPIC_ARN`."""

from __future__ import annotations

import json
import re
import time

from common import aws, logs, redact, settings
from common.apigw import Request

MAX_SUBJECT_CHARS = 99  # SNS requires fewer than 100
MAX_ERROR_MESSAGE_CHARS = 500
_NOT_SUBJECT_SAFE = re.compile(r"[^\x20-\x7e]")


def notify_error(request: Request, error: BaseException) -> None:
    """Publish `error` for `request`; a failure to publish is logged, never raised."""
    logger = logs.get_logger()
    topic_arn = settings.optional("ERROR_TOPIC_ARN")
    if topic_arn is None:
        logger.warning("ERROR_TOPIC_ARN is not set; error notification skipped")
        return
    try:
        aws.client("sns").publish(
            TopicArn=topic_arn,
            Subject=subject(request.function_name),
            Message=json.dumps(message(request, error), default=str),
        )
    except Exception as publish_error:
        logger.error(
            "error notification failed",
            extra={"errorType": type(publish_error).__name__, "topicArn": topic_arn},
        )


def subject(function_name: str) -> str:
    """Printable-ASCII SNS subject naming the function, under 100 characters."""
    text = f"[{settings.environment()}] Lambda error in {function_name}"
    return _NOT_SUBJECT_SAFE.sub("?", text)[:MAX_SUBJECT_CHARS]


def message(request: Request, error: BaseException) -> dict:
    """Notification body: what failed, where, and the event; credentials scrubbed from all of it."""
    return {
        "function": request.function_name,
        "environment": settings.environment(),
        "errorType": type(error).__name__,
        "errorMessage": redact.scrub_text(str(error))[:MAX_ERROR_MESSAGE_CHARS],
        "requestId": request.request_id,
        "route": redact.scrub_text(request.route),
        "timestamp": int(time.time()),
        "event": redact.safe_event(request.event),
    }
