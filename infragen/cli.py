"""The click layer: parse options, delegate, and turn InfragenError into an exit code."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from infragen.errors import EXIT_FAILED, InfragenError, UsageError

CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=Path("infragen.toml"),
    show_default=True, help="Stack configuration file.")


def reports_errors(command):
    """The one place InfragenError becomes a message on stderr and an exit code."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InfragenError as exc:
            click.echo(click.style(f"Error: {exc}", fg="red"), err=True)
            sys.exit(exc.exit_code)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="infragen")
def cli():
    """Define, review and ship the infragen serverless stack.

    \b
    Exit codes: 0 ok · 1 operation failed · 2 bad input · 3 AWS refused or unreachable
                4 declined or no terminal to confirm · 5 wait timed out · 130 interrupted
    """


@cli.command()
@CONFIG_OPTION
@click.option("--env", "env_name", help="Render one environment.")
@click.option("--all", "all_envs", is_flag=True, help="Render every environment in the config.")
@click.option("--check", is_flag=True, help="Write nothing; fail if a file is stale or missing.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("templates_out"),
              show_default=True, help="Output directory.")
@reports_errors
def render(config_path, env_name, all_envs, check, out_dir):
    """Write CloudFormation templates into templates_out/."""
    from infragen import commands

    sys.exit(commands.render(config_path, env_name, all_envs, check, out_dir))


@cli.command()
@CONFIG_OPTION
@click.option("--dir", "templates_dir", type=click.Path(path_type=Path),
              default=Path("templates_out"), show_default=True)
@reports_errors
def lint(config_path, templates_dir):
    """Run cfn-lint on every template in templates_out/ (errors and warnings fail)."""
    from infragen import commands

    sys.exit(commands.lint(config_path, templates_dir))


def main() -> None:
    cli(prog_name="infragen")
