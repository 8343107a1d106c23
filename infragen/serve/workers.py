"""Warm handler workers for `infragen serve`, as Lambda keeps execution environments.

Per function, up to MAX_PER_FUNCTION worker processes forked from the server (its SDK models
already loaded). A worker imports the handler once, then runs one invocation at a time received over
a pipe, so per-container state (clients, parameter caches) stays warm between requests. A worker is
discarded, with its process group, when it times out, dies, the handler exits the process, or its
code or environment changes (`code_fingerprint`, checked on every request).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import io
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from infragen.invoke import Code, LambdaContext, enter_lambda_environment, error_outcome, marshal_response

MAX_PER_FUNCTION = 10  # concurrent invocations per function; a further request waits for a free worker
RACY_S = 2.0  # a file modified this recently is also hashed: a same-size rewrite in one mtime tick
EXIT_ERROR = ("Runtime.ExitError", "Runtime exited without providing a reason", None)


_content: dict[str, tuple[tuple[int, int, int], bytes]] = {}  # path → (size, mtime, inode), content digest


def code_fingerprint(folders: Iterable[Path], extra: object = ()) -> tuple:
    """Every file's path, size, mtime, inode and content digest under `folders` (no __pycache__),
    plus `extra`: equal whenever the code a fresh import would see is the same. A file is read only
    when its stat changed or it was modified in the last RACY_S seconds, where a same-size rewrite
    within one timestamp tick leaves the stat unchanged (git's "racily clean")."""
    racy_after = time.time_ns() - int(RACY_S * 1e9)
    found: list = [extra]
    stack = [str(f) for f in folders]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            found.append((folder, "missing"))
            continue
        for entry in entries:
            if entry.name == "__pycache__":
                continue
            try:
                if entry.is_dir():
                    stack.append(entry.path)
                    continue
                stat = entry.stat()
            except OSError:
                continue
            key = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
            known = _content.get(entry.path)
            if known is None or known[0] != key or stat.st_mtime_ns >= racy_after:
                try:
                    known = _content[entry.path] = (key, hashlib.blake2b(
                        Path(entry.path).read_bytes(), digest_size=16).digest())
                except OSError:
                    continue
            found.append((entry.path, known))
    return tuple(found)


class Worker:
    """One warm process for one function's code and environment (one invocation at a time)."""

    def __init__(self, key: str, fingerprint: str, code: Code, lambda_env: dict[str, str],
                 inherited: list[int]):
        self.key, self.fingerprint = key, fingerprint
        forking = multiprocessing.get_context("fork")
        self.conn, child_conn = forking.Pipe(duplex=True)
        self.logs, child_logs = os.pipe()
        os.set_blocking(self.logs, False)
        self.stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{os.urandom(16).hex()}"
        self.process = forking.Process(target=_worker_main, daemon=True, args=(
            child_conn, child_logs, [self.conn.fileno(), self.logs, *inherited], code, lambda_env))
        self.process.start()
        child_conn.close()
        os.close(child_logs)

    def fds(self) -> list[int]:
        return [self.conn.fileno(), self.logs]

    def invoke(self, event: dict, context: LambdaContext, limit_s: float) -> tuple[dict | None, bytes, bool]:
        """(outcome or None when `limit_s` ran out, the invocation's stdout, whether to keep the worker)."""
        context.log_stream_name = self.stream
        chunks: list[bytes] = []
        try:
            self.conn.send((event, context))
        except OSError:
            return {"error": EXIT_ERROR}, b"", False
        deadline = time.monotonic() + limit_s
        outcome = None
        while outcome is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, self._drain(chunks), False
            ready = multiprocessing.connection.wait([self.conn, self.logs], timeout=remaining)
            if self.logs in ready:
                self._drain(chunks)
            if self.conn in ready:
                try:
                    outcome = self.conn.recv()
                except (EOFError, OSError):  # died without an answer: os._exit in the handler, a crash
                    return {"error": EXIT_ERROR}, self._drain(chunks), False
        keep = not outcome.pop("retire", False)
        return outcome, self._drain(chunks), keep  # logs written before the answer are in the pipe

    def _drain(self, chunks: list[bytes]) -> bytes:
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(self.logs, 65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        """Kill the worker and everything it started; reap it."""
        if self.process.pid is not None and self.process.exitcode is None:
            for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL), self.process.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill()
            self.process.join()

    def stop(self) -> None:
        """Kill it and close the server's ends of its pipes (once)."""
        self.kill()
        if self.logs >= 0:
            self.conn.close()
            os.close(self.logs)
            self.logs = -1


class WorkerPool:
    """Idle and busy workers per function; `invoke` picks an idle worker of the current code or
    starts one (at most MAX_PER_FUNCTION per function: a further request waits for one)."""

    def __init__(self, max_per_function: int = MAX_PER_FUNCTION):
        self.max_per_function = max_per_function
        self._idle: dict[str, list[Worker]] = {}
        self._busy: set[Worker] = set()
        self._changed = threading.Condition()
        self._closed = False
        self._keep: set[str] | None = None  # the functions whose workers may stay (None: all)

    def invoke(self, key: str, fingerprint: str, code: Code, lambda_env: dict[str, str], event: dict,
               context: LambdaContext, limit_s: float) -> tuple[dict | None, bytes]:
        """Run one invocation; `limit_s` counts from when a worker takes it (Lambda would have
        started another environment at once: waiting here for a free worker is not the function's time)."""
        worker = self._acquire(key, fingerprint, code, lambda_env)
        if worker is None:  # the server is stopping
            return {"error": EXIT_ERROR}, b""
        outcome, logs, keep = None, b"", False
        try:
            outcome, logs, keep = worker.invoke(event, context, limit_s)
        finally:
            self._release(worker, keep)
        return outcome, logs

    def _acquire(self, key, fingerprint, code, lambda_env) -> Worker | None:
        stale: list[Worker] = []
        try:
            with self._changed:
                while True:
                    if self._closed:
                        return None
                    idle = self._idle.setdefault(key, [])
                    stale += [w for w in idle if w.fingerprint != fingerprint]
                    idle[:] = [w for w in idle if w.fingerprint == fingerprint]
                    if idle:
                        worker = idle.pop()
                        break
                    if len(idle) + sum(w.key == key for w in self._busy) < self.max_per_function:
                        inherited = [fd for w in self._all() for fd in w.fds()]
                        worker = Worker(key, fingerprint, code, lambda_env, inherited)
                        break
                    self._changed.wait()
                self._busy.add(worker)
                return worker
        finally:
            for old in stale:
                old.stop()

    def _release(self, worker: Worker, keep: bool) -> None:
        with self._changed:
            self._busy.discard(worker)
            keep = keep and not self._closed and (self._keep is None or worker.key in self._keep)
            if keep:
                self._idle.setdefault(worker.key, []).append(worker)
            self._changed.notify_all()
        if not keep:
            worker.stop()

    def _all(self) -> list[Worker]:
        return [*self._busy, *(w for idle in self._idle.values() for w in idle)]

    def retire(self, keep: set[str]) -> None:
        """Stop the idle workers of functions not in `keep` (removed from the config); busy ones
        stop when their invocation ends."""
        with self._changed:
            self._keep = set(keep)
            gone = [w for key in list(self._idle) if key not in keep for w in self._idle.pop(key)]
        for worker in gone:
            worker.stop()

    def pids(self) -> list[int]:
        with self._changed:
            return [w.process.pid for w in self._all()]

    def close(self) -> None:
        """Stop every worker (busy ones too); later requests are refused."""
        with self._changed:
            self._closed = True
            idle = [w for workers in self._idle.values() for w in workers]
            busy = list(self._busy)  # their requests end (502) and release them: stopped then
            self._idle.clear()
            self._changed.notify_all()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()


def _worker_main(conn, logs: int, inherited: list[int], code: Code, lambda_env: dict[str, str]) -> None:
    """In the forked worker: import the handler once, then answer invocations until the pipe closes."""
    try:
        os.setpgid(0, 0)  # its own process group, so a timeout also stops what the handler started
        for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # not serve's stop handlers
            signal.signal(stop, signal.SIG_DFL)
        for fd in inherited:  # other workers' pipes: the server's end must be the only other holder
            with contextlib.suppress(OSError):
                os.close(fd)
        os.dup2(logs, 1)
        os.close(logs)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "wb", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", write_through=True)
        enter_lambda_environment(code, lambda_env)
        _compile_from_source(code)
        importlib.invalidate_caches()
        handler, init_error = None, None
        try:
            request = conn.recv()
        except EOFError:
            return
        try:
            handler = getattr(importlib.import_module(code.module), code.attribute)
        except (Exception, SystemExit) as error:  # Lambda: an init error fails the invocation, the environment is reset
            init_error = error
        while True:
            event, context = request
            context.restart_clock()
            if init_error is not None:
                outcome, retire = error_outcome(init_error), True
            else:
                try:
                    outcome, retire = marshal_response(handler(event, context)), False
                except SystemExit as error:  # sys.exit() in a handler: an error, and the environment is reset
                    outcome, retire = error_outcome(error), True
                except Exception as error:
                    outcome, retire = error_outcome(error), False
            sys.stdout.flush()
            conn.send({**outcome, "retire": retire})
            if retire:
                return
            try:
                request = conn.recv()
            except EOFError:  # the server closed the pipe (stopped, or died)
                return
    finally:
        os._exit(0)


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles the source, never reading or writing a .pyc: a cached .pyc is only as fresh as its
    1-second mtime stamp, so a same-size edit within that second would run the old code."""

    def get_code(self, fullname):
        return self.source_to_code(self.get_data(self.path), self.path)


def _compile_from_source(code: Code) -> None:
    """The handler's own code (function folder, shared packages) loads from source; installed
    requirements keep their bytecode cache."""
    machinery = importlib.machinery
    loaders = ((machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES),
               (_SourceOnlyLoader, machinery.SOURCE_SUFFIXES))
    own = tuple(code.path[:-1] if code.dependencies else code.path)
    below = tuple(folder + os.sep for folder in own)
    installed = str(code.dependencies) if code.dependencies else None

    def mine(path: str) -> bool:
        if installed and (path == installed or path.startswith(installed + os.sep)):
            return False
        return path in own or path.startswith(below)

    def hook(path: str):  # the folders and their packages' folders
        if not mine(path):
            raise ImportError
        return machinery.FileFinder(path, *loaders)

    sys.path_hooks.insert(0, hook)
    for path in list(sys.path_importer_cache):
        if mine(path):
            del sys.path_importer_cache[path]
