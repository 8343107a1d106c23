"""Issue 8, pinned with AWS's response shapes (Stubber): what the emulator cannot show.

L10 Ctrl-C between change-set creation and the prompt; M8 an empty change set while infragen sees
differing parameters; L13 `--yes` alone never deletes a stack.
"""

import json

import pytest
from botocore.stub import ANY

from infragen.deploy import review
from infragen.errors import Aborted, DeployFailed, Interrupted
from tests.deploy.helpers import CS_ARN, STACK, STACK_ID, change_set_response, events_response, event, \
    missing_stack, resource_change, stacks_response
from tests.deploy.test_flow import (
    FAILED_EVENTS, NEW, OUTPUTS, expect_change_set, expect_describe, expect_template, run,
)

EMPTY = "The submitted information didn't contain changes. Submit different information to create a change set."
CODE = {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": {"Ref": "CodeKey"}}}}
WITH_PARAMETER = {"Parameters": {"CodeKey": {"Type": "String"}}, "Resources": {"Fn": CODE}}


def _interrupt_review(monkeypatch):
    def interrupted(_rows):
        raise KeyboardInterrupt

    monkeypatch.setattr(review, "render", interrupted)


# --- L10 ----------------------------------------------------------------------------------------------------


def test_ctrl_c_while_the_review_is_shown_deletes_the_update_change_set(cfn, yes_console, clock, monkeypatch):
    expect_describe(cfn, "UPDATE_COMPLETE")
    expect_template(cfn)
    expect_change_set(cfn, "UPDATE", [resource_change("Modify", "Queue", "AWS::SQS::Queue")])
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    _interrupt_review(monkeypatch)
    with pytest.raises(Interrupted, match="change set was deleted") as stop:
        run(cfn, yes_console, clock)
    assert stop.value.exit_code == 130


def test_ctrl_c_while_the_review_is_shown_deletes_the_create_placeholder(cfn, yes_console, clock, monkeypatch):
    missing_stack(cfn.stub)
    expect_change_set(cfn, "CREATE", [resource_change("Add", "Queue", "AWS::SQS::Queue")])
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})  # the REVIEW_IN_PROGRESS stack
    _interrupt_review(monkeypatch)
    with pytest.raises(Interrupted):
        run(cfn, yes_console, clock)


def test_ctrl_c_as_create_change_set_returns_finds_the_change_set_by_name_and_deletes_it(cfn, yes_console, clock):
    missing_stack(cfn.stub)
    cfn.stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})

    def interrupt(**_):
        raise KeyboardInterrupt  # after the response arrived, before infragen kept its id

    cfn.meta.events.register("after-call.cloudformation.CreateChangeSet", interrupt)
    cfn.stub.add_response("describe_change_set", change_set_response("CREATE_PENDING"),
                          {"StackName": STACK, "ChangeSetName": ANY})
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    with pytest.raises(Interrupted, match="change set was deleted"):
        run(cfn, yes_console, clock)


# --- M8 -----------------------------------------------------------------------------------------------------


def _empty_change_set_for_a_new_code_key(cfn):
    expect_describe(cfn, "UPDATE_COMPLETE", outputs=OUTPUTS, params={"CodeKey": "new.zip"})
    cfn.stub.add_response("get_template", {"TemplateBody": json.dumps(WITH_PARAMETER)})
    cfn.stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason=EMPTY))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})


def test_differing_parameters_are_deployed_although_the_change_set_is_empty(cfn, yes_console, clock):
    _empty_change_set_for_a_new_code_key(cfn)
    cfn.stub.add_response("describe_stack_events", events_response(event("m", "UPDATE_COMPLETE", seconds=-5)))
    cfn.stub.add_response("update_stack", {"StackId": STACK_ID}, {
        "StackName": STACK_ID, "TemplateBody": ANY, "Parameters": [{"ParameterKey": "CodeKey", "ParameterValue": "old.zip"}],
        "Tags": [], "Capabilities": []})
    cfn.stub.add_response("describe_stacks", stacks_response("UPDATE_COMPLETE", outputs=OUTPUTS,
                                                             params={"CodeKey": "old.zip"}))
    cfn.stub.add_response("describe_stack_events", events_response(event("u", "UPDATE_COMPLETE", seconds=3)))
    outcome = run(cfn, yes_console, clock, tpl=WITH_PARAMETER, parameters={"CodeKey": "old.zip"})
    assert outcome.changed and outcome.status == "UPDATE_COMPLETE"
    assert "No changes" not in yes_console.text
    assert "CodeKey 'new.zip' → 'old.zip'" in yes_console.warnings


