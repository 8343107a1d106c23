"""cfn-lint, in-process, as a gate: any error or warning fails."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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


def lint_files(paths: list[Path], region: str) -> list[Finding]:
    return [finding for path in paths
            for finding in lint_text(path.read_text(encoding="utf-8"), str(path), region)]


def lint_gate(text: str, file: str, region: str, cache_dir: Path, console) -> None:
    """Block a deploy on cfn-lint errors; remember a clean verdict by template hash."""
    import cfnlint.version

    digest = hashlib.sha256(f"{cfnlint.version.__version__}\n{region}\n{text}".encode()).hexdigest()
    verdict = cache_dir / "lint" / f"{digest}.ok"
    if verdict.exists():
        return
    findings = lint_text(text, file, region)
    for finding in findings:
        console.warn(str(finding))
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise DeployFailed(f"cfn-lint found {len(errors)} error(s) in {file}; nothing was deployed",
                         hint="fix the stack code or config, then `infragen render` and retry")
    if not findings:
        verdict.parent.mkdir(parents=True, exist_ok=True)
        verdict.write_text("clean\n")
