"""Builders for CloudFormation responses shaped as AWS returns them (Stubber validates the shapes)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import botocore.session

from infragen.console import Console

REGION = "us-west-2"
STACK = "demo"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/1111-2222"
CS_ARN = f"arn:aws:cloudformation:{REGION}:123456789012:changeSet/infragen-x/3333"
T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)


_SESSION = botocore.session.get_session()  # one session: its loaded service models are reused by every client


def make_cfn():
    return _SESSION.create_client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


class CapturingConsole(Console):
    """A Console writing to StringIO buffers (`out`, `err`)."""

    @property
    def text(self) -> str:
        return self.out.getvalue()

    @property
    def warnings(self) -> str:
        return self.err.getvalue()


def stacks_response(status: str, *, name=STACK, stack_id=STACK_ID, reason=None, outputs=None, params=None, tags=None):
    stack = {"StackName": name, "StackId": stack_id, "CreationTime": T0, "StackStatus": status}
    if reason:
        stack["StackStatusReason"] = reason
    if outputs:
        stack["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    if params:
        stack["Parameters"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]
    if tags:
        stack["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return {"Stacks": [stack]}


def event(event_id, status, logical=STACK, *, seconds=0, reason=None, rtype=None):
    """A stack event; logical == STACK means the stack's own event."""
    own = logical == STACK
    e = {
        "StackId": STACK_ID,
        "EventId": event_id,
        "StackName": STACK,
        "LogicalResourceId": logical,
        "PhysicalResourceId": STACK_ID if own else f"phys-{logical}",
        "ResourceType": rtype or ("AWS::CloudFormation::Stack" if own else "AWS::SQS::Queue"),
        "Timestamp": T0 + timedelta(seconds=seconds),
        "ResourceStatus": status,
    }
    if reason:
        e["ResourceStatusReason"] = reason
    return e


def events_response(*events, next_token=None):
    """Events as AWS returns them: newest first."""
    response = {"StackEvents": list(events)}
    if next_token:
        response["NextToken"] = next_token
    return response


def missing_stack(stub, operation="describe_stacks", name=STACK):
    stub.add_client_error(operation, "ValidationError", f"Stack with id {name} does not exist", 400)


def throttled(stub, operation):
    stub.add_client_error(operation, "Throttling", "Rate exceeded", 400)


def change_set_response(status="CREATE_COMPLETE", changes=(), reason=None, next_token=None):
    response = {
        "ChangeSetId": CS_ARN,
        "ChangeSetName": "infragen-x",
        "StackId": STACK_ID,
        "StackName": STACK,
        "CreationTime": T0,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Status": status,
        "Changes": list(changes),
    }
    if reason:
        response["StatusReason"] = reason
    if next_token:
        response["NextToken"] = next_token
    return response


def resource_change(action, logical, rtype, **extra):
    rc = {"Action": action, "LogicalResourceId": logical, "ResourceType": rtype, **extra}
    return {"Type": "Resource", "ResourceChange": rc}


def template(**resources) -> dict:
    return {"Resources": resources}


def body(tpl: dict) -> str:
    return json.dumps(tpl)


