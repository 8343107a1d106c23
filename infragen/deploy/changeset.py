"""Change sets: create one under a unique name, wait for it (bounded), read it, execute or discard it.

Every call after creation uses the change set's ARN, never its name. Botocore errors other
than the "no changes" forms propagate; callers add context.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from infragen.deploy.aws_errors import code, message
from infragen.deploy.polling import Deadline, Timing, poll
from infragen.errors import DeployFailed, Interrupted, WaitTimeout

_EMPTY_REASONS = ("didn't contain changes", "No updates are to be performed")
_SETTLED = {"CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"}


class NoChanges(Exception):
    """The change set would change nothing; it has already been deleted (or was never created)."""


@dataclass(frozen=True)
class ChangeSet:
    arn: str
    stack_id: str
    kind: str  # "CREATE" or "UPDATE"


def change_set_name(now: datetime, token: str) -> str:
    """A name that cannot collide: `infragen-<utc timestamp>-<random token>`."""
    return f"infragen-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{token}"


def create(
    cfn,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str],
    tags: Mapping[str, str],
    capabilities: list[str],
    *,
    update: bool,
    template_url: str | None = None,
) -> ChangeSet:
    """Create a CREATE or UPDATE change set; raise NoChanges if CloudFormation refuses an empty one.

    `template_url` (the same template in S3) replaces the body when the body is over the inline limit.
    """
    kind = "UPDATE" if update else "CREATE"
    template = {"TemplateURL": template_url} if template_url else {"TemplateBody": template_body}
    name = change_set_name(datetime.now(timezone.utc), secrets.token_hex(4))
    try:
        response = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=kind,
            **template,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],  # [] clears tags on update
            Capabilities=capabilities,
            Description="Created by infragen",
        )
    except ClientError as exc:
        if code(exc) == "ValidationError" and is_empty(message(exc)):
            raise NoChanges(message(exc)) from None
        raise
    except KeyboardInterrupt:  # the request may have reached CloudFormation: find it by its name
        _discard_named(cfn, stack_name, name, kind)
        raise Interrupted("Stopped before deploying; the change set was deleted and "
                          f"stack {stack_name} was not changed.") from None
    return ChangeSet(arn=response["Id"], stack_id=response["StackId"], kind=kind)


def _discard_named(cfn, stack_name: str, name: str, kind: str) -> None:
    """Delete a change set known only by its unique name, and for a CREATE the placeholder stack
    (REVIEW_IN_PROGRESS: no stack existed, so one in that state now is the change set's)."""
    try:
        found = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
    except (ClientError, BotoCoreError, ResponseParserError):
        return  # never created
    discard(cfn, ChangeSet(arn=found["ChangeSetId"], stack_id=found["StackId"], kind=kind))


def wait(cfn, change_set: ChangeSet, timing: Timing) -> list[dict]:
    """Wait until the change set is ready and return all its changes (every page).

    An empty change set is discarded and raises NoChanges; any other failure discards it and
    raises DeployFailed with CloudFormation's reason; running out of time or Ctrl-C discards it too.
    """
    try:
        page = poll(lambda: cfn.describe_change_set(ChangeSetName=change_set.arn), _settled, timing)
    except Deadline as exc:
        discard(cfn, change_set)
        status = exc.last["Status"] if exc.last else "unknown"
        raise WaitTimeout(
            f"The change set was still {status} after {timing.timeout_s:g} s; it was deleted and the stack was not changed.",
            hint="Try again, or allow more time with a longer wait timeout.",
        ) from None
    except KeyboardInterrupt:
        discard(cfn, change_set)
        raise Interrupted("Stopped before deploying; the change set was deleted and the stack was not changed.") from None
    if page["Status"] == "CREATE_COMPLETE":
        return _all_changes(cfn, change_set.arn, page)
    reason = page.get("StatusReason") or page["Status"]
    discard(cfn, change_set)
    if is_empty(reason):
        raise NoChanges(reason)
    raise DeployFailed(f"CloudFormation could not create the change set: {reason}")


def _settled(page: dict) -> bool:
    return page["Status"] in _SETTLED


def is_empty(reason: str) -> bool:
    """CloudFormation's wording for "this would change nothing"."""
    return any(text in reason for text in _EMPTY_REASONS)


def _all_changes(cfn, arn: str, page: dict) -> list[dict]:
    changes = list(page.get("Changes", []))
    while page.get("NextToken"):
        page = cfn.describe_change_set(ChangeSetName=arn, NextToken=page["NextToken"])
        changes.extend(page.get("Changes", []))
    return changes


def execute(cfn, change_set: ChangeSet) -> None:
    cfn.execute_change_set(ChangeSetName=change_set.arn)


def discard(cfn, change_set: ChangeSet) -> None:
    """Delete a change set that will not be executed, best effort (it is cleanup).

    A CREATE change set goes with the stack CloudFormation made to hold it: an empty
    REVIEW_IN_PROGRESS stack that would otherwise stay behind under the stack's name.
    """
    _best_effort(cfn.delete_change_set, ChangeSetName=change_set.arn)
    if change_set.kind == "CREATE":
        _best_effort(cfn.delete_stack, StackName=change_set.stack_id)


def _best_effort(call, **params) -> None:
    try:
        call(**params)
    except (ClientError, BotoCoreError, ResponseParserError):
        pass
