"""Invoked directly (no route, no schedule): echoes its job."""


def run(event, context):
    return {"done": event.get("job", "nothing")}
