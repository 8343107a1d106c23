"""A change set made readable: one row per resource change, property-level before → after, and
the changes that broaden access. Pure functions over dicts.

The API's change list says *what* changes; the before/after values come from diffing the
deployed template's resource with the new one (the API rarely gives them), merged with the
API's per-property Details (whether a change recreates the resource) when it has them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import Any

from infragen.deploy import broadening
from infragen.deploy.table import cut_middle, table

MAX_VALUE = 60  # characters of a before/after value shown


class _Absent:
    def __repr__(self) -> str:
        return "(none)"


ABSENT = _Absent()  # the value on the side where a property does not exist


@dataclass(frozen=True)
class PropertyChange:
    path: str  # e.g. "Properties.Timeout", "Properties.Policies[0].PolicyDocument"
    before: Any = ABSENT
    after: Any = ABSENT
    note: str = ""  # from the API: "recreates the resource", "depends on Bucket.Arn", …


@dataclass(frozen=True)
class ChangeRow:
    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True, False, Conditional; "?" if the API did not say; "" if not applicable
    properties: tuple[PropertyChange, ...] = ()
    broadens: tuple[str, ...] = ()  # how this change broadens access


def review_rows(changes: list[dict], old_template: dict, new_template: dict) -> list[ChangeRow]:
    """Rows for the `Changes` of a change set (resource changes only), in the API's order."""
    old_resources = old_template.get("Resources", {})
    new_resources = new_template.get("Resources", {})
    rows = []
    for change in changes:
        rc = change.get("ResourceChange")
        if change.get("Type", "Resource") != "Resource" or not rc:
            continue
        action, logical_id = rc["Action"], rc["LogicalResourceId"]
        old = None if action == "Add" else old_resources.get(logical_id)
        new = None if action == "Remove" else new_resources.get(logical_id)
        props = _with_details(diff(old, new), rc.get("Details", [])) if old and new else ()
        rows.append(
            ChangeRow(
                action=action,
                logical_id=logical_id,
                resource_type=rc.get("ResourceType", ""),
                replacement=rc.get("Replacement") or ("?" if action in ("Modify", "Dynamic") else ""),
                properties=tuple(props),
                broadens=tuple(broadening.reasons(rc.get("ResourceType", ""), old, new)),
            )
        )
    return rows


def with_parameter_changes(rows: list[ChangeRow], old_parameters: dict, new_parameters: dict,
                           template: dict) -> list[ChangeRow]:
    """Show parameter-driven changes (e.g. a new code key) on the resources that use them.

    CloudFormation lists such a resource only as "Dynamic", and some targets not at all; the
    before → after values come from the parameters.
    """
    changed = {name for name, value in new_parameters.items() if old_parameters.get(name) != value}
    by_id = {row.logical_id: row for row in rows}
    for logical_id, resource in template.get("Resources", {}).items():
        props = tuple(
            PropertyChange(path, old_parameters.get(name, ABSENT), new_parameters[name],
                           note=f"parameter {name}")
            for path, name in _parameter_refs(resource.get("Properties", {}), "Properties")
            if name in changed
        )
        if not props:
            continue
        row = by_id.get(logical_id)
        if row is None:
            by_id[logical_id] = ChangeRow("Modify", logical_id, resource.get("Type", ""), "?", props)
        elif row.action != "Add":
            by_id[logical_id] = replace(row, properties=row.properties + props)
    return list(by_id.values())


