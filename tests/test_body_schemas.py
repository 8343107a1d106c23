"""Body schemas are checked as draft-04 once per content; unchanged ones skip jsonschema's import."""

from __future__ import annotations

import sys

import pytest

from infragen.body_schemas import schema_problem
from infragen.config import load_config
from tests.projects import copy_project

VALID = {"type": "object", "required": ["data"], "properties": {"data": {"type": "array"}}}


def without_jsonschema(monkeypatch):
    """Any import of jsonschema from here on fails: a call that still succeeds did not need it
    (it stays installed, so what only looks for it still finds it)."""
    import builtins

    for name in [n for n in sys.modules if n == "jsonschema" or n.startswith("jsonschema.")]:
        monkeypatch.delitem(sys.modules, name)
    real_import = builtins.__import__

    def refusing(name, *args, **kwargs):
        if name == "jsonschema" or name.startswith("jsonschema."):
            raise ImportError(f"{name} may not be imported here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refusing)


def test_a_valid_schema_is_remembered_and_not_checked_again(tmp_path, monkeypatch):
    assert schema_problem(VALID, tmp_path) is None
    assert len(list(tmp_path.glob("*.ok"))) == 1
    without_jsonschema(monkeypatch)
    assert schema_problem(dict(reversed(VALID.items())), tmp_path) is None  # same schema, keys reordered
    with pytest.raises(ImportError):  # a changed schema is checked again
        schema_problem({**VALID, "minProperties": 1}, tmp_path)


def test_an_invalid_schema_is_refused_every_time_and_never_recorded(tmp_path):
    for _ in range(2):
        assert "is not valid under any of the given schemas" in schema_problem({"type": 5}, tmp_path)
        assert "[] should be non-empty" in schema_problem({"required": []}, tmp_path)  # draft-04: minItems 1
    assert not list(tmp_path.iterdir())


def test_a_state_folder_that_cannot_be_written_still_gets_the_check(tmp_path):
    blocker = tmp_path / "schemas"
    blocker.write_text("a file where the folder would go")
    assert schema_problem(VALID, blocker) is None
    assert schema_problem({"type": 5}, blocker)


def test_loading_a_config_again_does_not_import_jsonschema(tmp_path, monkeypatch):
    config = copy_project(tmp_path)
    first = load_config(config).env("dev")
    without_jsonschema(monkeypatch)
    assert load_config(config).env("dev") == first
