import io
import json

import click
import pytest
from botocore.stub import ANY

from infragen.deploy.flow import DeployRequest, deploy_template, destroy, diff_template, format_outputs
from infragen.errors import Aborted, DeployFailed, WaitTimeout
from tests.deploy.helpers import (
    CS_ARN,
    CapturingConsole,
    STACK,
    STACK_ID,
    change_set_response,
    event,
    events_response,
    missing_stack,
    resource_change,
    stacks_response,
    template,
)

QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}}
DEPLOYED = template(Queue=QUEUE)
NEW = template(Queue={**QUEUE, "Properties": {"VisibilityTimeout": 60}})
OUTPUTS = {"QueueUrl": "https://sqs/q"}
NEW_ID = STACK_ID.replace("1111-2222", "5555-6666")


def request(tpl=NEW, **kw):
    return DeployRequest(STACK, json.dumps(tpl), wait_timeout_s=kw.pop("wait_timeout_s", 600), poll_interval_s=5, **kw)


def run(cfn, console, clock, tpl=NEW, **kw):
    return deploy_template(cfn, request(tpl, **kw), console, sleep=clock.sleep, clock=clock)


def expect_describe(cfn, status, name=STACK, **kw):
    cfn.stub.add_response("describe_stacks", stacks_response(status, **kw), {"StackName": name})


def expect_template(cfn, tpl=DEPLOYED):
    expected = {"StackName": STACK_ID, "TemplateStage": "Original"}
    cfn.stub.add_response("get_template", {"TemplateBody": json.dumps(tpl)}, expected)


def expect_change_set(cfn, kind, changes, stack_id=STACK_ID):
    params = {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": kind, "TemplateBody": ANY, "Parameters": [],
              "Tags": [], "Capabilities": ANY, "Description": ANY}
    cfn.stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": stack_id}, params)
    cfn.stub.add_response("describe_change_set", change_set_response(changes=changes), {"ChangeSetName": CS_ARN})


def expect_execution(cfn, final, stack_id=STACK_ID, outputs=OUTPUTS):
    mark = event("m", "REVIEW_IN_PROGRESS", seconds=-5)
    cfn.stub.add_response("describe_stack_events", events_response(mark), {"StackName": stack_id})
    cfn.stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ARN})
    final_stack = stacks_response(final, stack_id=stack_id, outputs=outputs)
    cfn.stub.add_response("describe_stacks", final_stack, {"StackName": stack_id})
    cfn.stub.add_response("describe_stack_events", events_response(event("d", final, seconds=3), mark))


# --- no changes ----------------------------------------------------------------------------------------


def test_a_no_op_redeploy_costs_two_calls_and_creates_no_change_set(cfn, console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_template(cfn, NEW)
    outcome = run(cfn, console, clock)  # the stubber fails on any call not queued
    assert (outcome.changed, outcome.outputs, outcome.status) == (False, OUTPUTS, "UPDATE_COMPLETE")
    assert "No changes" in console.text


def test_no_changes_from_an_empty_change_set_is_success(cfn, console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE", outputs=OUTPUTS, tags={"old": "tag"})  # tags differ: no fast path
    expect_template(cfn, NEW)
    cfn.stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    reason = "The submitted information didn't contain changes. Submit different information to create a change set."
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason=reason))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    assert run(cfn, console, clock).changed is False
    assert "No changes" in console.text


def test_no_changes_when_create_change_set_refuses(cfn, console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_template(cfn, DEPLOYED)
    cfn.stub.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    assert run(cfn, console, clock).changed is False


# --- create / update --------------------------------------------------------------------------------------


def test_review_in_progress_counts_as_absent_and_gets_a_create_change_set(cfn, yes_console, clock):
    expect_describe(cfn, "REVIEW_IN_PROGRESS")  # left by an earlier, never executed CREATE change set
    expect_change_set(cfn, "CREATE", [resource_change("Add", "Queue", "AWS::SQS::Queue")])
    expect_execution(cfn, "CREATE_COMPLETE")
    outcome = run(cfn, yes_console, clock)
    assert (outcome.changed, outcome.status, outcome.outputs) == (True, "CREATE_COMPLETE", OUTPUTS)
    assert [r.action for r in outcome.rows] == ["Add"]


def test_update_shows_property_changes_then_deploys(cfn, yes_console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE")
    expect_template(cfn)
    expect_change_set(cfn, "UPDATE", [resource_change("Modify", "Queue", "AWS::SQS::Queue")])
    expect_execution(cfn, "UPDATE_COMPLETE")
    run(cfn, yes_console, clock)
    assert "    Properties.VisibilityTimeout: 30 → 60" in yes_console.text.splitlines()


def test_without_a_terminal_or_yes_the_deploy_is_refused_and_the_change_set_deleted(cfn, console, clock):
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
    expect_describe(cfn, "UPDATE_COMPLETE")
    expect_template(cfn)
    expect_change_set(cfn, "UPDATE", [resource_change("Add", "Role", "AWS::IAM::Role")])
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    with pytest.raises(Aborted) as refused:
        run(cfn, console, clock, tpl=template(Queue=QUEUE, Role=role))
    assert "--yes" in refused.value.hint
    assert "1 change(s) broaden access" in console.warnings
    assert "! broadens access: trust policy: allows sts:AssumeRole to Service:lambda.amazonaws.com" in console.text


def test_a_declined_first_deploy_leaves_neither_change_set_nor_placeholder_stack(cfn, console, clock):
    missing_stack(cfn.stub)
    expect_change_set(cfn, "CREATE", [resource_change("Add", "Queue", "AWS::SQS::Queue")])
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})  # the empty REVIEW_IN_PROGRESS stack
    with pytest.raises(Aborted):
        run(cfn, console, clock)


