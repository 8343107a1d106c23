"""What one request gets from the local API: API Gateway's checks, the handler's run, its answer.

Independent of HTTP plumbing (server.py): `LocalApi.handle` takes the request's parts and returns
the status, headers and body API Gateway would send. Each fidelity rule names the AWS behaviour
it mirrors.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from infragen.errors import InfragenError
from infragen.serve.alarms import AlarmStates, ErrorAlarm, alarm_notification, error_alarms
from infragen.serve.auth import NO_ROUTE, Rejection, Signer, check_api_key, header
from infragen.serve.responses import MalformedResponse, proxy_response
from infragen.serve.routing import Endpoint, RouteTable, is_binary, media_type, route_table
from infragen.serve.workers import WorkerPool, code_fingerprint

PAYLOAD_LIMIT = 10 * 1024 * 1024  # API Gateway REST: 10 MB request payload
EVENT_ENVELOPE = 512 * 1024  # more than an event's fields besides its body: smaller bodies are not measured
INTEGRATION_TIMEOUT_S = 29.0  # API Gateway REST: default (and usual maximum) integration timeout
TOO_LARGE = Rejection(413, "Request Too Long", "RequestTooLargeException")
BAD_REQUEST = Rejection(400, "Bad Request", "BadRequestException")
BAD_BODY = Rejection(400, "Invalid request body", "BadRequestException")
INTERNAL = Rejection(502, "Internal server error", "InternalServerErrorException")
TIMED_OUT = Rejection(504, "Endpoint request timed out", "IntegrationTimeoutException")


@dataclass
class Answer:
    """An HTTP answer plus what the request log line says about it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str
    function: str | None = None
    logs: str = ""
    error: str | None = None  # why the gateway answered instead of the handler (server log only)


@dataclass
class Loaded:
    """The project as last read: routes from its rendered template, each function's environment."""

    cfg: object
    table: RouteTable
    functions: dict  # logical id → FunctionConfig
    alarms: dict[str, ErrorAlarm]  # function logical id → its Errors alarm
    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    stamps: dict[Path, float] = field(default_factory=dict)
    prepared: dict[str, tuple] = field(default_factory=dict)  # per function: its code digest, layout, environment
    sources: dict[str, tuple] = field(default_factory=dict)  # per function: its code folders, its requirements file


