"""The error topic: every alarm, failed async invocation and handler-caught error lands here."""

from __future__ import annotations

import hashlib

from awacs import sns as sns_actions
from awacs.aws import Allow, ArnLike, Condition, Policy, Principal, Statement, StringEquals
from troposphere import Ref, Sub, Template
from troposphere.awslambda import Permission
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from infragen.config import EnvConfig
from infragen.stack.arns import arn
from infragen.stack.names import alarm_name_prefix
from infragen.stack.policies import VERSION, deny_insecure_transport_statement


def add_error_topic(t: Template, cfg: EnvConfig, key) -> Topic:
    topic = t.add_resource(Topic(
        "ErrorTopic",
        DisplayName=f"{cfg.stack_name} errors",
        KmsMasterKeyId=Ref(key),
    ))
    t.add_resource(TopicPolicy("ErrorTopicPolicy", Topics=[Ref(topic)], PolicyDocument=Policy(
        Version=VERSION,
        Statement=[
            Statement(
                Sid="ThisStacksAlarmsPublish",
                Effect=Allow,
                Principal=Principal("Service", ["cloudwatch.amazonaws.com"]),
                Action=[sns_actions.Publish],
                Resource=[Ref(topic)],
                Condition=Condition([
                    StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                    ArnLike("aws:SourceArn", Sub(arn("cloudwatch", f"alarm:{alarm_name_prefix(cfg)}*"))),
                ]),
            ),
            deny_insecure_transport_statement("sns", [Ref(topic)]),
        ],
    )))
    for protocol, endpoint in cfg.alerts:
        _add_subscription(t, cfg, topic, protocol, endpoint)
    return topic


def subscription_logical_id(cfg: EnvConfig, protocol: str, endpoint: str) -> str:
    """Stable per endpoint, whatever the order of `alerts`: a new id means a new subscription
    (and, for e-mail, a new confirmation). `alarm_email` keeps the id it always had."""
    if protocol == "email" and endpoint == cfg.alarm_email:
        return "ErrorTopicEmailSubscription"
    digest = hashlib.sha256(f"{protocol}:{endpoint}".encode()).hexdigest()[:10]
    return f"ErrorTopic{protocol.capitalize()}Subscription{digest}"


def _add_subscription(t: Template, cfg: EnvConfig, topic, protocol: str, endpoint: str) -> None:
    """One subscriber. E-mail and HTTPS endpoints must confirm before they receive anything
    (Amazon SNS Developer Guide, "Subscribe"); `infragen status` lists the pending ones. A Lambda
    subscriber gets the invoke permission SNS needs ("Fanout to Lambda functions"); an SQS
    subscriber's queue policy (and its KMS key, if encrypted) must let this topic send: the queue
    belongs to whoever owns it, not to this stack."""
    logical_id = subscription_logical_id(cfg, protocol, endpoint)
    t.add_resource(SubscriptionResource(logical_id, TopicArn=Ref(topic), Protocol=protocol,
                                        Endpoint=endpoint))
    if protocol == "lambda":
        t.add_resource(Permission(
            f"{logical_id}Permission", FunctionName=endpoint, Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com", SourceArn=Ref(topic)))
