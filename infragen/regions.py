"""AWS regions as botocore knows them (its partition data), to refuse a mistyped region before any call."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

REGION_SYNTAX = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
REGION_MEANING = "an AWS region such as 'us-west-2'"


@functools.cache
def _regions() -> dict[str, str]:
    """Every region of every partition in botocore's data, with its description ("US West (Oregon)").

    partitions.json (a few KB, read without importing botocore) lists them; endpoints.json (about
    1 MB) is read only by an older botocore that has no partitions.json.
    """
    data_dir = Path(importlib.util.find_spec("botocore").submodule_search_locations[0]) / "data"
    regions: dict[str, str] = {}
    for data_name in ("partitions.json", "endpoints.json"):
        try:
            data = json.loads((data_dir / data_name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        for partition in data.get("partitions", []):
            regions.update({name: (about or {}).get("description", name)
                            for name, about in partition.get("regions", {}).items()})
        if regions:
            break
    # Pseudo-regions such as "aws-global" are signing scopes, not places a stack can live.
    return {name: about for name, about in regions.items() if REGION_SYNTAX.fullmatch(name)}


def known_regions() -> frozenset[str]:
    return frozenset(_regions())


def region_description(name: str) -> str:
    """How AWS names the region in messages ("US West (Oregon)"); the name itself when unknown."""
    return _regions().get(name, name)


def known_region(name: str) -> bool:
    """Whether `name` is a region of one of botocore's partitions (aws, aws-cn, aws-us-gov, …)."""
    return name in _regions()


def region_check(value: str) -> str | None:
    """A config-rule check: None for a known region, else what is allowed."""
    if known_region(value):
        return None
    return f"{REGION_MEANING} (one of botocore's known regions; a new region needs a newer botocore)"


def region_problem(name: str, *, custom_endpoint: bool) -> str | None:
    """Why `name` cannot be used, or None. A custom endpoint may use any well-formed region name."""
    if custom_endpoint:
        return None if REGION_SYNTAX.fullmatch(name) else f"expected {REGION_MEANING}"
    problem = region_check(name)
    return problem and f"expected {problem}"
