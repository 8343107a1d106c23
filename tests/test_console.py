"""console.py: claims about what changed are true (L8); a closed stdout does not stop a command (L11)."""

import io

import click
import pytest

from infragen.console import Console
from infragen.errors import Aborted, AwsError, Interrupted


class ClosedPipe(io.StringIO):
    def write(self, _text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_decline_after_changes_says_what_was_changed(monkeypatch):
    monkeypatch.setattr(click, "confirm", lambda question, default: False)
    console = Console(interactive=lambda: True, out=io.StringIO(), err=io.StringIO())
    with pytest.raises(Aborted, match="^Cancelled; nothing was changed"):
        console.confirm("Deploy?", refuse_hint="")
    console.record("created stack boot")
    console.record("uploaded 2 zip(s) to s3://b")
    with pytest.raises(Aborted) as declined:
        console.confirm("Deploy?", refuse_hint="")
    assert "nothing was changed" not in declined.value.message
    assert "already changed: created stack boot; uploaded 2 zip(s) to s3://b" in declined.value.message


def test_errors_after_changes_name_the_changes_already_made():
    console = Console(out=io.StringIO(), err=io.StringIO())
    console.record("deleted stack app")
    with pytest.raises(AwsError, match="Before this failed, already changed: deleted stack app"):
        with console.reporting_changes():
            raise AwsError("Emptying s3://b failed")
    with pytest.raises(Interrupted, match="Before that, already changed: deleted stack app"):
        with console.reporting_changes():
            raise KeyboardInterrupt


def test_copies_share_the_journal():
    from dataclasses import replace

    console = Console(out=io.StringIO(), err=io.StringIO())
    replace(console, assume_yes=True).record("deleted stack app")
    assert console.done == ["deleted stack app"]


def test_a_closed_stdout_moves_progress_to_stderr_and_carries_on():
    err = io.StringIO()
    console = Console(out=ClosedPipe(), err=err)
    console.echo("first")
    console.echo("second")
    text = err.getvalue()
    assert "stdout was closed" in text and text.count("stdout was closed") == 1
    assert "first" in text and "second" in text


def test_a_prompt_after_stdout_closed_is_asked_on_stderr(monkeypatch):
    asked = []

    def confirm(question, default, err=False):
        if not err:
            raise BrokenPipeError(32, "Broken pipe")
        asked.append(question)
        return True

    monkeypatch.setattr(click, "confirm", confirm)
    console = Console(interactive=lambda: True, out=io.StringIO(), err=io.StringIO())
    console.confirm("Deploy?", refuse_hint="")
    assert asked == ["Deploy?"] and "stdout was closed" in console.err.getvalue()
