"""IAM policy documents as the audit and the deploy's access-broadening review both read them.

Values CloudFormation computes are written as a person would: `${Table.Arn}` for GetAtt,
`${Topic}` for Ref, a Sub's text with its own variables filled in. Resources and actions match
with IAM's wildcards (`*`, `?`); action names are case-insensitive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True, eq=False)  # compared by identity: its condition is a dict
class PolicyStatement:
    """One statement of a policy: `where` names it (policy name and statement number)."""
    where: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict
    not_action: bool = False
    not_resource: bool = False


def statements(document: Any, where: str) -> list[PolicyStatement]:
    """The statements of a policy document (Fn::Sub-wrapped JSON text included)."""
    if isinstance(document, dict) and isinstance(document.get("Fn::Sub"), str) and len(document) == 1:
        document = document["Fn::Sub"]
    if isinstance(document, str):
        document = json.loads(document)
    found = []
    for index, statement in enumerate(as_list(document.get("Statement")), start=1):
        found.append(PolicyStatement(
            where=f"{where} #{index}",
            effect=statement.get("Effect", "Allow"),
            actions=tuple(short(a) for a in as_list(statement.get("Action", statement.get("NotAction")))),
            resources=tuple(short(r) for r in as_list(statement.get("Resource", statement.get("NotResource")))),
            condition=statement.get("Condition") or {},
            not_action="NotAction" in statement,
            not_resource="NotResource" in statement,
        ))
    return found


def matches(specific: str, wildcard: str, *, case_insensitive: bool = False) -> bool:
    """True if `wildcard` (IAM `*`/`?`) covers `specific`."""
    if case_insensitive:
        specific, wildcard = specific.lower(), wildcard.lower()
    return fnmatchcase(specific, wildcard.replace("[", "[[]"))  # IAM has no character classes


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_intrinsic(value: dict) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def short(value: Any) -> str:
    """A value as a person would write it: `${Bucket.Arn}` for GetAtt, `${Topic}` for Ref, a Sub's
    text with its own variables (`Fn::Sub: [text, {Arn: …}]`) filled in."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return f"${{{arg}}}"
        if fn == "Fn::GetAtt":
            return "${" + (".".join(map(str, arg)) if isinstance(arg, list) else str(arg)) + "}"
        if fn == "Fn::Sub":
            if isinstance(arg, str):
                return arg
            text, variables = arg[0], (arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {})
            for name, variable in variables.items():
                text = text.replace(f"${{{name}}}", short(variable))
            return text
    return compact(value)


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
