"""The click layer: parse options, delegate, and turn InfragenError into an exit code."""

from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import click

from infragen.errors import EXIT_ABORTED, EXIT_AWS, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, InfragenError, UsageError

CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=Path("infragen.toml"),
    show_default=True, help="Stack configuration file.")
ENV_OPTION = click.option("--env", "env_name", help="Environment (default: the first in the config).")
REPLACE_FAILED_OPTION = click.option(
    "--replace-failed", is_flag=True,
    help="Delete and recreate a stack that cannot be updated: its creation failed "
         "(ROLLBACK_COMPLETE), or its artifact bucket was deleted. --yes alone never deletes a stack.")


class Seconds(click.ParamType):
    """A finite number of seconds, at least `minimum` (nan and inf would remove the bound)."""

    name = "seconds"

    def __init__(self, minimum: float):
        self.minimum = minimum

    def convert(self, value, param, ctx):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        if not math.isfinite(seconds) or seconds < self.minimum:
            self.fail(f"{value!r} is not a finite number of seconds of at least {self.minimum:g}.",
                      param, ctx)
        return seconds


def wait_option(default_s: int):
    return click.option("--wait-timeout", type=Seconds(1), default=default_s,
                        show_default=True, help="Seconds to wait for each CloudFormation operation "
                                                "(also the most any single AWS call may take).")


def reports_errors(command):
    """The one place InfragenError becomes a message on stderr and an exit code."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InfragenError as exc:
            click.echo(click.style(f"Error: {exc}", fg="red"), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.Abort as exc:
            # click's prompts turn Ctrl-C and end of input into Abort (which click would exit 1 with).
            if isinstance(exc.__context__, KeyboardInterrupt):
                click.echo("Interrupted.", err=True)
                sys.exit(EXIT_INTERRUPTED)
            click.echo(click.style("Error: no answer at the prompt (end of input).", fg="red"), err=True)
            sys.exit(EXIT_ABORTED)
        except BrokenPipeError:
            # Safety net: stdout's reader went away in a command that does not carry on without it.
            from infragen.console import silence_stdout

            silence_stdout()
            click.echo("Error: stdout was closed before the command finished; its output is incomplete.",
                       err=True)
            sys.exit(EXIT_FAILED)
        except OSError as exc:
            # Safety net: a file that could not be read or written (a missing folder, no permission).
            if exc.filename is None:
                raise
            click.echo(click.style(f"Error: {exc.filename}: {exc.strerror or exc}", fg="red"), err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:
            # Safety net: an AWS SDK failure no module turned into an InfragenError.
            if not type(exc).__module__.startswith("botocore"):
                raise
            click.echo(click.style(f"Error: AWS call failed: {exc}", fg="red"), err=True)
            sys.exit(EXIT_AWS)
    return wrapper


def target_options(command):
    """--local / --endpoint-url / --profile / --region, gathered into `target_flags`."""
    options = [
        click.option("--local", is_flag=True,
                     help="Use the local emulator (moto on 127.0.0.1); see `infragen local`."),
        click.option("--endpoint-url", metavar="URL", help="Any AWS-compatible endpoint."),
        click.option("--profile", help="AWS profile (default: the boto3 credential chain)."),
        click.option("--region", help="AWS region (default: the config's region)."),
    ]

    @functools.wraps(command)
    def wrapper(*args, local, endpoint_url, profile, region, **kwargs):
        from infragen.regions import region_problem
        from infragen.endpoint_url import endpoint_url_problem

        if endpoint_url is not None and (problem := endpoint_url_problem(endpoint_url)):
            raise click.BadParameter(problem, param_hint="'--endpoint-url'")
        custom_endpoint = endpoint_url is not None and not local
        if region is not None and (problem := region_problem(region, custom_endpoint=custom_endpoint)):
            raise click.BadParameter(f"{region!r}: {problem}", param_hint="'--region'")
        flags = {"local": local, "endpoint_url": endpoint_url, "profile": profile, "region": region,
                 "call_timeout": kwargs.get("wait_timeout")}
        return command(*args, target_flags=flags, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
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
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Output directory (default: templates_out/ next to the config file).")
@reports_errors
def render(config_path, env_name, all_envs, check, out_dir):
    """Write CloudFormation templates into templates_out/."""
    from infragen import commands

    sys.exit(commands.render(config_path, env_name, all_envs, check, out_dir))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--all-envs", is_flag=True, help="Audit every environment in the config.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reports_errors
def audit(config_path, env_name, all_envs, output):
    """Check each function's role against the AWS calls its code makes (exit 1 on findings)."""
    from infragen.audit.command import audit as run_audit

    sys.exit(run_audit(config_path, env_name, all_envs, output))


@cli.command()
@CONFIG_OPTION
@click.option("--dir", "templates_dir", type=click.Path(path_type=Path),
              help="Templates to lint (default: templates_out/ next to the config file).")
