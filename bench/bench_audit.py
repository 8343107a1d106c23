"""`infragen audit` run time: the example app and a generated 40-function app (issue 10 goals).

Usage: python bench/bench_audit.py [--runs N] [--profile]
       (with the project's venv Python)

Each run is `infragen audit --env dev` as a separate process (the CLI's imports and the render
included, as a user or CI pays them). The 40-function app is bench_app_model.py's generator (each
function on the shared `common/` package), with a DynamoDB read through `boto3.resource(...).Table`
added to every function that has a table grant. Goals: example app ≤ 1 s, 40 functions ≤ 5 s
(median wall time). Findings (exit 1) are expected and do not fail the bench; a crash does.
Prints one line per app; exit 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_app_model import ROOT, child_env, compile_infragen, function_spec, generate_project  # noqa: E402

GOALS = {"example app (2 functions)": 1.0, "generated app (40 functions)": 5.0}
TABLE_READ = '''

def read_item(item_id: str) -> dict:
    import boto3

    return boto3.resource("dynamodb").Table(os.environ["ITEMS_TABLE"]).get_item(Key={"id": item_id})
'''


def generated_app(dest: Path, count: int = 40) -> Path:
    config = generate_project(dest, count)
    for i in range(count):
        spec = function_spec(i)
        if "tables" in spec:
            handler = dest / "lambda_src" / spec["name"] / "handler.py"
            handler.write_text(handler.read_text() + TABLE_READ)
    return config


def timed(config: Path) -> tuple[float, str]:
    argv = [sys.executable, "-m", "infragen", "audit", "--config", str(config), "--env", "dev"]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=child_env())
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout.strip().splitlines()[-1]


def profile(config: Path) -> str:
    from infragen.audit.command import audit

    profiler = cProfile.Profile()
    profiler.enable()
    with open("/dev/null", "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            audit(config, "dev", False, "text")
        finally:
            sys.stdout = stdout
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    compile_infragen()
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        apps = {"example app (2 functions)": ROOT / "infragen.toml",
                "generated app (40 functions)": generated_app(Path(tmp) / "app40")}
        for label, config in apps.items():
            runs = [timed(config) for _ in range(args.runs)]
            median = statistics.median(r[0] for r in runs)
            ok = median <= GOALS[label]
            missed += not ok
            print(f"{label:<30} median {median:5.2f} s (min {min(r[0] for r in runs):.2f}, "
                  f"goal ≤ {GOALS[label]:.0f} s) {'ok' if ok else 'MISSED'} | {runs[0][1]}")
            if args.profile or not ok:
                print(profile(config))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
