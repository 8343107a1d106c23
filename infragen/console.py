"""User-facing output and confirmation, the only place that knows about terminals."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, TextIO

import click

from infragen.errors import Aborted, InfragenError, Interrupted, UsageError


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

    `assume_yes` answers every confirmation with yes (`--yes`), except the ones that need their
    own flag. Without it and without a terminal on stdin, a confirmation refuses instead of
    hanging. `done` is the journal of changes made so far (shared by copies made with
    `dataclasses.replace`), so that no message claims "nothing was changed" after something was.
    If stdout is closed (`| head`), progress continues on stderr and the command carries on.
    """

    assume_yes: bool = False
    out: TextIO | None = None
    err: TextIO | None = None
    interactive: Callable[[], bool] = field(default=lambda: stdin_is_terminal())
    done: list[str] = field(default_factory=list)
    _stdout_closed: list[bool] = field(default_factory=list, repr=False)

    def echo(self, message: str = "", **style) -> None:
        text = click.style(message, **style) if style else message
        if not self._stdout_closed:
            try:
                click.echo(text, file=self.out)
                return
            except BrokenPipeError:
                self._stdout_gone()
        click.echo(text, file=self.err or sys.stderr)

    def warn(self, message: str) -> None:
        click.echo(click.style(message, fg="yellow"), file=self.err or sys.stderr)

    def record(self, change: str) -> None:
        """Note a change made on the target (a stack created, zips uploaded, …)."""
        self.done.append(change)

    def changed_so_far(self) -> str:
        """"nothing was changed", or the changes already made."""
        if not self.done:
            return "nothing was changed"
        return f"already changed: {'; '.join(self.done)} (nothing else was changed)"

    def confirm(self, question: str, *, refuse_hint: str, needs_own_flag: str | None = None) -> None:
        """Return if the user agrees; raise Aborted otherwise.

        `needs_own_flag` names the option that alone may answer this question without a prompt:
        `--yes` does not (e.g. deleting a stack during a deploy needs `--replace-failed`).
        """
        if self.assume_yes and not needs_own_flag:
            return
        if self.assume_yes or not self.interactive():
            why = (f"--yes does not answer it (only {needs_own_flag} does)" if self.assume_yes
                   else "no terminal to ask on")
            raise Aborted(f"{question} — {why}; {self.changed_so_far()}.", hint=refuse_hint)
        if not self._ask(question):
            raise Aborted(f"Cancelled; {self.changed_so_far()}.")

    def _ask(self, question: str) -> bool:
        """click's prompt, on stderr once stdout is closed (the question must be seen)."""
        if not self._stdout_closed:
            try:
                return click.confirm(question, default=False)
            except BrokenPipeError:
                self._stdout_gone()
        return click.confirm(question, default=False, err=True)

    @contextmanager
    def reporting_changes(self) -> Iterator[None]:
        """Errors (and Ctrl-C) raised inside say which changes were already made before them."""
        try:
            yield
        except KeyboardInterrupt:
            raise Interrupted("Interrupted." + (f" Before that, {self.changed_so_far()}." if self.done
                                                else "")) from None
        except Aborted:
            raise  # its message already says what changed
        except InfragenError as exc:
            if self.done:
                exc.message = f"{exc.message}\n  Before this failed, {self.changed_so_far()}."
            raise

    def _stdout_gone(self) -> None:
        """stdout's reader went away: keep going, send the rest to stderr, say so once."""
        self._stdout_closed.append(True)
        if self.out is None:
            silence_stdout()
        self.warn("stdout was closed; infragen carries on and writes its progress here.")


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that flushing at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests, embedded)
        pass
