"""deployment.py: the deploy orchestration's choices that a full deploy would hide."""

import pytest

from infragen.config import load_config
from infragen.console import Console
from infragen.deployment import DeployOptions, deploy_environment
from infragen.render import stack_template
from infragen.target import Target, make_session
from tests.stack.helpers import ROOT


class _Linted(Exception):
    pass


def test_the_lint_gate_uses_the_target_region_not_only_the_config_region(moto_endpoint, monkeypatch):
    cfg = load_config(ROOT / "infragen.toml").env("dev")
    clients = make_session(Target(kind="local", region="eu-west-1", endpoint_url=moto_endpoint))

    def lint_gate(text, file, region, cache_dir, console):
        raise _Linted(region, cache_dir)

    monkeypatch.setattr("infragen.lint.lint_gate", lint_gate)
    with pytest.raises(_Linted) as linted:
        deploy_environment(clients, cfg, stack_template(cfg), ROOT, Console(), DeployOptions())
    assert linted.value.args == ("eu-west-1", ROOT / ".infragen")
