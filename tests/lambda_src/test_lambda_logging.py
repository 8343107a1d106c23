"""Logs are JSON lines with request fields and never carry secrets or credentials."""

from __future__ import annotations

import json
import logging
import sys

import pytest


def _lines(captured: str) -> list[dict]:
    lines = captured.splitlines()
    assert lines, "expected log output"
    return [json.loads(line) for line in lines]


def test_each_invocation_logs_one_json_summary_line(hello, hello_event, context, capsys):
    hello.handler(hello_event, context(function_name="infragen-dev-hello"))

    [summary] = _lines(capsys.readouterr().out)
    assert summary["level"] == "INFO"
    assert summary["message"] == "request completed"
    assert summary["requestId"] == hello_event["requestContext"]["requestId"]
    assert summary["function"] == "infragen-dev-hello"
    assert summary["route"] == "GET /hello"
    assert summary["statusCode"] == 200
    assert isinstance(summary["latencyMs"], float) and summary["latencyMs"] >= 0


def test_rejections_are_logged_with_their_reason(data_processor, data_event, context, capsys):
    data_processor.handler(data_event({"data": 1}), context())

    rejected, summary = _lines(capsys.readouterr().out)
    assert rejected["message"] == "request rejected"
    assert rejected["reason"] == "'data' must be a list"
    assert rejected["route"] == "POST /data"
    assert summary["statusCode"] == 400


def test_log_level_comes_from_env(hello, hello_event, context, capsys, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")

    hello.handler(hello_event, context())

    assert capsys.readouterr().out == ""


@pytest.fixture(params=["DEBUG", "INFO"])
def log_level(request, lambda_env, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", request.param)
    monkeypatch.setenv("PARAMETER_TTL_SECONDS", "0")  # fetch the secret on every call


def _fail_next_ssm_calls():
    sys.modules["common.aws"].client("ssm").meta.events.register(
        "before-parameter-build.ssm.GetParameter",
        lambda **_: (_ for _ in ()).throw(RuntimeError("outage")),
    )


def _assert_clean(out: str, *secrets: str) -> None:
    entries = _lines(out)
    assert any(entry["level"] == "ERROR" for entry in entries)
    assert any(entry["message"] == "request completed" for entry in entries)
    for secret in secrets:
        assert secret not in out


def test_hello_never_logs_greeting_or_authorization(
    log_level, hello, hello_event, context, capsys, known
):
    hello_event["headers"]["Authorization"] = known.auth_header
    hello_event["multiValueHeaders"]["authorization"] = [known.auth_header]

    assert hello.handler(hello_event, context())["statusCode"] == 200
    _fail_next_ssm_calls()
    assert hello.handler(hello_event, context())["statusCode"] == 500

    _assert_clean(capsys.readouterr().out, known.greeting, known.auth_header, "Bearer")


def test_data_processor_never_logs_key_or_authorization(
    log_level, data_processor, data_event, context, capsys, known
):
    event = data_event(headers={"Authorization": known.auth_header})

    assert data_processor.handler(event, context())["statusCode"] == 200
    _fail_next_ssm_calls()
    assert data_processor.handler(event, context())["statusCode"] == 500

    _assert_clean(capsys.readouterr().out, known.signing_key, known.auth_header, "Bearer")


def test_sdk_wire_logging_is_kept_quiet(hello, hello_event, context, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    hello.handler(hello_event, context())

    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("urllib3").getEffectiveLevel() >= logging.WARNING


def test_unknown_log_level_falls_back_to_info(hello, hello_event, context, capsys, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "chatty")

    hello.handler(hello_event, context())

    assert [entry["level"] for entry in _lines(capsys.readouterr().out)] == ["INFO"]
