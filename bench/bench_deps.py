"""Timings of the dependency step (infragen/dependencies.py): cold installs against warm cache hits.

Usage: python bench/bench_deps.py [--functions N] [--runs N] [--requirement SPEC]...
       (run it with the project's venv Python)

Without --requirement, each function's requirements.txt names a wheel the bench writes by hand into a
--find-links folder (pip runs with --no-index and no pip.conf: no network). With --requirement, every
function asks for those requirements from this machine's pip indexes (pip.conf, PIP_* variables).
Each function's requirements differ (a comment line), so each has its own cache entry.
Reported: the cold install of all functions (pip runs once per function) and the median warm pass
(settings read, cache key per function, entries listed; no pip). Goal: warm ≤ 0.3 s for 10 functions
(the whole packaging step, zipping included, has that budget).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infragen.dependencies import PipSettings, install_for_lambda  # noqa: E402
from tests.test_dependencies import write_wheel  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=10)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--requirement", action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.requirement:
            environ, lines = dict(os.environ), args.requirement
        else:
            wheels = root / "wheels"
            wheels.mkdir()
            write_wheel(wheels, "benchdep", "1.0")
            environ = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            environ.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
            lines = ["benchdep"]
        files = []
        for number in range(args.functions):
            path = root / f"fn{number}" / "requirements.txt"
            path.parent.mkdir()
            path.write_text("\n".join([f"# function {number}", *lines]) + "\n")
            files.append(path)

        def one_pass() -> tuple[float, int, int]:
            start = time.perf_counter()
            settings = PipSettings.from_environment(environ)
            results = [install_for_lambda(path, runtime="python3.12", architecture="arm64",
                                          cache_dir=root / "deps", pip=settings) for path in files]
            entries = sum(len(result.entries) for result in results)
            return time.perf_counter() - start, sum(result.pip_ran for result in results), entries

        cold, pip_runs, entries = one_pass()
        warm = [one_pass() for _ in range(args.runs)]
        assert all(runs == 0 for _, runs, _ in warm), "a warm pass ran pip"
        median = statistics.median(seconds for seconds, _, _ in warm)
        print(f"{args.functions} functions, {entries} zip entries in all, requirements: {' '.join(lines)}")
        print(f"cold: {cold:.2f} s ({pip_runs} pip runs)")
        print(f"warm: {median * 1000:.1f} ms median of {args.runs} (0 pip runs)")
        return 0 if median <= 0.3 else 1


if __name__ == "__main__":
    sys.exit(main())
