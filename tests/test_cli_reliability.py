"""Hostile input at the command line: every case is a message and a README exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path)


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
        text = project.read_text()
        start = text.index(f"[functions.{function}]")
        at = text.index("timeout = 300", start)  # the function's own timeout line
        project.write_text(text[:at] + f"timeout = {timeout_s}" + text[at + len("timeout = 300"):])


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


# --- option values: seconds, regions, endpoint URLs (L1, L2, L3) -----------------------------------

@pytest.mark.parametrize("command", ["deploy", "diff", "destroy", "bootstrap"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999", "0.5", "soon"])
def test_wait_timeout_must_be_a_finite_number_of_seconds(project, command, value):
    result = run(command, "--config", project, "--local", "--wait-timeout", value)

    assert result.exit_code == 2, result.output
    assert "--wait-timeout" in result.output
    no_traceback(result)


@pytest.mark.parametrize("target", [[], ["--local"]])
@pytest.mark.parametrize("region", ["bogus", "xx-fake-9", "us-west-99", "US-WEST-2", ""])
def test_an_unknown_region_is_refused_before_any_call(project, target, region, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = run("status", "--config", project, *target, "--region", region)

    assert result.exit_code == 2, result.output
    assert "--region" in result.output
    no_traceback(result)


def test_a_custom_endpoint_takes_any_well_formed_region_but_not_a_malformed_one(project, moto_endpoint):
    assert run("status", "--config", project, "--endpoint-url", moto_endpoint, "--region", "bogus").exit_code == 2
    custom = run("status", "--config", project, "--endpoint-url", moto_endpoint, "--region", "xx-lab-1")
    assert custom.exit_code != 2 and "--region" not in custom.output, custom.output


@pytest.mark.parametrize("region", ["xx-fake-9", "mars-north-1", "us-west-99"])
def test_an_unknown_region_in_the_config_is_exit_2_at_load(project, region):
    project.write_text(project.read_text().replace('region = "us-west-2"', f'region = "{region}"'))

    result = run("render", "--all", "--config", project)

    assert result.exit_code == 2, result.output
    assert "stack.region" in result.output and region in result.output


@pytest.mark.parametrize("region", ["us-west-2", "eu-central-1", "cn-north-1", "us-gov-west-1", "ap-southeast-5"])
def test_known_regions_of_every_partition_are_accepted(region):
    from infragen.regions import known_region

    assert known_region(region)


@pytest.mark.parametrize("url", [
    "http://", "https://", "http://a b", "http://host:99999", "http://[::1", "ftp://x", "localhost:4566",
    "127.0.0.1:4566", "http://host:", "http://host:0", "http://-x-", "http://user:pw@host", "http://h\n",
    "",
])
@pytest.mark.parametrize("command", ["status", "invoke"])
def test_a_malformed_endpoint_url_is_exit_2_with_a_message(project, url, command):
    args = [command, "hello"] if command == "invoke" else [command]
    result = run(*args, "--config", project, "--endpoint-url", url)

    assert result.exit_code == 2, result.output
    assert "--endpoint-url" in result.output
    no_traceback(result)


@pytest.mark.parametrize("url", ["http://127.0.0.1:4566", "https://s3.example.com", "http://[::1]:4566",
                                 "http://localhost:4566/"])
def test_well_formed_endpoint_urls_pass(url):
    from infragen.endpoint_url import endpoint_url_problem

    assert endpoint_url_problem(url) is None


# --- render / lint follow --config (L17) and lint any file (M6) -------------------------------------

def test_render_and_lint_use_the_templates_of_the_config_project_not_the_cwd(project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    rendered = run("render", "--all", "--config", project)
    assert rendered.exit_code == 0, rendered.output
    assert sorted(p.name for p in (project.parent / "templates_out").iterdir()) == [
        "bootstrap.json", "dev.json", "prod.json"]
    assert not (elsewhere / "templates_out").exists()
    assert run("render", "--all", "--check", "--config", project).exit_code == 0
    linted = run("lint", "--config", project)
    assert linted.exit_code == 0, linted.output
    assert "3 templates" in linted.output


@pytest.fixture
def rendered(project):
    assert run("render", "--all", "--config", project).exit_code == 0
    return project.parent / "templates_out"


@pytest.mark.parametrize(("name", "content", "says"), [
    ("dev.json", '<<<<<<< HEAD\n{"Resources": {}}\n=======\n{}\n>>>>>>> theirs\n', "merge-conflict marker"),
    ("dev.json", '{"AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {\n', "E0000"),
    ("dev.json", b'{"Description": "caf\xe9"}', "not UTF-8"),
    ("dev.json", "", "empty"),
    ("dev.json", "  \n", "empty"),
    ("dev.json", '{"Resources": ' + "[" * 5000 + "]" * 5000 + "}", "E0000"),
    ("extra.json", None, "a folder"),
])
def test_lint_reports_a_file_that_is_no_template_as_a_finding_naming_it(project, rendered, name, content, says):
    path = rendered / name
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)

    result = run("lint", "--config", project)

    assert result.exit_code == 1, result.output
    assert f"{path}:" in result.output and says in result.output
    no_traceback(result)


# --- an endpoint that accepts connections and never answers (M5) ------------------------------------

@pytest.fixture
def silent_endpoint():
    """A TCP server on loopback that accepts every connection and never sends a byte."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", held
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("command", [["status"], ["harden"], ["secrets", "status", "--env", "dev"]])
def test_a_silent_endpoint_fails_a_command_with_exit_3_within_its_call_limits(
        project, silent_endpoint, monkeypatch, command):
    from infragen import target

    url, held = silent_endpoint
    monkeypatch.setattr(target, "CALL_LIMITS", target.CallLimits(connect_s=0.5, read_s=0.3, budget_s=1.0))
    started = time.monotonic()

    result = run(*command, "--config", project, "--endpoint-url", url)

    assert time.monotonic() - started < 5
    assert result.exit_code == 3, result.output
    assert url in result.output and ("Read timeout" in result.output or "no answer" in result.output)
    assert "aws configure" not in result.output  # a silent endpoint is not a credentials problem
    assert held, "the command never reached the endpoint"
    no_traceback(result)


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("command", [["diff"], ["deploy", "--yes"], ["destroy", "--yes"], ["bootstrap", "--yes"]])
def test_wait_timeout_bounds_every_call_of_a_command(project, silent_endpoint, command):
    url, _ = silent_endpoint
    started = time.monotonic()

    result = run(*command, "--config", project, "--endpoint-url", url, "--wait-timeout", "1")

    assert time.monotonic() - started < 8
    assert result.exit_code == 3, result.output
    assert url in result.output
    no_traceback(result)


