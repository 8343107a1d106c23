"""Load `infragen.toml` into typed, frozen per-environment settings.

The app is the file's: functions (their code, routes, schedule, grants), tables and stack
settings. Every problem is reported as one ConfigError naming the file, the key, the value and
what is allowed; nothing is written before the whole file has been validated.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from infragen.body_schemas import schema_problem
from infragen.errors import ConfigError
from infragen.routes import ROUTE_FORMAT, Route, parse_route, sibling_parameter_conflict
from infragen.schedules import schedule_problem
from infragen.stack.names import camel
from infragen.regions import region_check

STATE_DIR = ".infragen"  # below the project root: caches and emulator state, never committed
SCHEMA_VERDICTS_DIR = "schemas"  # below the state dir: body schemas found valid

DEFAULT_CONFIG = Path("infragen.toml")
# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
RUNTIMES = ("python3.12", "python3.13")
ARCHITECTURES = ("arm64", "x86_64")
API_AUTH_MODES = ("api_key", "iam")
TABLE_LEVELS = ("read", "write", "read_write")
LAMBDA_NAME_LIMIT = 64
ENVIRONMENT_LIMIT = 4096  # bytes: Lambda's limit for all of a function's variables together
# Lambda sets these itself and refuses them in a function's configuration (AWS: "Defined runtime
# environment variables"); infragen sets the second group for every function.
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
})
INFRAGEN_VARIABLES = frozenset({"ENVIRONMENT", "LOG_LEVEL", "ERROR_TOPIC_ARN", "PARAMETER_TTL_SECONDS"})
_SECRET_LIKE = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL")
_SUB_VARIABLES = {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix"}
# AWS counts a parameter's ARN in the 1011 characters its name may have; this allows for the
# longest ARN prefix (partition, region, account), so a name that fits here fits everywhere.
SSM_NAME_LIMIT = 1011 - len("arn:aws-us-gov:ssm:ap-southeast-5:123456789012:parameter")
DEFAULT_SHARED_PACKAGES = ("lambda_src/common",)


@dataclass(frozen=True)
class AccessGrant:
    """Extra IAM statement for one function: `{env}` filled in, `${AWS::…}` left for Fn::Sub."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class IndexConfig:
    """A global secondary index: its keys and what it projects ("all", "keys_only", or the
    non-key attributes it includes)."""
    name: str
    partition_key: str
    sort_key: str | None = None
    projection: str | tuple[str, ...] = "all"


