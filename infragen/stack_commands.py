"""What the stack commands do (deploy, diff, status, destroy, bootstrap, package); exit codes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from infragen.console import Console
from infragen.errors import EXIT_OK
from infragen.project import describe_target, load_env, project_root, target_clients, template_cache

RECENT_EVENTS = 10


def _show_outputs(console: Console, template: dict, outcome_outputs: dict, are_resources: bool,
                  region: str) -> dict:
    """Print outputs; when the target gave none, derive them from physical ids. Return them."""
    from infragen.deploy.flow import format_outputs
    from infragen.outputs import derive_outputs

    outputs = outcome_outputs
    if are_resources:
        outputs = derive_outputs(template, outcome_outputs, region)
        left_out = sorted(set(template.get("Outputs", {})) - set(outputs))
        console.echo("The target returned no Outputs; derived from the resources' physical ids"
                     + (f" (left out, not derivable here: {', '.join(left_out)})" if left_out else "")
                     + ":")
    for line in format_outputs(outputs):
        console.echo(line)
    return outputs


def deploy(config_path: Path, env_name: str | None, yes: bool, replace_failed: bool,
           wait_timeout: float, outputs_file: Path | None, target_flags: dict) -> int:
    from infragen.deployment import DeployOptions, deploy_environment, write_outputs_file
    from infragen.errors import AwsError
    from infragen.output_paths import require_writable_file
    from infragen.render import stack_template

    cfg = load_env(config_path, env_name)
    if outputs_file:
        require_writable_file(outputs_file, "--outputs-file")
    rendered = stack_template(cfg, template_cache(config_path))
    template = json.loads(rendered)
    console = Console(assume_yes=yes)
    options = DeployOptions(replace_failed=replace_failed, wait_timeout_s=wait_timeout)
    with console.reporting_changes(), target_clients(cfg, config_path, console, target_flags) as clients:
        console.echo(f"Deploying {describe_target(clients, cfg)}")
        outcome = deploy_environment(clients, cfg, rendered, project_root(config_path), console,
                                     options)
        hardening_failed = None
        try:  # on every deploy, no-op included: verified, not inferred from "something changed"
            _harden(clients, cfg, template, outcome, console)
        except AwsError as exc:
            hardening_failed = exc  # reported after the outputs, which are still shown and written
        outputs = _show_outputs(console, template, outcome.outputs, outcome.outputs_are_resources,
                                clients.target.region)
        if outputs_file:
            write_outputs_file(outputs_file, outcome, outputs)
            console.echo(f"Outputs written to {outputs_file}")
        if hardening_failed:
            raise hardening_failed
    return EXIT_OK


def _harden(clients, cfg, template: dict, outcome, console: Console) -> None:
    """Verify (and apply) what CloudFormation cannot: the VPC's default security group has no rules.

    One DescribeSecurityGroups call when it holds; the VPC id comes from the stack's outputs or
    the physical ids the deploy already read, else from one listing of the stack's resources.
    """
    from infragen.function_env import stack_resolver
    from infragen.stack.names import VPC_OUTPUT, VPC_RESOURCE

    if VPC_RESOURCE not in template.get("Resources", {}):
        return
    vpc_id = outcome.outputs.get(VPC_RESOURCE if outcome.outputs_are_resources else VPC_OUTPUT)
    if not vpc_id:
        vpc_id = stack_resolver(clients.cloudformation, cfg.stack_name)(VPC_RESOURCE)
    if vpc_id:
        _lock_down(clients, vpc_id, console)


def _lock_down(clients, vpc_id: str, console: Console) -> None:
    from infragen.hardening import lock_down_default_security_group

    removed = lock_down_default_security_group(clients.ec2, vpc_id)
    if removed:
        console.record(f"removed {removed} rule(s) from the default security group of {vpc_id}")
        console.echo(f"Locked down the default security group of {vpc_id} "
                     f"({removed} rule(s) removed).")
    else:
        console.echo(f"Verified: the default security group of {vpc_id} has no rules.")


def harden(config_path: Path, env_name: str | None, target_flags: dict) -> int:
    """Re-apply the settings CloudFormation cannot express (deploy does this after each change)."""
    from infragen.errors import UsageError
    from infragen.function_env import stack_resolver
    from infragen.stack.names import VPC_RESOURCE

    cfg = load_env(config_path, env_name)
    console = Console()
    with target_clients(cfg, config_path, console, target_flags) as clients:
        vpc_id = stack_resolver(clients.cloudformation, cfg.stack_name)(VPC_RESOURCE)
        if not vpc_id:
            raise UsageError(f"stack {cfg.stack_name} is not deployed", hint="run `infragen deploy`")
        _lock_down(clients, vpc_id, console)
    console.echo(f"{cfg.stack_name}: default security group has no rules.")
    return EXIT_OK


def diff(config_path: Path, env_name: str | None, target_flags: dict,
         wait_timeout: float = 600.0) -> int:
    """Show what a deploy would change, without changing anything."""
    from infragen.deploy import stacks
    from infragen.deploy.aws_errors import aws_errors
    from infragen.deploy.flow import diff_template
    from infragen.artifacts import build_artifacts
    from infragen.deployment import PENDING_BUCKET, DeployOptions, deploy_request, with_template_url
    from infragen.render import stack_template
    from infragen.stack.names import ARTIFACT_BUCKET_PARAMETER

    cfg = load_env(config_path, env_name)
    console = Console()
    with target_clients(cfg, config_path, console, target_flags) as clients:
        with aws_errors(f"Reading stack {cfg.stack_name}"):
            deployed = stacks.describe(clients.cloudformation, cfg.stack_name)
        console.echo(f"Comparing with {describe_target(clients, cfg)}")
        artifacts = build_artifacts(cfg, project_root(config_path))
        request = deploy_request(cfg, stack_template(cfg), artifacts, deployed,
                                 DeployOptions(wait_timeout_s=wait_timeout))
        bucket = request.parameters[ARTIFACT_BUCKET_PARAMETER]
        if deployed is not None and bucket != PENDING_BUCKET:
            request = with_template_url(request, cfg, clients.s3, bucket, clients.target.region, console)
        rows = diff_template(clients.cloudformation, request, console)
    console.echo(f"{len(rows)} change(s); nothing was deployed.")
    return EXIT_OK


def status(config_path: Path, env_name: str | None, target_flags: dict) -> int:
    """Stack status, recent events, outputs, and which code is live."""
    from infragen import alerts
    from infragen.deploy import stacks
    from infragen.deploy.aws_errors import aws_errors
    from infragen.deploy.watch import format_event
    from infragen.artifacts import build_artifacts

    cfg = load_env(config_path, env_name)
    console = Console()
    with target_clients(cfg, config_path, console, target_flags) as clients:
        cfn = clients.cloudformation
        with aws_errors(f"Reading stack {cfg.stack_name}"):
            deployed = stacks.describe(cfn, cfg.stack_name)
            if deployed is None:
                console.echo(f"{describe_target(clients, cfg)}: not deployed.")
                return EXIT_OK
            console.echo(f"{describe_target(clients, cfg)}: {deployed.status}"
                         + (f" ({deployed.status_reason})" if deployed.status_reason else ""))
            events = cfn.describe_stack_events(StackName=deployed.stack_id)["StackEvents"]
            console.echo("Recent events:")
            for event in reversed(events[:RECENT_EVENTS]):
                console.echo("  " + format_event(event))
            outputs, are_resources, template = deployed.outputs, False, {}
            if not outputs:
                outputs, are_resources = stacks.physical_ids(cfn, deployed.stack_id), True
                template = stacks.deployed_template(cfn, deployed.stack_id)
        _show_outputs(console, template, outputs, are_resources, clients.target.region)
        code_lines = _code_status(clients, cfg, deployed, outputs if are_resources else None,
                                  build_artifacts(cfg, project_root(config_path)))
        topic = outputs.get("ErrorTopic" if are_resources else "ErrorTopicArn")
        alert_lines = alerts.alert_lines(clients.sns, topic, cfg)
    console.echo("Code:")
    for line in code_lines:
        console.echo(line)
    console.echo("Alerts (error topic subscribers):")
    for line in alert_lines:
        console.echo(line)
    return EXIT_OK


def _code_status(clients, cfg, deployed, physical: dict | None, local: dict) -> list[str]:
    """Per function: the stack's code key and the live function's CodeSha256, each against the local zip.

    The key says what the stack asked for; CodeSha256 (base64 sha256 of the zip Lambda runs)
    says what actually runs, which differs after an update that did not apply or an out-of-band
    code change.
    """
    from infragen.deploy.aws_errors import aws_errors
    from infragen.errors import AwsError
    from infragen.function_env import stack_resolver
    from infragen.stack.names import code_key_parameter, function_logical_id

    resolve = (lambda logical_id: physical.get(logical_id)) if physical is not None else \
        stack_resolver(clients.cloudformation, cfg.stack_name)
    lam = clients._client("lambda")  # created only here: no other command needs Lambda
    lines = []
    for name, artifact in local.items():
        key = deployed.parameters.get(code_key_parameter(name), "?")
        key_state = "same as local source" if key == artifact.key else "differs from local source"
        try:
            with aws_errors(f"Reading function {name}"):
                function = resolve(function_logical_id(name))
                live = (lam.get_function_configuration(FunctionName=function)["CodeSha256"]
                        if function else None)
        except AwsError as exc:
            live_state = f"live code unknown: {exc.message}"
        else:
            local_sha = base64.b64encode(bytes.fromhex(artifact.sha256)).decode()
            live_state = ("live code unknown: the function is not in the stack" if live is None
                          else "live code same as local source" if live == local_sha
                          else f"live code differs from local source (CodeSha256 {live})")
        lines.append(f"  {name}: {key} (stack parameter {key_state}; {live_state})")
    return lines


def destroy(config_path: Path, env_name: str | None, yes: bool, include_bootstrap: bool,
            wait_timeout: float, target_flags: dict, delete_secrets: bool = False) -> int:
    from infragen import secrets
    from infragen.deploy.flow import destroy as destroy_stack

    cfg = load_env(config_path, env_name)
    console = Console(assume_yes=yes)
    with console.reporting_changes(), target_clients(cfg, config_path, console, target_flags) as clients:
        if include_bootstrap:
            _refuse_bootstrap_in_use(clients.cloudformation, cfg, config_path)
        if clients.target.kind == "aws":
            console.warn("Lambda functions in a VPC leave network interfaces that AWS releases "
                         "slowly: deleting this stack can take 20-40 minutes.")
        for logical_id, kind, physical in _retained_resources(clients.cloudformation, cfg.stack_name):
            console.echo(f"Kept after the delete (DeletionPolicy Retain; infragen never deletes data): "
                         f"{kind} {physical or logical_id} ({logical_id})")
        kept = secrets.existing_parameters(clients.ssm, cfg)
        destroy_stack(clients.cloudformation, cfg.stack_name, console, wait_timeout)
        if kept and delete_secrets:
            gone = secrets.delete_secrets(clients.ssm, kept)
            console.record(f"deleted {len(gone)} SecureString parameter(s)")
            console.echo(f"Deleted the SecureString parameter(s): {', '.join(gone)}.")
        elif kept:
            console.warn(secrets.orphaned_secrets_notice(cfg, kept))
        if include_bootstrap:
            _destroy_bootstrap(clients, cfg, console, wait_timeout)
        else:
            console.echo(f"Kept the artifact stack {cfg.bootstrap_stack} (other environments may "
                         f"use it); pass --include-bootstrap to delete it and its bucket too.")
    return EXIT_OK


def _retained_resources(cfn, stack_name: str) -> list[tuple[str, str, str | None]]:
    """(logical id, type, physical id) of the deployed stack's resources a delete leaves in place."""
    from infragen.deploy import stacks
    from infragen.deploy.aws_errors import aws_errors

    with aws_errors(f"Reading stack {stack_name}"):
        deployed = stacks.describe(cfn, stack_name)
        if deployed is None:
            return []
        template = stacks.deployed_template(cfn, deployed.stack_id)
        kept = [(logical_id, resource.get("Type", "?"))
                for logical_id, resource in template.get("Resources", {}).items()
                if resource.get("DeletionPolicy") == "Retain"]
        ids = stacks.physical_ids(cfn, deployed.stack_id) if kept else {}
    return [(logical_id, kind, ids.get(logical_id)) for logical_id, kind in kept]


