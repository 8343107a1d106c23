"""Follow a stack operation to its end: bounded, throttling-tolerant, each new event printed once."""

from __future__ import annotations

from itertools import takewhile

from infragen.console import Console
from infragen.deploy import stack_status
from infragen.deploy.polling import Deadline, Timing, poll
from infragen.deploy.stacks import DeployedStack, describe
from infragen.errors import DeployFailed, Interrupted, WaitTimeout

_COLOURS = {"good": "green", "bad": "red", "neutral": None}
_NOISE = ("Resource creation cancelled", "Resource update cancelled")


class EventFeed:
    """The stack's events newer than a mark, each returned once, oldest first."""

    def __init__(self, cfn, stack_id: str):
        self._cfn = cfn
        self._stack_id = stack_id
        self._boundary: dict | None = None
        self._seen: set[str] = set()
        self.events: list[dict] = []  # every event returned since the mark, oldest first

    def mark(self) -> None:
        """Remember the newest existing event: call just before starting an operation."""
        events = self._cfn.describe_stack_events(StackName=self._stack_id).get("StackEvents", [])
        self._boundary = events[0] if events else None
        self.events = []  # the operation's root cause is looked for among its own events only

    def poll(self) -> list[dict]:
        """Events not returned before, reading pages (newest first) only back to the mark."""
        fresh: list[dict] = []
        request = {"StackName": self._stack_id}
        while True:
            page = self._cfn.describe_stack_events(**request)
            events = page.get("StackEvents", [])
            new = list(takewhile(lambda e: not self._is_old(e), events))
            fresh += new
            if len(new) < len(events) or not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
        fresh.reverse()
        self._seen.update(e["EventId"] for e in fresh)
        self.events.extend(fresh)
        return fresh

    def _is_old(self, event: dict) -> bool:
        if event["EventId"] in self._seen:
            return True
        mark = self._boundary
        return mark is not None and (event["EventId"] == mark["EventId"] or event["Timestamp"] < mark["Timestamp"])


def watch(
    cfn, stack: DeployedStack, console: Console, timing: Timing, feed: EventFeed, operation: str
) -> DeployedStack | None:
    """Print the events of a started `operation` ("create", "update", "delete") until it ends.

    Returns the final stack (None once deleted); raises DeployFailed with the root cause,
    WaitTimeout after `timing.timeout_s`, Interrupted on Ctrl-C. The operation itself is
    always left to CloudFormation.
    """

    def fetch() -> DeployedStack | None:
        current = describe(cfn, stack.stack_id)  # status first: events read after it include its cause
        for event in feed.poll() if current else ():
            colour = _COLOURS[stack_status.tone(event["ResourceStatus"])]
            console.echo(format_event(event), **({"fg": colour} if colour else {}))
        return current

    def finished(current: DeployedStack | None) -> bool:
        return current is None or stack_status.is_finished(current.status)

    hint = _follow_hint(operation, stack.name)
    try:
        final = poll(fetch, finished, timing)
    except Deadline as exc:
        last = exc.last.status if exc.last else "in progress"
        raise WaitTimeout(
            f"Stack {stack.name} is still {last} after {timing.timeout_s:g} s; "
            f"the {operation} continues on AWS.",
            hint=hint,
        ) from None
    except KeyboardInterrupt:
        raise Interrupted(f"Stopped watching; the {operation} of stack {stack.name} continues on AWS.", hint=hint)
    status = final.status if final else None
    if not stack_status.succeeded(status, deleting=operation == "delete"):
        raise DeployFailed(_failure_message(stack.name, operation, final, feed.events), hint=_failure_hint(final))
    return final


def root_cause(events: list[dict]) -> dict | None:
    """The oldest failed event, preferring resources over the stack itself; cancellations skipped."""
    failed = [
        e
        for e in events
        if stack_status.is_failed(e["ResourceStatus"]) and not e.get("ResourceStatusReason", "").startswith(_NOISE)
    ]
    own = [e for e in failed if e.get("PhysicalResourceId") != e.get("StackId")]
    return (own or failed or [None])[0]


def describe_failure(event: dict) -> str:
    """`Queue (AWS::SQS::Queue) CREATE_FAILED: <reason>`."""
    return (
        f"{event['LogicalResourceId']} ({event.get('ResourceType', '?')}) {event['ResourceStatus']}: "
        f"{event.get('ResourceStatusReason', 'no reason given')}"
    )


def _failure_message(name: str, operation: str, final: DeployedStack | None, events: list[dict]) -> str:
    status = final.status if final else "gone"
    lines = [f"The {operation} of stack {name} failed: {status}."]
    cause = root_cause(events)
    if cause:
        lines.append(f"Root cause: {describe_failure(cause)}")
    elif final and final.status_reason:
        lines.append(f"Reason: {final.status_reason}")
    return "\n".join(lines)


def _failure_hint(final: DeployedStack | None) -> str | None:
    """What the user can do next, given where the stack ended up."""
    if final is None:
        return None
    if final.state is stack_status.State.BROKEN:
        return stack_status.REPAIR_HINTS.get(final.status, "").format(stack=final.name) or None
    return {
        stack_status.State.FAILED_CREATE: "Fix the cause, then deploy again with --replace-failed "
        "(a stack whose creation failed must be deleted before it can be created again).",
        stack_status.State.READY: "The stack was rolled back to its previous state; fix the cause and deploy again.",
        stack_status.State.ABSENT: "The stack was deleted after the failure; fix the cause and deploy again.",
    }.get(final.state)


def _follow_hint(operation: str, name: str) -> str:
    """How to follow, and if possible cancel, an operation left running on AWS."""
    cancel = {
        "update": f"cancel it with `aws cloudformation cancel-update-stack --stack-name {name}`",
        "create": "stop it by deleting the stack (`infragen destroy`)",
    }.get(operation)
    return "Follow it with `infragen status`" + (f"; {cancel}." if cancel else ".")


def format_event(event: dict) -> str:
    """One line per event: local time, status, logical id, type, reason."""
    when = event["Timestamp"].astimezone().strftime("%H:%M:%S")
    line = f"{when}  {event['ResourceStatus']:<28} {event['LogicalResourceId']}  {event.get('ResourceType', '')}"
    reason = event.get("ResourceStatusReason")
    return f"{line}  {reason}" if reason else line
