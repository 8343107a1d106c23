"""Stack outputs worked out from physical ids, for targets that return none."""

from __future__ import annotations

import re


def derive_outputs(template: dict, physical_ids: dict[str, str], region: str) -> dict[str, str]:
    """Outputs whose value is a literal, a Ref or a Sub over Refs and region pseudo parameters.

    Anything needing an attribute (GetAtt) or the account id is left out rather than guessed.
    Only targets without outputs (emulators) need this, so the partition is the standard one.
    """
    known = {**physical_ids, "AWS::Region": region, "AWS::Partition": "aws",
             "AWS::URLSuffix": "amazonaws.com"}
    derived = {}
    for name, output in template.get("Outputs", {}).items():
        value = _resolve(output["Value"], known)
        if value is not None:
            derived[name] = value
    return derived


def _resolve(value, known: dict[str, str]) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return known.get(value["Ref"])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        names = re.findall(r"\$\{([^}!]+)\}", value["Fn::Sub"])
        if not all(n in known for n in names):
            return None
        return re.sub(r"\$\{([^}!]+)\}", lambda m: known[m.group(1)], value["Fn::Sub"])
    return None