def _refuse_bootstrap_in_use(cfn, cfg, config_path: Path) -> None:
    """Refuse --include-bootstrap, before anything is deleted, while another environment's stack
    (same artifact stack, same account and region) still deploys code from the bucket."""
    from infragen.config import load_config
    from infragen.deploy import stacks
    from infragen.deploy.aws_errors import aws_errors
    from infragen.deploy.stack_status import State
    from infragen.errors import UsageError

    others = [env.stack_name for env in load_config(config_path).envs
              if env.bootstrap_stack == cfg.bootstrap_stack and env.stack_name != cfg.stack_name]
    with aws_errors(f"Checking which stacks use {cfg.bootstrap_stack}"):
        in_use = [name for name in others
                  if (found := stacks.describe(cfn, name)) and found.state is not State.ABSENT]
    if in_use:
        raise UsageError(f"refusing to delete the artifact stack {cfg.bootstrap_stack}: "
                         f"{', '.join(in_use)} still deploy code from it; nothing was deleted",
                         hint="destroy those environments first, or leave out --include-bootstrap")


def _destroy_bootstrap(clients, cfg, console: Console, wait_timeout: float) -> None:
    """Empty the artifact bucket and delete its stack (after `_refuse_bootstrap_in_use`).

    A bucket already deleted outside CloudFormation is skipped, not an error: the stack still goes.
    """
    from dataclasses import replace

    from infragen.artifact_bucket import bucket_exists
    from infragen.deploy.flow import destroy as destroy_stack
    from infragen.deployment import deployed_artifact_bucket
    from infragen.package import empty_bucket

    cfn = clients.cloudformation
    bucket = deployed_artifact_bucket(cfn, cfg)
    gone = bool(bucket) and not bucket_exists(clients.s3, bucket)
    if gone:
        console.warn(f"The artifact bucket {bucket} is already gone (deleted outside CloudFormation).")
        bucket = None
    console.confirm(f"Delete the artifact stack {cfg.bootstrap_stack}"
                    + (f" and every object version in s3://{bucket}?" if bucket else "?"),
                    refuse_hint="re-run with --yes to delete without a prompt")
    if bucket:
        emptied = empty_bucket(clients.s3, bucket)
        console.record(f"emptied s3://{bucket}")
        console.echo(f"Emptied s3://{bucket} ({emptied} object versions).")
    destroy_stack(cfn, cfg.bootstrap_stack, replace(console, assume_yes=True), wait_timeout,
                  gone_already=gone)


