"""What is installed, cheaply: a stamp of a package's files without importing it (nor importlib.metadata)."""

from __future__ import annotations

import importlib.util
import os


def package_stamp(name: str) -> str:
    """Changes whenever package `name` is installed anew (another version, a reinstall): its
    `__init__` file's path, size and modification time; "absent" when it is not installed."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return f"{name}:absent"
    stat = os.stat(spec.origin)
    return f"{name}:{spec.origin}:{stat.st_size}:{stat.st_mtime_ns}"
