"""`infragen new function|table`: add a working function or a table to the project.

A function gets its source folder (a handler on the shared `common` helpers), an example event and
a handler test; both kinds get a commented table appended to infragen.toml as text, so the rest of
the file stays byte for byte as it was. Everything is validated by the config's own rules before
anything is written (the new handler is staged under .infragen/ for that), and whatever was
created is removed again if a later step fails.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from infragen.config import Config, FunctionConfig, load_config, parse_config
from infragen.errors import ConfigError, UsageError
from infragen.project import STATE_DIR, project_root
from infragen.routes import ROUTE_FORMAT, Route, is_parameter, parse_route
from infragen.schedules import schedule_problem

SOURCE_ROOT = "lambda_src"  # the config's default source folder is lambda_src/<name>
EVENTS_DIR = f"{SOURCE_ROOT}/events"
TESTS_DIR = "tests/lambda_src"
EXAMPLE_PATH_VALUE = "42"
EXAMPLE_BODY = '{"example": true}'
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Created:
    """What a `new` command added, for the report."""

    config_path: Path
    table_header: str
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, what it is)
    next_steps: list[str] = field(default_factory=list)


# --- new function ---------------------------------------------------------------------------------


def new_function(config_path: Path, name: str, routes: tuple[str, ...], schedule: str | None) -> Created:
    """Create lambda_src/NAME, its example event and test, and append [functions.NAME]."""
    for text in routes:
        if parse_route(text) is None:
            raise UsageError(f"--route {text!r} is not a route", hint=f"write it as {ROUTE_FORMAT}")
    if schedule is not None and (problem := schedule_problem(schedule)):
        raise UsageError(f"--schedule {schedule!r} is not a schedule EventBridge accepts",
                         hint=f"expected {problem}")
    original, raw = _read(config_path)
    if name in raw.get("functions", {}):
        raise UsageError(f"{config_path}: function {name!r} already exists ([functions.{name}])",
                         hint="choose another name, or edit its table")
    snippet = _function_snippet(name, routes, schedule)
    combined_raw = _appended_raw(config_path, original, snippet)
    root = project_root(config_path)
    with _staged_source(root) as staging:
        # Validate the whole file as it will be, with the new handler in a staging folder.
        combined_raw["functions"][name]["source"] = staging.relative_to(root).as_posix()
        (staging / "handler.py").write_text(_placeholder_handler(), encoding="utf-8")
        config = _validated(combined_raw, config_path)
        fn = config.envs[0].function(name)
        targets = _function_targets(root, config, name)
        (staging / "handler.py").write_text(handler_code(fn), encoding="utf-8")
        event = example_event(config, fn)
        files = {
            targets["event"]: json.dumps(event, indent=2) + "\n",
            targets["test"]: handler_test_code(fn, event),
        }
        with _Transaction(config_path, original) as tx:
            tx.move_dir(staging, targets["source"])
            for path, content in files.items():
                tx.write(path, content)
            tx.append(snippet)
    return Created(
        config_path=config_path,
        table_header=f"[functions.{name}]",
        files=[(targets["source"] / "handler.py", "handler"),
               (targets["event"], "example event"),
               (targets["test"], "handler test")],
        next_steps=_function_next_steps(config_path, root, config, fn, targets),
    )


def _function_targets(root: Path, config: Config, name: str) -> dict[str, Path]:
    """Where the new files go; refused when any of them exists or is the shared code's folder."""
    targets = {"source": root / SOURCE_ROOT / name,
               "event": root / EVENTS_DIR / f"{name}.json",
               "test": root / TESTS_DIR / f"test_lambda_{name}.py"}
    reserved = {EVENTS_DIR, *(p for env in config.envs for p in env.shared_packages)}
    if f"{SOURCE_ROOT}/{name}" in reserved:
        raise UsageError(f"{SOURCE_ROOT}/{name} is reserved (shared code or example events)",
                         hint="choose another function name")
    for path in targets.values():
        if path.exists():
            raise UsageError(f"{path.relative_to(root)} already exists",
                             hint="choose another name, or move the existing file or folder away")
    return targets


def _config_option(config_path: Path) -> str:
    return "" if config_path == Path("infragen.toml") else f" --config {config_path}"