def bootstrap(config_path: Path, env_name: str | None, yes: bool, target_flags: dict,
              wait_timeout: float = 1800.0, replace_failed: bool = False) -> int:
    from infragen.deployment import DeployOptions, ensure_bootstrap

    cfg = load_env(config_path, env_name)
    console = Console(assume_yes=yes)
    with console.reporting_changes(), target_clients(cfg, config_path, console, target_flags) as clients:
        bucket = ensure_bootstrap(clients, cfg, console,
                                  DeployOptions(replace_failed=replace_failed, wait_timeout_s=wait_timeout))
    console.echo(f"Artifact bucket: {bucket}")
    return EXIT_OK


def package(config_path: Path, env_name: str | None, out_dir: Path | None,
            target_flags: dict) -> int:
    """Build the zips; write them to a folder, or upload them to the artifact bucket."""
    from infragen.artifacts import build_artifacts
    from infragen.errors import UsageError
    from infragen.package import upload_all

    cfg = load_env(config_path, env_name)
    console = Console()
    if out_dir:
        from infragen.output_paths import require_writable_dir

        require_writable_dir(out_dir, "--out")
    artifacts = build_artifacts(cfg, project_root(config_path))
    if out_dir:
        for artifact in artifacts.values():
            path = out_dir / artifact.key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(artifact.data)
            console.echo(f"  {artifact.function}: {path} ({artifact.size} bytes)")
        return EXIT_OK
    from infragen.deployment import deployed_artifact_bucket

    with target_clients(cfg, config_path, console, target_flags) as clients:
        bucket = deployed_artifact_bucket(clients.cloudformation, cfg)
        if not bucket:
            raise UsageError(f"the artifact stack {cfg.bootstrap_stack} is not deployed",
                             hint="run `infragen bootstrap` (or `infragen deploy`) first")
        console.echo(f"Packaging to s3://{bucket}/{cfg.artifact_prefix}/")
        upload_all(clients.s3, bucket, artifacts, console)
    return EXIT_OK


