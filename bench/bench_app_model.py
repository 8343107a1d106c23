"""The app model at scale: render, package and deploy of generated apps with many functions.

Usage: python bench/bench_app_model.py [--runs N] [--only render,package,deploy] [--profile]
       (run it with the project's venv Python: infragen and the moto server come from that venv)

Each scenario runs `infragen` as a separate process on a project generated in a temp dir: N
functions, each in its own folder with a small handler on the shared `common/` package (copied
from lambda_src/), one or two routes (collections and `{id}` items sharing paths), every third one
a grant on a shared [tables.items], every fifth a schedule; environments dev and prod.

1. render: `infragen render --all` at 2, 10 and 40 functions — median wall time, peak RSS of the
   process (os.wait4 ru_maxrss), compact bytes and resource count of dev.json.
   Goal at 40 functions: ≤ 0.4 s and ≤ 40 MB. When missed (or with --profile) the render is run
   once under cProfile and the time is broken down by package and by infragen function.
2. package: `infragen package --out DIR` at 10 functions — plain; then with a requirements.txt in
   every function folder naming a wheel this bench writes (py3-none-any, in a temp dir; pip gets
   PIP_NO_INDEX=1 and PIP_FIND_LINKS by environment), with a cold dependency cache (.infragen/deps/
   removed before each run) and a warm one. Goal: warm ≤ 0.3 s. Whether dependencies were
   installed is read from the zips (the wheel's module inside); when they were not, the bench
   says "dependencies not installed by this build" and the warm goal counts as missed (a
   timing of packaging without dependencies would prove nothing); a warm run over the goal is
   profiled like the render.
3. deploy against a moto server (MotoServer and the server-side call recorder of
   bench_deploy.py) at 2 and 20 functions: first deploy with a cold lint (fresh project), first
   deploy after `infragen render --all && infragen lint` (the deploy reuses the lint verdict), and
   the no-op redeploy. Goals for the no-op at every size: ≤ 3 API calls (what README.md states
   on the emulator), no upload, ≤ 0.5 s median (issue 7's goal); a no-op over it is profiled.

infragen's own bytecode is compiled once before timing and PYTHONDONTWRITEBYTECODE is dropped for
the child processes, so every run imports from .pyc files as an installed infragen does (otherwise
compiling its modules again on each run adds a few hundred ms on this machine).

Prints one table per part; exit 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
import bench_deploy  # noqa: E402
from bench_deploy import MotoServer, Row, clean_env, infragen_exe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RENDER_SIZES = (2, 10, 40)
RENDER_GOAL = {"functions": 40, "wall_s": 0.4, "rss_mb": 40.0}
PACKAGE_SIZE = 10
PACKAGE_GOAL_WARM_S = 0.3
DEPLOY_SIZES = (2, 20)
NOOP_GOAL = {"calls": 3, "uploads": 0, "wall_s": 0.5}
WHEEL = ("benchdep", "1.0")
HEADER = (ROOT / "infragen.toml").read_text().split("\n[functions.")[0] + "\n"


# --- the generated app -----------------------------------------------------------------------------


HANDLER = '''"""{routes}: a small handler on the shared helpers."""

import os

from common import apigw
from common.runtime import api_handler


def answer(request: apigw.Request) -> dict:
    """Echo what was asked; name the table when the function has one."""
    return apigw.json_response(200, {{"function": "{name}", "table": os.environ.get("ITEMS_TABLE"),
                                      "requestId": request.request_id}})


handler = api_handler(answer)
'''


def function_spec(i: int) -> dict:
    """Function i: a collection (GET, POST) or an item (`{id}`: GET, on every other item DELETE)
    of resource `res<i//2>`; every third uses the items table, every fifth also runs on a schedule."""
    base = f"/res{i // 2}"
    if i % 2 == 0:
        routes = [f"GET {base}", f"POST {base}"]
    else:
        routes = [f"GET {base}/{{id}}"] + ([f"DELETE {base}/{{id}}"] if i % 4 == 3 else [])
    spec: dict = {"name": f"fn{i:02d}", "routes": routes, "timeout": 30, "memory": 256}
    if i % 3 == 0:
        spec["tables"] = {"items": "read_write" if i % 2 == 0 else "read"}
    if i % 5 == 4:
        spec["schedule"] = "rate(1 hour)"
    return spec


def function_toml(spec: dict) -> str:
    lines = [f"[functions.{spec['name']}]",
             "routes = [" + ", ".join(json.dumps(r) for r in spec["routes"]) + "]",
             f"timeout = {spec['timeout']}", f"memory = {spec['memory']}",
             'environment = { PAGE_SIZE = "50" }']
    if "tables" in spec:
        lines.append("tables = { " + ", ".join(f'{t} = "{lvl}"' for t, lvl in spec["tables"].items()) + " }")
    if "schedule" in spec:
        lines.append(f'schedule = "{spec["schedule"]}"')
    return "\n".join(lines) + "\n"


def generate_project(dest: Path, count: int, requirements: str | None = None) -> Path:
    """Write an app of `count` functions under `dest`; return its infragen.toml."""
    if dest.exists():
        shutil.rmtree(dest)
    src = dest / "lambda_src"
    shutil.copytree(ROOT / "lambda_src" / "common", src / "common",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    specs = [function_spec(i) for i in range(count)]
    for spec in specs:
        folder = src / spec["name"]
        folder.mkdir(parents=True)
        (folder / "handler.py").write_text(HANDLER.format(name=spec["name"], routes=", ".join(spec["routes"])))
        if requirements is not None:
            (folder / "requirements.txt").write_text(requirements)
    tables = '[tables.items]\npartition_key = "id"\n\n' if any("tables" in s for s in specs) else ""
    config = dest / "infragen.toml"
    config.write_text(HEADER + tables + "\n".join(function_toml(s) for s in specs)
                      + '\n[env.dev]\nlog_retention_days = 30\nalerts = "none"\n\n'
                      '[env.prod]\nnat_gateways = 2\nalerts = "none"\n')
    return config


def write_wheel(folder: Path, name: str = WHEEL[0], version: str = WHEEL[1]) -> Path:
    """A minimal pure-Python wheel (py3-none-any) holding the module `name`, with a valid RECORD."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'"""Bench dependency."""\n\nVERSION = "{version}"\n'.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={_record_hash(data)},{len(data)}" for path, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# --- running infragen -------------------------------------------------------------------------------


def child_env(base: dict | None = None) -> dict:
    """The environment infragen runs with here: as a user's, so bytecode caches are used (a
    PYTHONDONTWRITEBYTECODE=1 shell would make every run compile infragen's modules again)."""
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_infragen() -> None:
    """Write the bytecode of the installed infragen package once, as its first run would."""
    spec = importlib.util.find_spec("infragen")
    if spec is None or spec.origin is None:
        sys.exit("infragen is not importable from this Python (pip install -e .)")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(spec.origin).parent)],
                   env=child_env(), check=True)