def _function_next_steps(config_path: Path, root: Path, config_model: Config, fn: FunctionConfig,
                         targets: dict[str, Path]) -> list[str]:
    config = _config_option(config_path)
    test = targets["test"].relative_to(root).as_posix()
    if fn.routes:
        shown = next((r for r in fn.routes if r.path_parameters), fn.routes[0])
        path = "".join(f" --path {p}={EXAMPLE_PATH_VALUE}" for p in shown.path_parameters)
        body = f" --body '{EXAMPLE_BODY}'" if shown.carries_body else ""
        invoke = f"infragen invoke {fn.name}{config} --route \"{shown.key}\"{path}{body}"
    elif fn.schedule:
        invoke = f"infragen invoke {fn.name}{config}"
    else:
        invoke = (f"infragen invoke {fn.name}{config} --event "
                  f"{targets['event'].relative_to(root).as_posix()}")
    steps = [f"pytest {test}", invoke, f"infragen render --all{config} && infragen lint{config}",
             f"infragen deploy{config} --env {config_model.env_names[0]}"]
    if not (root / TESTS_DIR / "conftest.py").is_file():
        steps.insert(0, f"the test uses the fixtures of {TESTS_DIR}/conftest.py in infragen's own "
                        f"repository (lambda_env, load_function, context, body_of): copy it here")
    return steps


# --- new table ------------------------------------------------------------------------------------


def new_table(config_path: Path, name: str, partition_key: str, sort_key: str | None) -> Created:
    """Append a [tables.NAME] table to infragen.toml."""
    from infragen.stack.names import table_env_var

    original, raw = _read(config_path)
    if name in raw.get("tables", {}):
        raise UsageError(f"{config_path}: table {name!r} already exists ([tables.{name}])",
                         hint="choose another name, or edit its table")
    snippet = _table_snippet(name, partition_key, sort_key)
    config = _config_option(config_path)
    _validated(_appended_raw(config_path, original, snippet), config_path)
    with _Transaction(config_path, original) as tx:
        tx.append(snippet)
    return Created(
        config_path=config_path,
        table_header=f"[tables.{name}]",
        next_steps=[f"grant a function access: tables = {{ {name} = \"read_write\" }} in its "
                    f"[functions.NAME] table (or \"read\" / \"write\"); the code finds the table's "
                    f"name in {table_env_var(name)}",
                    f"infragen render --all{config} && infragen lint{config}",
                    f"infragen deploy{config}"],
    )


# --- infragen.toml as text ------------------------------------------------------------------------


def _read(config_path: Path) -> tuple[bytes, dict]:
    """The file's bytes and its parsed content (the file itself need not validate yet)."""
    try:
        original = config_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: config file not found",
                          hint="run from the project root or pass --config FILE") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        return original, tomllib.loads(original.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{config_path}: not valid UTF-8 TOML: {exc}",
                          hint="fix the file first (`infragen render` reports the same)") from None


def _validated(raw: dict, config_path: Path) -> Config:
    """The config as it would be; its errors say that nothing was written."""
    try:
        return parse_config(raw, config_path)
    except ConfigError as exc:
        raise ConfigError(exc.message, hint=(exc.hint + "; " if exc.hint else "")
                          + "nothing was written") from None


def _appended_raw(config_path: Path, original: bytes, snippet: str) -> dict:
    """The file parsed as it will be once `snippet` is appended."""
    try:
        return tomllib.loads((original + _appendix(original, snippet)).decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: the new table cannot be appended: {exc}",
                          hint="the file declares this table in another form; add it by hand") from None


def _appendix(original: bytes, snippet: str) -> bytes:
    """`snippet` as appended: after a newline and a blank line, in the file's line endings."""
    newline = "\r\n" if b"\r\n" in original else "\n"
    lead = "" if not original else (newline if original.endswith(b"\n") else newline * 2)
    return (lead + snippet.replace("\n", newline)).encode("utf-8")


def _toml_key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _toml_string(name)


