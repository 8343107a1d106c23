"""One verified zip per function of an environment, its requirements installed (no AWS call)."""

from __future__ import annotations

from pathlib import Path

from infragen.config import EnvConfig
from infragen.package import Artifact, build_zip
from infragen.project import STATE_DIR

REQUIREMENTS_FILE = "requirements.txt"  # in a function's source folder: installed into its zip
DEPS_DIR = "deps"  # below the state dir: installed requirements, by cache key
VERIFIED_DIR = "zipcheck"  # below the state dir: digests of zip contents proven to serve their handler


def build_artifacts(cfg: EnvConfig, root: Path) -> dict[str, Artifact]:
    """One reproducible zip per function, its requirements installed, built in memory and
    verified (no AWS call)."""
    shared = [root / folder for folder in cfg.shared_packages]
    pip = None
    artifacts = {}
    for fn in cfg.functions:
        requirements = root / fn.source / REQUIREMENTS_FILE
        extra = None
        if requirements.is_file():
            from infragen import dependencies

            pip = pip or dependencies.PipSettings.from_environment()
            extra = dependencies.zip_entries(requirements, root / fn.source, runtime=fn.runtime,
                                             architecture=fn.architecture,
                                             cache_dir=root / STATE_DIR / DEPS_DIR,
                                             shared=[folder.name for folder in shared], pip=pip)
        artifacts[fn.name] = build_zip(root / fn.source, shared, fn.name, cfg.artifact_prefix,
                                       project_root=root, handler=fn.handler, runtime=fn.runtime,
                                       extra_entries=extra, verified_dir=root / STATE_DIR / VERIFIED_DIR)
    return artifacts
