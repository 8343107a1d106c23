"""infragen.invoke: in-process handler runs, Lambda-like context, isolation, event loading."""

from __future__ import annotations

import io
import json
import os
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infragen.errors import UsageError
from infragen.invoke import load_event, run_handler

LAMBDA_SRC = Path(__file__).resolve().parents[1] / "lambda_src"
REGION = "us-west-2"


@pytest.fixture
def aws_env(monkeypatch):
    """moto with the two SecureStrings and an error topic; returns the functions' env."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name="/t/greeting", Value="Hi from SSM", Type="SecureString")
        ssm.put_parameter(Name="/t/key", Value="signing-key", Type="SecureString")
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="errors")["TopicArn"]
        yield {
            "ENVIRONMENT": "staging",
            "LOG_LEVEL": "INFO",
            "ERROR_TOPIC_ARN": topic,
            "GREETING_PARAMETER": "/t/greeting",
            "SIGNING_KEY_PARAMETER": "/t/key",
            "BATCH_SIZE": "2",
        }


def _run(function: str, event: dict, env: dict, source: Path = LAMBDA_SRC, **overrides):
    options = {"timeout_s": 10, "memory_mb": 256, "function_name": f"infragen-{function}"}
    options.update(overrides)
    return run_handler(source / function, event, env, shared_dirs=[source / "common"], **options)


def _write_function(root: Path, name: str, code: str, common: str = "") -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "handler.py").write_text(code)
    if common:
        (root / "common").mkdir(exist_ok=True)
        (root / "common" / "__init__.py").write_text(common)


def test_runs_hello_with_the_example_event(aws_env):
    environ_before = dict(os.environ)
    event = load_event(LAMBDA_SRC / "events" / "hello.json")

    result = _run("hello", event, aws_env)

    assert result.ok and not result.timed_out
    assert result.response["statusCode"] == 200
    assert json.loads(result.response["body"]) == {
        "greeting": "Hi from SSM",
        "greetingConfigured": True,
        "environment": "staging",
        "requestId": event["requestContext"]["requestId"],
    }
    [log] = [json.loads(line) for line in result.logs.splitlines()]
    assert log["function"] == "infragen-hello"
    assert dict(os.environ) == environ_before


def test_runs_data_processor_with_the_example_event(aws_env):
    result = _run("data_processor", load_event(LAMBDA_SRC / "events" / "data.json"), aws_env)

    assert result.ok
    body = json.loads(result.response["body"])
    assert (body["received"], body["processed"], body["leftOver"]) == (6, 2, 4)
    assert body["items"] == ["alpha", "Caf\u00e9"]
    assert len(body["signature"]) == 64


def test_handlers_run_back_to_back_without_leaking_modules(aws_env):
    path_before = list(sys.path)

    hello = _run("hello", load_event(LAMBDA_SRC / "events" / "hello.json"), aws_env)
    data = _run("data_processor", load_event(LAMBDA_SRC / "events" / "data.json"), aws_env)
    hello_again = _run("hello", load_event(LAMBDA_SRC / "events" / "hello.json"), aws_env)

    assert "greeting" in json.loads(hello.response["body"])
    assert "signature" in json.loads(data.response["body"])
    assert hello_again.response["body"] == hello.response["body"]
    assert sys.path == path_before
    lambda_modules = ("handler", "common", "common.aws", "items", "signing")
    assert [name for name in lambda_modules if name in sys.modules] == []


def test_context_and_environment_look_like_lambda(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("KEPT", "outer")
    _write_function(
        tmp_path,
        "probe",
        "import os, time\n"
        "def handler(event, context):\n"
        "    first = context.get_remaining_time_in_millis()\n"
        "    time.sleep(0.02)\n"
        "    return {'id': context.aws_request_id, 'name': context.function_name,\n"
        "            'memory': context.memory_limit_in_mb, 'arn': context.invoked_function_arn,\n"
        "            'group': context.log_group_name, 'first': first,\n"
        "            'second': context.get_remaining_time_in_millis(),\n"
        "            'env': {k: os.environ.get(k) for k in ('MINE', 'KEPT',\n"
        "                    'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE')},\n"
        "            'event': event}\n",
    )

    result = _run(
        "probe", {"k": 1}, {"MINE": "yes", "KEPT": "inner"}, tmp_path,
        timeout_s=3, memory_mb=512, function_name="infragen-dev-probe",
    )

    seen = result.response
    assert seen["id"] == result.request_id and uuid.UUID(seen["id"])
    assert seen["name"] == "infragen-dev-probe"
    assert seen["memory"] == 512
    assert seen["arn"] == "arn:aws:lambda:eu-central-1:123456789012:function:infragen-dev-probe"
    assert seen["group"] == "/aws/lambda/infragen-dev-probe"
    assert 2900 < seen["first"] <= 3000
    assert seen["second"] <= seen["first"] - 15
    assert seen["env"] == {
        "MINE": "yes",
        "KEPT": "inner",
        "AWS_LAMBDA_FUNCTION_NAME": "infragen-dev-probe",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    }
    assert seen["event"] == {"k": 1}
    assert "MINE" not in os.environ and os.environ["KEPT"] == "outer"
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


def test_raising_handler_is_reported_and_everything_restored(tmp_path):
    environ_before = dict(os.environ)
    _write_function(
        tmp_path,
        "broken",
        "import os\n"
        "def handler(event, context):\n"
        "    os.environ['LEFT_BEHIND'] = '1'\n"
        "    print('about to fail')\n"
        "    raise ValueError('bad input: ' + event['what'])\n",
    )

    result = _run("broken", {"what": "x"}, {"SOME_VAR": "v"}, tmp_path)

    assert not result.ok
    assert result.response is None
    assert result.error_type == "ValueError"
    assert result.error_message == "bad input: x"
    assert "raise ValueError" in result.error_traceback
    # as Lambda shows it: from the function's own frame on, none of the runner's
    assert "infragen" not in result.error_traceback and "importlib" not in result.error_traceback
    assert result.error_traceback.splitlines()[1].strip().startswith(f'File "{tmp_path}')
    assert result.logs == "about to fail\n"
    assert dict(os.environ) == environ_before
    assert "handler" not in sys.modules


def test_a_handler_calling_sys_exit_is_reported_not_obeyed(tmp_path):
    _write_function(tmp_path, "quits", "import sys\ndef handler(event, context):\n    sys.exit(3)\n")

    result = _run("quits", {}, {}, tmp_path)

    assert (result.ok, result.error_type, result.error_message) == (False, "SystemExit", "3")


def test_import_failure_is_reported(tmp_path):
    _write_function(tmp_path, "syntax", "def handler(event, context) return 1\n")

    result = _run("syntax", {}, {}, tmp_path)

    assert result.error_type == "SyntaxError"


def test_functions_get_their_own_handler_and_common(tmp_path):
    for name in ("one", "two"):
        _write_function(
            tmp_path,
            name,
            f"from common import TAG\ndef handler(event, context):\n    return ('{name}', TAG)\n",
            common=f"TAG = 'common-for-{name}'\n",
        )
        result = _run(name, {}, {}, tmp_path)
        assert result.response == [name, f"common-for-{name}"]  # a tuple comes back as a JSON array


def test_timeout_is_flagged(tmp_path):
    _write_function(tmp_path, "slow", "import time\ndef handler(e, c):\n    time.sleep(0.01)\n")

    assert _run("slow", {}, {}, tmp_path, timeout_s=0).timed_out


@pytest.mark.parametrize("body", [
    "    while True:\n        pass\n",  # busy
    "    import time\n    time.sleep(600)\n",  # blocked
    "    import time\n    while True:\n        try:\n            time.sleep(600)\n        except BaseException:\n"
    "            pass\n",  # deaf to everything but SIGKILL
    "    import subprocess, sys\n    subprocess.run([sys.executable, '-c', 'import time; time.sleep(600)'])\n",
])
def test_a_handler_overrunning_its_timeout_is_stopped_there_with_its_logs(tmp_path, body):
    _write_function(tmp_path, "spin", "def handler(event, context):\n    print('started', flush=True)\n" + body)
    started = time.monotonic()

    result = _run("spin", {}, {}, tmp_path, timeout_s=1)

    assert time.monotonic() - started < 5
    assert result.timed_out and not result.ok
    assert (result.error_type, result.error_message) == ("Sandbox.Timedout", "Task timed out after 1.00 seconds")
    assert result.logs == "started\n"


@pytest.mark.parametrize(("value", "kind"), [
    ("b'raw'", "bytes"), ("{1, 2}", "set"), ("__import__('datetime').datetime(2024, 1, 1)", "datetime"),
    ("object()", "object"),
])
def test_a_response_lambda_cannot_serialise_is_a_marshal_error(tmp_path, value, kind):
    _write_function(tmp_path, "odd", f"def handler(event, context):\n    return {{'body': {value}}}\n")

    result = _run("odd", {}, {}, tmp_path)

    assert (result.ok, result.error_type) == (False, "Runtime.MarshalError")
    assert result.error_message == f"Unable to marshal response: Object of type {kind} is not JSON serializable"


def test_a_response_is_what_lambda_would_serialise(tmp_path):
    _write_function(tmp_path, "fine", "import decimal\ndef handler(event, context):\n"
                                      "    return {'n': decimal.Decimal('1.5'), 't': (1, 2)}\n")

    assert _run("fine", {}, {}, tmp_path).response == {"n": 1.5, "t": [1, 2]}


def test_a_handler_that_kills_its_process_is_reported(tmp_path):
    _write_function(tmp_path, "gone", "import os\ndef handler(event, context):\n    os._exit(7)\n")

    result = _run("gone", {}, {}, tmp_path)

    assert (result.ok, result.error_type) == (False, "Runtime.ExitError")


@pytest.mark.parametrize("function", ["nope", "common", "events"])
def test_a_folder_without_the_handler_module_is_a_usage_error(function):
    with pytest.raises(UsageError) as caught:
        _run(function, {}, {})

    assert "no handler module 'handler'" in str(caught.value)


def test_load_event_from_file_and_stdin(tmp_path, monkeypatch):
    path = tmp_path / "event.json"
    path.write_text('{"httpMethod": "GET"}')
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"from": "stdin"}'))

    assert load_event(path) == {"httpMethod": "GET"}
    assert load_event(str(path)) == {"httpMethod": "GET"}
    assert load_event("-") == {"from": "stdin"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "event file not found"),
        ("{oops", "is not valid JSON"),
        ("[1, 2]", "must be a JSON object, not list"),
        ("  \n", "no event in"),
        (b"\xff\xfe{}", "cannot read event"),
    ],
)
def test_load_event_errors_are_usage_errors(tmp_path, content, message):
    path = tmp_path / "event.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)

    with pytest.raises(UsageError, match=message) as caught:
        load_event(path)

    assert caught.value.exit_code == 2
