"""ANY /reports/{name}: a report from the reports bucket, formatted by the tinyfmt dependency."""

import os

import boto3
import tinyfmt

from shared.http import respond


def handler(event, context):
    name = event["pathParameters"]["name"]
    bucket = f"shop-reports-{os.environ['ENVIRONMENT']}"
    text = boto3.client("s3").get_object(Bucket=bucket, Key=name)["Body"].read().decode()
    return respond(200, {"report": tinyfmt.title(text)})
