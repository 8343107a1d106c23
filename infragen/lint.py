"""cfn-lint, in-process, as a gate: any error or warning fails."""

from __future__ import annotations

import hashlib
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


def lint_text(text: str, file: str, region: str) -> list[Finding]:
    """Gating findings (errors and warnings) for one template's text."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(text, config=ManualArgs(regions=[region]))
    findings = [
        Finding(rule=m.rule.id, level=m.rule.severity, file=file,
                path="/".join(str(p) for p in (m.path or [])), line=m.linenumber,
                message=m.message)
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
    verdicts = LintVerdicts(cache_dir)
    if verdicts.is_clean(text, region):
        return
    findings = lint_text(text, file, region)
    for finding in findings:
        console.warn(str(finding))
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise DeployFailed(f"cfn-lint found {len(errors)} error(s) in {file}; nothing was deployed",
                           hint="fix the stack code or config, then `infragen render` and retry")
    if not findings:
        verdicts.record_clean(text, region)