@reports_errors
def lint(config_path, templates_dir):
    """Run cfn-lint on every template in templates_out/ (errors and warnings fail)."""
    from infragen import commands

    sys.exit(commands.lint(config_path, templates_dir))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--yes", "-y", is_flag=True, help="Deploy without asking (needed without a terminal).")
@REPLACE_FAILED_OPTION
@wait_option(1800)
@click.option("--outputs-file", type=click.Path(path_type=Path), help="Also write outputs as JSON.")
@target_options
@reports_errors
def deploy(config_path, env_name, yes, replace_failed, wait_timeout, outputs_file, target_flags):
    """Package, upload, review and deploy the stack; show its outputs."""
    from infragen import stack_commands

    sys.exit(stack_commands.deploy(config_path, env_name, yes, replace_failed, wait_timeout,
                                   outputs_file, target_flags))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@wait_option(600)
@target_options
@reports_errors
def diff(config_path, env_name, wait_timeout, target_flags):
    """Show what a deploy would change (change set created, shown, deleted)."""
    from infragen import stack_commands

    sys.exit(stack_commands.diff(config_path, env_name, target_flags, wait_timeout))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@target_options
@reports_errors
def harden(config_path, env_name, target_flags):
    """Re-apply what CloudFormation cannot (default security group lock-down)."""
    from infragen import stack_commands

    sys.exit(stack_commands.harden(config_path, env_name, target_flags))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@target_options
@reports_errors
def status(config_path, env_name, target_flags):
    """Stack status, recent events, outputs and the live code keys."""
    from infragen import stack_commands

    sys.exit(stack_commands.status(config_path, env_name, target_flags))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
@click.option("--include-bootstrap", is_flag=True,
              help="Also empty and delete the artifact bucket stack.")
@click.option("--delete-secrets", is_flag=True,
              help="Also delete the SecureString parameters the functions read (unreadable once "
                   "the stack's key is deleted).")
@wait_option(3600)  # VPC Lambdas' network interfaces can hold a delete for 20-40 minutes
@target_options
@reports_errors
def destroy(config_path, env_name, yes, include_bootstrap, delete_secrets, wait_timeout, target_flags):
    """Delete the stack (the artifact bucket is kept unless asked)."""
    from infragen import stack_commands

    sys.exit(stack_commands.destroy(config_path, env_name, yes, include_bootstrap, wait_timeout,
                                    target_flags, delete_secrets))


@cli.command("deployer-policy")
@CONFIG_OPTION
@ENV_OPTION
@click.option("--format", "fmt", type=click.Choice(["json", "cfn"]), default="json", show_default=True,
              help="json: the IAM policy; cfn: a CloudFormation template with the deploy role.")
@click.option("--account", metavar="ID", help="AWS account id the ARNs name (json; cfn uses the "
                                              "account it is deployed in).")
@reports_errors
def deployer_policy(config_path, env_name, fmt, account):
    """Print the least-privilege IAM policy for running deploy/diff/destroy of this environment."""
    from infragen import commands

    sys.exit(commands.deployer_policy(config_path, env_name, fmt, account))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--older-than", "older_than", type=click.IntRange(min=0), default=30, show_default=True,
              help="Keep unreferenced artifacts younger than this many days.")
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
@target_options
@reports_errors
def prune(config_path, env_name, older_than, yes, target_flags):
    """Delete artifacts that no deployed environment's stack references, after showing them."""
    from infragen import stack_commands

    sys.exit(stack_commands.prune(config_path, env_name, older_than, yes, target_flags))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@REPLACE_FAILED_OPTION
@wait_option(1800)
@target_options
@reports_errors
def bootstrap(config_path, env_name, yes, replace_failed, wait_timeout, target_flags):
    """Create or update the artifact bucket stack (recreate it if its bucket was deleted)."""
    from infragen import stack_commands

    sys.exit(stack_commands.bootstrap(config_path, env_name, yes, target_flags, wait_timeout,
                                      replace_failed))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write the zips here instead of uploading them.")
@target_options
@reports_errors
def package(config_path, env_name, out_dir, target_flags):
    """Build reproducible zips; upload the new ones to the artifact bucket."""
    from infragen import stack_commands

    sys.exit(stack_commands.package(config_path, env_name, out_dir, target_flags))


@cli.command()
@CONFIG_OPTION
@click.argument("function")
@ENV_OPTION
@click.option("--event", "event_source", metavar="FILE|-",
              help="Event JSON (default: a proxy event for the function's first route, or a "
                   "scheduled event for a schedule-only function).")
@click.option("--route", metavar="'METHOD /path'", help="Build the event for this route.")
@click.option("--path", "path_values", metavar="NAME=VALUE", multiple=True,
              help="A path parameter's value, e.g. --path id=42 (repeatable).")
@click.option("--body", help="Request body of the built event (not for secrets: argv is visible).")
@target_options
@reports_errors
def invoke(config_path, function, env_name, event_source, route, path_values, body, target_flags):
    """Run a handler (stopped at its timeout) with its deployed environment; print the response."""
    from infragen import commands

    sys.exit(commands.invoke(config_path, function, env_name, event_source, target_flags,
                             route, path_values, body))


