"""cfn-lint, in-process, as a gate: any error or warning fails."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from infragen.errors import DeployFailed

GATING_LEVELS = ("error", "warning")


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    file: str
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.file}:{self.line} {self.path}: {self.message}"


_CONFLICT_MARKERS = ("<<<<<<<", ">>>>>>>", "|||||||")


def _unreadable(file: str, line: int, problem: str) -> Finding:
    return Finding(rule="E0000", level="error", file=file, path="", line=line,
                   message=f"{problem}; re-render it with `infragen render --all`")


def read_template(path: Path) -> tuple[str | None, list[Finding]]:
    """The template's text, or no text and a finding saying why it cannot be linted (a folder,
    unreadable, not UTF-8, empty, a merge-conflict marker)."""
    file = str(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        return None, [_unreadable(file, 1, "a folder, not a template file")]
    except OSError as exc:
        return None, [_unreadable(file, 1, f"cannot be read: {exc.strerror or exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, [_unreadable(file, line, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    if not text.strip():
        return None, [_unreadable(file, 1, "empty")]
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(_CONFLICT_MARKERS) or line.rstrip() == "=======":
            return None, [_unreadable(file, number, f"a merge-conflict marker ({line[:7]!r})")]
    return text, []


def lint_text(text: str, file: str, region: str) -> list[Finding]:
    """Gating findings (errors and warnings) for one template's text; never raises on bad text."""
    from cfnlint.api import ManualArgs, lint

    try:
        matches = lint(text, config=ManualArgs(regions=[region]))
    except Exception as exc:  # RecursionError included: a linter crash must fail the gate, not the command
        return [Finding(rule="E0000", level="error", file=file, path="", line=1,
                        message=f"cfn-lint could not check this template: {type(exc).__name__}: {exc}")]
    findings = [
        Finding(rule=m.rule.id, level=m.rule.severity, file=file,
                # parse errors (E0000: invalid JSON, a merge-conflict marker) carry no path
                path="/".join(str(p) for p in (getattr(m, "path", None) or [])),
                line=getattr(m, "linenumber", 1), message=m.message)
        for m in matches
    ]
    return [f for f in findings if f.level in GATING_LEVELS]


@dataclass(frozen=True)
class LintVerdicts:
    """Clean verdicts remembered by hash of (cfn-lint version, region, template text).

    `infragen lint` records them for clean templates, so a deploy of the same text skips the
    second lint; reading them never imports cfn-lint.
    """

    cache_dir: Path

    def _path(self, text: str, region: str) -> Path:
        key = f"{metadata.version('cfn-lint')}\n{region}\n{text}"
        return self.cache_dir / "lint" / f"{hashlib.sha256(key.encode()).hexdigest()}.ok"

    def is_clean(self, text: str, region: str) -> bool:
        return self._path(text, region).exists()

    def record_clean(self, text: str, region: str) -> None:
        path = self._path(text, region)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("clean\n")


def lint_gate(text: str, file: str, region: str, cache_dir: Path, console) -> None:
    """Block a deploy on cfn-lint errors (warnings are shown); skip templates known clean."""
    start_lint_gate(text, file, region, cache_dir, console)()


def start_lint_gate(text: str, file: str, region: str, cache_dir: Path,
                    console) -> Callable[[], None]:
    """Start the gate's lint in a background thread; the returned function waits for it and
    enforces the verdict (raises DeployFailed on errors). A template known clean costs nothing.

    The deploy starts it before the bootstrap and the uploads, which wait on the network, and
    enforces it before the change set: the app stack is never touched by a template with errors.
    """
    verdicts = LintVerdicts(cache_dir)
    if verdicts.is_clean(text, region):
        return lambda: None
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["findings"] = lint_text(text, file, region)
        except BaseException as exc:  # re-raised in the waiting thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="cfn-lint", daemon=True)
    thread.start()

    def finish() -> None:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        findings = outcome["findings"]
        for finding in findings:
            console.warn(str(finding))
        errors = [f for f in findings if f.level == "error"]
        if errors:
            raise DeployFailed(f"cfn-lint found {len(errors)} error(s) in {file}; the stack was not changed",
                               hint="fix the stack code or config, then `infragen render` and retry")
        if not findings:
            verdicts.record_clean(text, region)

    return finish