"""User-facing output and confirmation, the only place that knows about terminals."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable, TextIO

import click

from infragen.errors import Aborted


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


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
