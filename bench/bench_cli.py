"""Whole-process timings of `infragen render --all` and `infragen --help`.

Usage: python bench/bench_cli.py [--runs N]
Targets (2-core machine): render ≤ 0.25 s median and ≤ 60 MB peak; --help ≤ 0.15 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"render --all": (0.25, 60.0), "--help": (0.15, None)}


def run_once(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    exe = shutil.which("infragen") or sys.exit("infragen is not installed (pip install -e .)")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "infragen.toml", tmp)  # and the code it names: the config checks its folders
        shutil.copytree(ROOT / "lambda_src", Path(tmp) / "lambda_src", ignore=shutil.ignore_patterns("__pycache__"))
        for label, (time_target, mem_target) in TARGETS.items():
            runs = [run_once([exe, *label.split()], Path(tmp)) for _ in range(args.runs)]
            median = statistics.median(t for t, _ in runs)
            peak = max(m for _, m in runs)
            ok = median <= time_target and (mem_target is None or peak <= mem_target)
            failed |= not ok
            print(f"infragen {label:<13} median {median * 1000:6.0f} ms  min {min(t for t, _ in runs) * 1000:5.0f} ms"
                  f"  peak {peak:5.1f} MB  target ≤{time_target * 1000:.0f} ms"
                  f"{f' ≤{mem_target:.0f} MB' if mem_target else ''}  {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
