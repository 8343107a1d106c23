"""The HTTP side of `infragen serve`: a threading server in front of LocalApi, and its request log."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click

from infragen.logs import json_line, safe
from infragen.serve.app import BAD_REQUEST, INTERNAL, PAYLOAD_LIMIT, TOO_LARGE, Answer, LocalApi, gateway_answer
from infragen.serve.sdk import handler_services, share_sdk_models


DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized body is read (and dropped) up to this, then the connection closes
IDLE_TIMEOUT_S = 60.0


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: LocalApi, log):
        self.api, self.log = api, log  # set first: a bind that fails closes the server at once
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_close(self) -> None:
        """Close the socket and stop the function workers (none outlives the server)."""
        super().server_close()
        self.api.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "infragen-serve"
    timeout = IDLE_TIMEOUT_S  # a client that stops sending (mid-body, or idle between requests) is dropped

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):  # the client left, or went quiet: nothing to answer
            self.close_connection = True

    def __getattr__(self, name: str):
        """Every method, however spelled: one the API does not define is API Gateway's 403 (the
        standard library would answer 501 with an HTML page)."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (bad request line, URI or headers too long) as
        API Gateway words errors: JSON {"message": …}."""
        from infragen.serve.auth import Rejection

        self.close_connection = True
        answer = gateway_answer(Rejection(code, message or self.responses.get(code, ("Error",))[0],
                                          "BadRequestException"), str(uuid.uuid4()))
        self._log(self.command or "-", (getattr(self, "path", None) or "-").partition("?")[0], answer, 0.0)
        self._send(answer)

    def _log(self, method: str, path: str, answer: Answer, latency_ms: float) -> None:
        try:
            self.server.log(method, path, answer, latency_ms)
        except Exception:  # the request log is not worth the answer
            traceback.print_exc()

    def _serve(self) -> None:
        started = time.perf_counter()
        words = self.requestline.split()  # the target as sent: http.server folds a leading // into /
        target = words[1] if len(words) > 1 and words[1].startswith("/") else self.path
        path, _, query = target.partition("?")
        try:
            body = self._body()
        except _TooLarge:  # refused before the integration, as API Gateway does above 10 MB
            body, answer = None, gateway_answer(TOO_LARGE, str(uuid.uuid4()))
        except (ValueError, OSError):
            body, answer = None, gateway_answer(BAD_REQUEST, str(uuid.uuid4()))
        if body is None:
            self.close_connection = True  # what is left of the body is not read
        else:
            try:
                headers: dict[str, list[str]] = {}
                for name, value in self.headers.items():
                    headers.setdefault(name, []).append(value)
                answer = self.server.api.handle(self.command, path, query, headers, body,
                                                source_ip=self.client_address[0], port=self.server.server_address[1])
            except Exception:  # a fault of serve itself: the client still gets an answer, the log the why
                answer = gateway_answer(INTERNAL, str(uuid.uuid4()), error=traceback.format_exc())
        self._log(self.command, path, answer, (time.perf_counter() - started) * 1000)
        self._send(answer)

    def _body(self) -> bytes:
        """The request body (Content-Length or chunked); _TooLarge above the payload limit, after
        reading (and dropping) up to DRAIN_LIMIT of it so the client gets to read the answer."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, size = [], 0
            while (length := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                data = self.rfile.read(length)
                self.rfile.readline()
                size += len(data)
                if size <= PAYLOAD_LIMIT:
                    chunks.append(data)
                elif size > DRAIN_LIMIT:
                    raise _TooLarge
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            if size > PAYLOAD_LIMIT:
                raise _TooLarge
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > PAYLOAD_LIMIT:
            remaining = min(length, DRAIN_LIMIT)
            while remaining > 0 and (chunk := self.rfile.read(min(remaining, 1 << 20))):
                remaining -= len(chunk)
            raise _TooLarge
        return self.rfile.read(length) if length else b""

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:  # sent as UTF-8 (http.server would refuse non-Latin-1)
            self.send_header(name, value.encode("utf-8").decode("latin-1"))
        bodiless = answer.status in (204, 304) or answer.status < 200  # HTTP: these carry no body
        body = b"" if self.command == "HEAD" or bodiless else answer.body
        if not bodiless:
            self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # the request log is ours (RequestLog)
        pass


class _TooLarge(Exception):
    pass


class RequestLog:
    """One line per request (method, path, status, latency, function, request id), the handler's
    JSON log lines readably beneath it; with `as_json`, one JSON object per request instead."""

    def __init__(self, as_json: bool = False, stream=None):
        self.as_json = as_json
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, answer: Answer, latency_ms: float) -> None:
        lines = [line for line in answer.logs.splitlines() if line.strip()]
        if self.as_json:  # ASCII only: no control character (C1 included) reaches a terminal raw
            record = {"method": method, "path": path, "status": answer.status,
                      "latencyMs": round(latency_ms, 2), "function": answer.function,
                      "requestId": answer.request_id, "logs": [_parsed(line) for line in lines]}
            if answer.error:
                record["error"] = answer.error
            text = json.dumps(record)
        else:  # what the client sent (method, path) and what the handler raised are escaped too
            text = safe(f"{method} {path} {answer.status} {latency_ms:.1f} ms "
                        f"{answer.function or '-'} {answer.request_id}")
            text += "".join("\n    " + readable(line) for line in lines)
            if answer.error:
                text += "".join("\n  ! " + safe(line) for line in answer.error.rstrip().splitlines())
        with self._lock:
            click.echo(text, file=self.stream or sys.stdout)


