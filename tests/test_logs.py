"""`infragen logs`: log groups from the rendered template, events put into the emulator's groups."""

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.errors import UsageError
from infragen.logs import LATE_MS, POLL_MAX_S, POLL_MIN_S, Throttled, follow, parse_since, readable
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
    t = 100_000
    batches = [[], [{"eventId": "1", "timestamp": t, "message": "a"}],
               [{"eventId": "1", "timestamp": t, "message": "a"}, {"eventId": "2", "timestamp": t, "message": "b"}]]
    batches += [[]] * 8
    starts, printed, waits = [], [], []

    def fetch(start):
        starts.append(start)
        return iter(batches[len(starts) - 1])

    follow(fetch, 0, lambda e: printed.append(e["message"]), sleep=waits.append, polls=len(batches))
    assert printed == ["a", "b"] and starts[2] == t - LATE_MS  # reaching back for late arrivals
    assert waits[:3] == [POLL_MIN_S * 2, POLL_MIN_S, POLL_MIN_S]
    assert max(waits) == POLL_MAX_S and waits[-1] == POLL_MAX_S


def test_follow_prints_an_event_that_arrives_late_with_an_earlier_timestamp():
    t = 100_000
    batches = [[{"eventId": "a", "timestamp": t, "message": "A"}],
               [{"eventId": "a", "timestamp": t, "message": "A"},
                {"eventId": "b", "timestamp": t - 2_000, "message": "B, ingested late"}],
               [{"eventId": "c", "timestamp": t + 2 * LATE_MS, "message": "C"}]]
    printed = []
    follow(lambda start: iter(batches.pop(0)), 0, lambda e: printed.append(e["message"]),
           sleep=lambda _: None, polls=3)
    assert printed == ["A", "B, ingested late", "C"]


def test_follow_waits_out_throttling_and_keeps_what_it_read():
    calls, printed, waits = [], [], []

    def fetch(start):
        calls.append(start)
        if len(calls) == 1:
            yield {"eventId": "1", "timestamp": 1, "message": "before"}
            raise Throttled("Rate exceeded")
        yield {"eventId": "2", "timestamp": 2, "message": "after"}

    follow(fetch, 0, lambda e: printed.append(e["message"]), sleep=waits.append, polls=2)
    assert printed == ["before", "after"] and waits == [POLL_MAX_S]


def test_events_come_page_by_page_and_a_throttled_read_says_so(moto_endpoint):
    from botocore.stub import Stubber

    from infragen import logs as reader
    from infragen.target import Target, make_session

    clients = make_session(Target(kind="endpoint", region="us-west-2", endpoint_url=moto_endpoint))
    stubber = Stubber(clients.logs)
    stubber.add_response("filter_log_events", {"events": [{"eventId": "1", "timestamp": 0, "message": "one"}],
                                               "nextToken": "t"})
    stubber.add_client_error("filter_log_events", "ThrottlingException", "Rate exceeded")
    got = []
    with stubber, pytest.raises(reader.Throttled):
        for event in reader.events(clients.logs, "/g", 0, None):
            got.append(event["message"])
    assert got == ["one"]  # what came before the refusal was already handed on


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
    for bad in ("10", "abc", "-5m", "0m", "99999999999d"):  # the last reaches before 1970
        with pytest.raises(UsageError):
            parse_since(bad)


def test_readable_takes_any_shape_and_never_sends_terminal_escapes():
    shapes = json.dumps({"level": {"n": "INFO"}, "message": "m", "requestId": "r-1", "ratio": float("nan"),
                         "exception": ["Traceback", "  File x"]})
    shown = readable({"timestamp": 0, "message": shapes})
    assert shown.splitlines() == ['1970-01-01T00:00:00 {"n": "INFO"} r-1 m  ratio=NaN', "    Traceback", "      File x"]
    assert readable({"timestamp": 0, "message": "\x1b[31mred\x1b]0;title\x07"}) == (
        "1970-01-01T00:00:00 \\x1b[31mred\\x1b]0;title\\x07")
    assert readable({"timestamp": 0, "message": "first\nsecond"}) == "1970-01-01T00:00:00 first\n    second"
