"""Issue 9 #3: `status` shows who the error topic reaches, pending confirmations called out
(Stubber: SNS's response shapes)."""

from dataclasses import replace
from pathlib import Path

import botocore.session
import pytest
from botocore.stub import Stubber

from infragen.alerts import alert_lines
from infragen.config import load_config
from infragen.errors import AwsError

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "arn:aws:sns:us-west-2:123456789012:infragen-prod-ErrorTopic-ABC"


@pytest.fixture
def sns():
    client = botocore.session.get_session().create_client(
        "sns", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        client.stub = stub
        yield client
        stub.assert_no_pending_responses()


@pytest.fixture
def prod():
    return replace(load_config(ROOT / "infragen.toml").env("prod"),
                   alerts=(("email", "ops@corp.net"), ("https", "https://hooks.corp.net/a")))


def _subscription(protocol, endpoint, arn):
    return {"SubscriptionArn": arn, "Owner": "123456789012", "Protocol": protocol,
            "Endpoint": endpoint, "TopicArn": TOPIC}


def test_pending_and_missing_subscribers_are_named(sns, prod):
    sns.stub.add_response("list_subscriptions_by_topic", {"Subscriptions": [
        _subscription("email", "ops@corp.net", "PendingConfirmation")],
        "NextToken": "t"}, {"TopicArn": TOPIC})
    sns.stub.add_response("list_subscriptions_by_topic", {"Subscriptions": [
        _subscription("sqs", "arn:aws:sqs:us-west-2:123456789012:q", TOPIC + ":1111")]},
        {"TopicArn": TOPIC, "NextToken": "t"})
    assert alert_lines(sns, TOPIC, prod) == [
        "  email ops@corp.net: PENDING CONFIRMATION: receives nothing until confirmed "
        "(see the message sent to it)",
        "  sqs arn:aws:sqs:us-west-2:123456789012:q: confirmed",
        "  https https://hooks.corp.net/a: in infragen.toml, not subscribed (deploy)",
    ]


def test_an_opted_out_environment_says_nobody_is_told(sns, prod):
    sns.stub.add_response("list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": TOPIC})
    [line] = alert_lines(sns, TOPIC, replace(prod, alerts=()))
    assert 'nobody (alerts = "none")' in line


def test_no_topic_no_call(sns, prod):
    assert alert_lines(sns, None, prod) == ["  (error topic not found in the stack)"]


def test_refusal_is_an_aws_error(sns, prod):
    sns.stub.add_client_error("list_subscriptions_by_topic", "AuthorizationError", "denied",
                              http_status_code=403)
    with pytest.raises(AwsError, match="subscriptions of"):
        alert_lines(sns, TOPIC, prod)
