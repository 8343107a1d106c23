"""The embedded AWS emulator: a moto server on 127.0.0.1, in the background or for one command.

moto is imported lazily, only here, so that commands against real AWS never need it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infragen.console import Console
from infragen.errors import InfragenError, UsageError

HOST = "127.0.0.1"  # loopback only: the emulator has no authentication
STATE_FILE = "local.json"
LOG_FILE = "local.log"
LOCK_FILE = "local.lock"
LOCK_TIMEOUT = 30.0  # longer than a start (START_TIMEOUT) or a stop (STOP_TIMEOUT + 1 s) takes
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
_USER_AWS_PROFILE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_LAMBDA_CONFIG = {"lambda": {"use_docker": False}}  # echo payloads instead of running handlers in Docker
_INSTALL_HINT = "Install the emulator with `pip install 'infragen[local]'`."
_IN_PROCESS_NOTICE = (
    "Local emulator not running; started an in-process one for this command (state is discarded at exit). "
    "Run `infragen local start` to keep state between commands."
)
# Direct connections only: a proxy from the environment must never see loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class LocalServer:
    """A background emulator, as recorded in `<state_dir>/local.json`.

    `identity` is the process's command line and start time when infragen started it: a pid is
    signalled only while it still has that identity (pids are reused).
    """

    pid: int
    port: int
    identity: str | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass(frozen=True)
class Status:
    """`running`: the process infragen started is alive and its port answers; `stale`: a record of a
    dead server, or of a pid that is now another process (the record is removed, nothing is
    signalled); `stopped`."""

    state: Literal["running", "stale", "stopped"]
    server: LocalServer | None = None


def start(state_dir: Path, port: int | None = None) -> LocalServer:
    """Start the background emulator on `port` (default: a free one) and wait until it answers.

    Returns the server already running, if any. Its pid and port go to `<state_dir>/local.json`,
    its output to `<state_dir>/local.log`. Concurrent starts are serialised by a lock file: the
    second one finds and returns the server the first one started.
    """
    with _state_lock(state_dir):
        return _start(state_dir, port)


def _start(state_dir: Path, port: int | None) -> LocalServer:
    current = status(state_dir)
    if current.state == "running":
        if port not in (None, current.server.port):
            raise UsageError(
                f"The local emulator already runs on port {current.server.port}.",
                hint="Run `infragen local stop` first to move it to another port.",
            )
        return current.server
    _require_moto()
    if port is None:
        port = _free_port()
    elif not _port_free(port):
        raise UsageError(f"Port {port} on {HOST} is already in use.", hint="Pick another port, or omit it.")
    process = _spawn(state_dir, port)
    try:
        _wait_until_answering(process, port, state_dir / LOG_FILE)
        _configure(port)
    except BaseException:  # not up in time, refused its settings, Ctrl-C: leave no server behind
        process.kill()
        process.wait()
        raise
    server = LocalServer(pid=process.pid, port=port, identity=_identity(process.pid))
    _write_state(state_dir, server)
    return server


@contextmanager
def _state_lock(state_dir: Path) -> Iterator[None]:
    """Hold `<state_dir>/local.lock` (flock) for the block; give up after LOCK_TIMEOUT."""
    import fcntl

    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / LOCK_FILE, "w") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InfragenError("Another `infragen local start` or `stop` is still running.",
                                        hint="Wait for it, then retry.") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _spawn(state_dir: Path, port: int) -> subprocess.Popen:
    """The moto server as a background process, its output in `<state_dir>/local.log`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / LOG_FILE, "wb") as log:  # the log of the latest server only
        return subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command and ignores its Ctrl-C
            env={**_emulator_environment(os.environ), "PYTHONUNBUFFERED": "1"},
        )