def _comment_safe(name: str) -> str:
    """`name` as shown in a comment: a line break must not end the comment."""
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but DEL must be escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _function_snippet(name: str, routes: tuple[str, ...], schedule: str | None) -> str:
    key, shown = _toml_key(name), _comment_safe(name)
    source = f"{SOURCE_ROOT}/{shown}"
    lines = [f"# Added by `infragen new function {shown}`: code in {source}/handler.py. Every key is",
             '# in README.md ("Configuration reference"); the commented ones show their defaults.',
             f"[functions.{key}]"]
    if routes:
        lines.append("routes = [" + ", ".join(map(_toml_string, routes)) + "]")
    else:
        lines.append('# routes = ["GET /path", "GET /path/{id}"]  # METHOD /path, zero or more')
    if schedule is not None:
        lines.append(f"schedule = {_toml_string(schedule)}")
    else:
        lines.append('# schedule = "rate(1 hour)"               # EventBridge: rate(...) or cron(...)')
    lines += [
        f'# source = "{source}"',
        '# handler = "handler.handler"',
        '# architecture = "arm64"                # or "x86_64"',
        '# runtime = "python3.12"                # or "python3.13"',
        "# timeout = 300                         # seconds, 1-900",
        "# memory = 512                          # MB, 128-10240",
        "# reserved_concurrency = 5              # absent: no reservation",
        '# environment = { PAGE_SIZE = "50" }    # plain, non-secret variables',
        '# parameters = { api_token = "/app/{env}/' + shown + '/api-token" }  # SecureString names',
        '# tables = { orders = "read_write" }    # "read", "write" or "read_write"',
        '# access = [ { actions = ["s3:GetObject"], resources = ["arn:${AWS::Partition}:s3:::bucket-{env}/*"] } ]',
        '# body_schema = "schemas/' + shown + '.json"  # JSON schema for POST/PUT/PATCH bodies',
    ]
    return "\n".join(lines) + "\n"


def _table_snippet(name: str, partition_key: str, sort_key: str | None) -> str:
    shown = _comment_safe(name)
    lines = [f"# Added by `infragen new table {shown}`: DynamoDB, on-demand, encrypted with the "
             "stack's key,",
             "# point-in-time recovery on, kept when the stack is deleted. Grant it to a function",
             f'# with tables = {{ {shown} = "read_write" }} (or "read", "write").',
             f"[tables.{_toml_key(name)}]",
             f"partition_key = {_toml_string(partition_key)}"]
    if sort_key is not None:
        lines.append(f"sort_key = {_toml_string(sort_key)}")
    else:
        lines.append('# sort_key = "created"                 # optional, a string attribute')
    return "\n".join(lines) + "\n"


# --- writing with rollback ------------------------------------------------------------------------


@contextmanager
def _staged_source(root: Path) -> Iterator[Path]:
    """A fresh folder under .infragen/ for the handler being validated; gone afterwards."""
    state = root / STATE_DIR
    created_state = not state.exists()
    state.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="new-function-", dir=state))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if created_state:
            shutil.rmtree(state, ignore_errors=True)


