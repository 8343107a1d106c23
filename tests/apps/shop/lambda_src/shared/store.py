"""The orders table, named by the ORDERS_TABLE variable infragen sets."""

import os

import boto3


def orders_table():
    return boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