def test_without_outputs_the_physical_ids_are_returned_and_marked_so(cfn, yes_console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE")
    expect_template(cfn)
    expect_change_set(cfn, "UPDATE", [resource_change("Modify", "Queue", "AWS::SQS::Queue")])
    expect_execution(cfn, "UPDATE_COMPLETE", outputs=None)
    cfn.stub.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [
            {"LogicalResourceId": "Queue", "PhysicalResourceId": "https://sqs/q", "ResourceType": "AWS::SQS::Queue",
             "LastUpdatedTimestamp": "2026-11-27T12:00:00Z", "ResourceStatus": "UPDATE_COMPLETE"}]},
        {"StackName": STACK_ID},
    )
    outcome = run(cfn, yes_console, clock)
    assert (outcome.outputs, outcome.outputs_are_resources) == ({"Queue": "https://sqs/q"}, True)
    assert format_outputs(outcome.outputs, are_resources=True)[2].split() == ["Queue", "https://sqs/q"]


# --- a stack whose creation failed ----------------------------------------------------------------------------

FAILED_EVENTS = events_response(
    event("f3", "ROLLBACK_COMPLETE", seconds=9),
    event("f2", "CREATE_FAILED", "Queue", seconds=5, reason="Queue name already exists"),
    event("f1", "CREATE_IN_PROGRESS", seconds=1, reason="User Initiated"),
)


def test_rollback_complete_is_explained_and_not_replaced_without_consent(cfn, console, clock):
    expect_describe(cfn, "ROLLBACK_COMPLETE", reason="The following resource(s) failed to create: [Queue].")
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})
    with pytest.raises(Aborted) as refused:
        run(cfn, console, clock)  # no delete_stack queued: the stubber would fail if it were called
    assert "--replace-failed" in refused.value.hint
    assert "ROLLBACK_COMPLETE" in console.warnings
    assert "Cause: Queue (AWS::SQS::Queue) CREATE_FAILED: Queue name already exists" in console.warnings


def expect_replacement(cfn):
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})  # the cause
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})  # the mark
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_IN_PROGRESS"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(event("g1", "DELETE_IN_PROGRESS", seconds=20),
                                                                   *FAILED_EVENTS["StackEvents"]))
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_COMPLETE"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(event("g2", "DELETE_COMPLETE", seconds=40),
                                                                   event("g1", "DELETE_IN_PROGRESS", seconds=20)))
    expect_change_set(cfn, "CREATE", [resource_change("Add", "Queue", "AWS::SQS::Queue")], stack_id=NEW_ID)
    expect_execution(cfn, "CREATE_COMPLETE", stack_id=NEW_ID)


def test_rollback_complete_is_deleted_and_recreated_with_replace_failed(cfn, yes_console, clock):
    expect_describe(cfn, "ROLLBACK_COMPLETE")
    expect_replacement(cfn)
    outcome = run(cfn, yes_console, clock, replace_failed=True)
    assert outcome.status == "CREATE_COMPLETE"
    assert clock.sleeps == [5]  # one poll interval while the delete ran


def test_rollback_complete_is_replaced_when_the_user_agrees(cfn, clock, monkeypatch):
    asked = []
    monkeypatch.setattr(click, "confirm", lambda question, default: asked.append(question) or True)
    console = CapturingConsole(out=io.StringIO(), err=io.StringIO(), interactive=lambda: True)
    expect_describe(cfn, "ROLLBACK_COMPLETE")
    expect_replacement(cfn)
    assert run(cfn, console, clock).status == "CREATE_COMPLETE"
    assert asked == [f"Delete stack {STACK} and create it again?", f"Deploy 1 change(s) to stack {STACK}?"]


def test_a_failed_replacement_reports_why_the_delete_failed_not_the_old_create_failure(cfn, yes_console, clock):
    expect_describe(cfn, "ROLLBACK_COMPLETE")
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_FAILED"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(
        event("h2", "DELETE_FAILED", seconds=30),
        event("h1", "DELETE_FAILED", "Queue", seconds=25, reason="Queue is in use"),
        *FAILED_EVENTS["StackEvents"]))
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_FAILED"), {"StackName": STACK_ID})
    cfn.stub.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": logical, "PhysicalResourceId": f"phys-{logical}", "ResourceType": "AWS::SQS::Queue",
         "LastUpdatedTimestamp": "2026-11-27T12:00:00Z", "ResourceStatus": status}
        for logical, status in (("Queue", "DELETE_FAILED"), ("Topic", "DELETE_COMPLETE"))]}, {"StackName": STACK_ID})
    with pytest.raises(DeployFailed) as failure:
        run(cfn, yes_console, clock, replace_failed=True)
    assert "Root cause: Queue (AWS::SQS::Queue) DELETE_FAILED: Queue is in use" in str(failure.value)
    # issue 9 #9: which resources are stuck, and what to do
    assert f"Stack {STACK} is DELETE_FAILED; not deleted: Queue" in str(failure.value)
    assert "up to 40 minutes" in failure.value.hint and "--retain-resources Queue" in failure.value.hint


