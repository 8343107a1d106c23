"""Validation and normalisation of `data` items.

Accepted item types and what processing does to them:
- string: Unicode NFC-normalised, then leading/trailing whitespace stripped;
- integer or finite float: kept as is;
- boolean: kept as is.
Anything else (null, objects, lists, non-finite numbers, strings that are not
valid Unicode) is rejected with the index of the first offending item.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

Item = str | int | float | bool


class InvalidItem(ValueError):
    """Item `index` cannot be processed; `reason` says why."""

    def __init__(self, index: int, reason: str):
        super().__init__(f"data[{index}]: {reason}")
        self.index = index


def validate(items: list[Any]) -> None:
    """Raise InvalidItem for the first item that `normalise` would refuse."""
    for index, item in enumerate(items):
        reason = _problem(item)
        if reason is not None:
            raise InvalidItem(index, reason)


def normalise(item: Item) -> Item:
    """The processed form of a valid item."""
    if isinstance(item, str):
        return unicodedata.normalize("NFC", item).strip()
    return item


def _problem(item: Any) -> str | None:
    if isinstance(item, bool | int):
        return None
    if isinstance(item, float):
        return None if math.isfinite(item) else "number is out of range"
    if isinstance(item, str):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return "string is not valid Unicode"
        return None
    return (
        f"unsupported item type '{_json_type(item)}'; "
        "items must be strings, numbers or booleans"
    )


def _json_type(item: Any) -> str:
    if item is None:
        return "null"
    if isinstance(item, dict):
        return "object"
    if isinstance(item, list):
        return "array"
    return type(item).__name__