def _parsed(line: str):
    """A JSON line as its value (NaN and Infinity kept as the strings they are: RFC 8259 has no
    such numbers, and --output json must stay JSON), or the line itself."""
    try:
        return json.loads(line, parse_constant=str)
    except (ValueError, RecursionError):
        return line


def readable(line: str) -> str:
    """A JSON log line as `time LEVEL message  key=value …`, its exception beneath (other lines
    as they are); control characters escaped."""
    entry = _parsed(line)
    if not isinstance(entry, dict):
        return safe(line)
    entry.pop("logger", None)
    return json_line(entry, fields=("timestamp", "level")).replace("\n", "\n  ")


def run(config_path: Path, env_name: str | None, host: str, port: int, output: str,
        target_flags: dict) -> int:
    """`infragen serve`: serve until Ctrl-C."""
    from infragen.console import Console
    from infragen.project import describe_target, load_env, target_clients

    console = Console()
    cfg = load_env(config_path, env_name)
    with target_clients(cfg, config_path, console, target_flags, check=None) as clients:
        api = LocalApi(config_path, env_name, clients, console=console, cfg=cfg)
        share_sdk_models(clients, handler_services(cfg))
        try:
            server = ApiServer((host, port), api, RequestLog(as_json=output == "json"))
        except OSError as exc:
            from infragen.errors import UsageError

            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                             hint="pick another --port (0: any free port)") from None
        with stopped_by_signals(), server:  # the server closes (workers stopped) before the handlers are back
            if not ipaddress.ip_address(server.server_address[0]).is_loopback:
                console.warn(f"{server.url} is reachable from other machines: its handlers run with the "
                             "target's credentials, and its API key is printed below")
            click.echo(banner(api, server.url, describe_target(clients, api.loaded.cfg)), err=True)
            server.serve_forever()
    return 0


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, a process manager's stop


@contextlib.contextmanager
def stopped_by_signals():
    """Each stop signal ends the block as Ctrl-C does (KeyboardInterrupt); once one came, the
    others are ignored until the block's cleanup is done, then the previous handlers are back."""
    previous = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}

    def interrupt(signum, frame):
        for stop in STOP_SIGNALS:
            signal.signal(stop, signal.SIG_IGN)
        raise KeyboardInterrupt

    for stop in STOP_SIGNALS:
        signal.signal(stop, interrupt)
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def banner(api: LocalApi, url: str, target: str) -> str:
    """What serve says at start: where, which routes with which auth, the API key."""
    table = api.loaded.table
    lines = [f"Serving {target} at {url} (Ctrl-C stops)"]
    functions = {lid: fn.name for lid, fn in api.loaded.functions.items()}
    for endpoint in table.endpoints:
        auth = ("IAM (SigV4)" if endpoint.authorization == "AWS_IAM" else
                "API key" if endpoint.api_key_required else "open")
        model = ", body model" if endpoint.body_schema is not None else ""
        lines.append(f"  {endpoint.route.method:<7} {endpoint.route.path:<30} "
                     f"{functions.get(endpoint.function_logical_id, '?'):<18} {auth}{model}")
    if any(e.api_key_required for e in table.endpoints):
        where = "the deployed ApiKey" if api.api_key_source == "deployed" else "a local key: no deployed ApiKey could be read on this target"
        lines.append(f"x-api-key: {api.api_key}  ({where})")
    return "\n".join(lines)
