"""`infragen audit`: which environments, which output, which exit code."""

from __future__ import annotations

from pathlib import Path

import click

from infragen.audit import report
from infragen.audit.run import CodeScanner, audit_env
from infragen.config import load_config
from infragen.errors import EXIT_FAILED, EXIT_OK, UsageError
from infragen.project import project_root


def audit(config_path: Path, env_name: str | None, all_envs: bool, output: str) -> int:
    """Audit the selected environments; EXIT_FAILED when there is any finding."""
    if env_name and all_envs:
        raise UsageError("--env and --all-envs cannot be combined", hint="pick one")
    config = load_config(config_path)
    names = list(config.env_names) if all_envs else [env_name or config.env_names[0]]
    root = project_root(config_path)
    scanner = CodeScanner(root)
    audits = [a for name in names for a in audit_env(config.env(name), root, scanner)]
    click.echo(report.as_json(audits) if output == "json" else report.text(audits))
    return EXIT_FAILED if any(a.findings for a in audits) else EXIT_OK
