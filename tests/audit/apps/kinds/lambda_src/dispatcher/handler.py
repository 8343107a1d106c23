"""Unknown: operations named by the event."""

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    if event.get("kind") == "queue":
        return getattr(sqs, event["operation"])(**event["arguments"])
    db = boto3.client(event["service"])
    return getattr(db, event["operation"])(**event["arguments"])
