"""Every night: count the orders."""

from shared.store import orders_table


def handler(event, context):
    count = orders_table().scan(Select="COUNT")["Count"]
    print({"message": "nightly count", "orders": count})
    return {"orders": count}
