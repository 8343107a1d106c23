import pytest

from infragen.deploy.polling import Timing, backoff
from infragen.deploy.stacks import DeployedStack
from infragen.deploy.watch import EventFeed, root_cause, watch
from infragen.errors import DeployFailed, Interrupted, WaitTimeout
from tests.deploy.helpers import STACK, STACK_ID, event, events_response, stacks_response, throttled

STACK_BEFORE = DeployedStack(STACK, STACK_ID, "UPDATE_COMPLETE")
OLD = event("e0", "UPDATE_COMPLETE", seconds=-60)  # the previous operation's last event: the mark


def timing(clock, timeout=600, interval=5.0):
    return Timing(timeout, interval, sleep=clock.sleep, clock=clock, jitter=lambda: 0.5)


def marked_feed(cfn):
    cfn.stub.add_response("describe_stack_events", events_response(OLD, event("e-1", "UPDATE_IN_PROGRESS", seconds=-70)))
    feed = EventFeed(cfn, STACK_ID)
    feed.mark()
    return feed


def test_failed_update_reports_the_oldest_resource_failure_as_root_cause(cfn, clock, console):
    feed = marked_feed(cfn)
    started = event("e1", "UPDATE_IN_PROGRESS", seconds=1, reason="User Initiated")
    q_start = event("e2", "UPDATE_IN_PROGRESS", "Queue", seconds=2)
    # first poll: in progress, two new events (newest first, then the old mark)
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(q_start, started, OLD))
    # second poll: rolled back; the queue failed first, the function's update was cancelled as a consequence
    later = [
        event("e8", "UPDATE_ROLLBACK_COMPLETE", seconds=30),
        event("e7", "UPDATE_FAILED", "Fn", seconds=9, rtype="AWS::Lambda::Function", reason="Resource update cancelled"),
        event("e6", "UPDATE_ROLLBACK_IN_PROGRESS", seconds=8,
              reason="The following resource(s) failed to update: [Queue]."),
        event("e5", "UPDATE_FAILED", "Queue", seconds=7, reason="Invalid value for the parameter VisibilityTimeout."),
        event("e4", "UPDATE_FAILED", "Api", seconds=6, rtype="AWS::ApiGateway::RestApi",
              reason="Resource creation cancelled"),
    ]
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_ROLLBACK_COMPLETE"))
    cfn.stub.add_response("describe_stack_events", events_response(*later, q_start, started, OLD))

    with pytest.raises(DeployFailed) as failure:
        watch(cfn, STACK_BEFORE, console, timing(clock), feed, "update")

    assert str(failure.value).splitlines()[:2] == [
        f"The update of stack {STACK} failed: UPDATE_ROLLBACK_COMPLETE.",
        "Root cause: Queue (AWS::SQS::Queue) UPDATE_FAILED: Invalid value for the parameter VisibilityTimeout.",
    ]
    assert "rolled back to its previous state" in failure.value.hint
    printed = [line.split()[1:3] for line in console.text.splitlines()]
    assert printed == [  # each event once, oldest first; nothing from before the mark
        ["UPDATE_IN_PROGRESS", STACK], ["UPDATE_IN_PROGRESS", "Queue"], ["UPDATE_FAILED", "Api"],
        ["UPDATE_FAILED", "Queue"], ["UPDATE_ROLLBACK_IN_PROGRESS", STACK], ["UPDATE_FAILED", "Fn"],
        ["UPDATE_ROLLBACK_COMPLETE", STACK],
    ]
    assert clock.sleeps == [5.0]


def test_root_cause_falls_back_to_the_stack_event_without_resource_events():
    events = [event("a", "CREATE_IN_PROGRESS"), event("b", "CREATE_FAILED", reason="Bad template")]
    assert root_cause(events)["ResourceStatusReason"] == "Bad template"
    assert root_cause([event("a", "CREATE_COMPLETE")]) is None