# --- a busy stack -----------------------------------------------------------------------------------------------


def test_a_busy_stack_is_waited_for_then_deployed(cfn, console, clock):
    expect_describe(cfn, "UPDATE_IN_PROGRESS")
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_COMPLETE", outputs=OUTPUTS), {"StackName": STACK_ID})
    expect_template(cfn, NEW)
    assert run(cfn, console, clock).changed is False
    assert "UPDATE_IN_PROGRESS: another operation is running" in console.text
    assert clock.sleeps == [5]


def test_a_busy_stack_is_refused_after_the_bound(cfn, console, clock):
    expect_describe(cfn, "UPDATE_ROLLBACK_IN_PROGRESS")
    for _ in range(3):
        cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_ROLLBACK_IN_PROGRESS"), {"StackName": STACK_ID})
    with pytest.raises(WaitTimeout) as timeout:
        run(cfn, console, clock, wait_timeout_s=10)
    assert str(timeout.value).startswith(
        f"Stack {STACK} is still UPDATE_ROLLBACK_IN_PROGRESS after 10 s; it was not changed"
    )


# --- diff and destroy ---------------------------------------------------------------------------------------------


def test_diff_creates_reads_and_deletes_a_change_set_but_never_executes(cfn, console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE")
    expect_template(cfn)
    expect_change_set(cfn, "UPDATE", [resource_change("Modify", "Queue", "AWS::SQS::Queue")])
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    rows = diff_template(cfn, request(), console, sleep=clock.sleep, clock=clock)
    assert [(r.action, r.logical_id) for r in rows] == [("Modify", "Queue")]


def test_diff_of_a_new_stack_creates_nothing(cfn, console, clock):
    missing_stack(cfn.stub)
    rows = diff_template(cfn, request(), console, sleep=clock.sleep, clock=clock)
    assert [(r.action, r.logical_id) for r in rows] == [("Add", "Queue")]


def test_destroy_asks_then_waits_for_the_delete(cfn, console, yes_console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE")
    with pytest.raises(Aborted):
        destroy(cfn, STACK, console, 600, sleep=clock.sleep, clock=clock)

    expect_describe(cfn, "UPDATE_COMPLETE")
    cfn.stub.add_response("describe_stack_events", events_response(event("u", "UPDATE_COMPLETE")), {"StackName": STACK_ID})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_COMPLETE"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(event("d", "DELETE_COMPLETE", seconds=5),
                                                                   event("u", "UPDATE_COMPLETE")))
    destroy(cfn, STACK, yes_console, 600, sleep=clock.sleep, clock=clock)
    assert f"Stack {STACK} deleted." in yes_console.text


def test_destroy_of_a_missing_stack_is_a_no_op(cfn, console, clock):
    missing_stack(cfn.stub)
    destroy(cfn, STACK, console, 600, sleep=clock.sleep, clock=clock)
    assert "does not exist" in console.text


# --- issue 9 #9: replacing a failed stack waits as long as destroy --------------------------------------------


def test_the_replacement_delete_waits_as_long_as_destroy(cfn, yes_console, clock):
    """A deploy with a short --wait-timeout still gives the delete of the failed stack destroy's
    hour: VPC functions' network interfaces take tens of minutes to release."""
    expect_describe(cfn, "ROLLBACK_COMPLETE")
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    for _ in range(40):  # 40 polls: far beyond the deploy's 60 s
        cfn.stub.add_response("describe_stacks", stacks_response("DELETE_IN_PROGRESS"), {"StackName": STACK_ID})
        cfn.stub.add_response("describe_stack_events", events_response(*FAILED_EVENTS["StackEvents"]))
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_COMPLETE"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(event("g2", "DELETE_COMPLETE", seconds=40)))
    expect_change_set(cfn, "CREATE", [resource_change("Add", "Queue", "AWS::SQS::Queue")], stack_id=NEW_ID)
    expect_execution(cfn, "CREATE_COMPLETE", stack_id=NEW_ID)
    outcome = run(cfn, yes_console, clock, replace_failed=True, wait_timeout_s=60)
    assert outcome.status == "CREATE_COMPLETE"
    assert 60 < clock.now < 3600


def test_destroy_and_replacement_share_the_delete_wait():
    from infragen.cli import destroy
    from infragen.deploy.preflight import DELETE_WAIT_S

    [option] = [p for p in destroy.params if p.name == "wait_timeout"]
    assert option.default == DELETE_WAIT_S == 3600