def prune(config_path: Path, env_name: str | None, older_than_days: float, yes: bool,
          target_flags: dict) -> int:
    """Show the artifacts no deployed environment references, then delete them (with consent)."""
    from infragen import prune as pruning
    from infragen.config import load_config
    from infragen.deployment import deployed_artifact_bucket

    cfg = load_env(config_path, env_name)
    console = Console(assume_yes=yes)
    with console.reporting_changes(), target_clients(cfg, config_path, console, target_flags) as clients:
        bucket = deployed_artifact_bucket(clients.cloudformation, cfg)
        if not bucket:
            console.echo(f"The artifact stack {cfg.bootstrap_stack} is not deployed: nothing to prune.")
            return EXIT_OK
        keep = pruning.referenced_keys(clients.cloudformation, load_config(config_path), cfg)
        doomed = pruning.candidates(clients.s3, bucket, cfg.artifact_prefix, keep, older_than_days)
        if not doomed:
            console.echo(f"Nothing to prune in s3://{bucket}/{cfg.artifact_prefix}/ ({len(keep)} "
                         f"referenced object(s) kept, none unreferenced older than "
                         f"{older_than_days:g} days).")
            return EXIT_OK
        for c in doomed:
            console.echo(f"  {c.key} ({c.size:,} bytes, {c.last_modified:%Y-%m-%d})")
        console.confirm(f"Delete these {len(doomed)} object version(s), which no deployed "
                        f"environment references, from s3://{bucket}?",
                        refuse_hint="nothing was deleted; pass --yes to delete without asking")
        pruning.delete(clients.s3, bucket, doomed, console)
    console.echo(f"Deleted {len(doomed)} object version(s) "
                 f"({sum(c.size for c in doomed):,} bytes) from s3://{bucket}.")
    return EXIT_OK
