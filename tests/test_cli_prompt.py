"""Confirmation through the CLI: prompt answered, declined, no terminal, --yes."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen import console
from infragen.cli import cli
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path)


def bootstrap(config, endpoint, *extra, input=None):
    return CliRunner().invoke(cli, ["bootstrap", "--config", str(config), "--endpoint-url", endpoint,
                                    *extra], input=input)


def stacks(aws_clients):
    return [s["StackName"] for s in aws_clients.cloudformation.describe_stacks()["Stacks"]
            if s["StackStatus"] != "REVIEW_IN_PROGRESS"]


def change_sets_left(aws_clients):
    cfn = aws_clients.cloudformation
    return [c for s in cfn.list_stacks()["StackSummaries"]
            for c in cfn.list_change_sets(StackName=s["StackId"])["Summaries"]]


def test_prompt_answered_yes_deploys(project, moto_endpoint, aws_clients, monkeypatch):
    monkeypatch.setattr(console, "stdin_is_terminal", lambda: True)
    result = bootstrap(project, moto_endpoint, input="y\n")
    assert result.exit_code == 0, result.output
    # bucket, bucket policy, API Gateway's role and welcome log group (the emulator lists the
    # conditional account setting too); the second update that sets the account to the role
    # (issue 9 #1) is part of what was agreed: not asked again
    assert "Add     ApiGatewayLoggingRole" in result.output
    assert result.output.count("change(s) to stack infragen-bootstrap?") == 1
    assert "Setting API Gateway's CloudWatch role in us-west-2" in result.output
    assert stacks(aws_clients) == ["infragen-bootstrap"]


def test_prompt_declined_changes_nothing(project, moto_endpoint, aws_clients, monkeypatch):
    monkeypatch.setattr(console, "stdin_is_terminal", lambda: True)
    result = bootstrap(project, moto_endpoint, input="n\n")
    assert result.exit_code == 4
    assert stacks(aws_clients) == []
    assert change_sets_left(aws_clients) == []


def test_no_terminal_and_no_yes_refuses_with_a_hint(project, moto_endpoint, aws_clients):
    result = bootstrap(project, moto_endpoint)
    assert result.exit_code == 4
    assert "--yes" in result.output
    assert stacks(aws_clients) == []


def test_yes_deploys_without_asking(project, moto_endpoint, aws_clients):
    result = bootstrap(project, moto_endpoint, "--yes")
    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.output
    assert stacks(aws_clients) == ["infragen-bootstrap"]
