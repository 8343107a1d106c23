"""What each CLI command does, given parsed options; returns an exit code."""

from __future__ import annotations

from pathlib import Path

import click

from infragen.config import load_config
from infragen.errors import EXIT_FAILED, EXIT_OK, UsageError


def _selected_envs(config, env_name: str | None, all_envs: bool) -> list[str]:
    if env_name and all_envs:
        raise UsageError("--env and --all cannot be combined", hint="pick one")
    if all_envs:
        return list(config.env_names)
    if env_name:
        config.env(env_name)  # validates the name
        return [env_name]
    raise UsageError("nothing to render", hint="pass --env NAME or --all")


def render(config_path: Path, env_name: str | None, all_envs: bool, check: bool,
           out_dir: Path) -> int:
    from infragen.render import render_files, write_files

    config = load_config(config_path)
    files = render_files(config, _selected_envs(config, env_name, all_envs), out_dir)
    if check:
        problems = [(f.path, f.status()) for f in files if f.status() != "current"]
        for path, status in problems:
            click.echo(f"{status}: {path}", err=True)
        if problems:
            click.echo("Run `infragen render --all` and commit templates_out/.", err=True)
            return EXIT_FAILED
        click.echo(f"{len(files)} templates current.")
        return EXIT_OK
    changed = write_files(files)
    for f in files:
        click.echo(f"{'wrote' if f in changed else 'unchanged'}: {f.path}")
    return EXIT_OK


def lint(config_path: Path, templates_dir: Path) -> int:
    from infragen.lint import lint_files

    config = load_config(config_path)
    paths = sorted(templates_dir.glob("*.json"))
    if not paths:
        raise UsageError(f"no templates in {templates_dir}", hint="run `infragen render --all`")
    regions = {f"{env.env}.json": env.region for env in config.envs}
    default_region = config.envs[0].region
    findings = [finding for path in paths
                for finding in lint_files([path], regions.get(path.name, default_region))]
    for finding in findings:
        click.echo(str(finding), err=True)
    click.echo(f"cfn-lint: {len(paths)} templates, {len(findings)} errors/warnings.")
    return EXIT_FAILED if findings else EXIT_OK
