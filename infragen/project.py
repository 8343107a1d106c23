"""Where a command's project lives and how it reaches its target: shared by the commands."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from infragen.config import STATE_DIR, EnvConfig, load_config


def project_root(config_path: Path) -> Path:
    """The folder holding infragen.toml, lambda_src/ and the .infragen/ state."""
    return config_path.resolve().parent


def state_dir(config_path: Path) -> Path:
    return project_root(config_path) / STATE_DIR


def template_cache(config_path: Path) -> Path:
    """Where rendered templates are kept by content digest (see render.stack_template)."""
    return state_dir(config_path) / "render"


def load_env(config_path: Path, env_name: str | None) -> EnvConfig:
    """One environment of the config; the first one declared when none is named."""
    config = load_config(config_path)
    return config.env(env_name or config.env_names[0])


@contextmanager
def target_clients(cfg: EnvConfig, config_path: Path, console, target_flags: dict, *,
                   check: str | None = "local") -> Iterator:
    """Clients for the target the flags name (--local, --endpoint-url, --profile, --region).

    `check`: "local" fails without credentials (no network call), "verified" also asks STS,
    None checks nothing (callers that degrade without credentials).
    """
    from infragen.target import check_credentials, open_target, require_credentials

    flags = dict(target_flags)
    region = flags.pop("region") or cfg.region
    with open_target(region, state_dir=state_dir(config_path), console=console, **flags) as clients:
        if check == "local":
            require_credentials(clients)
        elif check == "verified":
            check_credentials(clients)
        yield clients


def describe_target(clients, cfg: EnvConfig) -> str:
    target = clients.target
    place = {"aws": "AWS", "local": "the local emulator", "endpoint": target.endpoint_url}[target.kind]
    return f"{cfg.stack_name} ({cfg.env}) in {target.region} on {place}"
