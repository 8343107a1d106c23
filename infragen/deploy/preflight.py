"""Bring an existing stack to a state a deploy can start from: wait out a running operation,
replace a stack whose creation failed (only with consent), refuse a broken one."""

from __future__ import annotations

from dataclasses import replace

from botocore.exceptions import ClientError

from infragen.console import Console
from infragen.deploy import stack_status
from infragen.deploy.aws_errors import code, message
from infragen.deploy.polling import Deadline, Timing, poll
from infragen.deploy.stacks import DeployedStack, describe
from infragen.deploy.stack_status import State
from infragen.deploy.watch import EventFeed, describe_failure, root_cause, watch
from infragen.errors import AwsError, DeployFailed, Interrupted, WaitTimeout


def prepare_stack(
    cfn, deployed: DeployedStack | None, console: Console, timing: Timing, *, replace_failed: bool
) -> DeployedStack | None:
    """The stack to deploy onto: READY, or None when the deploy must create it."""
    if deployed is not None and deployed.state is State.BUSY:
        deployed = wait_until_settled(cfn, deployed, console, timing)
    if deployed is None or deployed.state is State.ABSENT:
        return None
    if deployed.state is State.BROKEN:
        raise AwsError(
            f"Stack {deployed.name} is {deployed.status} and cannot be updated until it is repaired.",
            hint=stack_status.REPAIR_HINTS.get(deployed.status, "").format(stack=deployed.name) or None,
        )
    if deployed.state is State.FAILED_CREATE:
        replace_failed_stack(cfn, deployed, console, timing, confirmed=replace_failed)
        return None
    return deployed


def wait_until_settled(cfn, deployed: DeployedStack, console: Console, timing: Timing) -> DeployedStack | None:
    """Wait (bounded) for another operation on the stack to end; nothing is changed meanwhile."""
    console.echo(
        f"Stack {deployed.name} is {deployed.status}: another operation is running. "
        f"Waiting up to {timing.timeout_s:g} s for it to finish…"
    )
    try:
        return poll(
            lambda: describe(cfn, deployed.stack_id),
            lambda s: s is None or s.state is not State.BUSY,
            timing,
        )
    except Deadline as exc:
        status = exc.last.status if exc.last else deployed.status
        raise WaitTimeout(
            f"Stack {deployed.name} is still {status} after {timing.timeout_s:g} s; it was not changed.",
            hint="Deploy again once that operation has finished (`infragen status` shows it).",
        ) from None
    except KeyboardInterrupt:
        raise Interrupted(f"Stopped waiting for stack {deployed.name}; it was not changed.") from None


DELETE_WAIT_S = 3600  # `infragen destroy --wait-timeout` default; a replacement's delete waits as long


def replace_failed_stack(cfn, deployed: DeployedStack, console: Console, timing: Timing, *, confirmed: bool) -> None:
    """Explain why the stack cannot be updated, then delete it (with consent) so it can be created."""
    feed = EventFeed(cfn, deployed.stack_id)
    cause = root_cause(feed.poll())
    why = describe_failure(cause) if cause else deployed.status_reason or "no reason recorded"
    console.warn(
        f"Stack {deployed.name} is {deployed.status}: its creation failed, so CloudFormation cannot update it.\n"
        f"  Cause: {why}\n"
        f"  It must be deleted before it can be created again."
    )
    if not confirmed:  # --yes alone does not delete a stack: only --replace-failed or a "y" at the prompt
        console.confirm(
            f"Delete stack {deployed.name} and create it again?",
            refuse_hint="Re-run with --replace-failed to delete and recreate it, or delete it with `infragen destroy`.",
            needs_own_flag="--replace-failed",
        )
    # The delete waits as long as `infragen destroy` does by default: the network interfaces of
    # VPC Lambda functions take tens of minutes to release (AWS Lambda Developer Guide, "Giving
    # Lambda functions access to resources in an Amazon VPC": deleting can take up to 40 minutes),
    # and a create that failed after its functions existed has them to release.
    timing = replace(timing, timeout_s=max(timing.timeout_s, DELETE_WAIT_S))
    try:
        delete_and_wait(cfn, deployed, console, timing, feed)
    except DeployFailed as failure:
        stuck = _failed_to_delete(cfn, deployed)
        if not stuck:
            raise
        raise DeployFailed(
            f"{failure.message}\n  Stack {deployed.name} is DELETE_FAILED; not deleted: "
            f"{', '.join(stuck)}",
            hint=f"network interfaces of VPC functions can hold a subnet or security group for up "
                 f"to 40 minutes: wait, then `infragen destroy` (waits up to {DELETE_WAIT_S} s) and "
                 f"deploy again; or keep them: `aws cloudformation delete-stack --stack-name "
                 f"{deployed.name} --retain-resources {' '.join(stuck)}`") from None


def delete_and_wait(cfn, deployed: DeployedStack, console: Console, timing: Timing,
                       feed: EventFeed | None = None, *, gone_already: bool = False) -> None:
    """Delete the stack (consent already given) and wait (bounded) until it is gone.

    `gone_already`: its resources were deleted out of band (an artifact bucket), so any that
    CloudFormation then fails to delete are retained in a second delete instead of failing.
    """
    feed = feed or EventFeed(cfn, deployed.stack_id)
    console.echo(f"Deleting stack {deployed.name}…")
    feed.mark()
    request_delete(cfn, deployed, console)
    try:
        watch(cfn, deployed, console, timing, feed, "delete")
    except DeployFailed:
        stuck = _failed_to_delete(cfn, deployed) if gone_already else []
        if not stuck:
            raise
        console.warn(f"Stack {deployed.name} could not delete {', '.join(stuck)} (gone out of band "
                     f"with the bucket); deleting the stack again without them.")
        feed.mark()
        cfn.delete_stack(StackName=deployed.stack_id, RetainResources=stuck)
        watch(cfn, deployed, console, timing, feed, "delete")


def _failed_to_delete(cfn, deployed: DeployedStack) -> list[str]:
    """Logical ids CloudFormation failed to delete, when the stack ended DELETE_FAILED."""
    current = describe(cfn, deployed.stack_id)
    if current is None or current.status != "DELETE_FAILED":
        return []
    return [summary["LogicalResourceId"]
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=deployed.stack_id)
            for summary in page["StackResourceSummaries"] if summary["ResourceStatus"] == "DELETE_FAILED"]


def request_delete(cfn, deployed: DeployedStack, console: Console) -> None:
    """Ask CloudFormation to delete the stack and note it; an error for a stack that is gone anyway
    (some targets report a resource already deleted out of band) is a warning, not a failure."""
    try:
        cfn.delete_stack(StackName=deployed.stack_id)
    except ClientError as exc:
        current = describe(cfn, deployed.stack_id)
        if current is not None and current.state is not State.ABSENT:
            raise
        console.warn(f"The delete request reported {code(exc) or 'an error'} ({message(exc)}), "
                      f"yet stack {deployed.name} is gone.")
    console.record(f"deleted stack {deployed.name}")
