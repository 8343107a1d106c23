"""Run a Lambda handler from lambda_src/ in-process, the way Lambda would call it.

The library side of `infragen invoke`: `load_event` reads the event, `run_handler`
imports `<source_dir>/<function>/handler.py` with the function folder and
`source_dir` (for the shared `common` package) importable, applies the function's
environment for the call only, passes a Lambda-like context and reports what the
handler returned or raised.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infragen.console import read_stdin
from infragen.errors import UsageError
from infragen.package import SHARED_PACKAGE

HANDLER_MODULE = "handler"
HANDLER_FUNCTION = "handler"
LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class InvokeResult:
    """Outcome of one invocation: `response` when it returned, `error_*` when it raised."""

    function: str
    request_id: str
    duration_ms: float
    timeout_s: int
    response: Any = None
    error_type: str | None = None
    error_message: str | None = None
    error_traceback: str | None = None
    logs: str = ""

    @property
    def ok(self) -> bool:
        """True when the handler returned (whatever the status code it chose)."""
        return self.error_type is None

    @property
    def timed_out(self) -> bool:
        """True when the call ran past the timeout Lambda would have enforced."""
        return self.duration_ms > self.timeout_s * 1000


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(self, *, function_name: str, memory_mb: int, timeout_s: int, region: str):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function_name}"
        )
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = (
            f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        )
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the timeout (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_event(path_or_dash: str | Path) -> dict[str, Any]:
    """The JSON object in file `path_or_dash`, or on stdin for "-"."""
    source = "stdin" if str(path_or_dash) == "-" else str(path_or_dash)
    if source == "stdin":
        return _parse_event(read_stdin("the event"), source)
    try:
        text = Path(path_or_dash).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"event file not found: {source}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read event from {source}: {error}") from None
    return _parse_event(text, source)


def _parse_event(text: str, source: str) -> dict[str, Any]:
    if not text.strip():
        raise UsageError(f"no event in {source}", hint="give a file holding a JSON object")
    try:
        event = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"event in {source} is not valid JSON: {error}") from None
    except RecursionError:
        raise UsageError(f"event in {source} is nested too deeply to parse",
                         hint="flatten it; API Gateway events are a few levels deep") from None
    if not isinstance(event, dict):
        raise UsageError(f"event in {source} must be a JSON object, not {type(event).__name__}")
    return event


def run_handler(
    source_dir: Path,
    function: str,
    event: dict,
    env_vars: dict[str, str],
    *,
    timeout_s: int,
    memory_mb: int,
    function_name: str,
) -> InvokeResult:
    """Invoke `<source_dir>/<function>/handler.py:handler(event, context)` in-process.

    The handler's stdout (its log lines) is captured into `InvokeResult.logs`. An
    exception from importing or calling the handler is reported in the result, not
    raised; a missing function folder raises UsageError.
    """
    source_dir = Path(source_dir).resolve()
    function_dir = _function_dir(source_dir, function)
    region = env_vars.get("AWS_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
    lambda_env = {
        "AWS_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        **env_vars,
    }
    captured = io.StringIO()
    with _environment(lambda_env), _importable(source_dir, function_dir):
        context = LambdaContext(
            function_name=function_name, memory_mb=memory_mb, timeout_s=timeout_s, region=region
        )
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(captured):
                module = importlib.import_module(HANDLER_MODULE)
                response = getattr(module, HANDLER_FUNCTION)(event, context)
        except (Exception, SystemExit) as error:  # sys.exit() in a handler is an error on Lambda too
            response, failure = None, error
        else:
            failure = None
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
    return InvokeResult(
        function=function,
        request_id=context.aws_request_id,
        duration_ms=duration_ms,
        timeout_s=timeout_s,
        response=response,
        error_type=None if failure is None else type(failure).__name__,
        error_message=None if failure is None else str(failure),
        error_traceback=None if failure is None else "".join(traceback.format_exception(failure)),
        logs=captured.getvalue(),
    )


def _function_dir(source_dir: Path, function: str) -> Path:
    """`source_dir/function`, which must be one of the function folders."""
    available = sorted(
        path.parent.name
        for path in source_dir.glob(f"*/{HANDLER_MODULE}.py")
        if path.parent.name != SHARED_PACKAGE
    )
    if function not in available:
        raise UsageError(
            f"no function {function!r} in {source_dir}",
            hint=f"available: {', '.join(available) or 'none'}",
        )
    return source_dir / function


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Apply `values` to os.environ, then restore it exactly, whatever the call changed."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


@contextlib.contextmanager
def _importable(source_dir: Path, function_dir: Path) -> Iterator[None]:
    """Put the function folder and source_dir first on sys.path, with fresh modules."""
    _forget_modules(source_dir)
    entries = [str(function_dir), str(source_dir)]
    sys.path[:0] = entries
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for entry in entries:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        _forget_modules(source_dir)


def _forget_modules(source_dir: Path) -> None:
    """Drop `handler`, `common.*` and every module loaded from source_dir."""
    for name, module in list(sys.modules.items()):
        if name == HANDLER_MODULE or name.split(".")[0] == SHARED_PACKAGE:
            del sys.modules[name]
            continue
        origin = getattr(module, "__file__", None)
        if origin and Path(origin).resolve().is_relative_to(source_dir):
            del sys.modules[name]
