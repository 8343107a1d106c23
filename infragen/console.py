"""User-facing output and confirmation, the only place that knows about terminals."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable, TextIO

import click

from infragen.errors import Aborted, UsageError


def stdin_is_terminal() -> bool:
    """False also when there is no usable stdin at all (closed with `<&-`)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # a closed stream
        return False


def read_stdin(what: str) -> str:
    """All of stdin as strict UTF-8 text; UsageError when stdin is closed, unreadable or not UTF-8.

    `what` names the expected input in the message ("the event", "the secret value").
    """
    stream = sys.stdin
    try:
        if stream is None:
            raise OSError("stdin is closed")
        raw = getattr(stream, "buffer", None)
        data = raw.read() if raw is not None else stream.read()
    except (OSError, ValueError) as exc:  # ValueError: I/O operation on a closed file
        raise UsageError(f"cannot read {what} from stdin: {getattr(exc, 'strerror', None) or exc}",
                         hint=f"pipe {what} on stdin, or give a file") from None
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} on stdin is not UTF-8 text ({exc.reason} at byte {exc.start})",
                         hint="convert it to UTF-8 first, e.g. with iconv") from None


@dataclass
class Console:
    """Writes progress to stdout, problems to stderr, and asks before risky actions.

    `assume_yes` answers every confirmation with yes (`--yes`). Without it and without a
    terminal on stdin, a confirmation refuses instead of hanging.
    """

    assume_yes: bool = False
    out: TextIO | None = None
    err: TextIO | None = None
    interactive: Callable[[], bool] = field(default=lambda: stdin_is_terminal())

    def echo(self, message: str = "", **style) -> None:
        click.echo(click.style(message, **style) if style else message, file=self.out)

    def warn(self, message: str) -> None:
        click.echo(click.style(message, fg="yellow"), file=self.err or sys.stderr)

    def confirm(self, question: str, *, refuse_hint: str) -> None:
        """Return if the user agrees; raise Aborted otherwise."""
        if self.assume_yes:
            return
        if not self.interactive():
            raise Aborted(f"{question} — no terminal to ask on.", hint=refuse_hint)
        if not click.confirm(question, default=False):
            raise Aborted("Cancelled; nothing was changed.")
