"""Proxy responses."""

import decimal
import json


def respond(status: int, body) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body, default=_number)}


def _number(value):
    """DynamoDB reads numbers as Decimal: whole ones become ints, others floats."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
