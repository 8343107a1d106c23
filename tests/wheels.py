"""Wheels written by hand, so dependency tests need no network or index."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def write_wheel(folder: Path, name: str, version: str, *, tag: str = "py3-none-any",
                files: dict[str, str] | None = None, requires: list[str] = (), scripts: dict[str, str] | None = None,
                ) -> Path:
    """A wheel written by hand: files, METADATA, WHEEL, optional entry points, and a RECORD of them all."""
    files = dict(files or {f"{name}/__init__.py": f"VERSION = {version!r}\n"})
    info = f"{name}-{version}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in requires))
    files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: tests\n"
                              f"Root-Is-Purelib: {str(tag.endswith('-any')).lower()}\nTag: {tag}\n")
    if scripts:
        files[f"{info}/entry_points.txt"] = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
    record = "".join(f"{path},sha256={_b64(hashlib.sha256(text.encode()).digest())},{len(text.encode())}\n"
                     for path, text in files.items()) + f"{info}/RECORD,,\n"
    path = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", record)
    return path


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