def _wait_until_answering(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise InfragenError(f"The local emulator did not start on port {port}.", hint=f"See {log}.")
        time.sleep(0.1)


def stop(state_dir: Path) -> Status:
    """Stop the background emulator (SIGTERM, then SIGKILL) and remove its state; return what was found.

    Only the process infragen started is signalled (see `status`); a stale record is just removed.
    """
    if not (state_dir / STATE_FILE).exists():
        return Status("stopped")
    with _state_lock(state_dir):
        found = status(state_dir)
        if found.state == "running":
            _terminate(found.server)
            (state_dir / STATE_FILE).unlink(missing_ok=True)
    return found


def status(state_dir: Path) -> Status:
    """Report the background emulator; a record of a dead server, or of a pid that is not the
    emulator infragen started (pid 1, this process, a reused pid), is removed."""
    path = state_dir / STATE_FILE
    try:
        data = json.loads(path.read_text())
        server = LocalServer(pid=int(data["pid"]), port=int(data["port"]), identity=str(data["identity"]))
    except FileNotFoundError:
        return Status("stopped")
    except (ValueError, KeyError, TypeError, RecursionError, OSError):  # OSError: e.g. a folder
        _remove(path)
        return Status("stale")
    if _is_ours(server) and _answers(server.port):
        return Status("running", server)
    _remove(path)
    return Status("stale", server)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except IsADirectoryError:
        path.rmdir()


def _is_ours(server: LocalServer) -> bool:
    """Whether `server.pid` is alive and still the process infragen started (same identity)."""
    if server.pid <= 1 or server.pid in (os.getpid(), os.getppid()):
        return False
    return _alive(server.pid) and server.identity is not None and _identity(server.pid) == server.identity


def _identity(pid: int) -> str | None:
    """The process's command line and start time (None when it is gone or unreadable).

    Linux: /proc/<pid>/cmdline and the start time in /proc/<pid>/stat; elsewhere `ps`.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        return f"{started} {cmdline.strip()}"
    except (OSError, IndexError):
        if Path("/proc/self/stat").exists():
            return None  # Linux, and the process is gone
    try:
        shown = subprocess.run(["ps", "-o", "lstart=,command=", "-p", str(pid)], capture_output=True,
                               text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return shown or None


@contextmanager
def local_endpoint(state_dir: Path, console: Console) -> Iterator[str]:
    """Yield the emulator's endpoint URL: the background one if running, else an in-process one for this block."""
    current = status(state_dir)
    if current.state == "running":
        yield current.server.endpoint_url
        return
    server_class = _require_moto()
    server = server_class(ip_address=HOST, port=0, verbose=False)
    with _quiet_emulator(), _environment(_emulator_environment(os.environ)):
        server.start()
        try:
            port = server.get_host_and_port()[1]
            _configure(port)
            console.warn(_IN_PROCESS_NOTICE)
            yield f"http://{HOST}:{port}"
        finally:
            server.stop()


def _emulator_environment(environ) -> dict[str, str]:
    """`environ` without the user's AWS config and credentials files or profile: moto builds boto3
    sessions of its own, and a malformed ~/.aws/config must not break the emulator."""
    kept = {name: value for name, value in environ.items() if name not in _USER_AWS_PROFILE}
    return {**kept, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ is exactly `values` for the block, then restored."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _quiet_emulator() -> Iterator[None]:
    """Keep the in-process emulator's request lines and coverage warnings out of the output."""
    loggers = {name: logging.getLogger(name) for name in ("werkzeug", "moto")}
    previous = {name: log.level for name, log in loggers.items()}
    for log in loggers.values():
        log.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"moto\.")
        try:
            yield
        finally:
            for name, log in loggers.items():
                log.setLevel(previous[name])


def _require_moto():
    """Return moto's ThreadedMotoServer class, or explain how to install it."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise UsageError(f"The local emulator needs moto[server]: {exc}.", hint=_INSTALL_HINT) from exc
    return ThreadedMotoServer


def _answers(port: int) -> bool:
    try:
        with _OPENER.open(f"http://{HOST}:{port}/moto-api/config", timeout=1) as reply:
            return reply.status < 300
    except OSError:
        return False


def _configure(port: int) -> None:
    """Apply _LAMBDA_CONFIG to the emulator on `port`."""
    request = urllib.request.Request(
        f"http://{HOST}:{port}/moto-api/config",
        data=json.dumps(_LAMBDA_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=5):
            pass
    except OSError as exc:  # URLError and HTTPError included
        raise InfragenError(f"The local emulator on port {port} refused its settings: {exc}") from exc


def _write_state(state_dir: Path, server: LocalServer) -> None:
    temporary = state_dir / f"{STATE_FILE}.tmp"
    record = {"pid": server.pid, "port": server.port, "identity": server.identity}
    temporary.write_text(json.dumps(record) + "\n")
    temporary.replace(state_dir / STATE_FILE)


def _terminate(server: LocalServer) -> None:
    """SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL; each signal only while the pid is still ours."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (getattr(signal, "SIGKILL", signal.SIGTERM), 1.0)):
        if not _is_ours(server):
            return
        try:
            os.kill(server.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(server.pid):
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether `pid` runs; an exited process not yet reaped by its parent (a zombie) counts as dead."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child (started by this process) has exited; now reaped
    except ChildProcessError:
        pass  # not our child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True
