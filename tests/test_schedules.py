"""Schedule expressions, judged as EventBridge judges them."""

import pytest

from infragen.schedules import schedule_problem


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(30 days)",
    "cron(0 12 * * ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(0 10 ? * 6L 2026)", "cron(0 8 1W * ? *)",
    "cron(0 8 L * ? *)", "cron(0 8 LW * ? *)", "cron(0 18 ? * 6#3 *)", "cron(0 18 ? * L *)",
    "cron(*/5 * * * ? *)", "cron(15,45 8-17 ? JAN-MAR,DEC SAT,SUN 2026-2030)", "cron(59 23 31 12 ? 2199)",
    "cron(0 0 1 1 ? 1970)", "cron(0 0 ? * 1-7 *)", "cron(5-10/2 * * * ? *)",
])
def test_eventbridge_accepts(expression):
    assert schedule_problem(expression) is None


@pytest.mark.parametrize("expression,problem", [
    ("rate(0 minutes)", "at least 1"),
    ("rate(1 minutes)", "'minute' for a value of 1"),
    ("rate(1 hours)", "'hour' for a value of 1"),
    ("rate(5 minute)", "'minutes' otherwise"),
    ("rate(2 day)", "'days' otherwise"),
    ("rate(1 week)", "rate(5 minutes)"),
    ("rate(1.5 hours)", "rate(5 minutes)"),
    ("rate(5  minutes)", "rate(5 minutes)"),
    ("Rate(5 minutes)", "rate(5 minutes)"),
    ("cron(0 12 * * ?)", "six cron fields"),
    ("cron()", "six cron fields"),
    ("cron(0 12 * * ? * *)", "six cron fields"),
    ("cron(0 12 1 * MON *)", "'?' in exactly one"),
    ("cron(0 12 * * * *)", "'?' in exactly one"),
    ("cron(0 12 ? * ? *)", "'?' in exactly one"),
    ("cron(0 12 1 13 ? *)", "month"),
    ("cron(0 12 1 0 ? *)", "month"),
    ("cron(0 12 1 JANUARY ? *)", "month"),
    ("cron(60 12 * * ? *)", "minutes"),
    ("cron(? 12 * * ? *)", "minutes"),
    ("cron(0 24 * * ? *)", "hours"),
    ("cron(0 12 0 * ? *)", "day-of-month"),
    ("cron(0 12 ?,1 * MON *)", "day-of-month"),
    ("cron(0 12 ? * 0 *)", "day-of-week"),
    ("cron(0 12 ? * 6W *)", "day-of-week"),
    ("cron(0 12 ? * LW *)", "day-of-week"),
    ("cron(0 12 6L * ? *)", "day-of-month"),
    ("cron(0 12 3#2 * ? *)", "day-of-month"),
    ("cron(0 12 ? * 3#6 *)", "day-of-week"),
    ("cron(0 12 ? * 9L *)", "day-of-week"),
    ("cron(0 12 0W * ? *)", "day-of-month"),
    ("cron(0 12 * * ? 1969)", "year"),
    ("cron(0 12 * * ? 2200)", "year"),
    ("cron(0/0 * * * ? *)", "minutes"),
    ("cron(0 12 * * ? *", "rate(5 minutes)"),
    ("at(2026-01-01T00:00:00)", "rate(5 minutes)"),
])
def test_eventbridge_rejects(expression, problem):
    found = schedule_problem(expression)
    assert found is not None and problem in found