@cli.command()
@CONFIG_OPTION
@ENV_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=3000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Request log format.")
@target_options
@reports_errors
def serve(config_path, env_name, host, port, output, target_flags):
    """Serve the API locally as API Gateway would answer it (auth, models, limits), from the current code."""
    from infragen.serve.server import run

    sys.exit(run(config_path, env_name, host, port, output, target_flags))


@cli.command()
@CONFIG_OPTION
@click.argument("source", metavar="FUNCTION|api")
@ENV_OPTION
@click.option("--since", default="10m", show_default=True, metavar="DURATION",
              help="How far back: e.g. 30s, 10m, 2h, 1d.")
@click.option("--follow", "-f", is_flag=True, help="Keep polling for new events (Ctrl-C stops).")
@click.option("--filter", "filter_text", metavar="TEXT", help="Only events containing TEXT.")
@target_options
@reports_errors
def logs(config_path, source, env_name, since, follow, filter_text, target_flags):
    """Print a deployed function's (or the API's access) log events, JSON lines made readable."""
    from infragen import logs as log_reader

    sys.exit(log_reader.run(config_path, source, env_name, since, follow, filter_text, target_flags))


@cli.group()
def new():
    """Add a function (handler, example event, test) or a table to the project."""


@new.command("function")
@CONFIG_OPTION
@click.argument("name")
@click.option("--route", "routes", metavar="'METHOD /path'", multiple=True,
              help="A route the function answers, e.g. 'GET /orders/{id}' (repeatable).")
@click.option("--schedule", metavar="EXPR", help="An EventBridge schedule: rate(...) or cron(...).")
@reports_errors
def new_function(config_path, name, routes, schedule):
    """Create lambda_src/NAME, its example event and test; append [functions.NAME]."""
    from infragen import commands

    sys.exit(commands.new_function(config_path, name, routes, schedule))


@new.command("table")
@CONFIG_OPTION
@click.argument("name")
@click.option("--partition-key", required=True, metavar="KEY", help="String partition key attribute.")
@click.option("--sort-key", metavar="KEY", help="String sort key attribute (optional).")
@reports_errors
def new_table(config_path, name, partition_key, sort_key):
    """Append a DynamoDB [tables.NAME] table to the config."""
    from infragen import commands

    sys.exit(commands.new_table(config_path, name, partition_key, sort_key))


@cli.group()
def secrets():
    """Secrets the functions read: SSM SecureString parameters CloudFormation cannot create."""


@secrets.command("set")
@CONFIG_OPTION
@click.argument("function")
@click.argument("key")
@click.option("--env", "env_name", required=True)
@target_options
@reports_errors
def secrets_set(config_path, function, key, env_name, target_flags):
    """Store a secret value, read from stdin or a hidden prompt (never from arguments)."""
    from infragen import commands

    sys.exit(commands.secrets_set(config_path, env_name, function, key, read_secret, target_flags))


def read_secret(label: str) -> str:
    """A hidden prompt on a terminal; otherwise all of stdin, trailing newlines dropped."""
    from infragen.console import read_stdin, stdin_is_terminal

    if stdin_is_terminal():
        try:
            return click.prompt(f"Value for {label}", hide_input=True)
        except UnicodeDecodeError as exc:  # typed bytes the terminal's encoding cannot decode
            raise UsageError(f"the value typed is not text in the terminal's encoding ({exc.reason})",
                             hint="nothing was stored; type it again") from None
    return read_stdin("the secret value").rstrip("\r\n")


@secrets.command("status")
@CONFIG_OPTION
@click.option("--env", "env_name", required=True)
@target_options
@reports_errors
def secrets_status(config_path, env_name, target_flags):
    """Which configured parameters exist (values are never read)."""
    from infragen import commands

    sys.exit(commands.secrets_status(config_path, env_name, target_flags))


@cli.group()
def local():
    """The local emulator (moto server on 127.0.0.1) as a background process."""


@local.command("start")
@CONFIG_OPTION
@click.option("--port", type=click.IntRange(1024, 65535), help="Default: a free port.")
@reports_errors
def local_start(config_path, port):
    """Start the emulator; state persists until `infragen local stop`."""
    from infragen import commands

    sys.exit(commands.local_start(config_path, port))


@local.command("stop")
@CONFIG_OPTION
@reports_errors
def local_stop(config_path):
    """Stop the emulator and discard its state."""
    from infragen import commands

    sys.exit(commands.local_stop(config_path))


@local.command("status")
@CONFIG_OPTION
@reports_errors
def local_status(config_path):
    """Say whether the emulator runs and where (exit 1 when stopped)."""
    from infragen import commands

    sys.exit(commands.local_status(config_path))


def main() -> None:
    cli(prog_name="infragen")
