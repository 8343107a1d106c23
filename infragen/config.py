"""Load `infragen.toml` into typed, frozen per-environment settings.

Every problem is reported as one ConfigError naming the file, the key, the value and what is
allowed; nothing is written before the whole file has been validated.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from infragen.errors import ConfigError
from infragen.regions import region_check

DEFAULT_CONFIG = Path("infragen.toml")
FUNCTIONS = ("hello", "data_processor")
# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
RUNTIMES = ("python3.12", "python3.13")
API_AUTH_MODES = ("api_key", "iam")
ROUTES = {"hello": ("GET", "/hello"), "data_processor": ("POST", "/data")}


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    runtime: str
    timeout: int
    memory: int
    reserved_concurrency: int
    parameters: tuple[tuple[str, str], ...]  # (key, SSM parameter name), sorted by key
    batch_size: int | None = None

    @property
    def route(self) -> tuple[str, str]:
        return ROUTES[self.name]

    @property
    def example_event(self) -> str:
        """File in lambda_src/events/ holding an example request for this function's route."""
        return self.route[1].strip("/") + ".json"


@dataclass(frozen=True)
class EnvConfig:
    env: str
    stack_name: str
    region: str
    vpc_cidr: str
    nat_gateways: int
    log_retention_days: int
    alarm_email: str
    log_level: str
    tracing: bool
    api_auth: str
    open_routes: tuple[str, ...]
    manage_api_gateway_account: bool
    throttle_rate_limit: int
    throttle_burst_limit: int
    bootstrap_stack: str
    artifact_prefix: str
    functions: tuple[FunctionConfig, ...]

    def function(self, name: str) -> FunctionConfig:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise ConfigError(f"unknown function {name!r}", hint="the functions are: " + ", ".join(FUNCTIONS))


@dataclass(frozen=True)
class Config:
    path: Path
    envs: tuple[EnvConfig, ...]

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(e.env for e in self.envs)

    def env(self, name: str) -> EnvConfig:
        for env in self.envs:
            if env.env == name:
                return env
        raise ConfigError(
            f"{self.path}: unknown environment {name!r}",
            hint=f"use one of: {', '.join(self.env_names)} (declared as [env.<name>] tables)",
        )


# --- validation rules: (type, check returning an error text or None, description) -------------

Check = Callable[[Any], "str | None"]


def _between(low: int, high: int) -> Check:
    return lambda v: None if low <= v <= high else f"an integer from {low} to {high}"


def _one_of(*allowed: Any) -> Check:
    return lambda v: None if v in allowed else "one of " + ", ".join(map(repr, allowed))


def _matches(pattern: str, meaning: str) -> Check:
    return lambda v: None if re.fullmatch(pattern, v) else meaning


def _cidr(value: str) -> str | None:
    allowed = "an IPv4 network from /16 to /24 such as '10.0.0.0/16'"
    try:
        net = ipaddress.IPv4Network(value)
    except ValueError:
        return allowed
    return None if 16 <= net.prefixlen <= 24 else allowed


def _routes(value: list) -> str | None:
    known = [f"{m} {p}" for m, p in ROUTES.values()]
    bad = [r for r in value if r not in known]
    return None if not bad else "a list drawn from " + ", ".join(map(repr, known))


def _parameters(value: dict) -> str | None:
    meaning = ("a table of key = SSM parameter name, keys like 'greeting', names like '/app/{env}/x' "
               "(letters, digits, '_.-/' and the {env} placeholder)")
    for key, name in value.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", key) or not isinstance(name, str):
            return meaning
        if not re.fullmatch(r"/([A-Za-z0-9_.\-/]|\{env\}){1,1000}", name):
            return meaning
    return None


# Names become parts of other names: "<stack>-data-processor" must fit Lambda's 64 characters,
# "<bootstrap>-<account>-<region>" S3's 63 lower-case characters. The pattern bounds the name as
# written; MAX_STACK_NAME bounds it once {env} (up to 16 characters) is filled in.
_STACK_NAME = r"[a-zA-Z]([-a-zA-Z0-9]|\{env\}){0,40}"
LAMBDA_NAME_LIMIT = 64
MAX_STACK_NAME = LAMBDA_NAME_LIMIT - len("-") - max(map(len, FUNCTIONS))
_BOOTSTRAP_NAME = r"[a-z][-a-z0-9]{0,30}"
STACK_RULES: dict[str, tuple[type, Check]] = {
    "stack_name": (str, _matches(_STACK_NAME, "up to 41 letters, digits, '-' or {env}, "
                                              "starting with a letter")),
    "region": (str, region_check),
    "vpc_cidr": (str, _cidr),
    "nat_gateways": (int, _between(1, 2)),
    "log_retention_days": (int, _one_of(*RETENTION_DAYS)),
    "alarm_email": (str, _matches(r"|[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address or ''")),
    "log_level": (str, _one_of("DEBUG", "INFO", "WARNING", "ERROR")),
    "tracing": (bool, lambda v: None),
    "api_auth": (str, _one_of(*API_AUTH_MODES)),
    "open_routes": (list, _routes),
    "manage_api_gateway_account": (bool, lambda v: None),
    "throttle_rate_limit": (int, _between(1, 10000)),
    "throttle_burst_limit": (int, _between(1, 5000)),
    "bootstrap_stack": (str, _matches(_BOOTSTRAP_NAME, "up to 31 lower-case letters, digits and "
                                                      "'-', starting with a letter")),
    "artifact_prefix": (str, _matches(r"[a-z0-9][a-z0-9-]{0,62}", "lower-case letters, digits, '-'")),
}
FUNCTION_RULES: dict[str, tuple[type, Check]] = {
    "runtime": (str, _one_of(*RUNTIMES)),
    "timeout": (int, _between(1, 900)),
    "memory": (int, _between(128, 10240)),
    "reserved_concurrency": (int, _between(1, 1000)),
    "batch_size": (int, _between(1, 1000)),
    "parameters": (dict, _parameters),
}
REQUIRED_FUNCTION_KEYS = {"runtime", "timeout", "memory", "reserved_concurrency", "parameters"}


