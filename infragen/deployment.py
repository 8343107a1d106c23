"""`infragen deploy` end to end: bootstrap, package, pre-flight, change set, hardening, outputs.

Receives clients and a console; ordered so that an unchanged stack costs the fewest calls:
the deployed stack is read first, and lint, bootstrap and uploads happen only on a change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from infragen.artifact_bucket import bucket_exists, recovery_hint
from infragen.config import EnvConfig
from infragen.console import Console
from infragen.deploy import account, quotas, stacks
from infragen.deploy.aws_errors import aws_errors
from infragen.deploy.flow import DeployOutcome, DeployRequest, deploy_template
from infragen.deploy.stack_status import State
from infragen.errors import AwsError, UsageError
from infragen.artifacts import build_artifacts
from infragen.function_env import stack_resolver
from infragen.package import Artifact, upload_all
from infragen.project import STATE_DIR
from infragen.render import bootstrap_template
from infragen.stack.names import (
    ARTIFACT_BUCKET_OUTPUT,
    ARTIFACT_BUCKET_PARAMETER,
    ARTIFACT_BUCKET_RESOURCE,
    code_key_parameter,
)

PENDING_BUCKET = "<artifact bucket from the bootstrap stack>"
TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts as an inline TemplateBody


@dataclass(frozen=True)
class DeployOptions:
    replace_failed: bool = False
    wait_timeout_s: float = 1800.0
    poll_interval_s: float = 2.0


def stack_tags(cfg: EnvConfig) -> dict[str, str]:
    return {"infragen:environment": cfg.env, "infragen:stack": cfg.stack_name}


def code_parameters(bucket: str, artifacts: dict[str, Artifact]) -> dict[str, str]:
    return {ARTIFACT_BUCKET_PARAMETER: bucket,
            **{code_key_parameter(name): a.key for name, a in artifacts.items()}}


def ensure_bootstrap(clients, cfg: EnvConfig, console: Console, options: DeployOptions) -> str:
    """Create or update the artifact-bucket stack; return the bucket name read from it.

    A stack whose bucket was deleted outside CloudFormation is drift no update repairs: with
    consent (`--replace-failed`, or "y" at the prompt) it is deleted and created again.
    """
    cfn = clients.cloudformation
    with aws_errors(f"Reading stack {cfg.bootstrap_stack}"):
        deployed = stacks.describe(cfn, cfg.bootstrap_stack)
    if deployed and deployed.state is State.READY:
        bucket = deployed.outputs.get(ARTIFACT_BUCKET_OUTPUT) or deployed_artifact_bucket(cfn, cfg)
        if bucket and not bucket_exists(clients.s3, bucket):
            _recreate_bootstrap(cfn, deployed, bucket, console, options)
            deployed = None
    parameters = account.bootstrap_parameters(
        clients, cfg, stack_resolver(cfn, cfg.bootstrap_stack)
        if deployed and deployed.state is State.READY else lambda _: None, console)
    request = DeployRequest(
        stack_name=cfg.bootstrap_stack, template_body=bootstrap_template(cfg.bootstrap),
        parameters=parameters, tags={"infragen:stack": cfg.bootstrap_stack},
        replace_failed=options.replace_failed, wait_timeout_s=options.wait_timeout_s,
        poll_interval_s=options.poll_interval_s)
    outcome = deploy_template(cfn, request, console, deployed=deployed)
    again = account.second_pass(cfn, cfg, parameters, console)
    if again:  # the role exists now: set the account to it
        outcome = deploy_template(cfn, replace(request, parameters=again),
                                  replace(console, assume_yes=True))
    bucket = outcome.outputs.get(ARTIFACT_BUCKET_RESOURCE if outcome.outputs_are_resources
                                 else ARTIFACT_BUCKET_OUTPUT)
    if not bucket:
        raise AwsError(f"stack {cfg.bootstrap_stack} has no artifact bucket",
                       hint=f"inspect it with `aws cloudformation describe-stack-resources "
                            f"--stack-name {cfg.bootstrap_stack}`, or delete it and deploy again")
    return bucket


def _recreate_bootstrap(cfn, deployed: stacks.DeployedStack, bucket: str, console: Console,
                        options: DeployOptions) -> None:
    from infragen.deploy.polling import Timing
    from infragen.deploy.preflight import delete_and_wait

    console.warn(f"The artifact bucket {bucket} of stack {deployed.name} does not exist: it was "
                 f"deleted outside CloudFormation, and no update of the stack brings it back. "
                 f"The stack must be deleted and created again (nothing more is lost: the bucket "
                 f"is gone already).")
    if not options.replace_failed:
        console.confirm(f"Delete stack {deployed.name} and create it again?",
                        refuse_hint=recovery_hint(deployed.name), needs_own_flag="--replace-failed")
    with aws_errors(f"Deleting stack {deployed.name}"):
        delete_and_wait(cfn, deployed, console,
                           Timing(options.wait_timeout_s, options.poll_interval_s), gone_already=True)


def deployed_artifact_bucket(cfn, cfg: EnvConfig) -> str | None:
    """The bucket of the deployed bootstrap stack; None when that stack is not there."""
    from infragen.function_env import stack_resolver

    return stack_resolver(cfn, cfg.bootstrap_stack)(ARTIFACT_BUCKET_RESOURCE)


TEMPLATE_URL_LIMIT = 1_000_000  # bytes CloudFormation accepts from S3


def template_body(rendered: str) -> str:
    """The rendered template as compact JSON: the same content in about half the bytes."""
    body = json.dumps(json.loads(rendered), separators=(",", ":"), ensure_ascii=False)
    size = len(body.encode())
    if size > TEMPLATE_URL_LIMIT:
        raise UsageError(f"the template is {size} bytes, over CloudFormation's limit of "
                         f"{TEMPLATE_URL_LIMIT} for a template in S3; nothing was deployed",
                         hint="split the app into several infragen projects (one stack each)")
    return body


def template_artifact(cfg: EnvConfig, body: str) -> Artifact | None:
    """The template as an S3 object under a content-addressed key, when it is over the inline limit."""
    data = body.encode()
    if len(data) <= TEMPLATE_BODY_LIMIT:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return Artifact(function=f"{cfg.stack_name} template", data=data, sha256=digest,
                    key=f"{cfg.artifact_prefix}/templates/{cfg.stack_name}/{digest}.json",
                    content_type="application/json")


def template_url(bucket: str, key: str, region: str) -> str:
    """The virtual-hosted S3 URL CloudFormation reads a template from (AWS: TemplateURL)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def with_template_url(request: DeployRequest, cfg: EnvConfig, s3, bucket: str, region: str,
                      console: Console) -> DeployRequest:
    """Upload an over-limit template next to the code and point the request at it."""
    artifact = template_artifact(cfg, request.template_body)
    if artifact is None:
        return request
    upload_all(s3, bucket, {"template": artifact}, console)
    return replace(request, template_url=template_url(bucket, artifact.key, region))


