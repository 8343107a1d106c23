"""Issue 9 #1: the bootstrap's API Gateway account setting waits for its role; the welcome log
group is adopted by retention when it exists outside the stack (Stubber: AWS's shapes)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import botocore.session
import pytest
from botocore.stub import Stubber

from infragen.config import BootstrapSettings, load_config
from infragen.deploy.account import bootstrap_parameters
from tests.deploy.helpers import REGION, CapturingConsole

ROOT = Path(__file__).resolve().parents[2]
WELCOME = "/aws/apigateway/welcome"


class Clients:
    def __init__(self):
        self.logs = botocore.session.get_session().create_client(
            "logs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def clients():
    c = Clients()
    with Stubber(c.logs) as stub:
        c.stub = stub
        yield c
        stub.assert_no_pending_responses()


@pytest.fixture
def cfg():
    return load_config(ROOT / "infragen.toml").env("dev")


def console():
    return CapturingConsole(out=io.StringIO(), err=io.StringIO())


def resolver(**found):
    return lambda logical_id: found.get(logical_id)


def _describe(clients, *names):
    clients.stub.add_response(
        "describe_log_groups",
        {"logGroups": [{"logGroupName": n, "arn": f"arn:aws:logs:{REGION}:1:log-group:{n}:*"}
                       for n in names]},
        {"logGroupNamePrefix": WELCOME})


def test_first_deploy_creates_the_role_and_the_welcome_group_but_sets_nothing_yet(clients, cfg):
    _describe(clients)
    assert bootstrap_parameters(clients, cfg, resolver(), console()) == {
        "SetApiGatewayAccount": "false", "CreateWelcomeLogGroup": "true"}


def test_once_the_role_exists_the_account_is_set(clients, cfg):
    params = bootstrap_parameters(clients, cfg, resolver(
        ApiGatewayLoggingRole="infragen-bootstrap-ApiGatewayLoggingRole-ABC",
        ApiGatewayWelcomeLogGroup=WELCOME), console())
    assert params == {"SetApiGatewayAccount": "true", "CreateWelcomeLogGroup": "true"}


def test_a_welcome_group_made_before_is_given_retention_not_recreated(clients, cfg):
    """Accounts where the old environment stacks set the role already have the group: creating
    it would fail ("already exists") and roll the bootstrap back."""
    _describe(clients, WELCOME + "-other", WELCOME)
    clients.stub.add_response("put_retention_policy", {},
                              {"logGroupName": WELCOME, "retentionInDays": 365})
    out = console()
    params = bootstrap_parameters(clients, cfg, resolver(ApiGatewayLoggingRole="r"), out)
    assert params == {"SetApiGatewayAccount": "true", "CreateWelcomeLogGroup": "false"}
    assert f"{WELCOME} exists outside the stack infragen-bootstrap: its retention is set to 365" in out.text


def test_a_similarly_named_group_is_not_the_welcome_group(clients, cfg):
    _describe(clients, WELCOME + "-other")
    params = bootstrap_parameters(clients, cfg, resolver(), console())
    assert params["CreateWelcomeLogGroup"] == "true"


def test_an_unmanaged_account_setting_needs_no_parameters_and_no_calls(clients, cfg):
    unmanaged = replace(cfg, bootstrap=BootstrapSettings(False, 30))
    assert bootstrap_parameters(clients, unmanaged, resolver(), console()) == {}


def test_refused_lookup_is_an_aws_error(clients, cfg):
    from infragen.errors import AwsError

    clients.stub.add_client_error("describe_log_groups", "AccessDeniedException", "not allowed",
                                  http_status_code=400)
    with pytest.raises(AwsError, match="Looking for the log group /aws/apigateway/welcome"):
        bootstrap_parameters(clients, cfg, resolver(), console())
