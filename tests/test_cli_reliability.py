"""Hostile input at the command line: every case is a message and a README exit code, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    shutil.copy(ROOT / "infragen.toml", tmp_path)
    shutil.copytree(ROOT / "lambda_src", tmp_path / "lambda_src", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "infragen.toml"


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def no_traceback(result):
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def run_process(*args, stdin_closed=False, input=None, env=None, cwd=None):
    """The real `infragen` in a child process (for what CliRunner cannot fake, e.g. a closed stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "infragen", *map(str, args)],
        input=None if stdin_closed else input, capture_output=True, timeout=120, cwd=cwd,
        env={**os.environ, **(env or {})},
        preexec_fn=(lambda: os.close(0)) if stdin_closed else None,
    )


def with_handler(project: Path, function: str, code: str, timeout_s: int | None = None) -> None:
    (project.parent / "lambda_src" / function / "handler.py").write_text(code)
    if timeout_s is not None:
        config = project.read_text().replace("[functions.hello]\nruntime = \"python3.12\"\ntimeout = 300",
                                             f"[functions.hello]\nruntime = \"python3.12\"\ntimeout = {timeout_s}")
        project.write_text(config)


# --- invoke: timeouts and responses (M7, L18) ------------------------------------------------------

def test_invoke_stops_a_handler_at_its_timeout_exit_1(project, moto_endpoint):
    with_handler(project, "hello", "def handler(event, context):\n    while True:\n        pass\n", timeout_s=1)
    started = time.monotonic()

    result = run("invoke", "hello", "--config", project, "--endpoint-url", moto_endpoint)

    assert time.monotonic() - started < 15
    assert result.exit_code == 1, result.output
    assert "Task timed out after 1.00 seconds" in result.output
    no_traceback(result)


def test_invoke_reports_a_bytes_response_as_lambda_would_exit_1(project, moto_endpoint):
    with_handler(project, "hello", "def handler(event, context):\n    return b'raw'\n")

    result = run("invoke", "hello", "--config", project, "--endpoint-url", moto_endpoint)

    assert result.exit_code == 1, result.output
    assert "Runtime.MarshalError: Unable to marshal response: Object of type bytes" in result.output
    no_traceback(result)


# --- stdin: closed, not UTF-8, nested too deeply (L4, L5, L7) ---------------------------------------

@pytest.mark.parametrize("command", [
    ["invoke", "hello", "--event", "-", "--local"],
    ["secrets", "set", "hello", "greeting", "--env", "dev", "--local"],
])
def test_a_closed_stdin_is_exit_2_with_a_message(project, command):
    result = run_process(*command, "--config", project, stdin_closed=True)

    assert result.returncode == 2, result.stderr
    assert b"cannot read" in result.stderr and b"stdin" in result.stderr
    assert b"Traceback" not in result.stderr


def test_a_secret_that_is_not_utf8_is_refused_before_anything_is_written(project, moto_endpoint):
    result = run("secrets", "set", "hello", "greeting", "--env", "dev", "--config", project,
                 "--endpoint-url", moto_endpoint, input=b"caf\xe9 latte")

    assert result.exit_code == 2, result.output
    assert "not UTF-8" in result.output
    no_traceback(result)
    status = run("secrets", "status", "--env", "dev", "--config", project, "--endpoint-url", moto_endpoint)
    assert "/infragen/dev/hello/greeting" in status.output and "missing" in status.output


@pytest.mark.parametrize(("value", "message"), [
    ("caf\udce9", "lone surrogate"),
    ("a\x00b", "NUL"),
])
def test_secret_values_ssm_cannot_hold_faithfully_are_refused(value, message):
    from infragen.errors import UsageError
    from infragen.secrets import require_value

    with pytest.raises(UsageError, match=message):
        require_value(value)


def test_a_deeply_nested_event_is_exit_2(project):
    deep = "[" * 100_000 + "]" * 100_000
    result = run("invoke", "hello", "--event", "-", "--config", project, "--local", input='{"a": ' + deep + "}")

    assert result.exit_code == 2, result.output
    assert "nested too deeply" in result.output
    no_traceback(result)


def test_a_deeply_nested_event_file_is_exit_2(project, tmp_path):
    event = tmp_path / "deep.json"
    event.write_text('{"a": ' + "{\"b\": " * 100_000 + "1" + "}" * 100_001)

    result = run("invoke", "hello", "--event", event, "--config", project, "--local")

    assert result.exit_code == 2, result.output
    no_traceback(result)


def test_a_deeply_nested_config_is_exit_2(tmp_path):
    config = tmp_path / "infragen.toml"
    config.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")

    result = run("render", "--all", "--config", config)

    assert result.exit_code == 2, result.output
    assert str(config) in result.output
    no_traceback(result)
