"""Who the error topic reaches: its subscriptions as SNS reports them, pending ones called out.

E-mail and HTTPS subscribers receive nothing until they confirm (Amazon SNS Developer Guide,
"Subscribe": a subscription is "PendingConfirmation" until then), so `status` names them.
"""

from __future__ import annotations

from infragen.config import EnvConfig
from infragen.deploy.aws_errors import aws_errors

PENDING = "PendingConfirmation"


def alert_lines(sns, topic_arn: str | None, cfg: EnvConfig) -> list[str]:
    """One line per subscription of the deployed topic, then what the config has that SNS has not."""
    if not topic_arn:
        return ["  (error topic not found in the stack)"]
    with aws_errors(f"Reading the subscriptions of {topic_arn}"):
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        subscriptions = [s for page in pages for s in page["Subscriptions"]]
    lines, live = [], set()
    for s in sorted(subscriptions, key=lambda s: (s["Protocol"], s["Endpoint"])):
        live.add((s["Protocol"], s["Endpoint"]))
        state = ("PENDING CONFIRMATION: receives nothing until confirmed (see the message sent "
                 "to it)" if s["SubscriptionArn"] == PENDING else "confirmed")
        lines.append(f"  {s['Protocol']} {s['Endpoint']}: {state}")
    for protocol, endpoint in cfg.alerts:
        if (protocol, endpoint) not in live:
            lines.append(f"  {protocol} {endpoint}: in infragen.toml, not subscribed (deploy)")
    if not lines:
        lines.append('  nobody (alerts = "none"): alarms and failures are published to no one')
    return lines
