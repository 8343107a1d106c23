"""Output paths a command will write, proven writable before the command changes anything."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from infragen.errors import UsageError

_NOTHING_DONE = "pick another path; nothing was changed"


def require_writable_file(path: Path, option: str) -> None:
    """Raise UsageError unless `path` can be written as a file (nothing is created or truncated).

    An existing path is opened for appending without blocking and given an empty write (a
    read-only or procfs file, a pipe nobody reads fail here); a new one needs a folder that accepts a file,
    which is proven by creating and removing a temporary file in it.
    """
    where = f"{option} {path}"
    try:
        if path.is_dir():
            raise UsageError(f"{where} is a folder, not a file", hint=_NOTHING_DONE)
        if path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
            try:
                os.write(fd, b"")  # procfs and similar files refuse even an empty write
            finally:
                os.close(fd)
            return
        parent = path.parent
        if not parent.is_dir():
            raise UsageError(f"{where}: folder {parent} does not exist",
                             hint=f"create it, or {_NOTHING_DONE}")
        _probe(parent)
    except OSError as exc:
        raise UsageError(f"{where} cannot be written: {exc.strerror or exc}",
                         hint=_NOTHING_DONE) from None


def require_writable_dir(path: Path, option: str) -> None:
    """Raise UsageError unless `path` is, or can become, a folder that accepts files."""
    where = f"{option} {path}"
    existing = path
    while not existing.exists():
        if existing.is_symlink() or existing.parent == existing:
            raise UsageError(f"{where} cannot be created", hint=_NOTHING_DONE)
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{where}: {existing} is not a folder", hint=_NOTHING_DONE)
    try:
        _probe(existing)
    except OSError as exc:
        raise UsageError(f"{where} cannot be written: {exc.strerror or exc}",
                         hint=_NOTHING_DONE) from None


def _probe(folder: Path) -> None:
    """Create and remove a file in `folder`: raises OSError when it accepts none."""
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".infragen-probe-")
    os.close(fd)
    os.unlink(probe)
