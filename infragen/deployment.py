"""`infragen deploy` end to end: bootstrap, package, pre-flight, change set, hardening, outputs.

Receives clients and a console; ordered so that an unchanged stack costs the fewest calls:
the deployed stack is read first, and lint, bootstrap and uploads happen only on a change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from infragen.config import EnvConfig
from infragen.console import Console
from infragen.deploy import stacks
from infragen.deploy.aws_errors import aws_errors
from infragen.deploy.flow import DeployOutcome, DeployRequest, deploy_template
from infragen.deploy.stack_status import State
from infragen.errors import AwsError, UsageError
from infragen.package import Artifact, build_zip, upload_all
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


def build_artifacts(cfg: EnvConfig, root: Path) -> dict[str, Artifact]:
    """One reproducible zip per function, built in memory and verified (no AWS call)."""
    from infragen.stack.functions import HANDLER

    return {fn.name: build_zip(root / "lambda_src", fn.name, cfg.artifact_prefix,
                               handler=HANDLER, runtime=fn.runtime)
            for fn in cfg.functions}


def code_parameters(bucket: str, artifacts: dict[str, Artifact]) -> dict[str, str]:
    return {ARTIFACT_BUCKET_PARAMETER: bucket,
            **{code_key_parameter(name): a.key for name, a in artifacts.items()}}


def ensure_bootstrap(cfn, cfg: EnvConfig, console: Console, options: DeployOptions) -> str:
    """Create or update the artifact-bucket stack; return the bucket name read from it."""
    outcome = deploy_template(cfn, DeployRequest(
        stack_name=cfg.bootstrap_stack, template_body=bootstrap_template(),
        tags={"infragen:stack": cfg.bootstrap_stack}, replace_failed=options.replace_failed,
        wait_timeout_s=options.wait_timeout_s, poll_interval_s=options.poll_interval_s,
    ), console)
    bucket = outcome.outputs.get(ARTIFACT_BUCKET_RESOURCE if outcome.outputs_are_resources
                                 else ARTIFACT_BUCKET_OUTPUT)
    if not bucket:
        raise AwsError(f"stack {cfg.bootstrap_stack} has no artifact bucket",
                       hint=f"inspect it with `aws cloudformation describe-stack-resources "
                            f"--stack-name {cfg.bootstrap_stack}`, or delete it and deploy again")
    return bucket


def deployed_artifact_bucket(cfn, cfg: EnvConfig) -> str | None:
    """The bucket of the deployed bootstrap stack; None when that stack is not there."""
    from infragen.function_env import stack_resolver

    return stack_resolver(cfn, cfg.bootstrap_stack)(ARTIFACT_BUCKET_RESOURCE)


def template_body(rendered: str) -> str:
    """The rendered template as compact JSON: the same content in about half the bytes."""
    body = json.dumps(json.loads(rendered), separators=(",", ":"), ensure_ascii=False)
    size = len(body.encode())
    if size > TEMPLATE_BODY_LIMIT:
        raise UsageError(f"the template is {size} bytes, over CloudFormation's inline limit of "
                         f"{TEMPLATE_BODY_LIMIT}; nothing was deployed",
                         hint="split the stack, or teach the deploy to pass TemplateURL")
    return body


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
    from infragen.lint import lint_gate

    cfn = clients.cloudformation
    artifacts = build_artifacts(cfg, root)
    with aws_errors(f"Reading stack {cfg.stack_name}"):
        deployed = stacks.describe(cfn, cfg.stack_name)
    request = deploy_request(cfg, rendered, artifacts, deployed, options)

    def prepare(request: DeployRequest) -> DeployRequest:
        """Only when something changes: lint, bootstrap, upload."""
        lint_gate(rendered, f"{cfg.env}.json (rendered)", clients.target.region,
                  root / STATE_DIR, console)
        bucket = ensure_bootstrap(cfn, cfg, console, options)
        console.echo(f"Packaging to s3://{bucket}/{cfg.artifact_prefix}/")
        upload_all(clients.s3, bucket, artifacts, console)
        return replace(request, parameters=code_parameters(bucket, artifacts))

    return deploy_template(cfn, request, console, deployed=deployed, prepare=prepare)


def write_outputs_file(path: Path, outcome: DeployOutcome, outputs: dict[str, str]) -> None:
    """Outputs as JSON; physical ids too when the target returned no outputs."""
    document = {"stack": outcome.stack_name, "status": outcome.status, "outputs": outputs}
    if outcome.outputs_are_resources:
        document["physicalIds"] = outcome.outputs
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