def deploy_request(cfg: EnvConfig, rendered: str, artifacts: dict[str, Artifact],
                   deployed: stacks.DeployedStack | None,
                   options: DeployOptions = DeployOptions()) -> DeployRequest:
    """The request as far as it is known before anything is uploaded.

    The bucket comes from the deployed stack; with content-addressed keys, equal parameters mean
    the same code is already live.
    """
    known_bucket = (deployed.parameters.get(ARTIFACT_BUCKET_PARAMETER)
                    if deployed and deployed.state is State.READY else None)
    return DeployRequest(
        stack_name=cfg.stack_name,
        template_body=template_body(rendered),
        parameters=code_parameters(known_bucket or PENDING_BUCKET, artifacts),
        tags=stack_tags(cfg),
        replace_failed=options.replace_failed,
        wait_timeout_s=options.wait_timeout_s,
        poll_interval_s=options.poll_interval_s,
    )


def deploy_environment(clients, cfg: EnvConfig, rendered: str, root: Path, console: Console,
                       options: DeployOptions) -> DeployOutcome:
    """Deploy `rendered` (the template text `infragen render` writes) for one environment."""
    from infragen.lint import start_lint_gate

    cfn = clients.cloudformation
    artifacts = build_artifacts(cfg, root)
    with aws_errors(f"Reading stack {cfg.stack_name}"):
        deployed = stacks.describe(cfn, cfg.stack_name)
    request = deploy_request(cfg, rendered, artifacts, deployed, options)

    def prepare(request: DeployRequest) -> DeployRequest:
        """Only when something changes: quotas, then lint while the bootstrap and uploads run."""
        quotas.preflight(clients, rendered, deployed, console)  # before anything is created
        lint_verdict = start_lint_gate(rendered, f"{cfg.env}.json (rendered)", clients.target.region,
                                       root / STATE_DIR, console)
        bucket = ensure_bootstrap(clients, cfg, console, options)
        console.echo(f"Packaging to s3://{bucket}/{cfg.artifact_prefix}/")
        uploaded = upload_all(clients.s3, bucket, artifacts, console)
        if uploaded:
            console.record(f"uploaded {uploaded} zip(s) to s3://{bucket}")
        request = with_template_url(request, cfg, clients.s3, bucket, clients.target.region, console)
        lint_verdict()  # before any change set: a template with errors never reaches the app stack
        return replace(request, parameters=code_parameters(bucket, artifacts))

    return deploy_template(cfn, request, console, deployed=deployed, prepare=prepare)


def write_outputs_file(path: Path, outcome: DeployOutcome, outputs: dict[str, str]) -> None:
    """Outputs as JSON; physical ids too when the target returned no outputs."""
    document = {"stack": outcome.stack_name, "status": outcome.status, "outputs": outputs}
    if outcome.outputs_are_resources:
        document["physicalIds"] = outcome.outputs
    try:
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:  # checked before the deploy; this is a change since then
        raise UsageError(f"stack {outcome.stack_name} is deployed, but --outputs-file {path} could "
                         f"not be written: {exc.strerror or exc}",
                         hint="`infragen status` shows the outputs") from None
