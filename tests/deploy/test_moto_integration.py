"""The whole engine over HTTP against a moto server: create, no-op, modify, destroy."""

import json

from infragen.deploy.flow import DeployRequest, deploy_template, destroy
from infragen.deploy.stacks import describe

TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "infragen-it"}}


def queue(timeout: int) -> dict:
    # resources in dependency order: moto executes change sets in template order
    return {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": timeout,
                                                      "Tags": [{"Key": "topic", "Value": {"Ref": "Topic"}}]}}


def request(timeout: int) -> DeployRequest:
    tpl = {"Resources": {"Topic": TOPIC, "Queue": queue(timeout)}, "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}}
    return DeployRequest("infragen-it", json.dumps(tpl), tags={"app": "it"}, wait_timeout_s=30, poll_interval_s=0.05)


def record_calls(cfn) -> list[str]:
    calls: list[str] = []
    cfn.meta.events.register("before-call.cloudformation.*", lambda model, **_: calls.append(model.name))
    return calls


def test_deploy_noop_modify_destroy(moto_cfn, yes_console):
    calls = record_calls(moto_cfn)

    created = deploy_template(moto_cfn, request(30), yes_console)
    assert (created.changed, created.status) == (True, "CREATE_COMPLETE")
    assert [r.action for r in created.rows] == ["Add", "Add"]
    # moto gives change-set stacks no Outputs: the physical ids stand in
    assert created.outputs_are_resources and set(created.outputs) == {"Topic", "Queue"}

    calls.clear()
    again = deploy_template(moto_cfn, request(30), yes_console)
    assert again.changed is False
    assert "CreateChangeSet" not in calls and len(calls) <= 3, calls

    modified = deploy_template(moto_cfn, request(60), yes_console)
    assert (modified.changed, modified.status) == (True, "UPDATE_COMPLETE")
    (row,) = modified.rows
    assert (row.action, row.logical_id, row.replacement) == ("Modify", "Queue", "?")
    assert "    Properties.VisibilityTimeout: 30 → 60" in yes_console.text.splitlines()

    destroy(moto_cfn, "infragen-it", yes_console, 30, poll_interval_s=0.05)
    assert describe(moto_cfn, "infragen-it") is None
