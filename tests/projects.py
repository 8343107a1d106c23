"""Copies of the repository's example project for tests that change or deploy it."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_project(dest: Path) -> Path:
    """infragen.toml and lambda_src/ (without caches) copied into `dest`; returns the config path."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "infragen.toml", dest / "infragen.toml")
    shutil.copytree(ROOT / "lambda_src", dest / "lambda_src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest / "infragen.toml"
