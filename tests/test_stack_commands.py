"""stack_commands.py: deploy/status/destroy details that need no full deploy."""

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.config import load_config
from infragen.console import Console
from infragen.deploy.flow import DeployOutcome
from infragen.render import stack_template
from infragen.stack_commands import _show_outputs
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("make_path", [
    lambda tmp: tmp / "nope" / "o.json",  # missing folder
    lambda tmp: tmp,  # a folder
    lambda tmp: Path("/proc/version"),  # a file that refuses writes
    lambda tmp: (tmp / "f").write_text("x") and tmp / "f" / "o.json",  # below a file
])
def test_an_unwritable_outputs_file_is_refused_before_anything_is_deployed(tmp_path, make_path):
    # An unreachable endpoint: reaching the target at all would be exit 3, not 2.
    result = CliRunner().invoke(cli, [
        "deploy", "--config", str(ROOT / "infragen.toml"), "--yes",
        "--endpoint-url", "http://127.0.0.1:9", "--outputs-file", str(make_path(tmp_path))])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert "--outputs-file" in result.output and "nothing was changed" in result.output


def test_package_out_that_is_a_file_is_refused_before_anything_is_built(tmp_path):
    (tmp_path / "zips").write_text("x")
    result = CliRunner().invoke(cli, ["package", "--config", str(ROOT / "infragen.toml"),
                                      "--out", str(tmp_path / "zips")])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "is not a folder" in result.output


def test_derived_outputs_name_what_was_left_out():
    template = json.loads(stack_template(load_config(ROOT / "infragen.toml").env("dev")))
    out = io.StringIO()
    shown = _show_outputs(Console(out=out), template, {"RestApi": "abc123"}, True, "us-west-2")
    text = out.getvalue()
    assert shown["ApiUrl"] == "https://abc123.execute-api.us-west-2.amazonaws.com/v1"
    assert "The target returned no Outputs" in text and "infragen status" not in text
    left_out = text.splitlines()[0]
    assert "KeyArn" in left_out and "ApiUrl" not in left_out


def test_harden_finds_the_deployed_vpc_on_the_emulator(tmp_path, moto_endpoint):
    copy_project(tmp_path)
    target = ["--config", str(tmp_path / "infragen.toml"), "--endpoint-url", moto_endpoint]
    before = CliRunner().invoke(cli, ["harden", *target])
    assert before.exit_code == 2 and "not deployed" in before.output
    assert CliRunner().invoke(cli, ["deploy", *target, "--yes"]).exit_code == 0

    result = CliRunner().invoke(cli, ["harden", *target])
    assert result.exit_code == 0, result.output
    assert "infragen-dev: default security group has no rules." in result.output


def test_diff_and_bootstrap_bound_their_waits_by_wait_timeout(tmp_path, moto_endpoint, monkeypatch):
    copy_project(tmp_path)
    target = ["--config", str(tmp_path / "infragen.toml"), "--endpoint-url", moto_endpoint]
    seen = []
    monkeypatch.setattr("infragen.deploy.flow.diff_template",
                        lambda cfn, request, console: seen.append(request.wait_timeout_s) or [])
    assert CliRunner().invoke(cli, ["diff", *target, "--wait-timeout", "42"]).exit_code == 0

    def deploy_template(cfn, request, console, deployed=None):
        seen.append(request.wait_timeout_s)
        return DeployOutcome(request.stack_name, False, "CREATE_COMPLETE", {"ArtifactBucketName": "b"})

    monkeypatch.setattr("infragen.deployment.deploy_template", deploy_template)
    result = CliRunner().invoke(cli, ["bootstrap", *target, "--wait-timeout", "7"])
    assert result.exit_code == 0 and "Artifact bucket: b" in result.output
    assert seen == [42.0, 7.0]