def _type_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "a list",
            dict: "a table"}[kind]


class _Validator:
    """Checks one table against its rules, naming the file and dotted key on the first problem."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key} = {value!r} is not allowed; expected {allowed}")

    def table(self, where: str, data: Any, rules: dict[str, tuple[type, Check]]) -> dict:
        if not isinstance(data, dict):
            raise self.fail(where, data, "a table")
        for key, value in data.items():
            dotted = f"{where}.{key}"
            if key not in rules:
                raise ConfigError(
                    f"{self.path}: unknown key {dotted}",
                    hint="allowed keys here: " + ", ".join(sorted(rules)),
                )
            kind, check = rules[key]
            # bool is an int in Python; a boolean where a number is expected is still wrong.
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise self.fail(dotted, value, _type_name(kind))
            problem = check(value)
            if problem:
                raise self.fail(dotted, value, problem)
        return data


def load_config(path: Path = DEFAULT_CONFIG) -> Config:
    """Parse and validate the whole file; raise ConfigError on the first problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found",
                          hint="run from the project root or pass --config FILE") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:  # a folder, no permission, …
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}",
                          hint="pass --config FILE") from None
    return parse_config(raw, path)


def parse_config(raw: dict, path: Path) -> Config:
    v = _Validator(path)
    unknown = set(raw) - {"stack", "functions", "env"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level table [{sorted(unknown)[0]}]",
                          hint="allowed: [stack], [functions.<name>], [env.<name>]")
    stack = v.table("stack", raw.get("stack", {}), STACK_RULES)
    missing = sorted(set(STACK_RULES) - set(stack))
    if missing:
        raise ConfigError(f"{path}: missing key stack.{missing[0]}")
    functions = _function_tables(v, "functions", raw.get("functions", {}), require=True)
    envs_raw = raw.get("env", {})
    if not isinstance(envs_raw, dict) or not envs_raw:
        raise ConfigError(f"{path}: no environments declared", hint="add an [env.dev] table")
    envs = []
    for env, overrides in envs_raw.items():
        if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", env):
            raise v.fail(f"env.{env}", env, "an environment name of lower-case letters and digits")
        overrides = v.table(f"env.{env}", overrides, {**STACK_RULES, "functions": (dict, lambda _: None)})
        fn_overrides = _function_tables(v, f"env.{env}.functions", overrides.get("functions", {}),
                                        require=False)
        merged = {**stack, **{k: val for k, val in overrides.items() if k != "functions"}}
        env_config = _env_config(env, merged, functions, fn_overrides)
        if len(env_config.stack_name) > MAX_STACK_NAME:
            where = f"env.{env}" if "stack_name" in overrides else "stack"
            raise v.fail(f"{where}.stack_name", merged["stack_name"],
                         f"a name of at most {MAX_STACK_NAME} characters once {{env}} is filled in "
                         f"({env_config.stack_name!r} has {len(env_config.stack_name)}), so that "
                         f"Lambda function names (<stack>-<function>) fit {LAMBDA_NAME_LIMIT}")
        envs.append(env_config)
    return Config(path=path, envs=tuple(envs))


def _function_tables(v: _Validator, where: str, data: Any, *, require: bool) -> dict[str, dict]:
    if not isinstance(data, dict):
        raise v.fail(where, data, "a table of functions")
    for name, table in data.items():
        if name not in FUNCTIONS:
            raise ConfigError(f"{v.path}: unknown function {where}.{name}",
                              hint="the functions are: " + ", ".join(FUNCTIONS))
        v.table(f"{where}.{name}", table, FUNCTION_RULES)
        if "batch_size" in table and name != "data_processor":
            raise v.fail(f"{where}.{name}.batch_size", table["batch_size"],
                         "no batch_size: only data_processor takes one")
    if require:
        for name in FUNCTIONS:
            missing = sorted(REQUIRED_FUNCTION_KEYS - set(data.get(name, {})))
            if missing:
                raise ConfigError(f"{v.path}: missing key {where}.{name}.{missing[0]}")
        if "batch_size" not in data["data_processor"]:
            raise ConfigError(f"{v.path}: missing key {where}.data_processor.batch_size")
    return data


def _env_config(env: str, stack: dict, functions: dict, overrides: dict) -> EnvConfig:
    def fill(text: str) -> str:
        return text.replace("{env}", env)

    fns = []
    for name in FUNCTIONS:
        merged = {**functions[name], **overrides.get(name, {})}
        params = tuple(sorted((k, fill(n)) for k, n in merged.pop("parameters").items()))
        fns.append(FunctionConfig(name=name, parameters=params, **merged))
    return EnvConfig(
        env=env,
        **{**stack, "stack_name": fill(stack["stack_name"]),
           "bootstrap_stack": fill(stack["bootstrap_stack"]),
           "open_routes": tuple(stack["open_routes"])},
        functions=tuple(fns),
    )