@dataclass
class Run:
    wall_s: float
    rss_mb: float


def run_process(argv: list[str], cwd: Path, env: dict | None = None) -> Run:
    """Wall seconds and peak RSS of one process; exit on failure with its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env or child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    # The output is small (one line per template or function), so the pipe cannot fill up.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    output = proc.stdout.read().decode(errors="replace")
    proc.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed (exit {os.waitstatus_to_exitcode(status)}):\n{output[-3000:]}")
    return Run(elapsed, usage.ru_maxrss / 1024)


@dataclass
class Result:
    """One row of a table: timings, extra columns, and the goals it missed."""

    label: str
    runs: list[Run] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    goal: str = ""
    misses: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def verdict(self) -> str:
        if self.misses:
            return "MISSED: " + "; ".join(self.misses)
        return "ok" if self.goal else ""


# --- 1. render --------------------------------------------------------------------------------------


def bench_render(workdir: Path, exe: str, runs: int, profile: bool) -> list[Result]:
    """`render --all` per size; the goal is judged (and a miss profiled) at its size."""
    results = []
    for count in RENDER_SIZES:
        config = generate_project(workdir / f"render-{count}", count)
        argv = [exe, "render", "--all", "--config", str(config)]
        result = Result(f"render --all, {count} functions",
                        [run_process(argv, config.parent) for _ in range(runs)])
        result.extra.update(template_size(config.parent / "templates_out" / "dev.json"))
        if count == RENDER_GOAL["functions"]:
            result.goal = f"≤{RENDER_GOAL['wall_s']} s, ≤{RENDER_GOAL['rss_mb']:.0f} MB"
            if result.median_s > RENDER_GOAL["wall_s"]:
                result.misses.append(f"median {result.median_s:.3f} s")
            if result.peak_mb > RENDER_GOAL["rss_mb"]:
                result.misses.append(f"peak {result.peak_mb:.1f} MB")
            if profile or result.misses:
                result.extra["profile"] = profile_process(argv, config.parent)
        results.append(result)
    return results


def template_size(path: Path) -> dict[str, str]:
    """Compact JSON bytes (what a deploy sends) and resource count of a rendered template."""
    template = json.loads(path.read_text())
    compact = len(json.dumps(template, separators=(",", ":"), ensure_ascii=False).encode())
    return {"dev.json": f"{compact:,} B", "resources": str(len(template["Resources"]))}


def profile_process(argv: list[str], cwd: Path, env: dict | None = None, top: int = 12) -> str:
    """Run the command once under cProfile; where the time goes, by package and by function."""
    out = cwd.parent / f"{cwd.name}.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), *argv], cwd=cwd, env=env or child_env(),
                   check=True, capture_output=True)
    stats = pstats.Stats(str(out))
    total = stats.total_tt
    by_group: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        by_group[_group(filename)] = by_group.get(_group(filename), 0.0) + tottime
    lines = [f"cProfile of `{Path(argv[0]).name} {argv[1]}` ({cwd.name}): "
             f"{total:.3f} s profiled (profiling slows it)", "  own time by package:"]
    for group, seconds in sorted(by_group.items(), key=lambda kv: -kv[1])[:8]:
        lines.append(f"    {group:<28} {seconds:6.3f} s  {seconds / total:5.1%}")
    lines.append("  functions by own time:")
    for (filename, line, name), (_, _, tottime, _, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:6]:
        lines.append(f"    {tottime:6.3f} s  {_short(filename)}:{line} {name}")
    lines.append("  infragen functions by cumulative time:")
    # Leave out the CLI frames that merely contain everything (main, click wrapper, command).
    own = [(key, value) for key, value in stats.stats.items()
           if "/infragen/" in key[0] and value[3] < 0.9 * total]
    for (filename, line, name), (_, _, _, cumtime, _) in sorted(own, key=lambda kv: -kv[1][3])[:top]:
        lines.append(f"    {cumtime:6.3f} s  {_short(filename)}:{line} {name}")
    return "\n".join(lines)


def _short(filename: str) -> str:
    """A profiled file's path from its package on (or as cProfile names it)."""
    for marker in ("site-packages/", "/infragen/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return Path(filename).name if "/" in filename else filename


def _group(filename: str) -> str:
    """The package a profiled function belongs to (site-packages name, infragen, stdlib, import)."""
    if filename == "~":
        return "C builtins"
    if filename.startswith("<frozen"):
        return "import machinery"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/infragen/" in filename:
        return "infragen"
    return "stdlib: " + Path(filename).stem


# --- 2. package -------------------------------------------------------------------------------------


def bench_package(workdir: Path, exe: str, runs: int) -> tuple[list[Result], list[str]]:
    """Plain packaging, then with requirements on a cold and a warm dependency cache; notes."""
    wheels = workdir / "wheels"
    write_wheel(wheels)
    pip_env = dict(child_env(), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
                   PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_CACHE_DIR=str(workdir / "pip-cache"))
    out = workdir / "package-out"

    plain = generate_project(workdir / "package-plain", PACKAGE_SIZE)
    results = [Result(f"package, {PACKAGE_SIZE} functions, no requirements",
                      [_package(exe, plain, out, pip_env) for _ in range(runs)])]

    config = generate_project(workdir / "package-deps", PACKAGE_SIZE,
                              requirements=f"{WHEEL[0]}=={WHEEL[1]}\n")
    deps_cache = config.parent / ".infragen" / "deps"
    cold = Result(f"package, {PACKAGE_SIZE} functions, requirements, cold cache")
    for _ in range(runs):
        shutil.rmtree(deps_cache, ignore_errors=True)
        cold.runs.append(_package(exe, config, out, pip_env))
    installed = dependency_installed(out)
    warm = Result(f"package, {PACKAGE_SIZE} functions, requirements, warm cache",
                  [_package(exe, config, out, pip_env) for _ in range(runs)],
                  goal=f"≤{PACKAGE_GOAL_WARM_S} s with dependencies")
    for result in (cold, warm):
        result.extra["deps in zip"] = "yes" if installed else "no"
    results[0].extra["deps in zip"] = "-"
    notes = _judge_warm(warm, installed, [exe, "package", "--config", str(config), "--out", str(out)], pip_env)
    return results + [cold, warm], notes


def _judge_warm(warm: Result, installed: bool, argv: list[str], env: dict) -> list[str]:
    """Record the warm-cache goal's misses (profiling a slow run); notes for the report."""
    notes = []
    if not installed:
        notes.append("dependencies not installed by this build (no zip holds "
                     f"{WHEEL[0]}/__init__.py): the requirements rows time packaging without them")
        warm.misses.append("dependencies not installed by this build")
    if warm.median_s > PACKAGE_GOAL_WARM_S:
        warm.misses.append(f"median {warm.median_s:.3f} s")
        warm.extra["profile"] = profile_process(argv, Path(argv[3]).parent, env)
    return notes


def _package(exe: str, config: Path, out: Path, env: dict) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    return run_process([exe, "package", "--config", str(config), "--out", str(out)], config.parent, env)


def dependency_installed(out: Path) -> bool:
    """True when every zip written holds the bench wheel's module."""
    zips = sorted(out.rglob("*.zip"))
    if not zips:
        return False
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            if f"{WHEEL[0]}/__init__.py" not in archive.namelist():
                return False
    return True


# --- 3. deploy --------------------------------------------------------------------------------------


def bench_deploys(workdir: Path, exe: str, runs: int) -> tuple[list[Row], list[str]]:
    """First deploy (cold lint, cached lint verdict) and no-op, per size, on one moto server;
    a profile of each no-op that missed its goal."""
    env = child_env(clean_env(workdir))
    server = MotoServer(workdir)
    rows: list[Row] = []
    profiles: list[str] = []
    try:
        server.start()
        for count in DEPLOY_SIZES:
            rows += _deploys_of_size(server, workdir, env, exe, count, runs, profiles)
    finally:
        server.stop()
    return rows, profiles


def _deploys_of_size(server: MotoServer, workdir: Path, env: dict, exe: str, count: int,
                     runs: int, profiles: list[str]) -> list[Row]:
    cold = Row(f"deploy, {count} functions: first, cold lint", note="fresh project and emulator")
    for i in range(runs):
        server.reset()
        config = generate_project(workdir / f"deploy-{count}-cold-{i}", count)
        cold.runs.append(server.record([_deploy_argv(exe, config, server.url)], env, config.parent))
    noop = Row(f"deploy, {count} functions: no-op", target=NOOP_GOAL)
    for _ in range(runs):
        noop.runs.append(server.record([_deploy_argv(exe, config, server.url)], env, config.parent))
    if noop.missed():
        profiles.append(profile_process(_deploy_argv(exe, config, server.url), config.parent, env))
    linted = Row(f"deploy, {count} functions: first, lint verdict cached",
                 note="after `render --all` + `lint` (not timed)")
    for i in range(runs):
        server.reset()
        config = generate_project(workdir / f"deploy-{count}-linted-{i}", count)
        for step in (["render", "--all"], ["lint"]):
            subprocess.run([exe, *step, "--config", str(config)], env=env, cwd=config.parent, check=True,
                           capture_output=True)
        linted.runs.append(server.record([_deploy_argv(exe, config, server.url)], env, config.parent))
    return [cold, noop, linted]


def _deploy_argv(exe: str, config: Path, url: str) -> list[str]:
    return [exe, "deploy", "--config", str(config), "--endpoint-url", url, "--yes", "--wait-timeout", "300"]


# --- report -----------------------------------------------------------------------------------------


def print_table(title: str, header: tuple[str, ...], lines: list[tuple[str, ...]]) -> None:
    print(f"\n{title}")
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    for cells in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())


