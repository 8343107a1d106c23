"""Turn the builders' templates into deterministic JSON files in templates_out/."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from infragen.config import BootstrapSettings, Config, EnvConfig

TEMPLATES_DIR = Path("templates_out")
BOOTSTRAP_FILE = "bootstrap.json"


SECTION_ORDER = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Conditions",
                 "Resources", "Outputs")


def to_json(template_dict: dict) -> str:
    """Stable text: sections in the conventional order, resources in insertion (dependency)
    order, never key-sorted."""
    ordered = {"AWSTemplateFormatVersion": "2010-09-09"}
    ordered.update((k, template_dict[k]) for k in SECTION_ORDER if k in template_dict)
    ordered.update((k, v) for k, v in template_dict.items() if k not in ordered)
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"


def stack_template(cfg: EnvConfig, cache_dir: Path | None = None) -> str:
    """The environment's template text; with `cache_dir`, kept there by a digest of everything it
    is built from (the whole environment config and infragen's own code), so commands that only
    need it — a no-op deploy, serve — skip loading troposphere and building it again."""
    cached = cache_dir / f"{_template_key(cfg)}.json" if cache_dir is not None else None
    if cached is not None:
        try:
            return cached.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass
    from infragen.stack.main import build_stack

    bootstrap_sha256 = hashlib.sha256(bootstrap_template(cfg.bootstrap).encode()).hexdigest()
    text = to_json(build_stack(cfg, bootstrap_sha256).to_dict())
    if cached is not None:
        _write_quietly(cached, text)
    return text


def _template_key(cfg: EnvConfig) -> str:
    config = json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=str)
    return hashlib.sha256(f"{_code_digest()}\n{config}".encode()).hexdigest()


BUILDER_LIBRARIES = ("troposphere", "awacs")  # what the builders' output also depends on


@functools.cache
def _code_digest() -> str:
    """sha256 over infragen's own source files and the installed builder libraries: a cached
    template never outlives the code that built it."""
    from infragen.installed import package_stamp

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(" ".join(package_stamp(name) for name in BUILDER_LIBRARIES).encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _write_quietly(path: Path, text: str) -> None:
    """Write atomically; a cache that cannot be written only costs the next build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass


@functools.cache
def bootstrap_template(settings: BootstrapSettings = BootstrapSettings()) -> str:
    """Built once per process and settings: every stack template records its hash, render writes it.

    The settings come from every environment sharing the bootstrap stack (EnvConfig.bootstrap),
    so all environments of a project render, record and deploy the same bootstrap template.
    """
    from infragen.stack.bootstrap import build_bootstrap

    return to_json(build_bootstrap(settings).to_dict())


@dataclass(frozen=True)
class RenderedFile:
    path: Path
    text: str

    def summary(self) -> str:
        """Compact size (what the deploy sends) and resource count, e.g. '26,113 bytes, 74 resources'."""
        template = json.loads(self.text)
        compact = len(json.dumps(template, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{compact:,} bytes compact, {len(template.get('Resources', {}))} resources"

    def status(self) -> str:
        """'current', 'stale' or 'missing' compared with what is on disk."""
        if not self.path.exists():
            return "missing"
        try:
            on_disk = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # not UTF-8: certainly not what render writes
            return "stale"
        return "current" if on_disk == self.text else "stale"


def render_files(config: Config, envs: list[str], out_dir: Path = TEMPLATES_DIR) -> list[RenderedFile]:
    files = [RenderedFile(out_dir / f"{env}.json", stack_template(config.env(env))) for env in envs]
    files += bootstrap_files(config, out_dir)
    return files


def bootstrap_files(config: Config, out_dir: Path) -> list[RenderedFile]:
    """`bootstrap.json`; one `bootstrap-<stack>.json` per bootstrap stack when environments use
    bootstrap stacks whose settings differ. From every environment, whichever are rendered."""
    by_stack = {cfg.bootstrap_stack: cfg.bootstrap for cfg in config.envs}
    if len(set(by_stack.values())) == 1:
        return [RenderedFile(out_dir / BOOTSTRAP_FILE, bootstrap_template(next(iter(by_stack.values()))))]
    return [RenderedFile(out_dir / f"bootstrap-{name}.json", bootstrap_template(settings))
            for name, settings in sorted(by_stack.items())]


def unrendered_files(files: list[RenderedFile], out_dir: Path) -> list[Path]:
    """Templates in `out_dir` that none of `files` is (e.g. of an environment since removed)."""
    rendered = {f.path for f in files}
    return [path for path in sorted(out_dir.glob("*.json")) if path not in rendered]


def write_files(files: list[RenderedFile]) -> list[RenderedFile]:
    """Write the files that changed; return them."""
    changed = [f for f in files if f.status() != "current"]
    for f in changed:
        f.path.parent.mkdir(parents=True, exist_ok=True)
        f.path.write_text(f.text, encoding="utf-8")
    return changed