class LocalApi:
    """The API of one environment, answering from the current code and config on every request."""

    def __init__(self, config_path: Path, env_name: str | None, clients, *, console,
                 cfg=None, api_key: str | None = None,
                 integration_timeout_s: float = INTEGRATION_TIMEOUT_S):
        """`cfg`: the environment's config when the caller has just loaded it (read again otherwise)."""
        self.config_path = Path(config_path)
        self.root = self.config_path.resolve().parent  # the project: paths in the config are relative to it
        self.env_name = env_name
        self.clients = clients
        self.console = console
        self.integration_timeout_s = integration_timeout_s
        self._lock = threading.Lock()
        self._preparing: dict[str, threading.Lock] = {}  # per function: its code checked by one request at a time
        self._resolve = None
        self.workers = WorkerPool()
        self.alarm_states = AlarmStates()
        self.loaded = self._load(cfg)
        deployed = deployed_api_key(clients, self._resolve, console) if (
            api_key is None and self.loaded.table.has_api_key) else None
        self.api_key = api_key or deployed or _generated_key()
        self.api_key_source = "deployed" if deployed else "given" if api_key else "local"
        self.signer = _signer(clients)

    # -- project (re)loading ------------------------------------------------------------------

    def _load(self, cfg=None) -> Loaded:
        from infragen.commands import handler_variables, leniently
        from infragen.function_env import stack_resolver
        from infragen.project import load_env, template_cache
        from infragen.render import stack_template
        from infragen.stack.names import function_logical_id

        cfg = cfg or load_env(self.config_path, self.env_name)
        template = json.loads(stack_template(cfg, template_cache(self.config_path)))
        if self._resolve is None:
            self._resolve = leniently(stack_resolver(self.clients.cloudformation, cfg.stack_name), self.console)
        functions = {function_logical_id(fn.name): fn for fn in cfg.functions}
        table = route_table(template)
        variables = {lid: handler_variables(template, fn.name, self.clients, self._resolve)
                     for lid, fn in functions.items()
                     if any(e.function_logical_id == lid for e in table.endpoints)}
        return Loaded(cfg, table, functions, error_alarms(template), variables, self._stamps(cfg))

    def _stamps(self, cfg) -> dict[Path, float]:
        """Modification times of what the routes are read from: the config and its body schemas."""
        watched = [self.config_path] + [self.root / fn.body_schema for fn in cfg.functions
                                        if getattr(fn, "body_schema", None)]
        return {path: _mtime(path) for path in watched}

    def current(self) -> Loaded:
        """The loaded project, re-read first when infragen.toml or a body schema changed."""
        with self._lock:
            if any(_mtime(path) != stamp for path, stamp in self.loaded.stamps.items()):
                self.loaded = self._load()
                self.workers.retire(keep=set(self.loaded.functions))  # a function removed: its workers go
            return self.loaded

    # -- one request --------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: dict[str, list[str]], body: bytes,
               source_ip: str = "127.0.0.1", port: int = 443) -> Answer:
        """The answer to one request; `source_ip` and `port`: the client's address and the port it
        reached (what API Gateway's X-Forwarded-For and X-Forwarded-Port tell the function)."""
        request_id = str(uuid.uuid4())
        raw_path = path  # as sent, percent-encoding kept: what a SigV4 signature covers
        if len(body) > PAYLOAD_LIMIT:
            return gateway_answer(TOO_LARGE, request_id)
        try:
            loaded = self.current()
        except InfragenError as exc:
            return gateway_answer(INTERNAL, request_id, error=f"infragen.toml: {exc}")
        path = unquote(path)  # API Gateway matches, and hands over, the decoded path
        match = loaded.table.match(method, path)
        if match is None:  # API Gateway: an undefined resource or method is "Missing Authentication Token"
            return gateway_answer(NO_ROUTE, request_id)
        endpoint = match.endpoint
        identity = {}
        if endpoint.authorization == "AWS_IAM":
            rejection = (self.signer.check(method, raw_path, query, headers, body) if self.signer
                         else Rejection(403, "The security token included in the request is invalid.",
                                        "UnrecognizedClientException"))
            if rejection:
                return gateway_answer(rejection, request_id)
            identity = {"accessKey": self.signer.access_key, "accountId": self.signer.account_id,
                        "caller": self.signer.access_key,
                        "userArn": f"arn:aws:iam::{self.signer.account_id}:user/local",
                        "user": self.signer.access_key}
        if endpoint.api_key_required:
            if rejection := check_api_key(headers, self.api_key):
                return gateway_answer(rejection, request_id)
            identity["apiKey"] = self.api_key
            identity["apiKeyId"] = "local"
        if endpoint.body_schema is not None and (rejection := _invalid_body(endpoint, headers, body)):
            return gateway_answer(rejection, request_id)
        return self._integrate(loaded, match, method, path, query, headers, body, source_ip, port, identity,
                               request_id)

    def _integrate(self, loaded: Loaded, match, method, path, query, headers, body, source_ip, port, identity,
                   request_id) -> Answer:
        from infragen.events import request_event
        from infragen.invoke import CALLER_TIMEOUT, LAMBDA_REQUEST_LIMIT, event_size

        endpoint = match.endpoint
        fn = loaded.functions[endpoint.function_logical_id]
        binary = is_binary(header(headers, "content-type"), loaded.table.binary_media_types) or not _utf8(body)
        trace = _trace_id()
        event = request_event(endpoint.route, method=method, path=path, path_values=match.path_values,
                              headers=_forwarded_headers(headers, source_ip, port, trace),
                              query=_query_values(query), body=body if body else None, binary=binary,
                              region=self.clients.target.region, request_id=request_id,
                              source_ip=source_ip, identity=identity)
        if len(event["body"] or "") > LAMBDA_REQUEST_LIMIT - EVENT_ENVELOPE and (
                size := event_size(event)) > LAMBDA_REQUEST_LIMIT:
            return gateway_answer(TOO_LARGE, request_id, function=fn.name,  # Lambda refuses the invocation
                            error=f"the event is {size:,} bytes; Lambda accepts "
                                  f"{LAMBDA_REQUEST_LIMIT:,} (RequestEntityTooLargeException)")
        try:
            result = self._run(loaded, endpoint.function_logical_id, fn, event)
        except InfragenError as exc:  # e.g. the handler module was deleted
            return gateway_answer(INTERNAL, request_id, function=fn.name, error=str(exc))
        if result.error_type == CALLER_TIMEOUT:
            return gateway_answer(TIMED_OUT, request_id, function=fn.name, logs=result.logs,
                            error=f"integration timeout ({self.integration_timeout_s:g} s)")
        if not result.ok:  # API Gateway: a function error is a malformed proxy response → 502
            error = result.error_traceback or f"{result.error_type}: {result.error_message}"
            alarmed = self._count_error(loaded, endpoint.function_logical_id, fn)
            return gateway_answer(INTERNAL, request_id, function=fn.name, logs=result.logs,
                            error=error.rstrip("\n") + (f"\n{alarmed}" if alarmed else ""))
        accepted = (header(headers, "accept") or "").split(",")[0]
        try:
            status, response_headers, response_body = proxy_response(
                result.response, binary_reply=is_binary(accepted, loaded.table.binary_media_types))
        except MalformedResponse as exc:
            return gateway_answer(INTERNAL, request_id, function=fn.name, logs=result.logs,
                            error=f"Malformed Lambda proxy response: {exc}")
        return Answer(status, response_headers + _gateway_headers(request_id, trace), response_body,
                      request_id, function=fn.name, logs=result.logs)

    def _run(self, loaded: Loaded, logical_id: str, fn, event: dict):
        """Invoke the function on a warm worker of its current code (InvokeResult)."""
        from infragen.artifacts import REQUIREMENTS_FILE
        from infragen.commands import local_dependencies
        from infragen.invoke import LambdaContext, invocation_result

        # checked on every request, so an edit is served on the next one: the code's files, and the
        # installed requirements (a file they include may live outside the function's folder)
        folders, requirements = loaded.sources.get(logical_id) or loaded.sources.setdefault(logical_id, (
            [self.root / fn.source, *(self.root / d for d in loaded.cfg.shared_packages)],
            self.root / fn.source / REQUIREMENTS_FILE))
        guard = self._preparing.get(logical_id) or self._preparing.setdefault(logical_id, threading.Lock())
        with guard:  # one check (and pip install) of a function's code at a time, not one per request
            current = (code_fingerprint(folders), local_dependencies(self.root, fn) if requirements.is_file() else None)
            prepared = loaded.prepared.get(logical_id)
            if prepared is None or prepared[0] != current:
                prepared = loaded.prepared[logical_id] = (current, *self._prepare(loaded, logical_id, fn, *current))
        _, code, lambda_env, fingerprint = prepared
        context = LambdaContext(function_name=lambda_env["AWS_LAMBDA_FUNCTION_NAME"], memory_mb=fn.memory,
                                timeout_s=fn.timeout, region=lambda_env["AWS_REGION"])
        limit = min(fn.timeout, self.integration_timeout_s)
        started = time.perf_counter()
        outcome, logs = self.workers.invoke(logical_id, fingerprint, code, lambda_env, event, context, limit)
        return invocation_result(code.function_dir.name, context, outcome, logs, started=started,
                                 timeout_s=fn.timeout, limit_s=limit)

    def _prepare(self, loaded: Loaded, logical_id: str, fn, code_digest: tuple, dependency_dir: Path | None) -> tuple:
        """The code's layout and Lambda environment, and the fingerprint of a worker running them
        (UsageError: the handler module is missing)."""
        from infragen.invoke import prepare
        from infragen.stack.names import function_name

        _, code, lambda_env, _ = prepare(
            self.root / fn.source, loaded.variables[logical_id], handler=fn.handler,
            shared_dirs=[self.root / d for d in loaded.cfg.shared_packages], dependency_dir=dependency_dir,
            timeout_s=fn.timeout, memory_mb=fn.memory, function_name=function_name(loaded.cfg, fn.name))
        identity = (code_digest, code.module, code.attribute, str(dependency_dir), sorted(lambda_env.items()))
        return code, lambda_env, hashlib.blake2b(repr(identity).encode(), digest_size=16).hexdigest()

    def _count_error(self, loaded: Loaded, logical_id: str, fn) -> str | None:
        """A function error, as the deployed Errors alarm would count it: when it moves the alarm to
        ALARM, CloudWatch's notification is published to the alarm's topics on the target. What
        happened, for the server log (None: no alarm, or already in ALARM)."""
        from botocore.exceptions import BotoCoreError, ClientError

        from infragen.stack.names import function_name

        alarm = loaded.alarms.get(logical_id)
        now = time.time()
        errors = self.alarm_states.count_error(alarm, now) if alarm else None
        if errors is None:
            return None
        topic_arns = [arn for arn in map(self._resolve, alarm.topics) if arn]
        if not topic_arns:
            return f"alarm {alarm.name}: ALARM; its topic is not deployed on this target, so no notification"
        subject, message = alarm_notification(
            alarm, function_name=function_name(loaded.cfg, fn.name), topic_arns=topic_arns,
            region=self.clients.target.region, account=topic_arns[0].split(":")[4], errors=errors, now=now)
        for arn in topic_arns:
            try:
                self.clients.sns.publish(TopicArn=arn, Subject=subject, Message=message)
            except (BotoCoreError, ClientError) as exc:
                return f"alarm {alarm.name}: ALARM; publishing to {arn} failed: {exc}"
        return f"alarm {alarm.name}: ALARM, notification published to {', '.join(topic_arns)}"

    def close(self) -> None:
        """Stop the function workers."""
        self.workers.close()