@dataclass(frozen=True)
class TableConfig:
    name: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[IndexConfig, ...] = ()

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """Every key attribute of the table and its indexes, each once, the table's first."""
        keys = [self.partition_key, self.sort_key]
        keys += [k for index in self.indexes for k in (index.partition_key, index.sort_key)]
        return tuple(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    source: str  # folder relative to the project root
    handler: str  # "module.function", the module relative to `source`
    architecture: str
    runtime: str
    timeout: int
    memory: int
    reserved_concurrency: int | None
    routes: tuple[Route, ...] = ()
    schedule: str | None = None
    environment: tuple[tuple[str, str], ...] = ()  # sorted by name
    parameters: tuple[tuple[str, str], ...] = ()  # (key, SSM parameter name), sorted by key
    tables: tuple[tuple[str, str | tuple[str, ...]], ...] = ()  # (table, level or actions), by table
    # (table, index, "read" or actions) from `"TABLE/INDEX" = …` entries, by table and index
    indexes: tuple[tuple[str, str, str | tuple[str, ...]], ...] = ()
    access: tuple[AccessGrant, ...] = ()
    body_schema: str | None = None  # path as written
    body_schema_json: str | None = field(default=None, repr=False)  # its content, compact
    audit_ignore: tuple[tuple[str, str], ...] = ()  # (call, reason) the audit may not resolve

    @property
    def handler_module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rpartition(".")[2]

    @property
    def body_model(self) -> dict | None:
        return json.loads(self.body_schema_json) if self.body_schema_json else None

    @property
    def table_names(self) -> tuple[str, ...]:
        """The tables this function may use, directly or only through an index."""
        return tuple(sorted({t for t, _ in self.tables} | {t for t, _, _ in self.indexes}))


@dataclass(frozen=True)
class BootstrapSettings:
    """What the bootstrap stack (one per account and region) builds besides the artifact bucket.

    Derived from every environment that shares the bootstrap stack, so deploying one environment
    never undoes what another set: the API Gateway account setting is on when they manage it, and
    `/aws/apigateway/welcome` keeps logs as long as the longest-keeping of them.
    """
    manage_api_gateway_account: bool = True
    log_retention_days: int = 365


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
    tables: tuple[TableConfig, ...] = ()
    shared_packages: tuple[str, ...] = DEFAULT_SHARED_PACKAGES
    bootstrap: BootstrapSettings = BootstrapSettings()
    # (protocol, endpoint) subscribed to the error topic; empty only with `alerts = "none"`
    alerts: tuple[tuple[str, str], ...] = ()

    def function(self, name: str) -> FunctionConfig:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise ConfigError(f"unknown function {name!r}",
                          hint="the functions are: " + ", ".join(f.name for f in self.functions))

    def table(self, name: str) -> TableConfig:
        return next(t for t in self.tables if t.name == name)

    @property
    def routes(self) -> list[tuple[Route, FunctionConfig]]:
        return sorted(((r, fn) for fn in self.functions for r in fn.routes),
                      key=lambda pair: (pair[0].path, pair[0].method))


@dataclass(frozen=True)
class Config:
    path: Path
    envs: tuple[EnvConfig, ...]
    notes: tuple[str, ...] = ()  # things worth saying that are not errors

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


# --- validation rules: (type, check returning an error text or None) --------------------------

Check = Callable[[Any], "str | None"]


def _any(_value: Any) -> None:
    return None


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


def _strings(value: list) -> str | None:
    return None if all(isinstance(v, str) for v in value) else "a list of strings"


def _ssm_name_problem(name: str) -> str | None:
    """AWS's rules for parameter names ("Creating Parameter Store parameters")."""
    filled = name.replace("{env}", "e" * 16)
    if not re.fullmatch(r"/([A-Za-z0-9_.\-/]|\{env\})+", name):
        return "a name like '/app/{env}/x' of letters, digits, '_.-/' and {env}"
    if len(filled) > SSM_NAME_LIMIT:
        return (f"at most {SSM_NAME_LIMIT} characters with {{env}} counted as 16 (AWS counts the "
                f"parameter's ARN in its limit of 1011)")
    if "//" in name or name.endswith("/"):
        return "no empty path level ('//' or a trailing '/')"
    if re.match(r"/(aws|ssm)", name, re.IGNORECASE):
        return "a name that does not begin with 'aws' or 'ssm' (reserved by AWS)"
    if name.count("/") > 15:
        return "at most 15 levels"
    return None


def _parameters(value: dict) -> str | None:
    for key, name in value.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", key):
            return "keys of lower-case letters, digits and '_' (e.g. 'api_token')"
        if not isinstance(name, str):
            return "SSM parameter names as strings"
        problem = _ssm_name_problem(name)
        if problem:
            return f"SSM parameter names: {name!r} needs {problem}"
    return None


def _environment(value: dict) -> str | None:
    for name, text in value.items():
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            return f"variable names of letters, digits and '_' starting with a letter ({name!r})"
        if name in RESERVED_VARIABLES or name.startswith("AWS_LAMBDA_"):
            return f"names Lambda does not reserve ({name!r} is set by the Lambda runtime)"
        if name in INFRAGEN_VARIABLES:
            return f"names infragen does not set itself ({name!r} is set for every function)"
        if _SECRET_LIKE.search(name.upper()):
            return (f"no secrets in plain variables ({name!r} looks like one): declare it under "
                    f"parameters and write it with `infragen secrets set`")
        if not isinstance(text, str):
            return f"string values (write {name} = \"{text}\")"
    return None


def _routes(value: list) -> str | None:
    bad = [r for r in value if parse_route(r) is None]
    return f"routes written as {ROUTE_FORMAT} ({bad[0]!r} is not)" if bad else None


def _schedule(value: str) -> str | None:
    problem = schedule_problem(value)
    return f"a schedule EventBridge accepts: {problem}" if problem else None


def _tables_used(value: dict) -> str | None:
    from infragen.iam_catalog import actions_taking, lookup

    for name, access in value.items():
        table, on_index, index = name.partition("/")
        if on_index and not (re.fullmatch(_NAME, table) and re.fullmatch(_INDEX_NAME, index)):
            return f'table names, or "TABLE/INDEX" for one of a table\'s indexes ({name!r})'
        resource = "index" if on_index else "table"
        if isinstance(access, list):
            for action in access:
                info = lookup(action) if isinstance(action, str) else None
                if info is None or info.service != "dynamodb" or resource not in info.resource_types:
                    if on_index:
                        return (f"DynamoDB actions on an index: {', '.join(actions_taking('dynamodb', 'index'))} "
                                f"({name} lists {action!r})")
                    return (f"DynamoDB actions on a table such as \"dynamodb:Query\" ({name} lists "
                            f"{action!r})")
            if not access:
                return f"a level or a non-empty list of DynamoDB actions ({name} = [])"
        elif on_index and access != "read":
            return (f"'read' or a list of DynamoDB actions for an index: an index is only read, "
                    f"writes go to its table ({name} = {access!r})")
        elif access not in TABLE_LEVELS:
            return (f"grant levels {', '.join(map(repr, TABLE_LEVELS))} or a list of DynamoDB "
                    f"actions ({name} = {access!r})")
    return None


def _audit_ignore(value: list) -> str | None:
    for entry in value:
        if (not isinstance(entry, dict) or set(entry) != {"call", "reason"}
                or not all(isinstance(entry[k], str) and entry[k].strip() for k in ("call", "reason"))):
            return ('entries like { call = "handler.py:12", reason = "why this call cannot be resolved" } '
                    "(a call site or the call as written, and a non-empty reason)")
    return None


def _access(value: list) -> str | None:
    from infragen.iam_catalog import lookup

    for grant in value:
        if not isinstance(grant, dict) or set(grant) != {"actions", "resources"}:
            return "entries like { actions = [\"s3:GetObject\"], resources = [\"arn:…\"] }"
        actions, resources = grant["actions"], grant["resources"]
        if not (isinstance(actions, list) and isinstance(resources, list) and actions and resources
                and all(isinstance(x, str) for x in actions + resources)):
            return "non-empty lists of strings for actions and resources"
        infos = []
        for action in actions:
            if "*" in action or "?" in action:
                return (f"IAM actions named one by one, not {action!r}: least privilege means "
                        f"listing the calls the code makes")
            info = lookup(action)
            if info is None:
                return f"IAM actions such as 's3:GetObject' ({action!r} is not an IAM action)"
            infos.append(info)
        for resource in resources:
            if resource == "*":
                scoped = [i.full_name for i in infos if i.supports_resource_scoping]
                if scoped:
                    return (f"the exact resources: {scoped[0]} supports resource-level "
                            f"permissions, so '*' would grant it on everything")
                continue
            if not resource.startswith("arn:"):
                return f"ARNs or '*' as resources ({resource!r})"
            unknown = {f"${{{name}}}" for name in re.findall(r"\$\{([^}]*)\}", resource)
                       if name not in _SUB_VARIABLES}
            unknown |= {f"{{{name}}}" for name in re.findall(r"(?<!\$)\{([^}]*)\}", resource)
                        if name != "env"}
            if unknown:
                return (f"only ${{AWS::Partition}}, ${{AWS::Region}}, ${{AWS::AccountId}}, "
                        f"${{AWS::URLSuffix}} and {{env}} as placeholders (not {sorted(unknown)[0]})")
            scoped = [i.full_name for i in infos if i.supports_resource_scoping]
            if scoped and (problem := _arn_breadth(resource)):
                return f"{problem} ({scoped[0]} supports resource-level permissions)"
    return None


def _arn_breadth(resource: str) -> str | None:
    """Why an ARN is as broad as '*' for its service, or None: a wildcard in the account, or a
    resource part that matches every resource of a kind (the kinds' ARN formats from the Service
    Authorization Reference, each name filled in two unrelated ways: a pattern matching both
    stands for all of them, as `*`, `t*`, `table/*/index/*` or an S3 `*/*` do)."""
    from infragen.iam_catalog import resource_formats
    from infragen.policy_model import matches

    parts = re.sub(r"\$\{[^}]*\}", "x", resource).split(":", 5)  # ${AWS::Region} holds colons
    if len(parts) < 6:
        return f"ARNs of the form arn:partition:service:region:account:resource ({resource!r})"
    if "*" in parts[4] or "?" in parts[4]:
        return f"the exact resources: {resource!r} names other accounts'"
    for kind in resource_formats(parts[2]):
        if all(matches(re.sub(r"\$\{[^}]*\}", name, kind), parts[5]) for name in ("q0Zx7", "Wk3-p_9")):
            return (f"the exact resources: {resource!r} names every {parts[2]} resource of a kind, "
                    "as broad as '*' (name them, e.g. a bucket, a table, a parameter path)")
    return None


# Alert subscribers of the error topic, by the SNS protocol each endpoint form means (Amazon SNS
# Developer Guide, "Subscribe": email, https, sqs and lambda endpoints).
ALERTS_NONE = "none"
_ALERT_FORMS = (
    ("email", re.compile(r"[^@\s:/]+@[^@\s]+\.[^@\s]+")),
    ("https", re.compile(r"https://[^\s/]+(/\S*)?")),
    ("sqs", re.compile(r"arn:aws[-a-z]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?")),
    ("lambda", re.compile(r"arn:aws[-a-z]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}"
                          r"(:[A-Za-z0-9_$-]{1,128})?")),
)
ALERTS_ALLOWED = (f'"{ALERTS_NONE}" (alerts go nowhere: a throwaway environment) or a list of '
                  "e-mail addresses, https:// URLs, SQS queue ARNs and Lambda function ARNs")
# Domains reserved for examples and tests (RFC 2606, RFC 6761): mail to them reaches nobody.
_RESERVED_MAIL = re.compile(r".*@(.+\.)?(example\.(com|net|org)|example|invalid|test|localhost)$",
                            re.IGNORECASE)


def alert_protocol(endpoint: str) -> str | None:
    """The SNS protocol of one `alerts` entry, or None when it is none of the accepted forms."""
    return next((protocol for protocol, form in _ALERT_FORMS if form.fullmatch(endpoint)), None)


def _alerts(value: Any) -> str | None:
    if isinstance(value, str):
        return None if value == ALERTS_NONE else ALERTS_ALLOWED
    if not all(isinstance(e, str) for e in value) or len(set(value)) != len(value):
        return ALERTS_ALLOWED + ", each once"
    for endpoint in value:
        if endpoint.startswith("http://"):
            return ALERTS_ALLOWED + f" ({endpoint!r}: SNS would send alerts in clear text; use https://)"
        if alert_protocol(endpoint) is None:
            return ALERTS_ALLOWED + f" ({endpoint!r} is none of these)"
    return None


# Names become parts of other names; the pattern bounds the name as written, and the function
# names (<stack>-<function>) are checked once {env} is filled in.
_STACK_NAME = r"[a-zA-Z]([-a-zA-Z0-9]|\{env\}){0,40}"
_BOOTSTRAP_NAME = r"[a-z][-a-z0-9]{0,30}"
_NAME = r"[a-z][a-z0-9_]{0,39}"
# DynamoDB allows 3-255 of [A-Za-z0-9_.-]; infragen also wants a letter first, so a name reads as
# one in code, in `"TABLE/INDEX"` grants and in the index's ARN.
_INDEX_NAME = r"[A-Za-z][A-Za-z0-9_.\-]{2,254}"
_INDEX_NAME_RULE = ("an index name of 3 to 255 letters, digits, '_', '-' and '.', starting with a letter "
                    "(DynamoDB's rule, plus the first letter)")
STACK_RULES: dict[str, tuple[type, Check]] = {
    "stack_name": (str, _matches(_STACK_NAME, "up to 41 letters, digits, '-' or {env}, "
                                              "starting with a letter")),
    "region": (str, region_check),
    "vpc_cidr": (str, _cidr),
    "nat_gateways": (int, _between(1, 2)),
    "log_retention_days": (int, _one_of(*RETENTION_DAYS)),
    "alarm_email": (str, _matches(r"|[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address or ''")),
    "alerts": ((str, list), _alerts),
    "log_level": (str, _one_of("DEBUG", "INFO", "WARNING", "ERROR")),
    "tracing": (bool, _any),
    "api_auth": (str, _one_of(*API_AUTH_MODES)),
    "open_routes": (list, _routes),  # checked against the declared routes later
    "manage_api_gateway_account": (bool, _any),
    "throttle_rate_limit": (int, _between(1, 10000)),
    "throttle_burst_limit": (int, _between(1, 5000)),
    "bootstrap_stack": (str, _matches(_BOOTSTRAP_NAME, "up to 31 lower-case letters, digits and "
                                                      "'-', starting with a letter")),
    "artifact_prefix": (str, _matches(r"[a-z0-9][a-z0-9-]{0,62}", "lower-case letters, digits, '-'")),
    "shared_packages": (list, _strings),
}
STACK_DEFAULTS = {"shared_packages": list(DEFAULT_SHARED_PACKAGES), "alerts": []}
FUNCTION_RULES: dict[str, tuple[type, Check]] = {
    "source": (str, _matches(r"[A-Za-z0-9_.\-/]+", "a folder of the project such as 'lambda_src/orders'")),
    "handler": (str, _matches(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+",
                              "'module.function' such as 'handler.handler'")),
    "architecture": (str, _one_of(*ARCHITECTURES)),
    "runtime": (str, _one_of(*RUNTIMES)),
    "timeout": (int, _between(1, 900)),
    "memory": (int, _between(128, 10240)),
    "reserved_concurrency": (int, _between(0, 1000)),
    "routes": (list, _routes),
    "schedule": (str, _schedule),
    "environment": (dict, _environment),
    "parameters": (dict, _parameters),
    "tables": (dict, _tables_used),
    "access": (list, _access),
    "body_schema": (str, _matches(r"[A-Za-z0-9_.\-/]+\.json", "a .json file of the project")),
    "audit_ignore": (list, _audit_ignore),
}
FUNCTION_DEFAULTS = {"handler": "handler.handler", "architecture": "arm64", "runtime": "python3.12",
                     "timeout": 300, "memory": 512, "routes": [], "environment": {},
                     "parameters": {}, "tables": {}, "access": [],
                     "audit_ignore": []}
MERGED_PER_KEY = ("environment", "parameters", "tables")  # env overrides merge into these tables
_ATTRIBUTE = r"[A-Za-z0-9_.\-]{1,255}"
TABLE_RULES: dict[str, tuple[type, Check]] = {
    "partition_key": (str, _matches(_ATTRIBUTE, "an attribute name")),
    "sort_key": (str, _matches(_ATTRIBUTE, "an attribute name")),
    "indexes": (dict, _any),  # each checked against INDEX_RULES
}
# DynamoDB (CreateTable, "Service, account, and table quotas"): 20 global secondary indexes per
# table; an INCLUDE projection lists 1–20 non-key attributes, at most 100 over all the table's indexes.
INDEX_LIMIT = 20
INCLUDE_LIMIT = 20
NON_KEY_ATTRIBUTE_LIMIT = 100
PROJECTIONS = ("all", "keys_only")


def _projection(value: str | list) -> str | None:
    allowed = (f"'all', 'keys_only', or a list of 1 to {INCLUDE_LIMIT} non-key attribute names to "
               "include (each once)")
    if isinstance(value, str):
        return None if value in PROJECTIONS else allowed
    if (not value or len(value) > INCLUDE_LIMIT or len(set(map(str, value))) != len(value)
            or not all(isinstance(a, str) and re.fullmatch(_ATTRIBUTE, a) for a in value)):
        return allowed
    return None


INDEX_RULES: dict[str, tuple[type, Check]] = {
    "partition_key": (str, _matches(_ATTRIBUTE, "an attribute name")),
    "sort_key": (str, _matches(_ATTRIBUTE, "an attribute name")),
    "projection": ((str, list), _projection),
}


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
             dict: "a table"}
    return " or ".join(names[k] for k in kind) if isinstance(kind, tuple) else names[kind]


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
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    except OSError as exc:  # a folder, no permission, …
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}",
                          hint="pass --config FILE") from None
    return parse_config(raw, path)


