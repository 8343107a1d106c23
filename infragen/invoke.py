"""Run a Lambda handler locally, the way Lambda would call it.

The library side of `infragen invoke`: `load_event` reads the event, `run_handler` runs the
function's handler in a forked child (stopped at the function's timeout) with its folder, the
shared packages and its installed requirements importable as in its zip, and the function's
environment; it passes a Lambda-like context and reports what the handler returned or raised.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import io
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infragen.console import read_stdin
from infragen.errors import UsageError
from infragen.events import LOCAL_ACCOUNT_ID

DEFAULT_REGION = "us-east-1"
TIMEOUT_ERROR = "Sandbox.Timedout"  # Lambda's errorType for a function stopped at its timeout
MARSHAL_ERROR = "Runtime.MarshalError"  # … and for a response that is not JSON-serialisable
CALLER_TIMEOUT = "Caller.Timeout"  # stopped at `stop_after_s`, before the function's own timeout
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"  # … and for a response above the payload limit
# Lambda's synchronous payload limits, in bytes of JSON: 6 MiB in, 6 MiB + 100 out (the quotas page
# says "6 MB" for both; the exact figures are what Invoke enforces, as Zac Charles measured them)
LAMBDA_REQUEST_LIMIT = 6 * 1024 * 1024
LAMBDA_RESPONSE_LIMIT = LAMBDA_REQUEST_LIMIT + 100
_USER_AWS_PROFILE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
LOG_DRAIN_S = 1.0  # after the answer, how long to wait for the rest of the log lines


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
        """True when the handler was stopped at its timeout."""
        return self.error_type == TIMEOUT_ERROR


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
        self._timeout_s = timeout_s
        self.restart_clock()

    def restart_clock(self) -> None:
        """Start the timeout now (when the invocation starts)."""
        self._deadline = time.monotonic() + self._timeout_s

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
    function_dir: Path,
    event: dict,
    env_vars: dict[str, str],
    *,
    timeout_s: int,
    memory_mb: int,
    function_name: str,
    handler: str = "handler.handler",
    shared_dirs: Sequence[Path] = (),
    dependency_dir: Path | None = None,
    stop_after_s: float | None = None,
) -> InvokeResult:
    """Invoke `handler` ("module.function") from `function_dir` in a forked child.

    Importable as in the zip: the function folder, each shared package under its own name, and
    the function's installed requirements (`dependency_dir`).

    The child starts as a copy of this process (imports, mocks and all), so a run is as quick as an
    in-process call, yet it can be stopped: at `timeout_s` it is killed, with everything it started,
    and the result says "Task timed out" as Lambda does. The handler's stdout (its log lines) is
    captured into `InvokeResult.logs`, also when it is killed. What it returns must be
    JSON-serialisable, as on Lambda (else Runtime.MarshalError). An exception from importing or
    calling the handler is reported in the result, not raised; a missing function folder raises
    UsageError. This process's environment, sys.path and modules are never touched.
    `stop_after_s` (below `timeout_s`) stops it earlier, as a caller that stops waiting would
    (API Gateway's integration timeout); the result's error is then CALLER_TIMEOUT.
    """
    function_dir, code, lambda_env, context = prepare(
        function_dir, env_vars, timeout_s=timeout_s, memory_mb=memory_mb, function_name=function_name,
        handler=handler, shared_dirs=shared_dirs, dependency_dir=dependency_dir)
    forking = multiprocessing.get_context("fork")
    results, child_results = forking.Pipe(duplex=False)
    logs, child_logs = os.pipe()
    child = forking.Process(target=_child, daemon=True, args=(
        child_results, child_logs, code, lambda_env, event, context))
    started = time.perf_counter()
    try:
        child.start()
        child_results.close()
        os.close(child_logs)
        limit = min(timeout_s, stop_after_s) if stop_after_s else timeout_s
        outcome, log_bytes = _collect(results, logs, limit)
    finally:
        _stop(child)
        results.close()
        os.close(logs)
    return invocation_result(function_dir.name, context, outcome, log_bytes, started=started,
                             timeout_s=timeout_s, limit_s=limit)


def prepare(function_dir: Path, env_vars: dict[str, str], *, timeout_s: int, memory_mb: int,
            function_name: str, handler: str = "handler.handler", shared_dirs: Sequence[Path] = (),
            dependency_dir: Path | None = None) -> tuple[Path, "Code", dict[str, str], LambdaContext]:
    """The function folder (resolved), its code layout, its Lambda environment and a fresh context;
    UsageError when the handler module is not a file of the folder."""
    function_dir = Path(function_dir).resolve()
    module_name, _, attribute = handler.rpartition(".")
    _require_module(function_dir, module_name)
    code = Code(function_dir=function_dir, module=module_name, attribute=attribute,
                 shared=tuple(Path(d).resolve() for d in shared_dirs if Path(d).is_dir()),
                 dependencies=dependency_dir)
    region = env_vars.get("AWS_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
    lambda_env = {
        "AWS_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        **env_vars,
    }
    context = LambdaContext(function_name=function_name, memory_mb=memory_mb, timeout_s=timeout_s,
                            region=region)
    return function_dir, code, lambda_env, context


def invocation_result(function: str, context: LambdaContext, outcome: dict | None, log_bytes: bytes, *,
                      started: float, timeout_s: int, limit_s: float) -> InvokeResult:
    """The InvokeResult of an outcome (None: stopped at `limit_s`, the caller's or the function's timeout)."""
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    if outcome is None and limit_s < timeout_s:
        outcome = {"error": (CALLER_TIMEOUT, f"Stopped after {limit_s:.2f} seconds by the caller", None)}
    elif outcome is None:
        duration_ms = float(timeout_s * 1000)
        outcome = {"error": (TIMEOUT_ERROR, f"Task timed out after {timeout_s:.2f} seconds", None)}
    response, error = _response(outcome)
    return InvokeResult(
        function=function,
        request_id=context.aws_request_id,
        duration_ms=duration_ms,
        timeout_s=timeout_s,
        response=response,
        error_type=error and error[0],
        error_message=error and error[1],
        error_traceback=error and error[2],
        logs=log_bytes.decode("utf-8", errors="backslashreplace"),
    )


@dataclass(frozen=True)
class Code:
    """Where a handler's code is, laid out as in its zip."""

    function_dir: Path
    module: str
    attribute: str
    shared: tuple[Path, ...]
    dependencies: Path | None

    @property
    def path(self) -> list[str]:
        folders = [self.function_dir, *dict.fromkeys(d.parent for d in self.shared)]
        return [str(f) for f in folders + ([self.dependencies] if self.dependencies else [])]


def enter_lambda_environment(code: Code, lambda_env: dict[str, str]) -> None:
    """In a forked child: the function's environment variables and import path, as on Lambda.

    Given credentials, the user's profile and AWS files are hidden; modules of an earlier run of
    the code are forgotten so that it is imported afresh.
    """
    os.environ.update(lambda_env)
    if "AWS_ACCESS_KEY_ID" in lambda_env:
        for name in _USER_AWS_PROFILE:
            os.environ.pop(name, None)
        os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    _forget_modules(code)
    sys.path[:0] = code.path


def _child(results, logs: int, code: Code, lambda_env: dict[str, str],
           event: dict, context: LambdaContext) -> None:
    """In the forked child: run the handler once, send the outcome, exit (stray threads included)."""
    try:
        os.setpgid(0, 0)  # its own process group, so a timeout also stops what the handler started
        sys.stdout = io.TextIOWrapper(io.FileIO(logs, "wb", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", write_through=True)
        enter_lambda_environment(code, lambda_env)
        importlib.invalidate_caches()
        context.restart_clock()
        try:
            module = importlib.import_module(code.module)
            outcome = marshal_response(getattr(module, code.attribute)(event, context))
        except (Exception, SystemExit) as error:  # sys.exit() in a handler is an error on Lambda too
            outcome = error_outcome(error)
        sys.stdout.flush()
        results.send(outcome)
    finally:
        os._exit(0)


def marshal_response(response: Any) -> dict:
    """The response as Lambda's Python runtime serialises it (Decimal as a number), or the error
    Lambda gives instead: MarshalError, or a response above its payload limit."""
    try:
        text = json.dumps(response, default=_decimal)
    except (TypeError, ValueError, RecursionError) as error:  # bytes, a set, a datetime, a cycle
        return {"error": (MARSHAL_ERROR, f"Unable to marshal response: {error_text(error)}", None)}
    if len(text) > LAMBDA_RESPONSE_LIMIT // 4 and len(text.encode()) > LAMBDA_RESPONSE_LIMIT:
        return {"error": (RESPONSE_TOO_LARGE, "Response payload size exceeded maximum allowed payload "
                                              f"size ({LAMBDA_RESPONSE_LIMIT} bytes).", None)}
    return {"response_json": text}


def event_size(event: Any) -> int:
    """Bytes of the event as Lambda receives it (its JSON), to hold against LAMBDA_REQUEST_LIMIT."""
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())


def _decimal(value: Any) -> float:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def error_outcome(error: BaseException) -> dict:
    """An error as Lambda reports it: type, message, and a traceback from the function's own code
    on (the runtime's frames, here infragen's and importlib's, left out)."""
    tb = error.__traceback__
    while tb is not None and _runtime_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return {"error": (type(error).__name__, error_text(error),
                      "".join(traceback.format_exception(type(error), error, tb)))}


def _runtime_frame(filename: str) -> bool:
    return filename.startswith((_PACKAGE_DIR, "<frozen importlib", importlib.__file__.rpartition(os.sep)[0]))


_PACKAGE_DIR = str(Path(__file__).resolve().parent) + os.sep


def error_text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # an exception whose __str__ fails
        return repr(type(error))


def _collect(results, logs: int, timeout_s: float) -> tuple[dict | None, bytes]:
    """Read the child's log pipe and wait for its outcome until `timeout_s`; None when it ran out."""
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    outcome, logs_open = None, True
    while outcome is None or logs_open:
        remaining = deadline - time.monotonic() if outcome is None else LOG_DRAIN_S
        if remaining <= 0:
            break
        waiting = ([logs] if logs_open else []) + ([results] if outcome is None else [])
        ready = multiprocessing.connection.wait(waiting, timeout=remaining)
        if not ready and outcome is not None:
            break  # something the handler started still holds the log pipe
        if logs in ready:
            chunk = os.read(logs, 65536)
            chunks.append(chunk)
            logs_open = bool(chunk)
        if results in ready:
            try:
                outcome = results.recv()
            except EOFError:  # died without an answer: os._exit in the handler, a crash, killed
                outcome = {"error": ("Runtime.ExitError", "Runtime exited without providing a reason", None)}
    return outcome, b"".join(chunks)


def _stop(child) -> None:
    """Kill the child and its process group if it still runs; reap it."""
    if child.pid is None:
        return
    if child.exitcode is None:
        for kill in (lambda: os.killpg(child.pid, signal.SIGKILL), child.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill()
    child.join()


def _response(outcome: dict) -> tuple[Any, tuple[str, str, str | None] | None]:
    if "error" in outcome:
        return None, tuple(outcome["error"])
    try:
        return json.loads(outcome["response_json"]), None
    except (ValueError, RecursionError) as error:
        return None, (MARSHAL_ERROR, f"Unable to marshal response: {error}", None)


def _require_module(function_dir: Path, module: str) -> None:
    """The handler's module must be a file of the function folder."""
    if not (function_dir / (module.replace(".", "/") + ".py")).is_file():
        raise UsageError(f"no handler module {module!r} in {function_dir}",
                         hint="check the function's source and handler in infragen.toml")


def _forget_modules(code: Code) -> None:
    """Drop the handler's module, the shared packages and every module loaded from the code's folders."""
    names = {code.module.split(".")[0], *(d.name for d in code.shared)}
    folders = [code.function_dir, *code.shared] + ([code.dependencies] if code.dependencies else [])
    prefixes = tuple(str(f) + os.sep for f in folders)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in names:
            del sys.modules[name]
            continue
        origin = getattr(module, "__file__", None)
        # a string test first: resolving every loaded module's path costs ~0.1 s in a large process
        if origin and (origin.startswith(prefixes) or (
                os.path.islink(origin) and any(Path(origin).resolve().is_relative_to(f) for f in folders))):
            del sys.modules[name]