def test_an_operation_already_complete_after_execute_needs_no_sleep(cfn, clock, console):
    # moto executes change sets synchronously: the first look already shows the end
    feed = marked_feed(cfn)
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_COMPLETE"))
    cfn.stub.add_response(
        "describe_stack_events",
        events_response(event("e2", "UPDATE_COMPLETE", seconds=2), event("e1", "UPDATE_IN_PROGRESS", seconds=1), OLD),
    )
    final = watch(cfn, STACK_BEFORE, console, timing(clock), feed, "update")
    assert final.status == "UPDATE_COMPLETE" and clock.sleeps == []
    assert len(console.text.splitlines()) == 2


def test_event_pages_are_read_only_back_to_the_mark(cfn, clock, console):
    feed = marked_feed(cfn)
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_COMPLETE"))
    # a NextToken is offered, but the page already reaches the mark: no second page is requested
    cfn.stub.add_response("describe_stack_events", events_response(event("e1", "UPDATE_COMPLETE", seconds=1), OLD,
                                                                   next_token="more"))
    watch(cfn, STACK_BEFORE, console, timing(clock), feed, "update")


def test_newer_events_on_several_pages_are_all_read(cfn):
    feed = marked_feed(cfn)
    cfn.stub.add_response("describe_stack_events", events_response(event("e3", "X_COMPLETE", seconds=3), next_token="p2"))
    cfn.stub.add_response("describe_stack_events", events_response(event("e2", "X_IN_PROGRESS", seconds=2), OLD),
                          {"StackName": STACK_ID, "NextToken": "p2"})
    assert [e["EventId"] for e in feed.poll()] == ["e2", "e3"]


def test_throttling_backs_off_exponentially_with_jitter(cfn, clock, console):
    feed = marked_feed(cfn)
    for _ in range(3):
        throttled(cfn.stub, "describe_stacks")
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_IN_PROGRESS"))
    throttled(cfn.stub, "describe_stack_events")  # events throttled too: the whole poll is retried
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_COMPLETE"))
    cfn.stub.add_response("describe_stack_events", events_response(OLD))
    watch(cfn, STACK_BEFORE, console, timing(clock, interval=2.0), feed, "update")
    # four throttled polls in a row: ceiling doubles from the poll interval (4, 8, 16, then capped at 30);
    # half of it fixed, plus jitter (0.5 here) times the other half
    assert clock.sleeps == [3.0, 6.0, 12.0, 22.5]


def test_backoff_is_capped():
    t = Timing(600, 2.0, max_backoff_s=30.0, jitter=lambda: 1.0)
    assert backoff(10, t) == 30.0


def test_timeout_says_the_operation_continues_and_how_to_follow_or_cancel(cfn, clock, console):
    feed = marked_feed(cfn)
    for _ in range(3):
        cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_IN_PROGRESS"))
        cfn.stub.add_response("describe_stack_events", events_response(OLD))
    with pytest.raises(WaitTimeout) as timeout:
        watch(cfn, STACK_BEFORE, console, timing(clock, timeout=10), feed, "update")
    assert str(timeout.value).startswith(
        f"Stack {STACK} is still UPDATE_IN_PROGRESS after 10 s; the update continues on AWS."
    )
    assert "infragen status" in timeout.value.hint
    assert f"aws cloudformation cancel-update-stack --stack-name {STACK}" in timeout.value.hint
    assert timeout.value.exit_code == 5 and clock.now == 10


def test_ctrl_c_leaves_the_operation_to_cloudformation(cfn, clock, console):
    feed = marked_feed(cfn)
    cfn.stub.add_response("describe_stacks", stacks_response("CREATE_IN_PROGRESS"))
    cfn.stub.add_response("describe_stack_events", events_response(OLD))

    def interrupted(_seconds):
        raise KeyboardInterrupt

    t = Timing(600, 5.0, sleep=interrupted, clock=clock)
    with pytest.raises(Interrupted) as stop:
        watch(cfn, STACK_BEFORE, console, t, feed, "create")
    assert str(stop.value).startswith(f"Stopped watching; the create of stack {STACK} continues on AWS.")
    assert "infragen status" in stop.value.hint and "infragen destroy" in stop.value.hint
    assert stop.value.exit_code == 130


def test_a_deleted_stack_ends_a_delete(cfn, clock, console):
    feed = marked_feed(cfn)
    cfn.stub.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK_ID} does not exist", 400)
    assert watch(cfn, STACK_BEFORE, console, timing(clock), feed, "delete") is None
