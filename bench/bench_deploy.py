"""Whole-process timings and API-call counts of `infragen deploy` against a local moto server.

Usage: python bench/bench_deploy.py [--runs N] [--first-runs N]
       (run it with the project's venv Python: the moto server is started with the same interpreter)

Starts `python -m moto.server` on a free 127.0.0.1 port, copies infragen.toml and lambda_src/ to a
temp dir, and times `infragen deploy --endpoint-url … --yes` as a separate process:
  (a) first deploy (bootstrap stack, uploads, main stack), on an emptied server and a fresh project
      copy each run, so cfn-lint runs cold as it does in a new checkout;
  (b) no-op redeploy of that state, several runs; the median counts.

Calls are counted server-side with moto's recorder (MOTO_RECORDER_FILEPATH, /moto-api/recorder/…):
it writes one JSON line per request *before* handling it, with headers and body, so each call can
be named (query-protocol `Action=…`, X-Amz-Target, or S3 method + path) and an upload is a PutObject
(or a multipart upload). The werkzeug access-log lines on the server's stderr are counted as a
cross-check: they give one line per request but no operation name (every CloudFormation call is
`POST /`), and they are written after the response, so they can trail the client slightly.

Targets for the no-op: ≤ 4 API calls, 0 uploads, ≤ 0.7 s median wall time. Exit 1 if one is missed.
(The fourth call verifies the default security group's lock-down; loading botocore's EC2 model
for it costs ~0.13 s: 0.48 → 0.61 s median on the 2-core machine, measured back to back.)
If `aws` (and/or `sam`) is on PATH, `aws cloudformation package` + `aws cloudformation deploy` run
on the same emulator (emptied first) for comparison; they are not targets.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-west-2"
NOOP_TARGETS = {"calls": 4, "uploads": 0, "wall_s": 0.7}
PEER_STACK = "infragen-dev"  # same template, same names: the emulator is emptied before each tool
PEER_BUCKET = "peer-bench-artifacts"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_ACCESS_LINE = re.compile(r'"(GET|PUT|POST|HEAD|DELETE|PATCH) (\S+) HTTP/')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours the lines of 3xx-5xx responses
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


# --- the moto server ------------------------------------------------------------------------------


class MotoServer:
    """`python -m moto.server` as a child process, with the recorder writing to a temp file."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.recording = workdir / "moto-recording.jsonl"
        self.log_path = workdir / "moto-server.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 20.0) -> None:
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=str(self.recording))
        env.pop("MOTO_ENABLE_RECORDING", None)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited ({self.proc.returncode}):\n{self.log_text()}")
            try:
                self.reset()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server not ready after {timeout_s:g} s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        self.proc = None

    def post(self, path: str, payload: dict | None = None) -> bytes:
        body = json.dumps(payload).encode() if payload is not None else b""
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with _DIRECT.open(request, timeout=10) as response:
            return response.read()

    def reset(self) -> None:
        """Empty every backend, and let Lambda functions be created without Docker."""
        self.post("/moto-api/reset")
        self.post("/moto-api/config", {"lambda": {"use_docker": False}})

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def record(self, commands: list[list[str]], env: dict, cwd: Path) -> "Measured":
        """Run the commands one after the other; time them and name the requests they made."""
        self.post("/moto-api/recorder/reset-recording")
        log_start = self.log_path.stat().st_size
        self.post("/moto-api/recorder/start-recording")
        wall = 0.0
        try:
            for argv in commands:
                start = time.perf_counter()
                proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
                wall += time.perf_counter() - start
                if proc.returncode != 0:
                    raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n"
                                       f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        finally:
            self.post("/moto-api/recorder/stop-recording")
        entries = [json.loads(line) for line in self.recording.read_text().splitlines() if line]
        time.sleep(0.05)  # access-log lines are written after each response
        with self.log_path.open("rb") as log:
            log.seek(log_start)
            tail = _ANSI.sub("", log.read().decode(errors="replace"))
        logged = sum(1 for m in _ACCESS_LINE.finditer(tail) if not m.group(2).startswith("/moto-api/"))
        return Measured(wall, [operation(entry) for entry in entries], logged)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- naming recorded requests ----------------------------------------------------------------------


