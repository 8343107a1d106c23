"""Fixtures for the Lambda handler tests: moto-backed AWS, env contract, fresh imports.

Handlers are imported by path with `lambda_src/<function>` and `lambda_src` on sys.path,
exactly as they sit in a deployed zip; every test gets freshly imported modules, so
no client or parameter cache survives from one test to the next.
"""

from __future__ import annotations

import base64
import importlib
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
EVENTS = LAMBDA_SRC / "events"
REGION = "us-west-2"
GREETING = "Howdy from the parameter store"
SIGNING_KEY = "s3cr3t-signing-key-value-9f8e7d"
AUTH_HEADER_VALUE = "Bearer eyJhbGciOiJIUzI1NiJ9.sup3r-s3cret-t0ken"


def _forget_lambda_modules() -> None:
    """Drop `handler`, `common.*` and any other module imported from lambda_src."""
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        is_shared = name.split(".")[0] == "common"
        if name == "handler" or is_shared or origin.startswith(str(LAMBDA_SRC)):
            del sys.modules[name]


@pytest.fixture
def known() -> SimpleNamespace:
    """Values the tests plant and then look for (or must never find) in outputs."""
    return SimpleNamespace(
        greeting=GREETING, signing_key=SIGNING_KEY, auth_header=AUTH_HEADER_VALUE, region=REGION
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """moto's in-process AWS with dummy credentials in us-west-2."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield SimpleNamespace(
            ssm=boto3.client("ssm", region_name=REGION),
            sns=boto3.client("sns", region_name=REGION),
            sqs=boto3.client("sqs", region_name=REGION),
        )


@pytest.fixture
def error_queue(aws) -> str:
    """URL of an SQS queue subscribed (raw delivery off) to a fresh error topic."""
    topic_arn = aws.sns.create_topic(Name="infragen-errors")["TopicArn"]
    queue_url = aws.sqs.create_queue(QueueName="error-inbox")["QueueUrl"]
    queue_arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    aws.topic_arn = topic_arn
    return queue_url


@pytest.fixture
def lambda_env(aws, error_queue, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The template's environment contract, with both parameters present in SSM."""
    aws.ssm.put_parameter(Name="/infragen/dev/greeting", Value=GREETING, Type="SecureString")
    aws.ssm.put_parameter(Name="/infragen/dev/signing-key", Value=SIGNING_KEY, Type="SecureString")
    env = {
        "ENVIRONMENT": "dev",
        "LOG_LEVEL": "INFO",
        "ERROR_TOPIC_ARN": aws.topic_arn,
        "GREETING_PARAMETER": "/infragen/dev/greeting",
        "SIGNING_KEY_PARAMETER": "/infragen/dev/signing-key",
        "BATCH_SIZE": "3",
    }
    monkeypatch.delenv("PARAMETER_TTL_SECONDS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def load_function(monkeypatch: pytest.MonkeyPatch):
    """`load_function(name)` imports lambda_src/<name>/handler.py afresh and returns it."""

    def load(name: str) -> ModuleType:
        _forget_lambda_modules()
        monkeypatch.syspath_prepend(str(LAMBDA_SRC))
        monkeypatch.syspath_prepend(str(LAMBDA_SRC / name))
        return importlib.import_module("handler")

    yield load
    _forget_lambda_modules()


@pytest.fixture
def hello(lambda_env, load_function) -> ModuleType:
    """A freshly imported hello handler module, inside moto with the env contract set."""
    return load_function("hello")


@pytest.fixture
def data_processor(lambda_env, load_function) -> ModuleType:
    """A freshly imported data_processor handler module, inside moto with the env set."""
    return load_function("data_processor")


@pytest.fixture
def context():
    """`context(**overrides)`: a Lambda context stand-in with a fresh aws_request_id."""

    def make(**overrides: Any) -> SimpleNamespace:
        values = {
            "aws_request_id": str(uuid.uuid4()),
            "function_name": "infragen-dev-test",
            "memory_limit_in_mb": 128,
            "invoked_function_arn": "arn:aws:lambda:us-west-2:123456789012:function:test",
            "get_remaining_time_in_millis": lambda: 3000,
        }
        values.update(overrides)
        return SimpleNamespace(**values)

    return make


@pytest.fixture
def hello_event() -> dict[str, Any]:
    """The example GET /hello proxy event."""
    return json.loads((EVENTS / "hello.json").read_text())


@pytest.fixture
def data_event():
    """`data_event(body=..., base64=False, **fields)`: the example POST /data event, varied."""
    template = json.loads((EVENTS / "data.json").read_text())

    def make(body: Any = ..., *, base64_encoded: bool = False, **fields: Any) -> dict[str, Any]:
        event = json.loads(json.dumps(template))
        if body is not ...:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if base64_encoded:
                raw = body if isinstance(body, bytes) else body.encode()
                body = base64.b64encode(raw).decode()
            event["body"] = body
            event["isBase64Encoded"] = base64_encoded
        event.update(fields)
        return event

    return make


@pytest.fixture
def ssm_calls():
    """`ssm_calls()` -> list of names, one per real GetParameter call from now on.

    Hooks the container's cached SSM client, so call it after loading a handler.
    """

    def attach() -> list[str]:
        calls: list[str] = []
        client = sys.modules["common.aws"].client("ssm")
        client.meta.events.register(
            "before-parameter-build.ssm.GetParameter",
            lambda params, **_: calls.append(params["Name"]),
        )
        return calls

    return attach


@pytest.fixture
def body_of():
    """`body_of(response)`: the parsed JSON body of a proxy response, envelope checked."""

    def parse(response: dict[str, Any]) -> Any:
        assert set(response) >= {"statusCode", "headers", "body"}
        assert response["headers"]["Content-Type"] == "application/json"
        assert isinstance(response["body"], str)
        return json.loads(response["body"])

    return parse


@pytest.fixture
def notifications(aws, error_queue):
    """`notifications()` -> the SNS notifications delivered to the error queue so far."""

    def read() -> list[dict[str, Any]]:
        messages = aws.sqs.receive_message(
            QueueUrl=error_queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return read