def test_default_call_limits_suit_aws():
    from infragen.target import CALL_LIMITS, CallLimits

    assert CALL_LIMITS.read_s <= 30 and CALL_LIMITS.connect_s <= 10 and CALL_LIMITS.max_attempts >= 2
    # worst case for one call: the budget, plus the attempt under way
    assert CALL_LIMITS.budget_s + CALL_LIMITS.connect_s + CALL_LIMITS.read_s <= 90
    assert CallLimits().at_most(2) == CallLimits(connect_s=2, read_s=2, upload_read_s=2, budget_s=2)


# --- a malformed ~/.aws/config (L16) -----------------------------------------------------------------

@pytest.fixture(params=["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
def broken_aws_config(aws_env, tmp_path, monkeypatch, request):
    path = tmp_path / "broken-aws-file"
    path.write_text("[default\nregion = us-west-2\n[profile x]\nthis is not ini\n")
    monkeypatch.setenv(request.param, str(path))
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")  # the local target must not look at it either
    return path


@pytest.mark.parametrize("command", [["secrets", "status", "--env", "dev"], ["status"], ["invoke", "hello"]])
def test_a_malformed_aws_config_does_not_matter_to_local_commands(project, broken_aws_config, command):
    result = run(*command, "--config", project, "--local")

    assert result.exit_code in (0, 1), result.output  # 1: secrets missing / stack not deployed
    assert "parse" not in result.output and str(broken_aws_config) not in result.output
    no_traceback(result)


@pytest.mark.parametrize("target", [[], ["--endpoint-url", "http://127.0.0.1:9"]])
def test_a_malformed_aws_config_is_exit_2_naming_it_for_aws_targets(project, broken_aws_config, target,
                                                                      monkeypatch):
    monkeypatch.delenv("AWS_PROFILE")
    result = run("status", "--config", project, *target)

    assert result.exit_code == 2, result.output
    assert str(broken_aws_config) in result.output
    no_traceback(result)


def test_render_check_reports_a_file_that_is_not_utf8_as_stale_and_render_rewrites_it(project, rendered):
    (rendered / "dev.json").write_bytes(b"\xff\xfe{}")

    check = run("render", "--all", "--check", "--config", project)
    assert check.exit_code == 1 and f"stale: {rendered / 'dev.json'}" in check.output
    no_traceback(check)
    assert run("render", "--all", "--config", project).exit_code == 0
    assert run("render", "--all", "--check", "--config", project).exit_code == 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the server outlives start()
def test_a_background_emulator_and_the_handlers_run_against_it_ignore_a_malformed_aws_config(
        project, broken_aws_config):
    from infragen import local

    state = project.parent / ".infragen"
    local.start(state)
    try:
        result = run("invoke", "hello", "--config", project, "--local")
    finally:
        local.stop(state)

    assert result.exit_code == 0, result.output
    assert "greetingConfigured" in result.output and "in-process" not in result.output
