"""JSON-lines logging: one object per line on stdout, which Lambda ships to CloudWatch.

Each line carries the invocation's `requestId`, `function` and `route` (bound by
`bind_request`) plus any `extra=` fields. Only the names in `extra` are emitted,
never the raw event, so headers and parameter values cannot reach the log; every field
still goes through `redact` (credential-named extras dropped, credential-looking values in
the message, the traceback and the other fields replaced), since an exception message can
quote a request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

from common import redact, settings

LOGGER_NAME = "app"
# SDK loggers print request/response bodies (decrypted SecureStrings included) at DEBUG.
_QUIET_LOGGERS = ("boto3", "botocore", "urllib3")
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_request_fields: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "request_fields", default={}
)


class JsonFormatter(logging.Formatter):
    """Render a record as a single-line JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            **_request_fields.get(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRS
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        safe = {key: _safe_field(value) for key, value in entry.items() if not redact.is_sensitive(key)}
        return json.dumps(safe, default=str, ensure_ascii=False)


def _safe_field(value: Any) -> Any:
    if isinstance(value, str):
        return redact.scrub_text(value)
    if isinstance(value, (dict, list)):
        return redact.scrub(value)
    return value


class _StdoutHandler(logging.Handler):
    """Write to whatever `sys.stdout` is at emit time (the runtime, or a test's capture)."""

    json_lines = True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # logging must never break the handler
            self.handleError(record)


def get_logger() -> logging.Logger:
    """The functions' logger, with exactly one JSON handler and the `LOG_LEVEL` level."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        for stale in [h for h in logger.handlers if getattr(h, "json_lines", False)]:
            logger.removeHandler(stale)  # left by an earlier import of this module
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    level = settings.log_level()
    if logger.level != level:  # setLevel clears every logger's cache
        logger.setLevel(level)
    return logger


def bind_request(**fields: str) -> contextvars.Token:
    """Attach `fields` to every line logged until `unbind_request(token)`."""
    return _request_fields.set(dict(fields))


def unbind_request(token: contextvars.Token) -> None:
    """Undo the matching `bind_request`."""
    _request_fields.reset(token)
