"""`infragen invoke` and `infragen secrets` against a deployed stack on the emulator."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.events import proxy_event
from infragen.routes import parse_route
from infragen.function_env import function_environment
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path)


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def response_body(output: str) -> dict:
    return json.loads(json.loads(output[output.index("{"):])["body"])


def test_invoke_reads_the_secret_written_by_the_cli_on_the_same_target(project, moto_endpoint):
    target = ["--config", str(project), "--endpoint-url", moto_endpoint]
    assert run("deploy", *target, "--yes").exit_code == 0

    before = run("invoke", "hello", *target)
    assert before.exit_code == 0, before.output
    assert response_body(before.stdout)["greetingConfigured"] is False

    stored = run("secrets", "set", "hello", "greeting", "--env", "dev", *target, input="Hej världen")
    assert stored.exit_code == 0, stored.output
    assert "Hej" not in stored.output  # the value is never echoed

    after = run("invoke", "hello", *target)
    body = response_body(after.stdout)
    assert body == {**body, "greeting": "Hej världen", "greetingConfigured": True, "environment": "dev"}

    status = run("secrets", "status", "--env", "dev", *target)
    assert "/infragen/dev/hello/greeting" in status.output and "set (v1, SecureString)" in status.output
    assert status.exit_code == 1  # the data_processor signing key is still missing


def test_invoke_with_an_event_from_stdin_and_a_stack_that_is_not_deployed(project, moto_endpoint):
    event = proxy_event(parse_route("POST /data"), path_values={}, body=None, region="us-west-2")
    event["body"] = json.dumps({"data": [" a ", 2, True]})
    result = run("invoke", "data_processor", "--event", "-", "--config", str(project),
                 "--endpoint-url", moto_endpoint, input=json.dumps(event))
    assert result.exit_code == 0, result.output
    body = response_body(result.stdout)
    assert (body["received"], body["processed"], body["items"]) == (3, 3, ["a", 2, True])


def test_an_event_above_lambda_s_payload_limit_is_a_usage_error(project, moto_endpoint):
    event = proxy_event(parse_route("POST /data"), path_values={}, body=None, region="us-west-2")
    event["body"] = json.dumps({"data": ["x" * (6 * 1024 * 1024)]})
    result = run("invoke", "data_processor", "--event", "-", "--config", str(project),
                 "--endpoint-url", moto_endpoint, input=json.dumps(event))
    assert result.exit_code == 2
    assert "Lambda accepts at most 6,291,456 in a synchronous invocation" in result.output


def test_unknown_function_is_a_usage_error(project):
    result = run("invoke", "nope", "--config", str(project), "--local")
    assert result.exit_code == 2 and "unknown function 'nope'" in result.output


def test_stack_references_resolve_or_become_placeholders():
    template = {"Resources": {"HelloFunction": {"Properties": {"Environment": {"Variables": {
        "ENVIRONMENT": "dev", "ERROR_TOPIC_ARN": {"Ref": "ErrorTopic"}}}}}}}
    resolved = function_environment(template, "hello", {"ErrorTopic": "arn:aws:sns:t"}.get)
    assert resolved == {"ENVIRONMENT": "dev", "ERROR_TOPIC_ARN": "arn:aws:sns:t"}
    missing = function_environment(template, "hello", lambda _: None)
    assert missing["ERROR_TOPIC_ARN"].startswith("<unresolved ErrorTopic")
