"""`infragen logs`: a deployed function's (or the API's) CloudWatch log events, readable.

Log group names come from the rendered template (the function's LogGroup resource, the API's
access log group), so they are the ones `deploy` created.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Callable, Iterator

import click

from infragen.errors import EXIT_OK, AwsError, UsageError

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
POLL_MIN_S = 1.0  # --follow: first wait between polls, and again after new events
POLL_MAX_S = 10.0  # … doubled while nothing arrives, never longer than this
LATE_MS = 30_000  # --follow: how far behind the newest event each poll reaches again


def parse_since(text: str, now: float | None = None) -> int:
    """`10m` → 600 seconds (s, m, h, d), reaching no further back than 1970."""
    found = _DURATION.fullmatch(text.strip())
    if not found or int(found.group(1)) == 0:
        raise UsageError(f"--since {text!r} is not a duration", hint="e.g. 30s, 10m, 2h or 1d")
    seconds = int(found.group(1)) * _UNIT_S[found.group(2)]
    if seconds >= (now or time.time()):
        raise UsageError(f"--since {text!r} reaches back before 1970", hint="e.g. 30s, 10m, 2h or 1d")
    return seconds


def log_group(template: dict, source: str, function_names: list[str]) -> str:
    """The log group of function `source`, or of the API's access logs for `api`."""
    from infragen.stack.names import camel

    resources = template.get("Resources", {})
    logical_id = "ApiAccessLogGroup" if source == "api" else f"{camel(source)}LogGroup"
    name = resources.get(logical_id, {}).get("Properties", {}).get("LogGroupName")
    if source != "api" and source not in function_names:
        raise UsageError(f"unknown function {source!r}",
                         hint="one of: " + ", ".join(function_names + ["api"]))
    if not isinstance(name, str):
        raise UsageError(f"{source!r} has no log group in the rendered template",
                         hint="functions: " + ", ".join(function_names) + (", api" if "ApiAccessLogGroup" in resources else ""))
    return name


class Throttled(Exception):
    """CloudWatch Logs refused a read for its rate (after the SDK's own retries)."""


def events(logs_client, group: str, start_ms: int, filter_text: str | None) -> Iterator[dict]:
    """Events of `group` since `start_ms`, page by page as they come, oldest first; an absent
    group has none; Throttled when the service keeps refusing for its rate."""
    from botocore.exceptions import ClientError

    arguments = {"logGroupName": group, "startTime": start_ms}
    if filter_text:  # a quoted term: matched as typed (the text itself, not \u escapes of it)
        arguments["filterPattern"] = json.dumps(filter_text, ensure_ascii=False)
    paginator = logs_client.get_paginator("filter_log_events")
    try:
        for page in paginator.paginate(**arguments):
            yield from page.get("events", [])
    except logs_client.exceptions.ResourceNotFoundException:
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ThrottlingException":
            raise Throttled(str(exc)) from exc
        raise


def readable(event: dict) -> str:
    """`time LEVEL requestId message  key=value` for a JSON line; other lines as they are. Control
    characters (a terminal's escape sequences) are shown escaped, never sent to the terminal."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event["timestamp"] / 1000))
    message = str(event.get("message", "")).rstrip("\n")
    try:
        entry = json.loads(message, parse_constant=str)
    except (ValueError, RecursionError):
        entry = None
    if not isinstance(entry, dict):
        return safe(f"{stamp} {message}").replace("\n", "\n    ")
    entry.pop("timestamp", None)
    entry.pop("logger", None)
    if isinstance(entry.get("level"), str):
        entry["level"] = f"{entry['level']:<7}"  # the request ids line up
    return f"{stamp} " + json_line(entry, fields=("level", "requestId"))


def json_line(entry: dict, fields: tuple[str, ...]) -> str:
    """A parsed JSON log line as `FIELDS message  key=value`, its exception beneath, indented; any
    value shape (a list, an object) printed as it is, control characters escaped."""
    head = [_text(entry.pop(name)) for name in fields if name in entry]
    message = _text(entry.pop("message", ""))
    exception = entry.pop("exception", None)
    rest = "  ".join(f"{k}={_text(v)}" for k, v in entry.items())
    line = " ".join(p for p in (*head, message) if p) + (f"  {rest}" if rest else "")
    if isinstance(exception, list):
        exception = "".join(str(x) if str(x).endswith("\n") else f"{x}\n" for x in exception)
    tail = "".join("\n    " + x for x in _text(exception).splitlines()) if exception else ""
    return safe(line).replace("\n", "\n    ") + safe(tail)


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """`text` with control characters (ESC and the rest, but not tab or newline) as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def follow(fetch: Callable[[int], Iterator[dict]], start_ms: int, emit: Callable[[dict], None], *,
           sleep: Callable[[float], None] | None = None, polls: int | None = None) -> None:
    """Print events as they arrive, once each: poll with a wait that doubles while nothing comes
    (bounded by POLL_MAX_S) and drops back to POLL_MIN_S after new events; a throttled read waits
    POLL_MAX_S and carries on. Each poll reaches LATE_MS behind the newest event seen, for events
    ingested late with earlier timestamps. `polls` bounds the loop (tests); Ctrl-C ends it."""
    recent: dict[str, int] = {}  # eventId → timestamp, within LATE_MS of the newest
    newest = start_ms
    wait = POLL_MIN_S
    done = 0
    while polls is None or done < polls:
        fresh = 0
        try:
            for event in fetch(max(start_ms, newest - LATE_MS)):
                if event.get("eventId") in recent:
                    continue
                recent[event.get("eventId")] = event["timestamp"]
                newest = max(newest, event["timestamp"])
                emit(event)
                fresh += 1
        except Throttled:
            wait = POLL_MAX_S
        else:
            wait = POLL_MIN_S if fresh else min(wait * 2, POLL_MAX_S)
        recent = {k: t for k, t in recent.items() if t >= newest - LATE_MS}
        done += 1
        if polls is not None and done >= polls:
            return
        (sleep or time.sleep)(wait)


def run(config_path: Path, source: str, env_name: str | None, since: str, follow_: bool,
        filter_text: str | None, target_flags: dict) -> int:
    from infragen.console import Console
    from infragen.deploy.aws_errors import aws_errors
    from infragen.project import load_env, target_clients
    from infragen.render import stack_template

    start_ms = int((time.time() - parse_since(since)) * 1000)
    cfg = load_env(config_path, env_name)
    group = log_group(json.loads(stack_template(cfg)), source, [fn.name for fn in cfg.functions])
    with target_clients(cfg, config_path, Console(), target_flags) as clients:
        def fetch(start: int) -> Iterator[dict]:
            with aws_errors(f"Reading log group {group}"):
                yield from events(clients.logs, group, start, filter_text)

        try:
            if follow_:
                click.echo(f"Following {group} (Ctrl-C stops)", err=True)
                follow(fetch, start_ms, lambda event: click.echo(readable(event)))
            else:
                try:
                    for event in fetch(start_ms):
                        click.echo(readable(event))
                except Throttled as exc:
                    raise AwsError(f"Reading log group {group} failed: {exc}",
                                   hint="CloudWatch Logs limits reads per second; try again") from exc
        except BrokenPipeError:  # the reader (`| head`) has what it wanted
            from infragen.console import silence_stdout

            silence_stdout()
    return EXIT_OK