def parse_config(raw: dict, path: Path) -> Config:
    v = _Validator(path)
    root = path.resolve().parent
    unknown = set(raw) - {"stack", "functions", "tables", "env"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level table [{sorted(unknown)[0]}]",
                          hint="allowed: [stack], [functions.<name>], [tables.<name>], [env.<name>]")
    stack = {**STACK_DEFAULTS, **v.table("stack", raw.get("stack", {}), STACK_RULES)}
    missing = sorted(set(STACK_RULES) - set(stack))
    if missing:
        raise ConfigError(f"{path}: missing key stack.{missing[0]}")
    tables = _table_configs(v, raw.get("tables", {}))
    functions = _function_tables(v, "functions", raw.get("functions", {}), known=None)
    envs_raw = raw.get("env", {})
    if not isinstance(envs_raw, dict) or not envs_raw:
        raise ConfigError(f"{path}: no environments declared", hint="add an [env.dev] table")
    envs = []
    for env, overrides in envs_raw.items():
        if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", env):
            raise v.fail(f"env.{env}", env, "an environment name of lower-case letters and digits")
        overrides = v.table(f"env.{env}", overrides, {**STACK_RULES, "functions": (dict, _any)})
        fn_overrides = _function_tables(v, f"env.{env}.functions", overrides.get("functions", {}),
                                        known=functions)
        merged = {**stack, **{k: val for k, val in overrides.items() if k != "functions"}}
        where = {key: f"env.{env}" if key in overrides else "stack" for key in merged}
        envs.append(_env_config(v, root, env, merged, where, functions, fn_overrides, tables))
    _check_distinct_stacks(v, envs, envs_raw)
    envs = _with_bootstrap_settings(v, envs, envs_raw)
    fns = [fn for cfg in envs for fn in cfg.functions]
    notes = {f"function {fn.name} has no route and no schedule: it runs only when invoked by other "
             f"means (another service, the console, the SDK)"
             for fn in fns if not fn.routes and not fn.schedule}
    notes |= {f"function {fn.name} has a body_schema but no POST, PUT or PATCH route: API Gateway "
              f"checks no body against it" for fn in fns
              if fn.body_schema and not any(r.carries_body for r in fn.routes)}
    notes |= {f"environment {cfg.env}: alerts go to {endpoint}, a reserved example domain that "
              f"receives no mail: replace it with a real address" for cfg in envs
              for protocol, endpoint in cfg.alerts
              if protocol == "email" and _RESERVED_MAIL.fullmatch(endpoint)}
    return Config(path=path, envs=tuple(envs), notes=tuple(sorted(notes)))


