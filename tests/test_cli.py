"""The click layer's error handling: every failure is a message and a README exit code, never a traceback."""

from pathlib import Path

import click
from click.testing import CliRunner

from infragen.cli import cli, reports_errors
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]


def _asks_to_continue():
    @click.command()
    @reports_errors
    def asks():
        click.confirm("Continue?", default=False)

    return asks


def test_ctrl_c_at_a_prompt_exits_130_not_click_abort_1():
    def ctrl_c(prompt=""):
        raise KeyboardInterrupt

    @click.command()
    @reports_errors
    def asks():
        click.termui.visible_prompt_func = ctrl_c  # CliRunner restores its own afterwards
        click.confirm("Continue?", default=False)

    result = CliRunner().invoke(asks)
    assert result.exit_code == 130, result.output
    assert "Interrupted." in result.output and "Aborted!" not in result.output


def test_end_of_input_at_a_prompt_is_a_refusal_exit_4():
    result = CliRunner().invoke(_asks_to_continue(), input="")
    assert result.exit_code == 4, result.output
    assert "no answer at the prompt" in result.output and "Aborted!" not in result.output


def test_a_file_that_cannot_be_written_is_exit_2_with_its_name(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(cli, ["package", "--config", str(ROOT / "infragen.toml"),
                                      "--out", str(blocker / "zips")])
    assert result.exit_code == 2, result.output
    assert "Error: " in result.output and str(blocker) in result.output
    assert not isinstance(result.exception, OSError) and "Traceback" not in result.output


def test_secrets_set_asks_for_the_value_only_after_the_slot_is_known(tmp_path):
    config = tmp_path / "infragen.toml"
    copy_project(tmp_path)
    result = CliRunner().invoke(cli, ["secrets", "set", "hello", "password", "--env", "dev",
                                      "--config", str(config), "--local"], input="s3cret")
    assert result.exit_code == 2 and "no parameter 'password'" in result.output
    assert "s3cret" not in result.output


def test_an_empty_secret_is_refused_before_any_emulator_or_aws_call(tmp_path):
    config = tmp_path / "infragen.toml"
    copy_project(tmp_path)
    result = CliRunner().invoke(cli, ["secrets", "set", "hello", "greeting", "--env", "dev",
                                      "--config", str(config), "--local"], input="\n")
    assert result.exit_code == 2 and "the secret value is empty" in result.output
    assert "Local emulator" not in result.output  # no in-process emulator was started for it


def test_a_closed_stdout_is_a_message_and_exit_1_not_a_traceback():
    @click.command()
    @reports_errors
    def prints():
        raise BrokenPipeError(32, "Broken pipe")  # as a write to a pipe nobody reads any more

    result = CliRunner().invoke(prints, [])
    assert result.exit_code == 1, result.output
    assert "stdout was closed" in result.output and "Traceback" not in result.output
