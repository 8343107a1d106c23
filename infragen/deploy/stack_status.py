"""The only module that knows CloudFormation's raw status strings; it reduces them to meanings."""

from __future__ import annotations

from enum import Enum


class State(Enum):
    ABSENT = "absent"  # no stack yet: deploy creates it
    READY = "ready"  # settled: deploy updates it
    FAILED_CREATE = "failed_create"  # first create failed: must be deleted before a create
    BUSY = "busy"  # an operation is running
    BROKEN = "broken"  # needs a manual repair first


_ABSENT = {None, "REVIEW_IN_PROGRESS", "DELETE_COMPLETE"}
_FAILED_CREATE = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"}
_BROKEN = {"UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_FAILED"}
_SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}

# How to get a broken stack moving again; {stack} is the stack name.
REPAIR_HINTS = {
    "UPDATE_ROLLBACK_FAILED": "Repair it with `aws cloudformation continue-update-rollback --stack-name {stack}` "
    "(add --resources-to-skip for resources that cannot roll back), then deploy again.",
    "DELETE_FAILED": "Delete it again with `infragen destroy`, or keep the stuck resources with "
    "`aws cloudformation delete-stack --stack-name {stack} --retain-resources <LogicalId>`.",
    "IMPORT_ROLLBACK_FAILED": "Fix the resources named in the stack events, then deploy again.",
}


def state(status: str | None) -> State:
    """Meaning of a stack status for the next deploy (None: no stack)."""
    if status in _ABSENT:
        return State.ABSENT
    if status in _FAILED_CREATE:
        return State.FAILED_CREATE
    if status in _BROKEN:
        return State.BROKEN
    if status.endswith("_IN_PROGRESS"):
        return State.BUSY
    return State.READY  # …_COMPLETE, UPDATE_ROLLBACK_COMPLETE, UPDATE_FAILED (rollback disabled)


def is_finished(status: str | None) -> bool:
    """True once a started operation has stopped (REVIEW_IN_PROGRESS: not started yet)."""
    return status is None or not status.endswith("_IN_PROGRESS")


def succeeded(status: str | None, *, deleting: bool = False) -> bool:
    """True if a finished operation did what was asked (None: the stack is gone)."""
    if deleting:
        return status in (None, "DELETE_COMPLETE")
    return status in _SUCCEEDED


def is_failed(status: str) -> bool:
    """True for an event status reporting that a stack or resource operation failed."""
    return status.endswith("_FAILED")


def tone(status: str) -> str:
    """'good', 'bad' or 'neutral': how an event status should look."""
    if is_failed(status) or "ROLLBACK" in status:
        return "bad"
    return "good" if status.endswith("_COMPLETE") else "neutral"