def _invalid_body(endpoint: Endpoint, headers: dict[str, list[str]], body: bytes) -> Rejection | None:
    """Request validator with the route's model (JSON Schema draft 4, as API Gateway models are):
    400 {"message": "Invalid request body"} before the function runs. API Gateway picks the model by
    Content-Type and treats a request without one as application/json; other types pass unchecked."""
    import jsonschema

    if media_type(header(headers, "content-type")) not in ("", "application/json"):
        return None
    try:  # JSON as RFC 8259 has it: NaN and Infinity are not JSON
        document = json.loads(body or b"{}", parse_constant=_not_json)
    except (ValueError, RecursionError):
        return BAD_BODY
    if not jsonschema.Draft4Validator(endpoint.body_schema).is_valid(document):
        return BAD_BODY
    return None


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def gateway_answer(rejection: Rejection, request_id: str, *, function: str | None = None, logs: str = "",
             error: str | None = None) -> Answer:
    """A gateway response as API Gateway sends it: JSON {"message": …} and x-amzn-ErrorType."""
    body = json.dumps({"message": rejection.message}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", rejection.error_type)]
    return Answer(rejection.status, headers + _gateway_headers(request_id), body, request_id,
                  function=function, logs=logs, error=error)


def _gateway_headers(request_id: str, trace: str | None = None) -> list[tuple[str, str]]:
    return [("x-amzn-RequestId", request_id), ("x-amz-apigw-id", request_id[:8] + "="),
            ("X-Amzn-Trace-Id", trace or _trace_id())]


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"


def _forwarded_headers(headers: dict[str, list[str]], source_ip: str, port: int,
                       trace: str) -> dict[str, list[str]]:
    """The request's headers as the function sees them: API Gateway adds X-Forwarded-For (the
    client's address appended), X-Forwarded-Port, X-Forwarded-Proto and X-Amzn-Trace-Id, and drops
    an Authorization header holding a SigV4 signature (REST important notes). The protocol is the
    one the client used: http here, https on AWS."""
    seen = {name.lower(): name for name in headers}
    forwarded = {name: values for name, values in headers.items()
                 if not (name.lower() == "authorization" and all(v.startswith("AWS4-") for v in values))}
    chain = headers.get(seen.get("x-forwarded-for", ""), [])
    forwarded[seen.get("x-forwarded-for", "X-Forwarded-For")] = [", ".join([*chain, source_ip])]
    forwarded[seen.get("x-forwarded-port", "X-Forwarded-Port")] = [str(port)]
    forwarded[seen.get("x-forwarded-proto", "X-Forwarded-Proto")] = ["http"]  # serve speaks HTTP
    forwarded[seen.get("x-amzn-trace-id", "X-Amzn-Trace-Id")] = [trace]
    return forwarded


def _query_values(query: str) -> dict[str, list[str]] | None:
    """The query string's parameters, decoded; a literal `;` separates them as `&` does (REST notes:
    "the semicolon character … results in the data being split")."""
    from urllib.parse import parse_qs

    return parse_qs(query.replace(";", "&"), keep_blank_values=True) or None


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1.0


def deployed_api_key(clients, resolve, console) -> str | None:
    """The value of the stack's deployed ApiKey (apigateway:GetApiKey includeValue), or None when
    the stack (or the key) is not deployed on the target or cannot be read (a warning says why)."""
    key_id = resolve("ApiKey")
    if not key_id:
        return None
    try:
        return clients.apigateway.get_api_key(apiKey=key_id, includeValue=True).get("value")
    except Exception as exc:  # botocore's ClientError and connection errors alike: serve with a local key
        console.warn(f"Could not read the deployed API key ({exc}); using a local key.")
        return None


def _generated_key() -> str:
    return secrets.token_urlsafe(30)


def _signer(clients) -> Signer | None:
    """The target's credentials as the only valid SigV4 signers (None without credentials)."""
    from infragen.events import LOCAL_ACCOUNT_ID

    try:
        credentials = clients.session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
    except Exception:
        frozen = None
    if frozen is None:
        return None
    return Signer(frozen.access_key, frozen.secret_key, frozen.token, clients.target.region, LOCAL_ACCOUNT_ID)
