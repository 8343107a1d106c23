"""deployment.py: the deploy orchestration's choices that a full deploy would hide."""

import pytest

from infragen.config import load_config
from infragen.console import Console
from infragen.deployment import DeployOptions, deploy_environment
from infragen.render import stack_template
from infragen.target import Target, make_session
from tests.stack.helpers import ROOT
from tests.projects import copy_project


class _Linted(Exception):
    pass


def test_the_lint_gate_uses_the_target_region_not_only_the_config_region(moto_endpoint, monkeypatch):
    cfg = load_config(ROOT / "infragen.toml").env("dev")
    clients = make_session(Target(kind="local", region="eu-west-1", endpoint_url=moto_endpoint))

    def start_lint_gate(text, file, region, cache_dir, console):
        raise _Linted(region, cache_dir)

    monkeypatch.setattr("infragen.lint.start_lint_gate", start_lint_gate)
    with pytest.raises(_Linted) as linted:
        deploy_environment(clients, cfg, stack_template(cfg), ROOT, Console(), DeployOptions())
    assert linted.value.args == ("eu-west-1", ROOT / ".infragen")


def test_lint_runs_while_the_bootstrap_proceeds_and_errors_stop_before_the_change_set(
        tmp_path, moto_endpoint, monkeypatch):
    """The first deploy is not serialised behind cfn-lint, and a lint error still changes no app stack."""
    import threading
    import time

    from click.testing import CliRunner

    from infragen.cli import cli
    from infragen.lint import Finding
    from infragen.target import Clients

    copy_project(tmp_path)
    events: list[tuple[str, float]] = []
    released = threading.Event()

    def slow_lint(text, file, region):
        events.append(("lint started", time.monotonic()))
        released.wait(20)  # held until the bootstrap stack's change set exists
        events.append(("lint finished", time.monotonic()))
        return [Finding("E3001", "error", file, "Resources/X", 1, "broken on purpose")]

    real_client = Clients._client

    def recording_client(self, service):
        client = real_client(self, service)

        def before_call(model, params, **_):
            if model.name == "CreateChangeSet":
                events.append((f"change set {params['StackName']}", time.monotonic()))
                released.set()
        client.meta.events.register("before-parameter-build", before_call)
        return client

    monkeypatch.setattr("infragen.lint.lint_text", slow_lint)
    monkeypatch.setattr(Clients, "_client", recording_client)
    result = CliRunner().invoke(cli, ["deploy", "--config", str(tmp_path / "infragen.toml"),
                                      "--endpoint-url", moto_endpoint, "--yes"])
    assert result.exit_code == 1, result.output
    assert "cfn-lint found 1 error(s)" in result.output and "the stack was not changed" in result.output
    names = [name for name, _ in events]
    assert names.index("change set infragen-bootstrap") < names.index("lint finished")
    assert "change set infragen-dev" not in names