def _table_configs(v: _Validator, data: Any) -> tuple[TableConfig, ...]:
    if not isinstance(data, dict):
        raise v.fail("tables", data, "a table of tables")
    tables = []
    for name, table in data.items():
        if not re.fullmatch(_NAME, name):
            raise v.fail(f"tables.{name}", name, "a table name of lower-case letters, digits and "
                                                 "'_', starting with a letter (at most 40)")
        v.table(f"tables.{name}", table, TABLE_RULES)
        if "partition_key" not in table:
            raise ConfigError(f"{v.path}: missing key tables.{name}.partition_key")
        if table.get("sort_key") == table["partition_key"]:
            raise v.fail(f"tables.{name}.sort_key", table["sort_key"], "a key other than the partition key")
        indexes = _index_configs(v, name, table)
        tables.append(TableConfig(name=name, partition_key=table["partition_key"],
                                  sort_key=table.get("sort_key"), indexes=indexes))
    return tuple(tables)


def _index_configs(v: _Validator, table: str, data: dict) -> tuple[IndexConfig, ...]:
    """`[tables.T.indexes.I]`: global secondary indexes, checked against DynamoDB's rules."""
    where = f"tables.{table}.indexes"
    declared = data.get("indexes", {})
    if len(declared) > INDEX_LIMIT:
        raise v.fail(where, f"{len(declared)} indexes", f"at most {INDEX_LIMIT} global secondary "
                     "indexes per table (DynamoDB's quota)")
    indexes, included = [], 0
    for name, index in declared.items():
        if not re.fullmatch(_INDEX_NAME, name):
            raise v.fail(f"{where}.{name}", name, _INDEX_NAME_RULE)
        v.table(f"{where}.{name}", index, INDEX_RULES)
        if "partition_key" not in index:
            raise ConfigError(f"{v.path}: missing key {where}.{name}.partition_key")
        if index.get("sort_key") == index["partition_key"]:
            raise v.fail(f"{where}.{name}.sort_key", index["sort_key"], "a key other than the index's partition key")
        projection = index.get("projection", "all")
        if isinstance(projection, list):
            keys = {data["partition_key"], data.get("sort_key"), index["partition_key"], index.get("sort_key")}
            projected_key = next((a for a in projection if a in keys), None)
            if projected_key:
                raise v.fail(f"{where}.{name}.projection", projection,
                             f"non-key attributes only: {projected_key!r} is a key of the table or the "
                             "index, which every index projects anyway")
            included += len(projection)
            if included > NON_KEY_ATTRIBUTE_LIMIT:
                raise v.fail(f"{where}.{name}.projection", projection,
                             f"at most {NON_KEY_ATTRIBUTE_LIMIT} included attributes over all of table "
                             f"{table}'s indexes (DynamoDB's limit; this makes {included}), or 'all'")
            projection = tuple(projection)
        indexes.append(IndexConfig(name=name, partition_key=index["partition_key"],
                                   sort_key=index.get("sort_key"), projection=projection))
    return tuple(indexes)


