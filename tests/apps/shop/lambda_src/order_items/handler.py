"""GET/PUT /orders/{id}/items (reads only: PUT answers what it would store)."""

import json

from shared.http import respond
from shared.store import orders_table


def handler(event, context):
    order_id = event["pathParameters"]["id"]
    found = orders_table().query(KeyConditionExpression="id = :id",
                                 ExpressionAttributeValues={":id": order_id})["Items"]
    if event["httpMethod"] == "PUT":
        return respond(202, {"id": order_id, "items": json.loads(event.get("body") or "[]")})
    return respond(200, {"id": order_id, "items": [i.get("item") for i in found]})
