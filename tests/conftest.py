"""Shared fixtures: one moto server on loopback for the session, reset before each test that uses it."""

from __future__ import annotations

import json
import logging
import os
import urllib.request

import pytest

from infragen.target import Clients, Target, make_session

REGION = "us-west-2"
_LAMBDA_CONFIG = {"lambda": {"use_docker": False}}
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _post(url: str, payload: dict | None = None) -> None:
    body = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with _DIRECT.open(request, timeout=5):
        pass


@pytest.fixture(scope="session")
def moto_server():
    """A ThreadedMotoServer on a free 127.0.0.1 port for the whole session; yields its base URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _post(f"{url}/moto-api/config", _LAMBDA_CONFIG)
    yield url
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server, monkeypatch, tmp_path):
    """The moto server's URL, emptied before the test, with dummy AWS credentials in the environment.

    AWS config files point at nothing, so the developer's own ~/.aws never leaks into a test.
    """
    for name in [n for n in os.environ if n.startswith("AWS_") and n != "AWS_CA_BUNDLE"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    _post(f"{moto_server}/moto-api/reset")
    _post(f"{moto_server}/moto-api/config", _LAMBDA_CONFIG)  # again: mock_aws(config=...) elsewhere can change it
    yield moto_server


@pytest.fixture
def aws_clients(moto_endpoint) -> Clients:
    """infragen's clients for a local target on the moto server."""
    return make_session(Target(kind="local", region=REGION, endpoint_url=moto_endpoint))