def _function_tables(v: _Validator, where: str, data: Any, *, known: dict | None) -> dict[str, dict]:
    if not isinstance(data, dict):
        raise v.fail(where, data, "a table of functions")
    if known is None and not data:
        raise ConfigError(f"{v.path}: no functions declared",
                          hint="add a [functions.<name>] table, e.g. with `infragen new function NAME`")
    for name, table in data.items():
        if known is not None and name not in known:
            raise ConfigError(f"{v.path}: unknown function {where}.{name}",
                              hint="the functions are: " + ", ".join(known))
        if not re.fullmatch(_NAME, name):
            raise v.fail(f"{where}.{name}", name, "a function name of lower-case letters, digits "
                                                  "and '_', starting with a letter (at most 40)")
        v.table(f"{where}.{name}", table, FUNCTION_RULES)
    return data


# The stack's own logical ids that a function's (FlowLogGroup: `flow` + LogGroup) or a table's
# (PublicRouteTable) could equal, and the prefix of the API's ids (ApiGetOrdersMethod, ApiPath…).
_STACK_STEMS = frozenset({"Flow", "FlowLog", "PublicRoute"})
_API_PREFIX = "api_"


def _check_stems(v: _Validator, kind: str, names: list[str]) -> None:
    """Each function (and each table) has a CloudFormation stem of its own and none of the stack's."""
    stems: dict[str, str] = {}
    for name in names:
        stem = camel(name)
        if stem in stems:
            raise v.fail(f"{kind}s.{name}", name, f"a name whose CloudFormation stem is not {stem!r} "
                                                  f"like {kind} {stems[stem]}'s")
        if stem in _STACK_STEMS or name.startswith(_API_PREFIX):
            raise v.fail(f"{kind}s.{name}", name, f"a name that is not reserved: {stem!r} and names "
                                                  f"beginning {_API_PREFIX!r} become the stack's own ids")
        if kind == "function" and name == "api":
            raise v.fail(f"functions.{name}", name, "a name other than 'api': `infragen logs api` "
                                                    "reads the API's access log")
        stems[stem] = name