def operation(entry: dict) -> tuple[str, str]:
    """(service, operation) of one recorded request."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    scope = _SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "?"
    if headers.get("x-amz-target"):
        return service, headers["x-amz-target"].rsplit(".", 1)[-1]
    url = urlsplit(entry.get("url", ""))
    if service == "s3":
        return service, s3_operation(entry.get("method", ""), url.path, url.query, headers)
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    action = parse_qs(body).get("Action") or parse_qs(url.query).get("Action")
    return service, action[0] if action else f"{entry.get('method')} {url.path}"


def s3_operation(method: str, path: str, query: str, headers: dict) -> str:
    """The S3 REST operation of a path-style request (the ones a deploy makes, else METHOD path)."""
    parts = path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    params = parse_qs(query, keep_blank_values=True)
    if has_key:
        if method == "PUT":
            if "x-amz-copy-source" in headers:
                return "CopyObject"
            return "UploadPart" if "partNumber" in params else "PutObject"
        if method == "POST":
            return "CreateMultipartUpload" if "uploads" in params else "CompleteMultipartUpload"
        return {"HEAD": "HeadObject", "GET": "GetObject", "DELETE": "DeleteObject"}.get(
            method, f"{method} {path}")
    if method == "GET":
        if "versions" in params:
            return "ListObjectVersions"
        return "ListObjectsV2" if params.get("list-type") == ["2"] else "ListObjects"
    if method == "PUT" and not params:
        return "CreateBucket"
    if method == "POST" and "delete" in params:
        return "DeleteObjects"
    return {"HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, f"{method} {path}?{query}")


@dataclass
class Measured:
    wall_s: float
    calls: list[tuple[str, str]]
    logged: int  # request lines in the access log (cross-check)

    @property
    def uploads(self) -> int:
        return sum(1 for _, op in self.calls if op in ("PutObject", "CreateMultipartUpload"))


@dataclass
class Row:
    label: str
    runs: list[Measured] = field(default_factory=list)
    target: dict | None = None
    note: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def calls(self) -> int:
        return max(len(r.calls) for r in self.runs)

    @property
    def uploads(self) -> int:
        return max(r.uploads for r in self.runs)

    def missed(self) -> list[str]:
        if not self.target:
            return []
        misses = []
        if self.calls > self.target["calls"]:
            misses.append(f"{self.calls} calls > {self.target['calls']}")
        if self.uploads > self.target["uploads"]:
            misses.append(f"{self.uploads} uploads > {self.target['uploads']}")
        if self.median_s > self.target["wall_s"]:
            misses.append(f"median {self.median_s:.3f} s > {self.target['wall_s']} s")
        return misses


# --- scenarios -----------------------------------------------------------------------------------


def clean_env(workdir: Path) -> dict:
    """No real credentials, profiles or endpoint overrides leak in; the emulator gets dummy keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=str(workdir / "no-aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(workdir / "no-aws-credentials"),
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               SAM_CLI_TELEMETRY="0")
    return env


