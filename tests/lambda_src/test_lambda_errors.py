"""Unexpected errors: generic 500, SNS notification content, publish failures contained."""

from __future__ import annotations

import json
import sys

import pytest

CREDENTIAL_HEADERS = {
    "authorization": "Bearer header-token-1",
    "X-API-KEY": "api-key-2",
    "Cookie": "session=cookie-3",
    "x-amz-security-token": "sts-token-4",
    "Proxy-Authorization": "Basic proxy-5",
    "X-Auth-Token": "auth-token-6",
}


@pytest.fixture
def failing_ssm(hello):
    """Make the container's SSM client raise as an outage would, inside the handler."""

    def explode(**_):
        raise RuntimeError("simulated SSM outage")

    sys.modules["common.aws"].client("ssm").meta.events.register(
        "before-parameter-build.ssm.GetParameter", explode
    )


@pytest.fixture
def event_with_credentials(hello_event):
    hello_event["headers"].update(CREDENTIAL_HEADERS)
    multi = {name: [value, value + "-b"] for name, value in CREDENTIAL_HEADERS.items()}
    hello_event["multiValueHeaders"].update(multi)
    hello_event["requestContext"]["identity"]["apiKey"] = "identity-api-key-7"
    hello_event["requestContext"]["identity"]["accessKey"] = "AKIAEXAMPLEKEY8"
    return hello_event


def test_unexpected_error_is_a_generic_500(hello, failing_ssm, hello_event, context, body_of):
    response = hello.handler(hello_event, context())

    assert response["statusCode"] == 500
    assert body_of(response) == {
        "error": "Internal server error",
        "requestId": hello_event["requestContext"]["requestId"],
    }


def test_error_is_published_without_credentials(
    hello, failing_ssm, event_with_credentials, context, notifications
):
    hello.handler(event_with_credentials, context(function_name="infragen-dev-hello"))

    [notification] = notifications()
    assert notification["Subject"] == "[dev] Lambda error in infragen-dev-hello"
    message = json.loads(notification["Message"])
    assert message["errorType"] == "RuntimeError"
    assert message["errorMessage"] == "simulated SSM outage"
    assert message["requestId"] == event_with_credentials["requestContext"]["requestId"]
    assert message["route"] == "GET /hello"
    assert message["function"] == "infragen-dev-hello"
    event = message["event"]
    assert event["headers"]["User-Agent"] == "curl/8.5.0"
    assert event["multiValueHeaders"]["Host"] == [event["headers"]["Host"]]
    lowered = {k.lower() for k in (*event["headers"], *event["multiValueHeaders"])}
    assert not lowered & {k.lower() for k in CREDENTIAL_HEADERS}
    assert "apiKey" not in event["requestContext"]["identity"]
    assert "accessKey" not in event["requestContext"]["identity"]
    raw = notification["Message"]
    for secret in [*CREDENTIAL_HEADERS.values(), "identity-api-key-7", "AKIAEXAMPLEKEY8"]:
        assert secret not in raw


def test_event_in_notification_is_truncated(
    data_processor, data_event, context, notifications, monkeypatch
):
    monkeypatch.setenv("BATCH_SIZE", "0")  # misconfiguration: unexpected error
    event = data_event({"data": ["y" * 200_000]})

    assert data_processor.handler(event, context())["statusCode"] == 500

    [notification] = notifications()
    message = json.loads(notification["Message"])
    assert message["errorType"] == "SettingError"
    assert len(notification["Message"]) < 20_000
    assert message["event"]["body"].endswith("...[truncated]")
    assert message["event"]["body"].startswith('{"data": ["yyy')


def test_subject_is_limited_and_printable(hello, failing_ssm, hello_event, context, notifications):
    hello.handler(hello_event, context(function_name="f\u00fcnction-" + "x" * 200))

    [notification] = notifications()
    subject = notification["Subject"]
    assert len(subject) < 100
    assert subject.isascii() and subject.isprintable()
    assert subject.startswith("[dev] Lambda error in f?nction-xxx")


def test_failing_publish_does_not_change_the_response(
    hello, failing_ssm, hello_event, context, body_of, monkeypatch, aws, capsys
):
    expected = hello.handler(hello_event, context())
    missing_topic = aws.topic_arn.replace("infragen-errors", "no-such-topic")
    monkeypatch.setenv("ERROR_TOPIC_ARN", missing_topic)

    response = hello.handler(hello_event, context())

    assert response == expected
    assert response["statusCode"] == 500
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [failure] = [entry for entry in logged if entry["message"] == "error notification failed"]
    assert failure["level"] == "ERROR"
    assert failure["topicArn"] == missing_topic


def test_publish_raising_anything_is_contained(
    hello, failing_ssm, hello_event, context, body_of
):
    def explode(**_):
        raise ConnectionError("sns unreachable")

    sys.modules["common.aws"].client("sns").meta.events.register(
        "before-parameter-build.sns.Publish", explode
    )

    response = hello.handler(hello_event, context())

    assert response["statusCode"] == 500
    assert body_of(response)["error"] == "Internal server error"


def test_unset_topic_skips_notification_but_still_answers(
    hello, failing_ssm, hello_event, context, notifications, monkeypatch
):
    monkeypatch.delenv("ERROR_TOPIC_ARN")

    assert hello.handler(hello_event, context())["statusCode"] == 500
    assert notifications() == []


def test_client_errors_are_not_notified(data_processor, data_event, context, notifications):
    assert data_processor.handler(data_event("nope"), context())["statusCode"] == 400
    assert notifications() == []


def test_malformed_event_still_gets_a_response(hello, context, body_of):
    ctx = context()

    for event in (None, [], "text", {"requestContext": "x", "headers": 5}):
        body = body_of(hello.handler(event, ctx))
        assert body["requestId"] == ctx.aws_request_id