def _lambda_name(stack_name: str, function: str) -> str:
    return f"{stack_name}-{function.replace('_', '-')}"


def _function_key(env: str, name: str, override: dict, key: str) -> str:
    """The dotted key a function's value was written at: its [env.X.functions] override, or its own."""
    return f"env.{env}.functions.{name}.{key}" if key in override else f"functions.{name}.{key}"


def _env_config(v: _Validator, root: Path, env: str, stack: dict, where: dict, functions: dict,
                overrides: dict, tables: tuple[TableConfig, ...]) -> EnvConfig:
    def fill(text: str) -> str:
        return text.replace("{env}", env)

    stack_name = fill(stack["stack_name"])
    fns = [_function_config(v, root, env, name, functions[name], overrides.get(name, {}), fill)
           for name in functions]
    declared = {t.name for t in tables}
    _check_stems(v, "function", list(functions))
    _check_stems(v, "table", [t.name for t in tables])

    def key(fn: str, name: str) -> str:
        return _function_key(env, fn, overrides.get(fn, {}), name)

    for fn in fns:
        lambda_name = _lambda_name(stack_name, fn.name)
        if len(lambda_name) > LAMBDA_NAME_LIMIT:
            raise v.fail(f"{where['stack_name']}.stack_name", stack["stack_name"],
                         f"a name short enough that the Lambda function name {lambda_name!r} "
                         f"({len(lambda_name)} characters) fits {LAMBDA_NAME_LIMIT}; or a shorter "
                         f"function name than {fn.name!r}")
        for table, index in [(t, None) for t, _ in fn.tables] + [(t, i) for t, i, _ in fn.indexes]:
            entry = f"{key(fn.name, 'tables')}.{table}" + (f"/{index}" if index else "")
            if table not in declared:
                raise v.fail(entry, table, f"a table declared as [tables.{table}]"
                             + (f" (declared: {', '.join(sorted(declared))})" if declared else ""))
            indexes = [i.name for i in next(t for t in tables if t.name == table).indexes]
            if index and index not in indexes:
                raise v.fail(entry, index, f"an index declared as [tables.{table}.indexes.{index}] "
                             + (f"(declared: {', '.join(indexes)})" if indexes else f"({table} declares none)"))
    _check_routes(v, fns, lambda fn: key(fn, "routes"))
    declared_routes = {r.key for fn in fns for r in fn.routes}
    for route in stack["open_routes"]:
        if route not in declared_routes:
            raise v.fail(f"{where['open_routes']}.open_routes", route,
                         "routes the functions declare: " + (", ".join(sorted(declared_routes)) or "none"))
    return EnvConfig(
        env=env,
        **{key: stack[key] for key in STACK_RULES if key not in {"stack_name", "bootstrap_stack",
                                                                "open_routes", "shared_packages",
                                                                "alerts"}},
        alerts=_alert_subscriptions(v, env, stack, where),
        stack_name=stack_name,
        bootstrap_stack=fill(stack["bootstrap_stack"]),
        open_routes=tuple(stack["open_routes"]),
        shared_packages=tuple(_project_folder(v, root, where["shared_packages"] + ".shared_packages",
                                              p, must_exist=False) for p in stack["shared_packages"]),
        functions=tuple(fns),
        tables=tables,
    )


