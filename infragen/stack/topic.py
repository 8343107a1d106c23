"""The error topic: every alarm, failed async invocation and handler-caught error lands here."""

from __future__ import annotations

from awacs import sns as sns_actions
from awacs.aws import Allow, ArnLike, Condition, Policy, Principal, Statement, StringEquals
from troposphere import Ref, Sub, Template
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
    if cfg.alarm_email:
        t.add_resource(SubscriptionResource(
            "ErrorTopicEmailSubscription", TopicArn=Ref(topic), Protocol="email",
            Endpoint=cfg.alarm_email))
    return topic
