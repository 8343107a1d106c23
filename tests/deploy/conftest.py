"""Fixtures for the change-set engine: stubbed CloudFormation clients with AWS's response shapes,
a fake clock, a capturing console, and (for the one integration test) a moto server on loopback."""

from __future__ import annotations

import io
import logging
import socket
import urllib.request

import botocore.session
import pytest
from botocore.stub import Stubber

from tests.deploy.helpers import REGION, CapturingConsole, make_cfn


@pytest.fixture
def cfn():
    """A stubbed client; the test queues responses on `cfn.stub` and every one must be used."""
    client = make_cfn()
    with Stubber(client) as stub:
        client.stub = stub
        yield client
        stub.assert_no_pending_responses()


class FakeClock:
    """Time that passes only when something sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def console():
    """No terminal, no --yes: any confirmation refuses."""
    return CapturingConsole(out=io.StringIO(), err=io.StringIO(), interactive=lambda: False)


@pytest.fixture
def yes_console():
    return CapturingConsole(assume_yes=True, out=io.StringIO(), err=io.StringIO(), interactive=lambda: False)


# --- moto server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, data=b"", method="POST"), timeout=5):
        pass


@pytest.fixture(scope="module")
def deploy_moto_server():
    """A moto server on a free loopback port for this module; yields its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto_cfn(deploy_moto_server):
    """A real CloudFormation client over HTTP to an emptied moto server."""
    _post(f"{deploy_moto_server}/moto-api/reset")
    return botocore.session.get_session().create_client(
        "cloudformation",
        region_name=REGION,
        endpoint_url=deploy_moto_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
