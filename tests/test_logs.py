"""`infragen logs`: log groups from the rendered template, events put into the emulator's groups."""

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.logs import POLL_MAX_S, POLL_MIN_S, follow, parse_since, readable
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
GROUP = "/infragen/infragen-dev/lambda/hello"


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path)


def put(clients, group: str, *messages: str, age_s: float = 0) -> None:
    logs = clients.logs
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="2026/01/01/[$LATEST]abc")
    now = int((time.time() - age_s) * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="2026/01/01/[$LATEST]abc",
                        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])


def line(level: str, message: str, request_id: str = "r-1", **extra) -> str:
    return json.dumps({"timestamp": "2026-01-01T00:00:00.000Z", "level": level, "message": message,
                       "logger": "app", "requestId": request_id, **extra})


def run(project, moto_endpoint, *args):
    return CliRunner().invoke(cli, ["logs", *args, "--config", str(project), "--endpoint-url", moto_endpoint])


def test_function_events_since_a_duration_pretty_printed(project, moto_endpoint, aws_clients):
    put(aws_clients, GROUP, line("WARNING", "an old one"), age_s=3600)
    put(aws_clients, GROUP, line("INFO", "request completed", statusCode=200), "START RequestId: r-1")
    result = run(project, moto_endpoint, "hello")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("INFO    r-1 request completed  statusCode=200")
    assert lines[1].endswith(" START RequestId: r-1")
    assert "an old one" in run(project, moto_endpoint, "hello", "--since", "2h").stdout


def test_filter_and_the_api_access_log_group(project, moto_endpoint, aws_clients):
    put(aws_clients, GROUP, line("INFO", "alpha"), line("ERROR", "beta failed"))
    assert [l.split()[-2:] for l in run(project, moto_endpoint, "hello", "--filter", "beta").stdout.splitlines()] == [
        ["beta", "failed"]]
    put(aws_clients, "/infragen/infragen-dev/api/access", json.dumps({"requestId": "a-1", "status": "200"}))
    assert "a-1" in run(project, moto_endpoint, "api").stdout


def test_a_group_not_created_yet_has_no_events(project, moto_endpoint):
    result = run(project, moto_endpoint, "data_processor")
    assert (result.exit_code, result.stdout) == (0, "")


@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown function 'nope'"),
    (["hello", "--since", "ten minutes"], "is not a duration"),
    (["hello", "--since", "0m"], "is not a duration"),
])
def test_bad_input_is_exit_2(project, args, message):
    result = CliRunner().invoke(cli, ["logs", *args, "--config", str(project), "--local"])
    assert result.exit_code == 2 and message in result.output


def test_follow_prints_each_event_once_with_bounded_backoff():
    batches = [[], [{"eventId": "1", "timestamp": 5, "message": "a"}],
               [{"eventId": "1", "timestamp": 5, "message": "a"}, {"eventId": "2", "timestamp": 5, "message": "b"}]]
    batches += [[]] * 8
    starts, printed, waits = [], [], []

    def fetch(start):
        starts.append(start)
        return batches[len(starts) - 1]

    follow(fetch, 0, lambda e: printed.append(e["message"]), sleep=waits.append, polls=len(batches))
    assert printed == ["a", "b"] and starts[2] == 5
    assert waits[:3] == [POLL_MIN_S * 2, POLL_MIN_S, POLL_MIN_S]
    assert max(waits) == POLL_MAX_S and waits[-1] == POLL_MAX_S


def test_follow_stops_cleanly_on_ctrl_c(project, moto_endpoint, monkeypatch):
    def interrupt(_):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupt)
    result = run(project, moto_endpoint, "hello", "--follow")
    assert result.exit_code == 130 and "Interrupted." in result.output and "Traceback" not in result.output


def test_readable_keeps_non_json_and_shows_exceptions():
    event = {"timestamp": 0, "message": line("ERROR", "boom", exception="Traceback\n  File x")}
    assert readable(event).splitlines() == ["1970-01-01T00:00:00 ERROR   r-1 boom", "    Traceback", "      File x"]
    assert readable({"timestamp": 0, "message": "plain text\n"}) == "1970-01-01T00:00:00 plain text"
    assert parse_since("1d") == 86400
