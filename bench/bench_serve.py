"""`infragen serve` against the issue-11 goals: start to first answer (≤ 0.5 s), per-request latency
over 1,000 requests (median ≤ 1 ms for GET /hello), edit to new answer (≤ 0.3 s).

Runs the example app against a moto server it starts on loopback (stack not deployed: a local API
key, no SSM parameter). Then the same figures for `chalice local` on an equivalent two-route app
(GET /hello, POST /data), with Chalice pip-installed into a throwaway venv; a line says so when that
install fails (no network). `python bench/bench_serve.py [--requests 1000] [--no-chalice]`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIVIAL = "def handler(event, context):\n    return {'statusCode': 200, 'body': '\"%s\"'}\n"


def moto() -> tuple[object, str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def start(project: Path, endpoint: str) -> tuple[subprocess.Popen, str, str, float]:
    """Start serve; return the process, its URL, the API key and seconds to the first 200 answer."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "infragen", "serve", "--config", str(project / "infragen.toml"),
         "--endpoint-url", endpoint, "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    banner = "".join(process.stderr.readline() for _ in range(4))
    url = re.search(r"at http://(127\.0\.0\.1:\d+)", banner).group(1)
    key = re.search(r"x-api-key: (\S+)", banner).group(1)
    connection = http.client.HTTPConnection(url)
    connection.request("GET", "/hello", headers={"x-api-key": key})
    assert connection.getresponse().read() and True
    return process, url, key, time.perf_counter() - started


def latencies(url: str, key: str, path: str, count: int, keep_alive: bool = True) -> list[float]:
    connection = http.client.HTTPConnection(url)  # keep-alive, as a client loop would
    times = []
    for _ in range(count):
        if not keep_alive:
            connection.close()
        began = time.perf_counter()
        connection.request("GET", path, headers={"x-api-key": key})
        reply = connection.getresponse()
        reply.read()
        assert reply.status == 200, reply.status
        times.append((time.perf_counter() - began) * 1000)
    return times


def edit_to_answer(project: Path, url: str, key: str) -> float:
    handler = project / "lambda_src" / "hello" / "handler.py"
    connection = http.client.HTTPConnection(url)
    began = time.perf_counter()
    handler.write_text(TRIVIAL % "edited")
    while True:
        connection.request("GET", "/hello", headers={"x-api-key": key})
        if connection.getresponse().read() == b'"edited"':
            return time.perf_counter() - began


CHALICE_APP = """from chalice import Chalice

app = Chalice(app_name="bench")


@app.route("/hello")
def hello():
    return {"greeting": "%s"}


@app.route("/data", methods=["POST"])
def data():
    return {"items": app.current_request.json_body["data"]}
"""


def chalice_rows(count: int) -> list[tuple[str, str, str]]:
    """The same figures for `chalice local` (installed into a temporary venv), or one line why not."""
    with tempfile.TemporaryDirectory() as folder:
        venv = Path(folder) / "venv"
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "chalice"], check=True,
                           capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            return [("chalice local", f"skipped: cannot install chalice ({type(exc).__name__})", "")]
        project = Path(folder) / "bench"
        (project / ".chalice").mkdir(parents=True)
        (project / ".chalice" / "config.json").write_text('{"version": "2.0", "app_name": "bench"}')
        (project / "app.py").write_text(CHALICE_APP % "hello")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        started = time.perf_counter()
        process = subprocess.Popen([str(venv / "bin" / "chalice"), "local", "--port", str(port)], cwd=project,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)  # its reloader's child is stopped with it
        url = f"127.0.0.1:{port}"
        try:
            while True:
                try:
                    connection = http.client.HTTPConnection(url, timeout=5)
                    connection.request("GET", "/hello")
                    connection.getresponse().read()
                    break
                except (OSError, http.client.HTTPException):
                    time.sleep(0.01)
            first = time.perf_counter() - started
            hello = latencies(url, "", "/hello", count)
            fresh = latencies(url, "", "/hello", count, keep_alive=False)
            edits = []
            for n in range(5):
                connection = http.client.HTTPConnection(url, timeout=5)
                began = time.perf_counter()
                (project / "app.py").write_text(CHALICE_APP % f"edited{n}")
                while True:  # the reloader restarts the server: the port refuses for a while
                    try:
                        connection.request("GET", "/hello")
                        if f"edited{n}".encode() in connection.getresponse().read():
                            break
                    except (OSError, http.client.HTTPException):
                        connection.close()
                        time.sleep(0.01)
                edits.append(time.perf_counter() - began)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        return [("chalice local: start to first answer", f"{first:.2f} s", ""),
                (f"chalice local: GET /hello, {count} requests",
                 f"median {statistics.median(hello):.1f} ms, p95 {_p95(hello):.1f} ms", ""),
                (f"chalice local: GET /hello, {count} requests, a connection each",
                 f"median {statistics.median(fresh):.1f} ms, p95 {_p95(fresh):.1f} ms", ""),
                ("chalice local: edit to new answer (median of 5)", f"{statistics.median(edits) * 1000:.0f} ms", "")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--no-chalice", action="store_true", help="skip the chalice local side")
    options = parser.parse_args()
    count = options.requests
    server, endpoint = moto()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        shutil.copy(ROOT / "infragen.toml", project)
        shutil.copytree(ROOT / "lambda_src", project / "lambda_src")
        rows = []
        process, url, key, first = start(project, endpoint)
        process.terminate()
        process.wait(timeout=10)
        process, url, key, again = start(project, endpoint)
        try:
            rows.append(("start to first answer, fresh emulator", f"{first:.2f} s", "≤ 0.5 s"))
            rows.append(("start to first answer, emulator warm", f"{again:.2f} s", "≤ 0.5 s"))
            hello = latencies(url, key, "/hello", count)
            rows.append((f"GET /hello (SSM read once, then the warm cache), {count} requests",
                         f"median {statistics.median(hello):.1f} ms, p95 {_p95(hello):.1f} ms", "median ≤ 1 ms"))
            (project / "lambda_src" / "hello" / "handler.py").write_text(TRIVIAL % "trivial")
            trivial = latencies(url, key, "/hello", count)
            rows.append((f"GET /hello (trivial handler), {count} requests",
                         f"median {statistics.median(trivial):.1f} ms, p95 {_p95(trivial):.1f} ms", ""))
            edits = [edit_to_answer(project, url, key) for _ in range(5)]
            rows.append(("edit to new answer (median of 5)", f"{statistics.median(edits) * 1000:.0f} ms", "≤ 0.3 s"))
        finally:
            process.terminate()
            process.wait(timeout=10)
            server.stop()
    if not options.no_chalice:
        rows += chalice_rows(count)
    width = max(len(r[0]) for r in rows)
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<34} {goal}")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


if __name__ == "__main__":
    main()