def _alert_subscriptions(v: _Validator, env: str, stack: dict, where: dict) -> tuple[tuple[str, str], ...]:
    """Who receives the error topic: `alerts` plus `alarm_email`; nobody is an error unless
    the environment says `alerts = "none"`."""
    alerts = stack["alerts"]
    if alerts == ALERTS_NONE:
        if stack["alarm_email"]:
            raise v.fail(f"{where['alerts']}.alerts", alerts,
                         f"a list (alarm_email = {stack['alarm_email']!r} subscribes someone)")
        return ()
    endpoints = list(alerts) + ([stack["alarm_email"]] if stack["alarm_email"] not in ("", *alerts) else [])
    if not endpoints:
        raise ConfigError(
            f"{v.path}: environment {env!r} has no alert subscriber: every alarm, failed "
            f"asynchronous invocation and handler alert would be published to its error topic "
            f"and reach nobody",
            hint=f'set alerts = ["you@your-domain", "https://…", "arn:aws:sqs:…"] in [env.{env}] '
                 f'(or [stack]), or alerts = "none" if nobody needs to know (a throwaway environment)')
    return tuple((alert_protocol(e), e) for e in endpoints)


def _function_config(v: _Validator, root: Path, env: str, name: str, base: dict, override: dict,
                     fill: Callable[[str], str]) -> FunctionConfig:
    merged = {**FUNCTION_DEFAULTS, "source": f"lambda_src/{name}", **base}
    for key, value in override.items():
        merged[key] = {**merged.get(key, {}), **value} if key in MERGED_PER_KEY else value

    def where(key: str) -> str:
        return _function_key(env, name, override, key)

    source = _project_folder(v, root, where("source"), merged["source"], must_exist=True)
    module = merged["handler"].rpartition(".")[0]
    module_file = root / source / (module.replace(".", "/") + ".py")
    if not module_file.is_file():
        raise v.fail(where("handler"), merged["handler"],
                     f"a handler whose module exists: {module_file.relative_to(root)} is missing "
                     f"(create it, or run `infragen new function {name}`)")
    schema_path, schema_json = merged.get("body_schema"), None
    if schema_path:
        schema_json = _load_schema(v, root, where("body_schema"), schema_path)
    routes = [parse_route(r) for r in merged["routes"]]
    if len(set(routes)) != len(routes):
        duplicate = next(r for r in routes if routes.count(r) > 1)
        raise v.fail(where("routes"), duplicate.key, "each route once")
    access = tuple(AccessGrant(actions=tuple(g["actions"]), resources=tuple(fill(r) for r in g["resources"]))
                   for g in merged["access"])
    _check_own_variables(v, merged, override, where)
    env_size = sum(len(k) + len(val) for k, val in merged["environment"].items())
    if env_size > ENVIRONMENT_LIMIT // 2:
        raise v.fail(where("environment"), "…", f"variables of at most {ENVIRONMENT_LIMIT // 2} bytes "
                     f"in all (Lambda allows {ENVIRONMENT_LIMIT} with infragen's own; these have {env_size})")
    return FunctionConfig(
        name=name,
        source=source,
        handler=merged["handler"],
        architecture=merged["architecture"],
        runtime=merged["runtime"],
        timeout=merged["timeout"],
        memory=merged["memory"],
        reserved_concurrency=merged.get("reserved_concurrency"),
        routes=tuple(routes),
        schedule=merged.get("schedule"),
        environment=tuple(sorted(merged["environment"].items())),
        parameters=tuple(sorted((k, fill(n)) for k, n in merged["parameters"].items())),
        tables=tuple(sorted((name, _table_access(access)) for name, access in merged["tables"].items()
                            if "/" not in name)),
        indexes=tuple(sorted((*name.split("/", 1), _table_access(access))
                             for name, access in merged["tables"].items() if "/" in name)),
        access=access,
        body_schema=schema_path,
        body_schema_json=schema_json,
        audit_ignore=tuple((e["call"], e["reason"]) for e in merged["audit_ignore"]),
    )


def _check_own_variables(v: _Validator, merged: dict, override: dict,
                         where: Callable[[str], str]) -> None:
    """A plain variable must not take the name infragen gives a parameter's or a table's variable."""
    from infragen.stack.names import parameter_env_var, table_env_var

    taken = {parameter_env_var(k): ("parameters", k) for k in merged["parameters"]}
    taken |= {table_env_var(t.partition("/")[0]): ("tables", t) for t in merged["tables"]}
    clash = sorted(set(merged["environment"]) & set(taken))
    if clash:
        kind, entry = taken[clash[0]]
        blamed = kind if kind in override and "environment" not in override else "environment"
        raise v.fail(where(blamed), override.get(blamed, merged[blamed]),
                     f"variable names infragen does not set itself: {clash[0]} carries the name "
                     f"of {kind}.{entry} (rename the variable or the {kind} entry)")


def _table_access(access: str | list[str]) -> str | tuple[str, ...]:
    """A level as written, or the listed actions spelled as AWS does, each once."""
    if isinstance(access, str):
        return access
    from infragen.iam_catalog import lookup

    return tuple(dict.fromkeys(lookup(action).full_name for action in access))


def _project_folder(v: _Validator, root: Path, key: str, folder: str, *, must_exist: bool) -> str:
    """`folder` normalised: code that goes into a zip. Refused when it leaves the project, is the
    project itself (its zip would hold infragen.toml, .infragen/ and every function), or (if
    required) is missing."""
    resolved = (root / folder).resolve()
    if folder.startswith("/") or not resolved.is_relative_to(root):
        raise v.fail(key, folder, "a folder inside the project (relative to infragen.toml)")
    if resolved == root:
        raise v.fail(key, folder, "a folder below the project's root, not the root itself (e.g. lambda_src/NAME)")
    if must_exist and not resolved.is_dir():
        raise v.fail(key, folder, f"an existing folder ({resolved} does not exist)")
    return resolved.relative_to(root).as_posix()


