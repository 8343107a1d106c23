import pytest

from infragen.deploy.stack_status import State, is_finished, state, succeeded, tone


@pytest.mark.parametrize(
    "status, expected",
    [
        (None, State.ABSENT),
        ("REVIEW_IN_PROGRESS", State.ABSENT),
        ("DELETE_COMPLETE", State.ABSENT),
        ("CREATE_COMPLETE", State.READY),
        ("UPDATE_COMPLETE", State.READY),
        ("UPDATE_ROLLBACK_COMPLETE", State.READY),
        ("IMPORT_COMPLETE", State.READY),
        ("ROLLBACK_COMPLETE", State.FAILED_CREATE),
        ("ROLLBACK_FAILED", State.FAILED_CREATE),
        ("CREATE_FAILED", State.FAILED_CREATE),
        ("CREATE_IN_PROGRESS", State.BUSY),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", State.BUSY),
        ("UPDATE_ROLLBACK_IN_PROGRESS", State.BUSY),
        ("DELETE_IN_PROGRESS", State.BUSY),
        ("UPDATE_ROLLBACK_FAILED", State.BROKEN),
        ("DELETE_FAILED", State.BROKEN),
    ],
)
def test_state_meanings(status, expected):
    assert state(status) is expected


def test_operation_outcomes():
    assert not is_finished("REVIEW_IN_PROGRESS")  # an executed change set has not started yet
    assert is_finished("UPDATE_ROLLBACK_COMPLETE") and is_finished(None)
    assert succeeded("UPDATE_COMPLETE") and not succeeded("UPDATE_ROLLBACK_COMPLETE")
    assert not succeeded("ROLLBACK_COMPLETE") and not succeeded("DELETE_COMPLETE")
    assert succeeded(None, deleting=True) and succeeded("DELETE_COMPLETE", deleting=True)
    assert not succeeded("DELETE_FAILED", deleting=True)
    assert [tone(s) for s in ("CREATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_IN_PROGRESS")] == [
        "bad", "bad", "good", "neutral"
    ]
