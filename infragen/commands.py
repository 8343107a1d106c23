"""What each CLI command does, given parsed options; returns an exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from infragen.config import load_config
from infragen.errors import EXIT_FAILED, EXIT_OK, UsageError
from infragen.project import load_env, project_root, state_dir, target_clients


def _selected_envs(config, env_name: str | None, all_envs: bool) -> list[str]:
    if env_name and all_envs:
        raise UsageError("--env and --all cannot be combined", hint="pick one")
    if all_envs:
        return list(config.env_names)
    if env_name:
        config.env(env_name)  # validates the name
        return [env_name]
    raise UsageError("nothing to render", hint="pass --env NAME or --all")


def _templates_dir(config_path: Path, given: Path | None) -> Path:
    """--out/--dir when given, else templates_out/ of the --config project (not of the cwd)."""
    from infragen.render import TEMPLATES_DIR

    return given if given is not None else project_root(config_path) / TEMPLATES_DIR


def render(config_path: Path, env_name: str | None, all_envs: bool, check: bool,
           out_dir: Path | None) -> int:
    from infragen.render import render_files, unrendered_files, write_files

    config = load_config(config_path)
    out_dir = _templates_dir(config_path, out_dir)
    for note in config.notes:
        click.echo(f"note: {note}", err=True)
    files = render_files(config, _selected_envs(config, env_name, all_envs), out_dir)
    # With --all, a template no environment renders any more is stale too (and `lint` reads it).
    extra = unrendered_files(files, out_dir) if all_envs else []
    if check:
        problems = [(f.path, status) for f in files if (status := f.status()) != "current"]
        problems += [(path, "not rendered by any environment") for path in extra]
        for path, status in problems:
            click.echo(f"{status}: {path}", err=True)
        if problems:
            click.echo("Run `infragen render --all` (delete the files no environment renders) "
                       "and commit templates_out/.", err=True)
            return EXIT_FAILED
        click.echo(f"{len(files)} templates current.")
        return EXIT_OK
    changed = write_files(files)
    for f in files:
        click.echo(f"{'wrote' if f in changed else 'unchanged'}: {f.path} ({f.summary()})")
    for path in extra:
        click.echo(f"not rendered by any environment (delete it): {path}", err=True)
    return EXIT_OK


def lint(config_path: Path, templates_dir: Path | None) -> int:
    """Lint every template; remember the clean ones so deploying them skips a second lint."""
    from infragen.lint import LintVerdicts, lint_text, read_template

    config = load_config(config_path)
    templates_dir = _templates_dir(config_path, templates_dir)
    if templates_dir.exists() and not templates_dir.is_dir():
        raise UsageError(f"{templates_dir} is not a folder", hint="pass --dir FOLDER")
    paths = sorted(templates_dir.glob("*.json"))
    if not paths:
        raise UsageError(f"no templates in {templates_dir}", hint="run `infragen render --all`")
    regions = {f"{env.env}.json": env.region for env in config.envs}
    verdicts = LintVerdicts(state_dir(config_path))
    findings = []
    for path in paths:
        text, found = read_template(path)
        if text is not None:
            region = regions.get(path.name, config.envs[0].region)
            found = lint_text(text, str(path), region)
            if not found:
                verdicts.record_clean(text, region)
        findings += found
    for finding in findings:
        click.echo(str(finding), err=True)
    click.echo(f"cfn-lint: {len(paths)} templates, {len(findings)} errors/warnings.")
    return EXIT_FAILED if findings else EXIT_OK


def invoke(config_path: Path, function: str, env_name: str | None, event_source: str | None,
           target_flags: dict, route: str | None = None, path_values: tuple[str, ...] = (),
           body: str | None = None) -> int:
    """Run one handler locally (stopped at its timeout) with the environment its deployed function would get."""
    import json

    from infragen.console import Console
    from infragen.function_env import stack_resolver
    from infragen.events import default_event
    from infragen.invoke import LAMBDA_REQUEST_LIMIT, event_size, load_event, run_handler
    from infragen.render import stack_template
    from infragen.stack.names import function_name

    cfg = load_env(config_path, env_name)
    fn = cfg.function(function)
    root = project_root(config_path)
    if event_source and (route or path_values or body is not None):
        raise UsageError("--event cannot be combined with --route, --path or --body",
                         hint="the event file is used as it is")
    event = load_event(event_source) if event_source else default_event(
        cfg, fn, route, path_values, body, target_flags.get("region") or cfg.region)
    if (size := event_size(event)) > LAMBDA_REQUEST_LIMIT:
        raise UsageError(f"the event is {size:,} bytes of JSON; Lambda accepts at most "
                         f"{LAMBDA_REQUEST_LIMIT:,} in a synchronous invocation (RequestEntityTooLargeException)",
                         hint="pass large data by reference, e.g. an S3 key")
    template = json.loads(stack_template(cfg))
    console = Console()
    # No credential check: without them, stack references become placeholders.
    with target_clients(cfg, config_path, console, target_flags, check=None) as clients:
        resolve = leniently(stack_resolver(clients.cloudformation, cfg.stack_name), console)
        variables = handler_variables(template, fn.name, clients, resolve)
        result = run_handler(root / fn.source, event, variables, handler=fn.handler,
                             shared_dirs=[root / folder for folder in cfg.shared_packages],
                             dependency_dir=local_dependencies(root, fn),
                             timeout_s=fn.timeout, memory_mb=fn.memory,
                             function_name=function_name(cfg, fn.name))
    click.echo(result.logs, nl=False, err=True)
    click.echo(f"{fn.name}: request {result.request_id}, {result.duration_ms:.0f} ms", err=True)
    if not result.ok:
        click.echo(result.error_traceback or f"{result.error_type}: {result.error_message}", err=True)
        return EXIT_FAILED
    click.echo(json.dumps(result.response, indent=2))
    return EXIT_OK


def handler_variables(template: dict, function: str, clients, resolve) -> dict[str, str]:
    """The deployed function's environment (stack references resolved by `resolve`), pointed at the
    target with the command's credentials, as a local run of its handler gets it."""
    from infragen.function_env import function_environment
    from infragen.target import handler_environment

    variables = function_environment(template, function, resolve)
    region = clients.target.region
    variables.update(handler_environment(clients), AWS_REGION=region, AWS_DEFAULT_REGION=region)
    return variables


