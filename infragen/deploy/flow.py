"""Deploy, diff and destroy one stack: the change-set steps tied together, with review and consent."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from botocore.exceptions import ClientError

from infragen.console import Console
from infragen.deploy import changeset, review, stacks
from infragen.deploy.aws_errors import aws_errors, code, message
from infragen.deploy.index_changes import index_change_problems
from infragen.deploy.polling import Timing
from infragen.deploy.preflight import delete_and_wait, prepare_stack
from infragen.deploy.stack_status import State
from infragen.deploy.table import table
from infragen.deploy.watch import EventFeed, watch
from infragen.errors import AwsError, DeployFailed, Interrupted, UsageError


@dataclass(frozen=True)
class DeployRequest:
    stack_name: str
    template_body: str  # JSON
    template_url: str | None = None  # the same template in S3, sent instead of a body over the inline limit
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    replace_failed: bool = False  # delete and recreate a stack whose creation failed, without asking
    wait_timeout_s: float = 1800.0  # bound on each wait: a running operation, the change set, the deploy
    poll_interval_s: float = 2.0


@dataclass(frozen=True)
class DeployOutcome:
    stack_name: str
    changed: bool
    status: str | None  # final stack status
    outputs: dict[str, str] = field(default_factory=dict)
    outputs_are_resources: bool = False  # the stack had no Outputs: `outputs` maps logical → physical ids
    rows: tuple[review.ChangeRow, ...] = ()


Sleep = Callable[[float], None]
Clock = Callable[[], float]


_DESCRIBE = object()  # sentinel: describe the stack here


def deploy_template(
    cfn,
    request: DeployRequest,
    console: Console,
    *,
    deployed: stacks.DeployedStack | None | object = _DESCRIBE,
    prepare: Callable[[DeployRequest], DeployRequest] | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> DeployOutcome:
    """Bring the stack to `request`'s template, parameters and tags, after showing what changes.

    A provable no-op creates no change set and costs two API calls (three when the stack has no
    Outputs and its physical ids are listed instead); an empty change set is deleted and
    reported as "No changes" (success, not an error). `deployed` may be passed when the caller
    has already described the stack; `prepare` runs only when something changes, before the
    change set is created (lint, uploads), and returns the request to deploy.
    """
    name = request.stack_name
    timing = Timing(request.wait_timeout_s, request.poll_interval_s, sleep=sleep, clock=clock)
    new_template = stacks.parse_template(request.template_body)
    if deployed is _DESCRIBE:
        with aws_errors(f"Reading stack {name}"):
            deployed = stacks.describe(cfn, name)
    with aws_errors(f"Preparing stack {name} for the deploy"):
        deployed = prepare_stack(cfn, deployed, console, timing, replace_failed=request.replace_failed)
        old_template = stacks.deployed_template(cfn, deployed.stack_id) if deployed else {}
    if deployed and _unchanged(deployed, old_template, request):
        _say_no_changes(console, deployed)
        return _outcome(cfn, deployed, changed=False)
    if problems := index_change_problems(old_template, new_template):  # before any upload or change set
        raise UsageError(f"Stack {name} cannot be updated in one deploy: " + "; ".join(problems),
                         hint="nothing was deployed")

    if prepare is not None:
        request = prepare(request)
    with aws_errors(f"Creating a change set for stack {name}"):
        try:
            change_set, changes = _create_and_wait(cfn, request, new_template, deployed, timing)
        except changeset.NoChanges:
            differing = stacks.parameter_differences(deployed, request.parameters, new_template)
            if differing:
                return _update_directly(cfn, request, deployed, old_template, new_template, differing,
                                        console, timing)
            _say_no_changes(console, deployed)
            return _outcome(cfn, deployed, changed=False)

    try:  # declined, no terminal, Ctrl-C while reviewing or at the prompt: leave nothing behind
        rows = _show_review(changes, old_template, new_template, deployed, request, console)
        _confirm(console, f"Deploy {len(rows)} change(s) to stack {name}?", rows)
    except KeyboardInterrupt:
        changeset.discard(cfn, change_set)
        raise Interrupted("Stopped before deploying; the change set was deleted and "
                          f"stack {name} was not changed.") from None
    except BaseException:
        changeset.discard(cfn, change_set)
        raise
    operation = "update" if deployed else "create"
    stack = deployed or stacks.DeployedStack(name=name, stack_id=change_set.stack_id, status="REVIEW_IN_PROGRESS")
    with aws_errors(f"Executing the change set for stack {name}"):
        feed = EventFeed(cfn, stack.stack_id)
        feed.mark()
        changeset.execute(cfn, change_set)
        console.record(f"{operation}d stack {name}")
        console.echo(f"Deploying stack {name} ({operation})…")
        final = watch(cfn, stack, console, timing, feed, operation)
    console.echo(f"Stack {name}: {final.status}.", fg="green")
    return _outcome(cfn, final, changed=True, rows=rows)


def _update_directly(cfn, request: DeployRequest, deployed: stacks.DeployedStack, old_template: dict,
                     new_template: dict, differing: dict[str, tuple[str, str]], console: Console,
                     timing: Timing) -> DeployOutcome:
    """infragen's own comparison wins over an empty change set: parameters that differ are deployed.

    Some targets compare a change set with the stack as first created (the local emulator does),
    so a roll-back to earlier values comes back empty. The stack is then updated directly with the
    same template and parameters, after the same review and consent; if the target still refuses,
    or the parameters still differ afterwards, the deploy fails (never "No changes").
    """
    name = request.stack_name
    listed = ", ".join(f"{key} {old!r} → {new!r}" for key, (old, new) in sorted(differing.items()))
    console.warn(f"The change set for stack {name} came back empty, yet these parameters differ from "
                 f"the deployed stack: {listed}. Deploying them with a direct stack update.")
    rows = _show_review([], old_template, new_template, deployed, request, console)
    _confirm(console, f"Deploy {len(rows)} change(s) to stack {name}?", rows)
    refused = (f"Stack {name} was not updated: the target reports no changes although its parameters "
               f"differ ({listed})")
    with aws_errors(f"Updating stack {name}"):
        feed = EventFeed(cfn, deployed.stack_id)
        feed.mark()
        try:
            cfn.update_stack(
                StackName=deployed.stack_id,
                **({"TemplateURL": request.template_url} if request.template_url
                   else {"TemplateBody": request.template_body}),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in request.parameters.items()],
                Tags=[{"Key": k, "Value": v} for k, v in request.tags.items()],
                Capabilities=stacks.required_capabilities(new_template),
            )
        except ClientError as exc:
            if code(exc) == "ValidationError" and changeset.is_empty(message(exc)):
                raise DeployFailed(f"{refused}.", hint=_STILL_DIFFERS_HINT) from None
            raise
        console.record(f"updated stack {name}")
        console.echo(f"Deploying stack {name} (update)…")
        final = watch(cfn, deployed, console, timing, feed, "update")
        left = stacks.parameter_differences(final, request.parameters, new_template)
    if left:
        raise DeployFailed(f"{refused}: after the update, {', '.join(sorted(left))} still differ.",
                           hint=_STILL_DIFFERS_HINT)
    console.echo(f"Stack {name}: {final.status}.", fg="green")
    return _outcome(cfn, final, changed=True, rows=rows)


_STILL_DIFFERS_HINT = ("`infragen status` shows the live values; deploy again, or replace the stack "
                       "(`infragen destroy`, then `infragen deploy`) if the target keeps them")


def diff_template(
    cfn, request: DeployRequest, console: Console, *, sleep: Sleep = time.sleep, clock: Clock = time.monotonic
) -> list[review.ChangeRow]:
    """Show what deploying `request` would change; never executes anything.

    An existing stack is compared through a change set (created, read, deleted); a stack that
    does not exist yet, or would be replaced, is compared locally without creating anything.
    """
    name = request.stack_name
    timing = Timing(request.wait_timeout_s, request.poll_interval_s, sleep=sleep, clock=clock)
    new_template = stacks.parse_template(request.template_body)
    with aws_errors(f"Comparing with stack {name}"):
        deployed = stacks.describe(cfn, name)
        state = deployed.state if deployed else State.ABSENT
        if state is State.BUSY or state is State.BROKEN:
            raise AwsError(f"Stack {name} is {deployed.status}; CloudFormation cannot compute a change set now.")
        if state is not State.READY:
            if deployed and state is State.FAILED_CREATE:
                console.warn(f"Stack {name} is {deployed.status}: a deploy would delete and recreate it.")
            return _show_review(review.local_changes({}, new_template), {}, new_template, None, request, console)
        old_template = stacks.deployed_template(cfn, deployed.stack_id)
        if _unchanged(deployed, old_template, request):
            _say_no_changes(console, deployed)
            return []
        try:
            change_set, changes = _create_and_wait(cfn, request, new_template, deployed, timing)
        except changeset.NoChanges:
            if not stacks.parameter_differences(deployed, request.parameters, new_template):
                _say_no_changes(console, deployed)
                return []
            changes = []  # infragen's comparison wins, as in a deploy: the parameters are shown
            console.warn(f"The change set for stack {name} came back empty, yet parameters differ "
                         f"from the deployed stack; a deploy applies them with a direct update.")
        else:
            changeset.discard(cfn, change_set)
    for problem in index_change_problems(old_template, new_template):  # `deploy` would refuse these
        console.warn(problem)
    return _show_review(changes, old_template, new_template, deployed, request, console)


def destroy(
    cfn,
    stack_name: str,
    console: Console,
    timeout_s: float,
    *,
    poll_interval_s: float = 2.0,
    gone_already: bool = False,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> None:
    """Delete the stack and every resource it owns, after confirmation; wait (bounded) for the end.

    `gone_already`: some resources were deleted out of band; ones CloudFormation then fails to
    delete are retained rather than leaving the stack DELETE_FAILED.
    """
    timing = Timing(timeout_s, poll_interval_s, sleep=sleep, clock=clock)
    with aws_errors(f"Deleting stack {stack_name}"):
        deployed = stacks.describe(cfn, stack_name)
        if deployed is None:
            console.echo(f"Stack {stack_name} does not exist; nothing to delete.")
            return
        console.confirm(
            f"Delete stack {stack_name} ({deployed.status}) and all its resources?",
            refuse_hint="Re-run with --yes to delete without a prompt.",
        )
        delete_and_wait(cfn, deployed, console, timing, gone_already=gone_already)
    console.echo(f"Stack {stack_name} deleted.", fg="green")


def format_outputs(outputs: Mapping[str, str], *, are_resources: bool = False) -> list[str]:
    """Outputs (or, failing those, logical → physical ids) as a plain-text table."""
    header = ("Resource", "Physical id") if are_resources else ("Output", "Value")
    return table(header, sorted(outputs.items())) if outputs else []


def _unchanged(deployed: stacks.DeployedStack, old_template: dict, request: DeployRequest) -> bool:
    return stacks.is_unchanged(deployed, old_template, request.template_body, request.parameters, request.tags)


def _create_and_wait(
    cfn, request: DeployRequest, new_template: dict, deployed: stacks.DeployedStack | None, timing: Timing
) -> tuple[changeset.ChangeSet, list[dict]]:
    change_set = changeset.create(
        cfn,
        request.stack_name,
        request.template_body,
        request.parameters,
        request.tags,
        stacks.required_capabilities(new_template),
        update=deployed is not None,
        template_url=request.template_url,
    )
    return change_set, changeset.wait(cfn, change_set, timing)


def _show_review(
    changes: list[dict],
    old_template: dict,
    new_template: dict,
    deployed: stacks.DeployedStack | None,
    request: DeployRequest,
    console: Console,
) -> list[review.ChangeRow]:
    """The change set as rows (with the parameter-driven changes of an existing stack), shown."""
    rows = review.review_rows(changes, old_template, new_template)
    if deployed:
        rows = review.with_parameter_changes(rows, deployed.parameters, request.parameters, new_template)
    for line in review.render(rows):
        console.echo(line)
    return rows


def _say_no_changes(console: Console, deployed: stacks.DeployedStack) -> None:
    console.echo(f"No changes: stack {deployed.name} is up to date ({deployed.status}).")


def _confirm(console: Console, question: str, rows: list[review.ChangeRow]) -> None:
    broad = sum(1 for row in rows if row.broadens)
    if broad:
        console.warn(f"{broad} change(s) broaden access: review the lines marked '!' above.")
    console.confirm(
        question,
        refuse_hint="Review with `infragen diff`, then re-run with --yes to deploy without a prompt (e.g. in CI).",
    )


def _outcome(
    cfn, stack: stacks.DeployedStack, *, changed: bool, rows: list[review.ChangeRow] = ()
) -> DeployOutcome:
    outputs, are_resources = stack.outputs, False
    if not outputs:
        with aws_errors(f"Listing the resources of stack {stack.name}"):
            outputs, are_resources = stacks.physical_ids(cfn, stack.stack_id), True
    return DeployOutcome(stack.name, changed, stack.status, outputs, are_resources, tuple(rows))
