"""The served functions' Errors alarms, moved as CloudWatch would move them.

A handler run by `serve` emits no Lambda metric, so the deployed Errors alarm never sees its
failures. `AlarmStates` plays the alarm: each alarm of the rendered template on AWS/Lambda Errors
(Sum over Period ≥ Threshold, one evaluation period, missing data not breaching) goes to ALARM when
a period's errors reach the threshold, and back to OK once a whole period stays below it. On the
move to ALARM, `alarm_notification` is the message CloudWatch publishes to the alarm's actions
(the JSON an SNS subscriber of a CloudWatch alarm receives).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from infragen.regions import region_description


@dataclass(frozen=True)
class ErrorAlarm:
    """An Errors alarm of the template: its properties, and the topics its actions name (logical ids)."""

    properties: dict
    topics: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.properties["AlarmName"]


def error_alarms(template: dict) -> dict[str, ErrorAlarm]:
    """Function logical id → its AWS/Lambda Errors alarm (FunctionName dimension a Ref to it)."""
    alarms = {}
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") != "AWS::CloudWatch::Alarm" or (
                properties.get("Namespace"), properties.get("MetricName")) != ("AWS/Lambda", "Errors"):
            continue
        function = next((d["Value"].get("Ref") for d in properties.get("Dimensions", [])
                         if d.get("Name") == "FunctionName" and isinstance(d.get("Value"), dict)), None)
        topics = tuple(a["Ref"] for a in properties.get("AlarmActions", []) if isinstance(a, dict) and "Ref" in a)
        if function and isinstance(properties.get("AlarmName"), str):
            alarms[function] = ErrorAlarm(properties, topics)
    return alarms


class AlarmStates:
    """Per alarm, the errors of recent periods and the last period that breached."""

    def __init__(self):
        self._errors: dict[tuple[str, int], int] = {}
        self._breached: dict[str, int] = {}
        self._lock = threading.Lock()

    def count_error(self, alarm: ErrorAlarm, now: float) -> int | None:
        """Count one function error at `now`: the period's errors when this one moves the alarm
        from OK to ALARM, else None."""
        period_s = int(alarm.properties.get("Period", 60))
        period = int(now // period_s)
        with self._lock:
            key = (alarm.name, period)
            self._errors = {k: v for k, v in self._errors.items() if k[0] != alarm.name or k[1] >= period - 1}
            self._errors[key] = self._errors.get(key, 0) + 1
            errors = self._errors[key]
            if errors < float(alarm.properties.get("Threshold", 1)):
                return None
            last = self._breached.get(alarm.name)
            self._breached[alarm.name] = period
            moved = last is None or last < period - 1  # else in ALARM since the last period or this one
            return errors if moved else None


def alarm_notification(alarm: ErrorAlarm, *, function_name: str, topic_arns: list[str], region: str,
                       account: str, errors: int, now: float) -> tuple[str, str]:
    """(Subject, Message) of the move to ALARM, as CloudWatch publishes it to an SNS action."""
    p = alarm.properties
    period_s = int(p.get("Period", 60))
    threshold = float(p.get("Threshold", 1))
    started = datetime.fromtimestamp(now // period_s * period_s, timezone.utc)
    stamp = datetime.fromtimestamp(now, timezone.utc)
    where = region_description(region)
    partition = topic_arns[0].split(":")[1] if topic_arns else "aws"
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": p.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": None,
        "NewStateValue": "ALARM",
        "NewStateReason": (f"Threshold Crossed: 1 datapoint [{float(errors)} ({started:%d/%m/%y %H:%M:%S})] was "
                           f"greater than or equal to the threshold ({threshold}). "
                           "(Counted by infragen serve on this machine.)"),
        "StateChangeTime": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000",
        "Region": where,
        "AlarmArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm.name}",
        "OldStateValue": "OK",
        "OKActions": [],
        "AlarmActions": topic_arns,
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "Errors", "Namespace": "AWS/Lambda", "StatisticType": "Statistic",
            "Statistic": str(p.get("Statistic", "Sum")).upper(), "Unit": None,
            "Dimensions": [{"value": function_name, "name": "FunctionName"}],
            "Period": period_s, "EvaluationPeriods": int(p.get("EvaluationPeriods", 1)),
            "ComparisonOperator": p.get("ComparisonOperator", "GreaterThanOrEqualToThreshold"),
            "Threshold": threshold, "TreatMissingData": p.get("TreatMissingData", ""),
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    subject = f'ALARM: "{alarm.name}" in {where}'
    return subject[:100], json.dumps(message)
