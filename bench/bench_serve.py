"""`infragen serve` against the issue-11 goals: start to first answer (≤ 0.5 s), per-request latency
over 1,000 requests (median ≤ 1 ms for GET /hello), edit to new answer (≤ 0.3 s).

Runs the example app against a moto server it starts on loopback (stack not deployed: a local API
key, no SSM parameter). `python bench/bench_serve.py [--requests 1000]`; prints a table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
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


def latencies(url: str, key: str, path: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection(url)  # keep-alive, as a client loop would
    times = []
    for _ in range(count):
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    count = parser.parse_args().requests
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
            rows.append((f"GET /hello (reads SSM), {count} requests",
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
    width = max(len(r[0]) for r in rows)
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<34} {goal}")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


if __name__ == "__main__":
    main()
