"""Global secondary index changes a stack update cannot make, found before anything is deployed.

DynamoDB creates or deletes one global secondary index per UpdateTable (DynamoDB API Reference,
UpdateTable, GlobalSecondaryIndexUpdates; CloudFormation fails such an update and rolls back), and
an index's key schema and projection cannot change in place (AWS::DynamoDB::Table
GlobalSecondaryIndex: "Updates are not supported"). Pure functions over template dicts.
"""

from __future__ import annotations

TABLE = "AWS::DynamoDB::Table"


def index_change_problems(old_template: dict, new_template: dict) -> list[str]:
    """What in `new_template`'s tables one update cannot do from `old_template`, with the way to do it."""
    old_resources = old_template.get("Resources", {})
    problems = []
    for logical_id, resource in new_template.get("Resources", {}).items():
        old = old_resources.get(logical_id, {})
        if resource.get("Type") != TABLE or old.get("Type") != TABLE:
            continue
        before, after = _indexes(old), _indexes(resource)
        for name in sorted(before.keys() & after.keys()):
            if before[name] != after[name]:
                problems.append(
                    f"table {logical_id}: index {name} changes its keys or projection, which an update "
                    f"cannot do in place: add the new index under another name (one deploy), then "
                    f"remove {name} (a second deploy)")
        added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
        if len(added) + len(removed) > 1:
            steps = [f"add {n}" for n in added] + [f"remove {n}" for n in removed]
            problems.append(
                f"table {logical_id}: {len(steps)} index changes ({', '.join(steps)}), but DynamoDB "
                f"makes one per update: deploy them one at a time")
    return problems


def _indexes(resource: dict) -> dict[str, tuple]:
    """Index name → (key schema, projection) of a table resource."""
    found = resource.get("Properties", {}).get("GlobalSecondaryIndexes") or []
    return {index["IndexName"]: (index.get("KeySchema"), index.get("Projection")) for index in found
            if isinstance(index, dict) and isinstance(index.get("IndexName"), str)}
