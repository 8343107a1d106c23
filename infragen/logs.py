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

from infragen.errors import EXIT_OK, UsageError

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
POLL_MIN_S = 1.0  # --follow: first wait between polls, and again after new events
POLL_MAX_S = 10.0  # … doubled while nothing arrives, never longer than this


def parse_since(text: str) -> int:
    """`10m` → 600 seconds (s, m, h, d)."""
    found = _DURATION.fullmatch(text.strip())
    if not found or int(found.group(1)) == 0:
        raise UsageError(f"--since {text!r} is not a duration", hint="e.g. 30s, 10m, 2h or 1d")
    return int(found.group(1)) * _UNIT_S[found.group(2)]


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


def events(logs_client, group: str, start_ms: int, filter_text: str | None) -> Iterator[dict]:
    """Events of `group` since `start_ms` (all pages), oldest first; an absent group has none."""
    arguments = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
    if filter_text:
        arguments["filterPattern"] = json.dumps(filter_text)  # a quoted term: matched as typed
    paginator = logs_client.get_paginator("filter_log_events")
    try:
        for page in paginator.paginate(**arguments):
            yield from page.get("events", [])
    except logs_client.exceptions.ResourceNotFoundException:
        return


def readable(event: dict) -> str:
    """`time LEVEL requestId message  key=value` for a JSON line; other lines as they are."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event["timestamp"] / 1000))
    message = event.get("message", "").rstrip("\n")
    try:
        entry = json.loads(message)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return f"{stamp} {message}"
    entry.pop("timestamp", None)
    entry.pop("logger", None)
    level = entry.pop("level", "")
    request = entry.pop("requestId", "")
    text = entry.pop("message", "")
    exception = entry.pop("exception", None)
    rest = "  ".join(f"{k}={v}" for k, v in entry.items())
    line = " ".join(p for p in (stamp, f"{level:<7}" if level else "", request, str(text)) if p)
    line += f"  {rest}" if rest else ""
    return line + ("".join("\n    " + x for x in exception.splitlines()) if exception else "")


def follow(fetch: Callable[[int], list[dict]], start_ms: int, emit: Callable[[dict], None], *,
           sleep: Callable[[float], None] | None = None, polls: int | None = None) -> None:
    """Print events as they arrive: poll with a wait that doubles while nothing comes (bounded by
    POLL_MAX_S) and drops back to POLL_MIN_S after new events; an event is printed once.
    `polls` bounds the loop (tests); Ctrl-C ends it."""
    seen: set[str] = set()
    wait = POLL_MIN_S
    done = 0
    while polls is None or done < polls:
        fresh = [e for e in fetch(start_ms) if e.get("eventId") not in seen]
        for event in fresh:
            seen.add(event.get("eventId"))
            start_ms = max(start_ms, event["timestamp"])  # the same millisecond may hold more
            emit(event)
        done += 1
        if polls is not None and done >= polls:
            return
        wait = POLL_MIN_S if fresh else min(wait * 2, POLL_MAX_S)
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
        def fetch(start: int) -> list[dict]:
            with aws_errors(f"Reading log group {group}"):
                return list(events(clients.logs, group, start, filter_text))

        def emit(event: dict) -> None:
            click.echo(readable(event))

        if follow_:
            click.echo(f"Following {group} (Ctrl-C stops)", err=True)
            follow(fetch, start_ms, emit)
        else:
            for event in fetch(start_ms):
                emit(event)
    return EXIT_OK