def print_results(title: str, results: list[Result], extra: tuple[str, ...]) -> None:
    header = ("scenario", "runs", "median s", "min s", "peak MB", *extra, "goal", "result")
    lines = [(r.label, str(len(r.runs)), f"{r.median_s:.3f}", f"{min(x.wall_s for x in r.runs):.3f}",
              f"{r.peak_mb:.1f}", *(r.extra.get(k, "") for k in extra), r.goal, r.verdict) for r in results]
    print_table(title, header, lines)
    for r in results:
        if "profile" in r.extra:
            print(r.extra["profile"])


def print_deploys(rows: list[Row]) -> None:
    header = ("scenario", "runs", "median s", "min s", "API calls", "uploads", "goal", "result")
    lines = []
    for row in rows:
        goal = (f"≤{row.target['calls']} calls, {row.target['uploads']} uploads, ≤{row.target['wall_s']} s"
                if row.target else row.note)
        lines.append((row.label, str(len(row.runs)), f"{row.median_s:.3f}",
                      f"{min(r.wall_s for r in row.runs):.3f}", str(row.calls), str(row.uploads), goal,
                      ("MISSED: " + "; ".join(row.missed())) if row.missed() else "ok" if row.target else ""))
    print_table("3. infragen deploy against moto server (calls counted server-side)", header, lines)
    print("Calls of the last run of each scenario:")
    bench_deploy.print_calls(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario (median)")
    parser.add_argument("--only", default="render,package,deploy", help="comma-separated parts to run")
    parser.add_argument("--profile", action="store_true", help="profile the 40-function render even if it meets its goal")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    exe = infragen_exe()
    compile_infragen()
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          "(timings on a shared machine: compare min with median)")
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-app-model-") as tmp:
        workdir = Path(tmp)
        if "render" in parts:
            results = bench_render(workdir, exe, args.runs, args.profile)
            print_results("1. infragen render --all (dev + prod + bootstrap)", results, ("dev.json", "resources"))
            missed += [f"{r.label}: {m}" for r in results for m in r.misses]
        if "package" in parts:
            results, notes = bench_package(workdir, exe, args.runs)
            print_results("2. infragen package --out DIR", results, ("deps in zip",))
            for note in notes:
                print(f"Note: {note}")
            missed += [f"{r.label}: {m}" for r in results for m in r.misses]
        if "deploy" in parts:
            rows, profiles = bench_deploys(workdir, exe, args.runs)
            print_deploys(rows)
            for profile in profiles:
                print(profile)
            missed += [f"{row.label}: {m}" for row in rows for m in row.missed()]
    print(f"\nload average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for miss in missed:
        print(f"Goal missed — {miss}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
