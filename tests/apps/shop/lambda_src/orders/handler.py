"""GET/POST /orders (GET ?customer=… through the by_customer index), GET/DELETE /orders/{id}."""

import json
import os
import time
import uuid

from shared.http import respond
from shared.store import orders_table


def handler(event, context):
    table = orders_table()
    method, order_id = event["httpMethod"], (event.get("pathParameters") or {}).get("id")
    customer = (event.get("queryStringParameters") or {}).get("customer")
    if method == "GET" and order_id is None and customer:
        page = table.query(IndexName="by_customer", KeyConditionExpression="#c = :c",
                           ExpressionAttributeNames={"#c": "customer"},
                           ExpressionAttributeValues={":c": customer})
        return respond(200, {"orders": page.get("Items", [])})
    if method == "GET" and order_id is None:
        page = table.scan(Limit=int(os.environ.get("PAGE_SIZE", "50")))
        return respond(200, {"orders": page.get("Items", [])})
    if method == "POST":
        order = json.loads(event["body"])
        item = {"id": str(uuid.uuid4()), "created": str(int(time.time())), **order}
        table.put_item(Item=item)
        return respond(201, item)
    if method == "GET":
        found = table.query(KeyConditionExpression="id = :id",
                            ExpressionAttributeValues={":id": order_id})["Items"]
        return respond(200, found[0]) if found else respond(404, {"message": "no such order"})
    for item in table.query(KeyConditionExpression="id = :id",
                            ExpressionAttributeValues={":id": order_id})["Items"]:
        table.delete_item(Key={"id": item["id"], "created": item["created"]})
    return respond(204, {})
