"""commands.py: what a command does once its options are parsed."""

from pathlib import Path

import pytest

from infragen import commands
from infragen.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "infragen.toml"


def _no_target(*_, **__):
    pytest.fail("a target was opened")


def test_secret_value_is_read_once_the_slot_is_valid_and_before_the_target(monkeypatch):
    monkeypatch.setattr(commands, "target_clients", _no_target)
    asked = []

    def read_value(label):
        asked.append(label)
        return ""

    with pytest.raises(UsageError, match="no parameter"):
        commands.secrets_set(CONFIG, "dev", "hello", "password", read_value, {})
    assert asked == []
    with pytest.raises(UsageError, match="empty"):
        commands.secrets_set(CONFIG, "dev", "hello", "greeting", read_value, {})
    assert asked == ["hello greeting (/infragen/dev/hello/greeting)"]
