"""GET /hello: greeting from SSM, default when unconfigured, request id, environment."""

from __future__ import annotations

import json


def test_greeting_comes_from_the_parameter(hello, hello_event, context, body_of, known):
    response = hello.handler(hello_event, context())

    assert response["statusCode"] == 200
    assert body_of(response) == {
        "greeting": known.greeting,
        "greetingConfigured": True,
        "environment": "dev",
        "requestId": hello_event["requestContext"]["requestId"],
    }


def test_missing_parameter_gives_default_greeting_not_500(
    hello, hello_event, context, body_of, aws
):
    aws.ssm.delete_parameter(Name="/infragen/dev/greeting")

    response = hello.handler(hello_event, context())

    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["greeting"] == hello.DEFAULT_GREETING
    assert body["greetingConfigured"] is False


def test_unset_parameter_variable_is_unconfigured(
    hello, hello_event, context, body_of, monkeypatch
):
    monkeypatch.delenv("GREETING_PARAMETER")

    body = body_of(hello.handler(hello_event, context()))

    assert (body["greeting"], body["greetingConfigured"]) == (hello.DEFAULT_GREETING, False)


def test_request_id_falls_back_to_lambda_context(hello, hello_event, context, body_of):
    del hello_event["requestContext"]["requestId"]
    ctx = context()

    assert body_of(hello.handler(hello_event, ctx))["requestId"] == ctx.aws_request_id


def test_environment_comes_from_env(hello, hello_event, context, body_of, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "prod")

    assert body_of(hello.handler(hello_event, context()))["environment"] == "prod"


def test_response_is_a_proxy_response(hello, hello_event, context):
    response = hello.handler(hello_event, context())

    assert response["headers"] == {"Content-Type": "application/json"}
    assert response["isBase64Encoded"] is False
    json.loads(response["body"])