class _Transaction:
    """Files, folders and the config appendix written so far; all undone if anything fails.

    On success the config is loaded once more from disk: what was written must validate.
    """

    def __init__(self, config_path: Path, original: bytes):
        self.config_path = config_path
        self.original = original
        self.appended = False
        self.created: list[Path] = []  # files and folders, in creation order

    def __enter__(self) -> _Transaction:
        return self

    def _parents(self, path: Path) -> None:
        missing = [p for p in reversed(path.parents) if not p.exists()]
        for parent in missing:
            parent.mkdir()
            self.created.append(parent)

    def move_dir(self, source: Path, target: Path) -> None:
        self._parents(target)
        shutil.move(source, target)
        self.created.append(target)

    def write(self, path: Path, content: str) -> None:
        self._parents(path)
        with path.open("x", encoding="utf-8", newline="\n") as out:
            self.created.append(path)
            out.write(content)

    def append(self, snippet: str) -> None:
        self.appended = True
        with self.config_path.open("ab") as out:
            out.write(_appendix(self.original, snippet))

    def __exit__(self, kind, error, tb) -> None:
        if kind is None:
            try:
                load_config(self.config_path)
                return
            except BaseException:
                self._undo()
                raise
        self._undo()

    def _undo(self) -> None:
        if self.appended:
            self.config_path.write_bytes(self.original)
        for path in reversed(self.created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


# --- generated code -------------------------------------------------------------------------------


def _py(value) -> str:
    """A Python literal in the double-quoted style of the project (str, bool, dict)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value) if isinstance(value, bool) else json.dumps(value)


def _placeholder_handler() -> str:
    return "def handler(event, context):\n    return None\n"


def endpoint_names(routes: tuple[Route, ...]) -> dict[Route, str]:
    """A Python function name per route: `GET /orders/{id}` → `get_orders_by_id`."""
    names: dict[Route, str] = {}
    for route in routes:
        words = [f"by_{part.strip('{}').lower()}" if is_parameter(part)
                 else re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_") or "x"
                 for part in route.parts] or ["root"]
        base = f"{route.method.lower()}_" + "_".join(words)
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}_{n}", n + 1
        names[route] = name
    return names


def _summary(fn: FunctionConfig) -> str:
    callers = [r.key for r in fn.routes] + ([f"schedule {fn.schedule}"] if fn.schedule else [])
    return ", ".join(callers) or "invoked directly (no route, no schedule)"


def handler_code(fn: FunctionConfig) -> str:
    """A working handler: one function per route (proxy responses), `run` for other events."""
    names = endpoint_names(fn.routes)
    has_body = any(r.carries_body for r in fn.routes)
    out = [f'"""{fn.name}: {_summary(fn)}.', "",
           "Scaffolded by `infragen new function`; replace the bodies below with your code. The",
           "shared `common` package (lambda_src/README.md) is zipped next to this file: JSON logs,",
           ("API Gateway proxy responses, " if fn.routes else "") + "error alerts to the stack's "
           "error topic.", '"""', "",
           "from __future__ import annotations", "", "from typing import Any", ""]
    if fn.routes:
        runtime = "api_handler, event_handler" if fn.schedule else "api_handler"
        out += ["from common import apigw, logs, settings",
                "from common.apigw import HttpError, Request",
                f"from common.runtime import {runtime}", ""]
        if has_body:
            out += ["MAX_BODY_BYTES = 256 * 1024  # measured on the decoded body", ""]
        for route, name in names.items():
            params = ", ".join(f"{_py(p)}: _path_parameter(request, {_py(p)})"
                               for p in route.path_parameters)
            call = f"    return _answer(request, {{{params}}}"
            if route.carries_body:
                call += (",\n" + " " * len("    return _answer(") + "received=apigw.json_body("
                         "request.event, max_bytes=MAX_BODY_BYTES)")
            out += ["", f"def {name}(request: Request) -> dict[str, Any]:",
                    f'    """{route.key}."""', call + ")", ""]
        out += ["", "ROUTES = {", *(f"    {_py(r.key)}: {n}," for r, n in names.items()), "}", "", "",
                "def route(request: Request) -> dict[str, Any]:",
                '    """Call the function of the request\'s route (ANY routes match every method)."""',
                '    endpoint = ROUTES.get(request.route) or ROUTES.get("ANY " + request.route.partition(" ")[2])',
                "    if endpoint is None:",
                '        raise HttpError(404, f"no route {request.route}")',
                "    return endpoint(request)", "", "",
                "def _path_parameter(request: Request, name: str) -> str:",
                '    """A path parameter\'s value, from the event API Gateway sends."""',
                '    value = (request.event.get("pathParameters") or {}).get(name)',
                "    if not isinstance(value, str) or not value:",
                '        raise HttpError(400, f"path parameter {name!r} is missing")',
                "    return value", "", "",
                "def _answer(request: Request, path: dict[str, str], **fields: Any) -> dict[str, Any]:",
                '    logs.get_logger().info("answering", extra={"pathParameters": sorted(path)})',
                "    return apigw.json_response(200, {",
                f'        "function": {_py(fn.name)},',
                '        "route": request.route,',
                '        "pathParameters": path,',
                "        **fields,",
                '        "environment": settings.environment(),',
                '        "requestId": request.request_id,',
                "    })", ""]
    else:
        out += ["from common import logs, settings", "from common.runtime import event_handler", ""]
    if fn.schedule or not fn.routes:
        what = f"on its schedule ({fn.schedule})" if fn.schedule else "when invoked directly"
        out += ["", "def run(event: dict[str, Any]) -> dict[str, Any]:",
                f'    """The job {fn.name} does {what}."""',
                '    trigger = event.get("detail-type") or "direct invocation"',
                '    logs.get_logger().info("running", extra={"trigger": trigger})',
                f'    return {{"function": {_py(fn.name)}, "trigger": trigger, '
                '"environment": settings.environment()}', ""]
    if fn.routes and fn.schedule:
        out += ["", "_api = api_handler(route)", "_scheduled = event_handler(run)", "", "",
                "def handler(event: Any, context: Any) -> Any:",
                '    """Scheduled events run `run`; API Gateway requests go to their route."""',
                '    if isinstance(event, dict) and event.get("detail-type") == "Scheduled Event":',
                "        return _scheduled(event, context)",
                "    return _api(event, context)"]
    else:
        out += ["", f"handler = {'api_handler(route)' if fn.routes else 'event_handler(run)'}"]
    return "\n".join(out) + "\n"


