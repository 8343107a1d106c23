"""common.runtime.event_handler: scheduled and direct invocations, logged, alerted and re-raised."""

from __future__ import annotations

import importlib
import json

import pytest

SCHEDULED = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "time": "2026-01-01T03:00:00Z", "resources": ["arn:aws:events:us-west-2:1:rule/r"],
             "detail": {}}


@pytest.fixture
def event_handler(lambda_env, load_function):
    load_function("hello")  # lambda_src on sys.path, fresh `common` modules
    return importlib.import_module("common.runtime").event_handler


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_job_result_is_returned_and_logged_with_the_invocation(event_handler, context, capsys):
    handler = event_handler(lambda event: {"seen": event["time"]})
    ctx = context()

    assert handler(SCHEDULED, ctx) == {"seen": "2026-01-01T03:00:00Z"}
    lines = json_lines(capsys.readouterr().out)
    assert lines[0]["message"] == "event completed"
    assert (lines[0]["route"], lines[0]["requestId"]) == ("schedule", ctx.aws_request_id)


def test_a_failing_job_alerts_the_error_topic_and_raises(event_handler, context, notifications, capsys):
    def job(event):
        raise RuntimeError("nightly export failed")

    with pytest.raises(RuntimeError, match="nightly export failed"):
        event_handler(job)(SCHEDULED, context(function_name="infragen-dev-nightly"))

    [notification] = notifications()
    assert notification["Subject"] == "[dev] Lambda error in infragen-dev-nightly"
    message = json.loads(notification["Message"])
    assert (message["errorType"], message["route"]) == ("RuntimeError", "schedule")
    assert message["event"]["detail-type"] == "Scheduled Event"
    logged = json_lines(capsys.readouterr().out)
    assert [line["message"] for line in logged] == ["unhandled error"]


def test_a_direct_invocation_is_labelled_invoke(event_handler, context, capsys):
    assert event_handler(lambda event: sorted(event))({"b": 1, "a": 2}, context()) == ["a", "b"]
    assert json_lines(capsys.readouterr().out)[0]["route"] == "invoke"
