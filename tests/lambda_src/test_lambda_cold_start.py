"""Cold start: a light import with no AWS client, then one client per container."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pytest

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


@pytest.mark.parametrize("function", ["hello", "data_processor"])
def test_importing_a_handler_loads_no_sdk(function):
    probe = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import handler; "
        "print(sorted(m for m in ('boto3', 'botocore', 'urllib3') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(LAMBDA_SRC / function), str(LAMBDA_SRC)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "[]"


def test_clients_are_created_once_and_only_when_needed(
    hello, hello_event, context, monkeypatch
):
    monkeypatch.setenv("PARAMETER_TTL_SECONDS", "0")  # every invocation calls SSM
    created: list[str] = []
    real_client = boto3.client

    def counting_client(service, *args, **kwargs):
        created.append(service)
        return real_client(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting_client)
    assert sys.modules["common.aws"]._clients == {}

    for _ in range(3):
        assert hello.handler(hello_event, context())["statusCode"] == 200

    assert created == ["ssm"]


def test_rejected_request_creates_no_client(data_processor, data_event, context):
    assert data_processor.handler(data_event("{bad"), context())["statusCode"] == 400

    assert sys.modules["common.aws"]._clients == {}
