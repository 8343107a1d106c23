"""Request body models: each must be a valid draft-04 JSON schema, as API Gateway models are.

A schema found valid is remembered by digest (with a stamp of the installed jsonschema), so loading a
config whose schemas have not changed never imports jsonschema (about 40 ms of every command's start).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from infragen.installed import package_stamp


def schema_problem(schema: dict, verdicts: Path) -> str | None:
    """Why `schema` is not a valid draft-04 JSON schema, or None; valid ones are recorded below
    `verdicts` (an invalid one never is: it is checked, and refused, every time)."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    key = f"{package_stamp('jsonschema')}\n{text}"
    verdict = verdicts / f"{hashlib.sha256(key.encode()).hexdigest()}.ok"
    if verdict.exists():
        return None
    import jsonschema

    try:
        jsonschema.Draft4Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return exc.message
    with contextlib.suppress(OSError):  # e.g. a read-only checkout: checked again next time
        verdict.parent.mkdir(parents=True, exist_ok=True)
        verdict.write_text("valid draft-04\n")
    return None
