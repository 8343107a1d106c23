"""Walk CloudFormation templates as data."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: infragen.toml and templates_out/ live here."""


def resources_of(template: dict, type_: str) -> dict:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def props(template: dict, logical_id: str) -> dict:
    return template["Resources"][logical_id].get("Properties", {})


def references(value) -> set[str]:
    """Logical ids a value refers to through Ref, GetAtt, Sub or DependsOn."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def statements(policy_document: dict) -> list[dict]:
    return policy_document["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]
