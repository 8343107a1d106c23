"""CloudWatch alarms that notify the error topic."""

from __future__ import annotations

from troposphere import Ref, Template
from troposphere.cloudwatch import Alarm, MetricDimension


def add_alarm(t: Template, logical_id: str, *, name: str, namespace: str, metric: str,
              dimensions: dict, topic, description: str) -> Alarm:
    """Alarm when the metric's one-minute sum reaches 1 (missing data is not an alarm)."""
    return t.add_resource(Alarm(
        logical_id,
        AlarmName=name,
        AlarmDescription=description,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[MetricDimension(Name=k, Value=v) for k, v in dimensions.items()],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[Ref(topic)],
    ))