def local_dependencies(root: Path, fn) -> Path | None:
    """The function's requirements.txt installed for this machine (cached), or None."""
    from infragen.artifacts import DEPS_DIR, REQUIREMENTS_FILE
    from infragen.project import STATE_DIR

    requirements = root / fn.source / REQUIREMENTS_FILE
    if not requirements.is_file():
        return None
    from infragen.dependencies import install_for_local

    return install_for_local(requirements, cache_dir=root / STATE_DIR / DEPS_DIR)


def leniently(resolve, console):
    """A resolver that warns once and gives up (placeholders) when the target cannot answer."""
    from infragen.errors import AwsError

    failures = []

    def lenient(logical_id: str):
        if failures:
            return None
        try:
            return resolve(logical_id)
        except AwsError as exc:
            failures.append(exc)
            console.warn(f"Stack references left unresolved: {exc.message}")
            return None

    return lenient


def new_function(config_path: Path, name: str, routes: tuple[str, ...], schedule: str | None) -> int:
    from infragen.scaffold import new_function as scaffold

    _report_created(scaffold(config_path, name, routes, schedule))
    return EXIT_OK


def new_table(config_path: Path, name: str, partition_key: str, sort_key: str | None) -> int:
    from infragen.scaffold import new_table as scaffold

    _report_created(scaffold(config_path, name, partition_key, sort_key))
    return EXIT_OK


def _report_created(created) -> None:
    import os

    for path, what in created.files:
        click.echo(f"created: {os.path.relpath(path)}  ({what})")
    click.echo(f"appended: {created.table_header} to {created.config_path}")
    click.echo("Next:")
    for step in created.next_steps:
        click.echo(f"  {step}")


def secrets_set(config_path: Path, env_name: str, function: str, key: str,
                read_value: Callable[[str], str], target_flags: dict) -> int:
    """Store one secret; `read_value(label)` is asked only once the config and slot are valid."""
    from infragen.console import Console
    from infragen.secrets import find_slot, put_secret, require_value

    cfg = load_env(config_path, env_name)
    slot = find_slot(cfg, function, key)
    value = require_value(read_value(f"{slot.function} {slot.key} ({slot.parameter})"))
    with target_clients(cfg, config_path, Console(), target_flags, check="verified") as clients:
        version = put_secret(clients.ssm, clients.kms, cfg, slot, value)
    click.echo(f"{slot.parameter}: stored as SecureString (version {version}); value not shown.")
    return EXIT_OK


def secrets_status(config_path: Path, env_name: str, target_flags: dict) -> int:
    from infragen.console import Console
    from infragen.secrets import STALE_KEY, secret_status

    cfg = load_env(config_path, env_name)
    with target_clients(cfg, config_path, Console(), target_flags, check="verified") as clients:
        rows = secret_status(clients.ssm, cfg, clients.kms)
    for slot, state in rows:
        click.echo(f"{slot.function:<15} {slot.key:<12} {slot.parameter:<45} {state}")
    usable = all(state != "missing" and STALE_KEY not in state for _, state in rows)
    return EXIT_OK if usable else EXIT_FAILED


def local_start(config_path: Path, port: int | None) -> int:
    from infragen import local as emulator

    server = emulator.start(state_dir(config_path), port)
    click.echo(f"Local emulator running at {server.endpoint_url} (pid {server.pid}); "
               f"`infragen deploy --local` uses it. Stop with `infragen local stop`.")
    return EXIT_OK


def local_stop(config_path: Path) -> int:
    from infragen import local as emulator

    found = emulator.stop(state_dir(config_path))
    if found.state == "running":
        click.echo("Local emulator stopped.")
    elif found.state == "stale" and found.server:
        click.echo(f"Local emulator was not running: removed the stale record of pid {found.server.pid} "
                   "(not the emulator infragen started, or gone; not signalled).")
    else:
        click.echo("Local emulator was not running" + (" (removed an unreadable record)."
                                                       if found.state == "stale" else "."))
    return EXIT_OK


def local_status(config_path: Path) -> int:
    from infragen import local as emulator

    current = emulator.status(state_dir(config_path))
    if current.state == "running":
        click.echo(f"running at {current.server.endpoint_url} (pid {current.server.pid})")
        return EXIT_OK
    click.echo("stopped" + (" (removed a stale record: its process is gone or is not the emulator "
                            "infragen started)" if current.state == "stale" else ""))
    return EXIT_FAILED


def deployer_policy(config_path: Path, env_name: str | None, fmt: str, account: str | None) -> int:
    """Print the deploy identity's policy (json) or role template (cfn)."""
    from infragen import deployer_policy as policy

    if fmt == "json" and not (account and account.isdigit() and len(account) == 12):
        raise UsageError(f"--account must be a 12-digit AWS account id, got {account!r}"
                         if account else "--account is required with --format json",
                         hint="the ARNs name the account: --account 123456789012, or --format cfn")
    config = load_config(config_path)
    click.echo(policy.render(config, env_name or config.env_names[0], fmt, account))
    return EXIT_OK