def example_event(config: Config, fn: FunctionConfig) -> dict:
    """What `infragen invoke` builds by default: a proxy event of the first route, or a schedule."""
    from infragen.events import default_event

    cfg = config.envs[0]
    if not fn.routes and not fn.schedule:
        return {}
    route = fn.routes[0] if fn.routes else None
    values = tuple(f"{p}={EXAMPLE_PATH_VALUE}" for p in route.path_parameters) if route else ()
    body = EXAMPLE_BODY if route and route.carries_body else None
    return default_event(cfg, fn, None, values, body, cfg.region)


def handler_test_code(fn: FunctionConfig, event: dict) -> str:
    """A pytest module running the handler on its example event (fixtures: tests/lambda_src)."""
    if fn.routes:
        route = fn.routes[0]
        method = "GET" if route.method == "ANY" else route.method  # as events.proxy_event sends it
        expected = {"function": fn.name, "route": f"{method} {route.path}",
                    "pathParameters": {p: EXAMPLE_PATH_VALUE for p in route.path_parameters}}
        if route.carries_body:
            expected["received"] = json.loads(EXAMPLE_BODY)  # what handler_code echoes
        check = ["    assert response[\"statusCode\"] == 200",
                 "    assert body_of(response) == {",
                 *(f"        {_py(k)}: {_py(v)}," for k, v in expected.items()),
                 '        "environment": "dev",',
                 '        "requestId": event["requestContext"]["requestId"],',
                 "    }"]
        fixtures = "lambda_env, load_function, context, body_of"
    else:
        trigger = event.get("detail-type") or "direct invocation"
        check = [f'    assert response == {{"function": {_py(fn.name)}, "trigger": {_py(trigger)}, '
                 '"environment": "dev"}']
        fixtures = "lambda_env, load_function, context"
    lines = [f'"""{fn.name} (scaffolded by `infragen new function`): its example event gets an answer."""',
             "", "from __future__ import annotations", "", "import json", "from pathlib import Path", "",
             f'EVENT = Path(__file__).resolve().parents[2] / "lambda_src" / "events" / "{fn.name}.json"',
             "", "", f"def test_example_event_gets_an_answer({fixtures}):",
             "    event = json.loads(EVENT.read_text(encoding=\"utf-8\"))", "",
             f"    response = load_function({_py(fn.name)}).handler(event, context())", "", *check]
    if fn.routes:
        if fn.schedule:
            lines += ["", "", "def test_the_schedule_runs_the_job(lambda_env, load_function, context):",
                      '    event = {"version": "0", "detail-type": "Scheduled Event", '
                      '"source": "aws.events", "detail": {}}', "",
                      f"    response = load_function({_py(fn.name)}).handler(event, context())", "",
                      f'    assert response == {{"function": {_py(fn.name)}, '
                      '"trigger": "Scheduled Event", "environment": "dev"}']
        lines += ["", "", "def test_an_undeclared_route_is_a_404(lambda_env, load_function, context, body_of):",
                  "    event = json.loads(EVENT.read_text(encoding=\"utf-8\"))",
                  '    event["resource"] = "/not-declared"', "",
                  f"    response = load_function({_py(fn.name)}).handler(event, context())", "",
                  '    assert response["statusCode"] == 404',
                  '    assert body_of(response)["error"] == f"no route {event[\'httpMethod\']} /not-declared"']
    return "\n".join(lines) + "\n"
