"""The Errors alarm serve plays for a handler's failures: CloudWatch's states and its SNS message."""

from __future__ import annotations

import json

from infragen.config import load_config
from infragen.render import stack_template
from infragen.serve.alarms import AlarmStates, ErrorAlarm, alarm_notification, error_alarms
from tests.projects import ROOT

ALARM = ErrorAlarm({"AlarmName": "app-fn-errors", "AlarmDescription": "app-fn: errors in the last minute",
                    "Period": 60, "Threshold": 1, "EvaluationPeriods": 1, "Statistic": "Sum",
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching"}, ("ErrorTopic",))


def test_the_alarm_moves_to_alarm_once_and_again_only_after_a_period_without_errors():
    states = AlarmStates()
    moves = [states.count_error(ALARM, t) for t in (0, 10, 59, 60, 119, 180, 185, 300)]
    # 0: OK → ALARM; 10-119: errors in this period and the next keep it in ALARM;
    # 120-179 had none: OK; 180: ALARM again (2nd error of that period: no move); 240-299 none: OK
    assert moves == [1, None, None, None, None, 1, None, 1]


def test_a_higher_threshold_needs_that_many_errors_in_one_period():
    alarm = ErrorAlarm({**ALARM.properties, "Threshold": 3}, ALARM.topics)
    states = AlarmStates()
    assert [states.count_error(alarm, t) for t in (0, 30, 61, 62, 63)] == [None, None, None, None, 3]


def test_alarms_are_independent():
    other = ErrorAlarm({**ALARM.properties, "AlarmName": "app-other-errors"}, ALARM.topics)
    states = AlarmStates()
    assert (states.count_error(ALARM, 0), states.count_error(other, 1)) == (1, 1)
    slow = ErrorAlarm({**ALARM.properties, "AlarmName": "app-slow-errors", "Period": 300, "Threshold": 2},
                      ALARM.topics)
    assert states.count_error(slow, 10) is None
    states.count_error(ALARM, 200)  # another alarm's later period does not reset this one's count
    assert states.count_error(slow, 250) == 2


def test_each_function_s_errors_alarm_is_read_from_the_template():
    template = json.loads(stack_template(load_config(ROOT / "infragen.toml").env("dev")))
    alarms = error_alarms(template)
    assert sorted(alarms) == ["DataProcessorFunction", "HelloFunction"]
    hello = alarms["HelloFunction"]
    assert (hello.name, hello.topics) == ("infragen-dev-hello-errors", ("ErrorTopic",))
    assert (hello.properties["Period"], hello.properties["Threshold"]) == (60, 1)


def test_the_notification_is_the_message_cloudwatch_publishes():
    topic = "arn:aws:sns:eu-central-1:123456789012:app-errors"
    subject, text = alarm_notification(ALARM, function_name="app-fn", topic_arns=[topic], region="eu-central-1",
                                       account="123456789012", errors=1, now=1_790_000_123.456)
    message = json.loads(text)
    assert subject == 'ALARM: "app-fn-errors" in Europe (Frankfurt)'
    assert message["Region"] == "Europe (Frankfurt)" and message["AWSAccountId"] == "123456789012"
    assert message["AlarmArn"] == "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:app-fn-errors"
    assert message["NewStateReason"].startswith(
        "Threshold Crossed: 1 datapoint [1.0 (21/09/26 14:15:00)] was greater than or equal to the threshold (1.0).")
    assert message["StateChangeTime"] == "2026-09-21T14:15:23.456+0000"
    assert message["Trigger"] == {
        "MetricName": "Errors", "Namespace": "AWS/Lambda", "StatisticType": "Statistic", "Statistic": "SUM",
        "Unit": None, "Dimensions": [{"value": "app-fn", "name": "FunctionName"}], "Period": 60,
        "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1.0,
        "TreatMissingData": "notBreaching", "EvaluateLowSampleCountPercentile": ""}
    assert (message["OldStateValue"], message["NewStateValue"], message["AlarmActions"]) == ("OK", "ALARM", [topic])
