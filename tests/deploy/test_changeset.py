import re
from datetime import datetime, timezone

import pytest
from botocore.stub import ANY

from infragen.deploy import changeset
from infragen.deploy.changeset import ChangeSet, NoChanges
from infragen.deploy.polling import Timing
from infragen.errors import DeployFailed, Interrupted, WaitTimeout
from tests.deploy.helpers import CS_ARN, STACK, STACK_ID, change_set_response, resource_change

CS = ChangeSet(CS_ARN, STACK_ID, "UPDATE")


def timing(clock, timeout=60):
    return Timing(timeout, 1.0, sleep=clock.sleep, clock=clock)


def test_names_are_unique_and_valid():
    name = changeset.change_set_name(datetime(2026, 11, 27, 6, 5, 4, tzinfo=timezone.utc), "a1b2c3d4")
    assert name == "infragen-20261127T060504Z-a1b2c3d4"
    assert re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name)


def test_create_sends_everything_and_keeps_the_arn(cfn):
    cfn.stub.add_response(
        "create_change_set",
        {"Id": CS_ARN, "StackId": STACK_ID},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": "{}",
            "Parameters": [{"ParameterKey": "Stage", "ParameterValue": "dev"}],
            "Tags": [],
            "Capabilities": ["CAPABILITY_IAM"],
            "Description": ANY,
        },
    )
    made = changeset.create(cfn, STACK, "{}", {"Stage": "dev"}, {}, ["CAPABILITY_IAM"], update=True)
    assert made == ChangeSet(CS_ARN, STACK_ID, "UPDATE")


def test_no_changes_when_create_change_set_itself_refuses(cfn):
    cfn.stub.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
    with pytest.raises(NoChanges):
        changeset.create(cfn, STACK, "{}", {}, {}, [], update=True)  # nothing to delete: no call queued


def test_no_changes_when_the_change_set_fails_empty_and_it_is_deleted(cfn, clock):
    reason = "The submitted information didn't contain changes. Submit different information to create a change set."
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason=reason), {"ChangeSetName": CS_ARN})
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    with pytest.raises(NoChanges):
        changeset.wait(cfn, CS, timing(clock))


def test_other_failures_delete_the_change_set_and_report_the_reason(cfn, clock):
    reason = "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason=reason))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    with pytest.raises(DeployFailed, match="Unresolved resource dependencies"):
        changeset.wait(cfn, CS, timing(clock))


def test_a_failed_create_change_set_is_discarded_with_its_placeholder_stack(cfn, clock):
    cfn.stub.add_response("describe_change_set", change_set_response("FAILED", reason="Template error"))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK_ID})
    with pytest.raises(DeployFailed, match="Template error"):
        changeset.wait(cfn, ChangeSet(CS_ARN, STACK_ID, "CREATE"), timing(clock))


def test_wait_polls_until_ready_then_reads_every_page(cfn, clock):
    first = [resource_change("Add", "A", "AWS::SQS::Queue")]
    second = [resource_change("Add", "B", "AWS::SNS::Topic")]
    cfn.stub.add_response("describe_change_set", change_set_response("CREATE_PENDING"))
    cfn.stub.add_response("describe_change_set", change_set_response("CREATE_IN_PROGRESS"))
    cfn.stub.add_response("describe_change_set", change_set_response(changes=first, next_token="t1"))
    cfn.stub.add_response(
        "describe_change_set", change_set_response(changes=second), {"ChangeSetName": CS_ARN, "NextToken": "t1"}
    )
    assert changeset.wait(cfn, CS, timing(clock)) == first + second
    assert clock.sleeps == [1.0, 1.0]


def test_wait_is_bounded_and_cleans_up(cfn, clock):
    for _ in range(4):
        cfn.stub.add_response("describe_change_set", change_set_response("CREATE_IN_PROGRESS"))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    with pytest.raises(WaitTimeout, match="still CREATE_IN_PROGRESS after 3 s; it was deleted"):
        changeset.wait(cfn, CS, timing(clock, timeout=3))
    assert clock.now == 3


def test_ctrl_c_while_waiting_deletes_the_change_set(cfn, clock):
    def interrupted(_seconds):
        raise KeyboardInterrupt

    cfn.stub.add_response("describe_change_set", change_set_response("CREATE_IN_PROGRESS"))
    cfn.stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    with pytest.raises(Interrupted, match="the stack was not changed") as stop:
        changeset.wait(cfn, CS, Timing(60, 1.0, sleep=interrupted, clock=clock))
    assert stop.value.exit_code == 130
