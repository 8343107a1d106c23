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
# field: (low, high, names allowed, extra special characters beyond , - * /)
_FIELDS = (
    ("minutes", 0, 59, "", ""),
    ("hours", 0, 23, "", ""),
    ("day-of-month", 1, 31, "", "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", 1970, 2199, "", ""),
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
    for value, (name, low, high, names, special) in zip(fields, _FIELDS):
        if not _field_ok(value, low, high, names, special):
            return f"a valid {name} field ({low}-{high}{', ' + names if names else ''}), not {value!r}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "'?' in exactly one of day-of-month and day-of-week"
    return None


def _field_ok(value: str, low: int, high: int, names: str, special: str) -> bool:
    if value in ("*", "?") and (value == "*" or "?" in special):
        return True
    atom = rf"(\d+|{names})" if names else r"(\d+)"
    for item in value.split(","):
        if "L" in special and item in ("L", "LW") or (special and re.fullmatch(r"\d+L|\d+W", item)):
            if item[:-1].isdigit() and not low <= int(item[:-1]) <= high:
                return False
            continue
        if "#" in special and re.fullmatch(r"\d#[1-5]", item):
            if not low <= int(item[0]) <= high:
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