def _parameter_refs(value: Any, path: str):
    """(path, name) of every {"Ref": name} inside a value."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            yield path, value["Ref"]
            return
        for key, inner in value.items():
            yield from _parameter_refs(inner, _join(path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _parameter_refs(inner, f"{path}[{index}]")


def local_changes(old_template: dict, new_template: dict) -> list[dict]:
    """The resource changes CloudFormation would list, worked out locally (no replacement info)."""
    old, new = old_template.get("Resources", {}), new_template.get("Resources", {})
    changes = []
    for logical_id, resource in new.items():
        action = "Add" if logical_id not in old else "Modify" if old[logical_id] != resource else None
        if action:
            changes.append(_change(action, logical_id, resource))
    changes += [_change("Remove", lid, res) for lid, res in old.items() if lid not in new]
    return changes


def _change(action: str, logical_id: str, resource: dict) -> dict:
    rc = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource.get("Type", "")}
    return {"Type": "Resource", "ResourceChange": rc}


def diff(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """Leaf-level differences between two JSON values; lists of scalars are compared whole."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(new) + [k for k in old if k not in new]
        return [c for k in keys for c in diff(old.get(k, ABSENT), new.get(k, ABSENT), _join(path, k))]
    if isinstance(old, list) and isinstance(new, list) and _structured(old) and _structured(new):
        padded = zip_longest(old, new, fillvalue=ABSENT)
        return [c for i, (a, b) in enumerate(padded) for c in diff(a, b, f"{path}[{i}]")]
    return [PropertyChange(path or "(resource)", old, new)]


def _structured(items: list) -> bool:
    return all(isinstance(item, (dict, list)) for item in items)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _with_details(props: list[PropertyChange], details: list[dict]) -> list[PropertyChange]:
    """Annotate template differences with the API's Details; add what only the API knows."""
    notes: dict[str, str] = {}
    for detail in details:
        target = detail.get("Target", {})
        attribute, name = target.get("Attribute", "Properties"), target.get("Name")
        path = _join(attribute, name) if name else attribute
        note = _detail_note(detail)
        if note and note not in notes.get(path, ""):  # AWS often lists one property several times
            notes[path] = "; ".join(filter(None, [notes.get(path), note]))
    merged, covered = [], set()
    for change in props:
        top = _top(change.path)
        merged.append(PropertyChange(change.path, change.before, change.after, notes.get(top, "")))
        covered.add(top)
    merged += [PropertyChange(p, note=n) for p, n in notes.items() if p not in covered]
    return merged


def _top(path: str) -> str:
    """The property a detail would name: "Properties.Code.S3Key" → "Properties.Code"."""
    parts = path.split(".")
    return ".".join(parts[:2]).split("[")[0] if parts[0] == "Properties" else parts[0].split("[")[0]


def _detail_note(detail: dict) -> str:
    target = detail.get("Target", {})
    recreation = {"Always": "recreates the resource", "Conditionally": "may recreate the resource"}
    parts = [recreation.get(target.get("RequiresRecreation", ""), "")]
    computed = detail.get("ChangeSource") in ("ResourceReference", "ResourceAttribute", "ParameterReference")
    if detail.get("Evaluation") == "Dynamic" or computed:
        source = detail.get("CausingEntity") or detail.get("ChangeSource", "")
        parts.append(f"depends on {source}" if source else "value known only at deploy time")
    return "; ".join(p for p in parts if p)


# --- rendering ------------------------------------------------------------------------------------


def render(rows: list[ChangeRow]) -> list[str]:
    """A plain-text table (fine on terminals and in CI logs): one line per change, then its details."""
    if not rows:
        return ["No resource changes."]
    lines = table(
        ("Action", "Logical id", "Type", "Replacement"),
        [(r.action, r.logical_id, r.resource_type, r.replacement) for r in rows],
    )
    out = lines[:2]
    for row, line in zip(rows, lines[2:]):
        out.append(line)
        out += [f"    {describe_property(p)}" for p in row.properties]
        out += [f"    ! broadens access: {reason}" for reason in row.broadens]
    return out


def describe_property(change: PropertyChange) -> str:
    """`Properties.Timeout: 300 → 60`, with the API's note when it has one."""
    if change.before is ABSENT and change.after is ABSENT:
        text = change.path
    else:
        text = f"{change.path}: {format_value(change.before)} → {format_value(change.after)}"
    return f"{text}  ({change.note})" if change.note else text


def format_value(value: Any, limit: int = MAX_VALUE) -> str:
    """Compact JSON, cut to `limit` characters by an ellipsis in the middle (ends stay readable)."""
    text = repr(value) if value is ABSENT else json.dumps(value, separators=(",", ":"), default=str)
    return cut_middle(text, limit)