def test_a_target_that_refuses_the_differing_parameters_fails_instead_of_saying_no_changes(cfn, yes_console, clock):
    _empty_change_set_for_a_new_code_key(cfn)
    cfn.stub.add_response("describe_stack_events", events_response(event("m", "UPDATE_COMPLETE", seconds=-5)))
    cfn.stub.add_client_error("update_stack", "ValidationError", "No updates are to be performed.", 400)
    with pytest.raises(DeployFailed, match="not updated: the target reports no changes") as failed:
        run(cfn, yes_console, clock, tpl=WITH_PARAMETER, parameters={"CodeKey": "old.zip"})
    assert failed.value.exit_code == 1
    assert "No changes" not in yes_console.text


def test_an_empty_change_set_is_no_changes_when_only_hidden_values_may_differ(cfn, console, clock):
    expect_describe(cfn, "UPDATE_COMPLETE", outputs=OUTPUTS, params={"CodeKey": "****"})  # NoEcho
    cfn.stub.add_response("get_template", {"TemplateBody": json.dumps(WITH_PARAMETER)})
    cfn.stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason=EMPTY))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    assert run(cfn, console, clock, tpl=WITH_PARAMETER, parameters={"CodeKey": "x"}).changed is False
    assert "No changes" in console.text


# --- L13 ----------------------------------------------------------------------------------------------------


def test_yes_alone_does_not_delete_a_rollback_complete_stack(cfn, yes_console, clock):
    expect_describe(cfn, "ROLLBACK_COMPLETE")
    cfn.stub.add_response("describe_stack_events", FAILED_EVENTS, {"StackName": STACK_ID})
    with pytest.raises(Aborted) as refused:
        run(cfn, yes_console, clock, tpl=NEW)  # no delete_stack queued: the stubber fails if it is called
    assert "only --replace-failed" in refused.value.message
    assert "--replace-failed" in refused.value.hint and refused.value.exit_code == 4


def test_diff_shows_differing_parameters_although_the_change_set_is_empty(cfn, console, clock):
    from infragen.deploy.flow import diff_template
    from tests.deploy.test_flow import request

    expect_describe(cfn, "UPDATE_COMPLETE", outputs=OUTPUTS, params={"CodeKey": "new.zip"})
    cfn.stub.add_response("get_template", {"TemplateBody": json.dumps(WITH_PARAMETER)})
    cfn.stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID})
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason=EMPTY))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    rows = diff_template(cfn, request(WITH_PARAMETER, parameters={"CodeKey": "old.zip"}), console,
                         sleep=clock.sleep, clock=clock)
    assert [(r.action, r.logical_id) for r in rows] == [("Modify", "Fn")]
    assert "No changes" not in console.text


# --- H3 on AWS: a stack whose bucket vanished may end DELETE_FAILED -----------------------------------


def test_a_stack_whose_resources_are_gone_is_deleted_retaining_what_failed(cfn, yes_console, clock):
    from infragen.deploy.flow import destroy

    def resource(logical, status):
        return {"LogicalResourceId": logical, "PhysicalResourceId": f"phys-{logical}", "ResourceType": "AWS::S3::Bucket",
                "LastUpdatedTimestamp": "2026-11-27T12:00:00Z", "ResourceStatus": status}

    mark = events_response(event("m", "CREATE_COMPLETE", seconds=-5))
    expect_describe(cfn, "CREATE_COMPLETE")
    cfn.stub.add_response("describe_stack_events", mark, {"StackName": STACK_ID})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_FAILED"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(
        event("d2", "DELETE_FAILED", seconds=9),
        event("d1", "DELETE_FAILED", "Bucket", seconds=5, reason="The specified bucket does not exist")))
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_FAILED"), {"StackName": STACK_ID})
    cfn.stub.add_response("list_stack_resources", {"StackResourceSummaries": [
        resource("Bucket", "DELETE_FAILED"), resource("Policy", "DELETE_COMPLETE")]}, {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(event("d2", "DELETE_FAILED", seconds=9)))
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID, "RetainResources": ["Bucket"]})
    cfn.stub.add_response("describe_stacks", stacks_response("DELETE_COMPLETE"), {"StackName": STACK_ID})
    cfn.stub.add_response("describe_stack_events", events_response(event("d3", "DELETE_COMPLETE", seconds=20)))

    destroy(cfn, STACK, yes_console, 600, poll_interval_s=5, gone_already=True, sleep=clock.sleep, clock=clock)
    assert "deleting the stack again without them" in yes_console.warnings
    assert f"Stack {STACK} deleted." in yes_console.text
