"""EventBridge schedules that invoke a function, with failed deliveries alarmed to the error topic."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template
from troposphere import awslambda, events

from infragen.config import EnvConfig, FunctionConfig
from infragen.stack.alarms import add_alarm
from infragen.stack.names import camel, function_name

# EventBridge retries a failed delivery; the function's own failures after Lambda's async retries
# go to the error topic through its EventInvokeConfig, so one extra day of retries is plenty.
DELIVERY_RETRY_ATTEMPTS = 3
DELIVERY_MAX_AGE_S = 3600


def add_schedule(t: Template, cfg: EnvConfig, fn: FunctionConfig, function, topic) -> events.Rule:
    stem = camel(fn.name)
    name = function_name(cfg, fn.name)
    rule = t.add_resource(events.Rule(
        f"{stem}Schedule",
        Description=f"Runs {name} on {fn.schedule}",
        ScheduleExpression=fn.schedule,
        State="ENABLED",
        Targets=[events.Target(
            Id="function",
            Arn=GetAtt(function, "Arn"),
            RetryPolicy=events.RetryPolicy(MaximumRetryAttempts=DELIVERY_RETRY_ATTEMPTS,
                                           MaximumEventAgeInSeconds=DELIVERY_MAX_AGE_S),
        )],
    ))
    t.add_resource(awslambda.Permission(
        f"{stem}SchedulePermission",
        FunctionName=GetAtt(function, "Arn"),
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=GetAtt(rule, "Arn"),
    ))
    add_alarm(t, f"{stem}ScheduleFailedAlarm", name=f"{name}-schedule-failed",
              namespace="AWS/Events", metric="FailedInvocations", dimensions={"RuleName": Ref(rule)},
              topic=topic, description=f"{name}: the schedule could not invoke the function")
    return rule
