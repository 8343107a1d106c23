from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "infragen.toml")


def test_render_writes_every_environment_and_bootstrap(tmp_path):
    result = CliRunner().invoke(cli, ["render", "--all", "--config", CONFIG, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bootstrap.json", "dev.json", "prod.json"]
    assert (tmp_path / "dev.json").read_text() == (ROOT / "templates_out" / "dev.json").read_text()


def test_check_lists_stale_and_missing_files_and_writes_nothing(tmp_path):
    runner = CliRunner()
    runner.invoke(cli, ["render", "--all", "--config", CONFIG, "--out", str(tmp_path)])
    (tmp_path / "dev.json").write_text("{}")
    (tmp_path / "prod.json").unlink()
    result = runner.invoke(cli, ["render", "--all", "--check", "--config", CONFIG, "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"stale: {tmp_path / 'dev.json'}" in result.output
    assert f"missing: {tmp_path / 'prod.json'}" in result.output
    assert (tmp_path / "dev.json").read_text() == "{}" and not (tmp_path / "prod.json").exists()


def test_render_needs_env_or_all(tmp_path):
    result = CliRunner().invoke(cli, ["render", "--config", CONFIG, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--env NAME or --all" in result.output


def test_lint_fails_on_a_broken_template(tmp_path):
    (tmp_path / "bad.json").write_text(
        '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}')
    result = CliRunner().invoke(cli, ["lint", "--config", CONFIG, "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.json" in result.output and "Resources/Fn" in result.output


def test_templates_no_environment_renders_fail_the_check_and_are_pointed_out(tmp_path):
    runner = CliRunner()
    runner.invoke(cli, ["render", "--all", "--config", CONFIG, "--out", str(tmp_path)])
    (tmp_path / "staging.json").write_text("{}")  # an environment since removed from the config

    check = runner.invoke(cli, ["render", "--all", "--check", "--config", CONFIG, "--out", str(tmp_path)])
    assert check.exit_code == 1
    assert f"not rendered by any environment: {tmp_path / 'staging.json'}" in check.output

    one_env = runner.invoke(cli, ["render", "--env", "dev", "--check", "--config", CONFIG,
                                  "--out", str(tmp_path)])
    assert one_env.exit_code == 0, one_env.output

    write = runner.invoke(cli, ["render", "--all", "--config", CONFIG, "--out", str(tmp_path)])
    assert write.exit_code == 0 and "(delete it)" in write.output
    assert (tmp_path / "staging.json").exists()  # pointed out, never deleted


def test_a_cached_template_is_reused_only_for_the_same_config_and_code(tmp_path, monkeypatch):
    """stack_template(cfg, cache_dir): a second call reads the file; any config change builds again."""
    import dataclasses

    from infragen import render
    from infragen.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "infragen.toml").env("dev")
    built = render.stack_template(cfg, tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1
    monkeypatch.setattr("infragen.stack.main.build_stack", lambda *a: pytest.fail("built again"))
    assert render.stack_template(cfg, tmp_path) == built
    monkeypatch.undo()
    changed = dataclasses.replace(cfg, log_level="ERROR")
    assert '"LOG_LEVEL": "ERROR"' in render.stack_template(changed, tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2
    monkeypatch.setattr(render, "_code_digest", lambda: "other code")
    monkeypatch.setattr("infragen.stack.main.build_stack", lambda *a: pytest.fail("built again"))
    with pytest.raises(pytest.fail.Exception, match="built again"):
        render.stack_template(cfg, tmp_path)  # new infragen code: the cached text is not trusted


def test_a_cached_template_is_not_reused_with_another_troposphere_or_awacs(tmp_path, monkeypatch):
    from infragen import installed, render
    from infragen.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "infragen.toml").env("dev")
    render.stack_template(cfg, tmp_path)
    stamp = installed.package_stamp
    for library in render.BUILDER_LIBRARIES:  # reinstalled, another version: another stamp
        monkeypatch.setattr(installed, "package_stamp", lambda name: "new" if name == library else stamp(name))
        render._code_digest.cache_clear()
        monkeypatch.setattr("infragen.stack.main.build_stack", lambda *a: pytest.fail("built again"))
        with pytest.raises(pytest.fail.Exception, match="built again"):
            render.stack_template(cfg, tmp_path)
        monkeypatch.undo()
    render._code_digest.cache_clear()
