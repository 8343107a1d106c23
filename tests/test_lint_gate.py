import pytest

from infragen.console import Console
from infragen.errors import DeployFailed
from infragen.lint import lint_gate
from tests.projects import copy_project

BROKEN = '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}'
CLEAN = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'


def test_errors_block_and_are_not_cached(tmp_path, capsys):
    for _ in range(2):
        with pytest.raises(DeployFailed, match="the stack was not changed"):
            lint_gate(BROKEN, "broken.json", "us-west-2", tmp_path, Console())
    assert "E3003" in capsys.readouterr().err
    assert not (tmp_path / "lint").exists()


def test_a_clean_verdict_is_cached_by_template_hash(tmp_path, monkeypatch):
    lint_gate(CLEAN, "clean.json", "us-west-2", tmp_path, Console())
    assert len(list((tmp_path / "lint").iterdir())) == 1
    monkeypatch.setattr("infragen.lint.lint_text", lambda *a: pytest.fail("linted again"))
    lint_gate(CLEAN, "clean.json", "us-west-2", tmp_path, Console())


def test_infragen_lint_records_verdicts_that_the_deploy_gate_reuses(tmp_path, monkeypatch):
    import shutil

    from click.testing import CliRunner

    from infragen.cli import cli
    from tests.stack.helpers import ROOT

    copy_project(tmp_path)
    shutil.copytree(ROOT / "templates_out", tmp_path / "templates_out")
    result = CliRunner().invoke(cli, ["lint", "--config", str(tmp_path / "infragen.toml"),
                                      "--dir", str(tmp_path / "templates_out")])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr("infragen.lint.lint_text", lambda *a: pytest.fail("linted again"))
    dev = (tmp_path / "templates_out" / "dev.json").read_text()
    lint_gate(dev, "dev.json", "us-west-2", tmp_path / ".infragen", Console())
