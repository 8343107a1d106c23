"""Targets, sessions and the credential check."""

from __future__ import annotations

import os
import socket

import pytest
from botocore.stub import Stubber

from infragen import target as target_module
from infragen.errors import AwsError, ConfigError
from infragen.target import Target, check_credentials, handler_environment, make_session


@pytest.fixture
def no_aws_env(monkeypatch, tmp_path):
    """No AWS variables, empty AWS config files, not on EC2, and any network connection fails the test."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for variable, file_name in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials")):
        (tmp_path / file_name).write_text("")
        monkeypatch.setenv(variable, str(tmp_path / file_name))
    monkeypatch.setattr(target_module, "_on_ec2", lambda: False)  # on an EC2 runner the metadata lookup is legitimate
    return tmp_path


@pytest.fixture
def no_network(monkeypatch):
    def refuse(sock, address):
        raise AssertionError(f"unexpected network connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_missing_credentials_explained_without_network(no_aws_env, no_network):
    clients = make_session(Target(kind="aws", region="us-west-2"))
    with pytest.raises(AwsError) as caught:
        check_credentials(clients)
    message = str(caught.value)
    assert "No AWS credentials found" in message
    assert "aws configure" in message and "AWS_PROFILE" in message and "--local" in message


@pytest.mark.parametrize("via_env", [False, True])
def test_unknown_profile(no_aws_env, monkeypatch, via_env):
    (no_aws_env / "config").write_text("[profile known]\nregion = eu-west-1\n")
    if via_env:
        monkeypatch.setenv("AWS_PROFILE", "missing")
    with pytest.raises(ConfigError, match="'missing' is not configured"):
        make_session(Target(kind="aws", region="us-west-2", profile=None if via_env else "missing"))


def test_profile_credentials_are_used(no_aws_env, no_network):
    (no_aws_env / "credentials").write_text("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n")
    clients = make_session(Target(kind="aws", region="us-west-2", profile="dev"))
    assert clients.session.get_credentials().access_key == "AKIDDEV"


def test_local_target_gets_dummy_credentials(no_aws_env, moto_endpoint):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.pop(name, None)  # the moto fixture set them; monkeypatch restores them
    clients = make_session(Target(kind="local", region="us-west-2", endpoint_url=moto_endpoint))
    credentials = clients.session.get_credentials()
    assert (credentials.access_key, credentials.secret_key) == ("testing", "testing")
    assert check_credentials(clients).account == "123456789012"


def test_endpoint_target_keeps_configured_credentials_the_local_one_never_sees_them(
        no_aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDMINE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "mine")
    endpoint = make_session(Target(kind="endpoint", region="us-west-2", endpoint_url="http://127.0.0.1:1"))
    assert endpoint.session.get_credentials().access_key == "AKIDMINE"
    local = make_session(Target(kind="local", region="us-west-2", endpoint_url="http://127.0.0.1:1"))
    assert local.session.get_credentials().access_key == "testing"


def test_region_comes_from_target_not_environment(no_aws_env, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    clients = make_session(Target(kind="aws", region="eu-west-1"))
    assert clients.cloudformation.meta.region_name == "eu-west-1"


def test_clients_are_created_once_with_retries_and_endpoint(aws_clients, moto_endpoint):
    assert aws_clients.s3 is aws_clients.s3
    config = aws_clients.cloudformation.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (5, 20)
    assert aws_clients.s3.meta.config.read_timeout == 60  # uploads
    assert aws_clients.ssm.meta.endpoint_url == moto_endpoint


def test_rejected_credentials(aws_clients):
    with Stubber(aws_clients.sts) as stubber:
        stubber.add_client_error("get_caller_identity", "ExpiredToken", "The security token is expired")
        with pytest.raises(AwsError, match="rejected the credentials \\(ExpiredToken\\)") as caught:
            check_credentials(aws_clients)
    assert "testing" not in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "endpoint_url"),
    [("aws", "http://127.0.0.1:4566"), ("local", None), ("endpoint", "127.0.0.1:4566"), ("gcp", None)],
)
def test_invalid_targets(kind, endpoint_url):
    with pytest.raises(ConfigError):
        Target(kind=kind, region="us-west-2", endpoint_url=endpoint_url)


def test_handlers_run_in_process_get_the_targets_endpoint_and_identity(no_aws_env, no_network):
    (no_aws_env / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\naws_session_token = tok\n")
    on_aws = make_session(Target(kind="aws", region="us-west-2", profile="dev"))
    assert handler_environment(on_aws) == {  # --profile reaches the handler's own boto3
        "AWS_ACCESS_KEY_ID": "AKIDDEV", "AWS_SECRET_ACCESS_KEY": "devsecret", "AWS_SESSION_TOKEN": "tok"}
    local = make_session(Target(kind="local", region="us-west-2", endpoint_url="http://127.0.0.1:1"))
    assert handler_environment(local) == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    assert handler_environment(make_session(Target(kind="aws", region="us-west-2"))) == {}  # no credentials