def copy_project(dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(ROOT / "infragen.toml", dest / "infragen.toml")
    shutil.copytree(ROOT / "lambda_src", dest / "lambda_src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "templates_out", dest / "templates_out")
    return dest / "infragen.toml"


def infragen_exe() -> str:
    beside = Path(sys.executable).parent / "infragen"
    exe = str(beside) if beside.exists() else shutil.which("infragen")
    if not exe:
        sys.exit("infragen is not installed in this environment (pip install -e .)")
    return exe


def bench_infragen(server: MotoServer, workdir: Path, env: dict, first_runs: int,
                   noop_runs: int) -> list[Row]:
    exe = infragen_exe()
    first = Row("infragen deploy: first (bootstrap + stack)", note="cold cfn-lint, fresh project")
    for i in range(first_runs):
        server.reset()
        config = copy_project(workdir / f"project-{i}")
        first.runs.append(server.record([_deploy_argv(exe, config, server.url)], env, config.parent))
    noop = Row("infragen deploy: no-op", target=NOOP_TARGETS)
    for _ in range(noop_runs):
        noop.runs.append(server.record([_deploy_argv(exe, config, server.url)], env, config.parent))
    # The documented CI order lints templates_out/ before deploying; the deploy reuses the verdict.
    linted = Row("infragen deploy: first, after `infragen lint`", note="lint verdict reused")
    for i in range(first_runs):
        server.reset()
        config = copy_project(workdir / f"linted-{i}")
        lint = [exe, "lint", "--config", str(config), "--dir", str(config.parent / "templates_out")]
        subprocess.run(lint, env=env, cwd=config.parent, check=True, capture_output=True)
        linted.runs.append(server.record([_deploy_argv(exe, config, server.url)], env, config.parent))
    return [first, noop, linted]


def _deploy_argv(exe: str, config: Path, url: str) -> list[str]:
    return [exe, "deploy", "--config", str(config), "--endpoint-url", url, "--yes",
            "--wait-timeout", "120"]


def bench_peers(server: MotoServer, workdir: Path, env: dict, runs: int) -> tuple[list[Row], list[str]]:
    """The same stack through `aws cloudformation package` + `deploy` and `sam deploy`, where installed.

    Each starts on an emptied emulator with the artifact bucket pre-created (not timed). They are
    for comparison only: a failure is reported, not fatal.
    """
    rows, notes = [], []
    tools = {"aws": _awscli_commands, "sam": _sam_commands}
    for tool, commands_for in tools.items():
        exe = shutil.which(tool)
        if not exe:
            notes.append(f"Skipped: {tool} (not on PATH)")
            continue
        try:
            url = _empty_emulator_with_bucket(server)
            tool_env = dict(env, AWS_ENDPOINT_URL=url, SAM_CLI_POLL_DELAY="0.1")
            commands, label = commands_for(exe, _local_code_template(workdir / tool, tool_env))
            first = Row(f"{label}: first", note="bucket pre-created")
            first.runs.append(server.record(commands, tool_env, workdir))
            noop = Row(f"{label}: no-op")
            for _ in range(runs):
                noop.runs.append(server.record(commands, tool_env, workdir))
            rows += [first, noop]
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            notes.append(f"Failed: {tool}: {str(exc)[:500]}")
    return rows, notes


def _empty_emulator_with_bucket(server: MotoServer) -> str:
    import boto3

    server.reset()
    url = f"http://localhost:{server.port}"  # moto reads path-style buckets only on "localhost"
    boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(
        Bucket=PEER_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return url


def _awscli_commands(aws: str, template: Path) -> tuple[list[list[str]], str]:
    packaged = template.with_name("packaged.json")
    # The packaged template is over 51,200 bytes, so deploy must upload it and pass TemplateURL.
    return [
        [aws, "cloudformation", "package", "--template-file", str(template), "--s3-bucket",
         PEER_BUCKET, "--s3-prefix", "awscli", "--use-json", "--output-template-file",
         str(packaged)],
        [aws, "cloudformation", "deploy", "--template-file", str(packaged), "--stack-name",
         PEER_STACK, "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
         "--s3-bucket", PEER_BUCKET, "--s3-prefix", "awscli", "--no-fail-on-empty-changeset"],
    ], "aws cloudformation package + deploy"


def _sam_commands(sam: str, template: Path) -> tuple[list[list[str]], str]:
    return [
        [sam, "deploy", "--template-file", str(template), "--stack-name", PEER_STACK,
         "--s3-bucket", PEER_BUCKET, "--s3-prefix", "sam", "--region", REGION,
         "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
         "--no-confirm-changeset", "--no-fail-on-empty-changeset"],
    ], "sam deploy (SAM_CLI_POLL_DELAY=0.1)"


def _local_code_template(out: Path, env: dict) -> Path:
    """The dev template as rendered by infragen, with each function's Code as a local folder
    (the function's source plus common/, as infragen zips it), for tools that package it."""
    config = copy_project(out / "project")
    subprocess.run([infragen_exe(), "render", "--config", str(config), "--env", "dev", "--out",
                    str(out)], env=env, check=True, capture_output=True)
    template = json.loads((out / "dev.json").read_text())
    for logical_id, resource in template["Resources"].items():
        code = resource.get("Properties", {}).get("Code")
        if resource["Type"] != "AWS::Lambda::Function" or not isinstance(code, dict):
            continue
        function = next(name for name in ("hello", "data_processor")
                        if code.get("S3Key") == {"Ref": _code_key(name)})
        staged = out / "code" / function
        shutil.copytree(config.parent / "lambda_src" / function, staged)
        shutil.copytree(config.parent / "lambda_src" / "common", staged / "common")
        resource["Properties"]["Code"] = str(staged)
    template["Parameters"] = {k: v for k, v in template.get("Parameters", {}).items()
                              if k != "ArtifactBucket" and not k.endswith("CodeKey")}
    if not template["Parameters"]:
        del template["Parameters"]
    path = out / "template.json"
    path.write_text(json.dumps(template, indent=1))
    return path


def _code_key(function: str) -> str:
    return "".join(part.capitalize() for part in function.split("_")) + "CodeKey"


# --- report --------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    header = ("scenario", "runs", "median s", "min s", "API calls", "uploads", "log lines",
              "target", "result")
    lines = []
    for row in rows:
        target = (f"≤{row.target['calls']} calls, {row.target['uploads']} uploads, "
                  f"≤{row.target['wall_s']} s") if row.target else row.note
        lines.append((row.label, str(len(row.runs)), f"{row.median_s:.3f}",
                      f"{min(r.wall_s for r in row.runs):.3f}", str(row.calls), str(row.uploads),
                      str(max(r.logged for r in row.runs)), target,
                      ("MISSED: " + "; ".join(row.missed())) if row.missed()
                      else "ok" if row.target else ""))
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    for cells in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())


def print_calls(rows: list[Row]) -> None:
    for row in rows:
        ops = row.runs[-1].calls
        counts: dict[str, int] = {}
        for service, op in ops:
            counts[f"{service}:{op}"] = counts.get(f"{service}:{op}", 0) + 1
        summary = ", ".join(f"{name}×{n}" if n > 1 else name for name, n in counts.items())
        print(f"  {row.label}: {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="no-op runs (median)")
    parser.add_argument("--first-runs", type=int, default=3, help="first-deploy runs")
    args = parser.parse_args()

    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        workdir = Path(tmp)
        env = clean_env(workdir)
        server = MotoServer(workdir)
        try:
            server.start()
            rows += bench_infragen(server, workdir, env, args.first_runs, args.runs)
            peer_rows, notes = bench_peers(server, workdir, env, max(3, args.runs // 2))
            rows += peer_rows
        finally:
            server.stop()

    print_table(rows)
    print("Calls of the last run of each scenario (server-side, moto recorder):")
    print_calls(rows)
    for note in notes:
        print(note)
    if any(row.calls != max(r.logged for r in row.runs) for row in rows):
        print("Note: the access-log count differs from the recorder's for some scenario.")
    missed = [f"{row.label}: {m}" for row in rows for m in row.missed()]
    for miss in missed:
        print(f"Target missed — {miss}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
