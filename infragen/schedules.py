"""EventBridge schedule expressions, checked the way EventBridge checks them.

AWS: "Creating an Amazon EventBridge rule that runs on a schedule" — `rate(value unit)` with a
positive whole value, unit minute/hour/day (singular for 1, plural otherwise); `cron(minutes
hours day-of-month month day-of-week year)` with six fields, where one of day-of-month and
day-of-week must be `?`.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
# field: (low, high, names allowed, its wildcards beyond , - * / as a pattern whose groups are
# numbers in the field's range). W (nearest weekday) belongs to day-of-month; nL (last weekday n
# of the month) and n#k (k-th weekday n) to day-of-week.
_FIELDS = (
    ("minutes", 0, 59, "", None),
    ("hours", 0, 23, "", None),
    ("day-of-month", 1, 31, "", r"\?|L|LW|(\d+)W"),
    ("month", 1, 12, _MONTHS, None),
    ("day-of-week", 1, 7, _DAYS, r"\?|L|(\d+)L|(\d+)#[1-5]"),
    ("year", 1970, 2199, "", None),
)
SCHEDULE_FORMAT = ("'rate(5 minutes)' (minute/hour/day, singular for 1) or "
                   "'cron(minutes hours day-of-month month day-of-week year)' with '?' in one of "
                   "the day fields, e.g. 'cron(0 12 * * ? *)'")


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge would reject `expression`, or None when it is valid."""
    rate = _RATE.fullmatch(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            return "a rate of at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return f"'{unit.rstrip('s')}' for a value of 1 and '{unit.rstrip('s')}s' otherwise"
        return None
    cron = _CRON.fullmatch(expression)
    if not cron:
        return SCHEDULE_FORMAT
    fields = cron.group(1).split()
    if len(fields) != 6:
        return f"six cron fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
    for value, (name, low, high, names, wildcards) in zip(fields, _FIELDS):
        if not _field_ok(value, low, high, names, wildcards):
            return f"a valid {name} field ({low}-{high}{', ' + names if names else ''}), not {value!r}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "'?' in exactly one of day-of-month and day-of-week"
    return None


def _field_ok(value: str, low: int, high: int, names: str, wildcards: str | None) -> bool:
    if value == "*":
        return True
    if "?" in value and value != "?":
        return False
    atom = rf"(\d+|{names})" if names else r"(\d+)"
    for item in value.split(","):
        special = re.fullmatch(wildcards, item) if wildcards else None
        if special:
            if any(n is not None and not low <= int(n) <= high for n in special.groups()):
                return False
            continue
        match = re.fullmatch(rf"(\*|{atom}(-{atom})?)(/(\d+))?", item)
        if not match:
            return False
        numbers = [n for n in re.findall(r"\d+", item.split("/")[0])]
        if any(not low <= int(n) <= high for n in numbers):
            return False
        if match.group(6) is not None and int(match.group(6)) < 1:
            return False
    return True