def _load_schema(v: _Validator, root: Path, key: str, path: str) -> str:
    file = (root / path).resolve()
    if path.startswith("/") or not file.is_relative_to(root):
        raise v.fail(key, path, "a file inside the project (relative to infragen.toml)")
    try:
        schema = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise v.fail(key, path, f"an existing JSON schema file ({file} does not exist)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise v.fail(key, path, f"a readable UTF-8 file ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise v.fail(key, path, f"a JSON document ({exc})") from None
    if not isinstance(schema, dict):
        raise v.fail(key, path, "a JSON schema object")
    try:
        problem = schema_problem(schema, root / STATE_DIR / SCHEMA_VERDICTS_DIR)
    except RecursionError:
        raise v.fail(key, path, "a JSON schema nested less deeply") from None
    if problem:
        raise v.fail(key, path, f"a valid draft-04 JSON schema ({problem})")
    return json.dumps(schema, separators=(",", ":"))


def _check_routes(v: _Validator, fns: list[FunctionConfig], key: Callable[[str], str]) -> None:
    owners: dict[Route, str] = {}
    for fn in fns:
        for route in fn.routes:
            if route in owners:
                raise v.fail(key(fn.name), route.key,
                             f"a route no other function has ({owners[route]} declares it)")
            owners[route] = fn.name
    conflict = sibling_parameter_conflict(list(owners))
    if conflict:
        parent, first, route, second = conflict
        raise v.fail(key(owners[route]), route.key,
                     f"the path parameter {first} other routes use under {parent}, not {second} "
                     f"(API Gateway allows one path parameter per level)")


def _with_bootstrap_settings(v: _Validator, envs: list[EnvConfig], envs_raw: dict) -> list[EnvConfig]:
    """Each environment carries the settings of its bootstrap stack, agreed by all its users.

    The API Gateway CloudWatch role is an account-and-region setting: environments sharing a
    bootstrap stack must agree whether it is managed, and two bootstrap stacks in one region must
    not both manage it (the last deploy would win, as before issue 9).
    """
    def where(cfg: EnvConfig, key: str) -> str:
        return f"env.{cfg.env}.{key}" if key in envs_raw[cfg.env] else f"stack.{key}"

    settings: dict[str, BootstrapSettings] = {}
    first: dict[str, EnvConfig] = {}
    for cfg in envs:
        known = first.setdefault(cfg.bootstrap_stack, cfg)
        if known.manage_api_gateway_account != cfg.manage_api_gateway_account:
            raise v.fail(where(cfg, "manage_api_gateway_account"), cfg.manage_api_gateway_account,
                         f"{known.manage_api_gateway_account} as in environment {known.env!r}: both "
                         f"use the bootstrap stack {cfg.bootstrap_stack!r}, which holds the "
                         f"account-and-region API Gateway setting (set it once, in [stack])")
        days = max(cfg.log_retention_days, settings[cfg.bootstrap_stack].log_retention_days
                   if cfg.bootstrap_stack in settings else 0)
        settings[cfg.bootstrap_stack] = BootstrapSettings(cfg.manage_api_gateway_account, days)
    managers: dict[str, EnvConfig] = {}
    for cfg in envs:
        if cfg.manage_api_gateway_account:
            other = managers.setdefault(cfg.region, cfg)
            if other.bootstrap_stack != cfg.bootstrap_stack:
                raise v.fail(where(cfg, "manage_api_gateway_account"), True,
                             f"false: environment {other.env!r} already manages the API Gateway "
                             f"account setting of {cfg.region} through bootstrap stack "
                             f"{other.bootstrap_stack!r}, and there is one per account and region")
    return [replace(cfg, bootstrap=settings[cfg.bootstrap_stack]) for cfg in envs]


def _check_distinct_stacks(v: _Validator, envs: list[EnvConfig], envs_raw: dict) -> None:
    """Two environments (or one and the bootstrap stack) must never be one stack."""
    owners: dict[str, str] = {}
    for cfg in envs:
        where = f"env.{cfg.env}" if "stack_name" in envs_raw[cfg.env] else "stack"
        if cfg.stack_name in owners:
            raise v.fail(f"{where}.stack_name", cfg.stack_name,
                         f"a stack name of its own: environment {owners[cfg.stack_name]!r} deploys "
                         f"to {cfg.stack_name!r} too (put {{env}} in it)")
        owners[cfg.stack_name] = cfg.env
    for cfg in envs:
        if cfg.bootstrap_stack in owners:
            where = f"env.{cfg.env}" if "bootstrap_stack" in envs_raw[cfg.env] else "stack"
            raise v.fail(f"{where}.bootstrap_stack", cfg.bootstrap_stack,
                         f"a name other than environment {owners[cfg.bootstrap_stack]!r}'s stack")
    lambdas: dict[tuple[str, str], str] = {}  # Lambda names are unique per account and region
    for cfg in envs:
        where = f"env.{cfg.env}" if "stack_name" in envs_raw[cfg.env] else "stack"
        for fn in cfg.functions:
            name = _lambda_name(cfg.stack_name, fn.name)
            other = lambdas.setdefault((cfg.region, name), cfg.env)
            if other != cfg.env:
                raise v.fail(f"{where}.stack_name", cfg.stack_name,
                             f"a stack name whose Lambda function names are its own: environment "
                             f"{other!r} has a function {name!r} in {cfg.region} too")
