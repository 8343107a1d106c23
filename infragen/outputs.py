"""Stack outputs worked out from physical ids, for targets that return none."""

from __future__ import annotations

import re

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")  # ${Name} in Fn::Sub text, not ${!Literal}


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
        text = value["Fn::Sub"]
        if not all(name in known for name in _SUB_VARIABLE.findall(text)):
            return None
        return _SUB_VARIABLE.sub(lambda m: known[m.group(1)], text)
    return None
