"""Unused: reads one item of the table named by ITEMS_TABLE."""

import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["ITEMS_TABLE"])


def handler(event, context):
    return table.get_item(Key={"id": event["id"]}).get("Item")
