"""Start-up cost of every light command, as a ratio against `python -c pass` measured in the same run.

Target (issue 13, "one read path"): every light command within 8x of a bare
Python start (query within 5x), with a warm catalogue cache.  Each command
and the baseline run ``--repeat`` times, interleaved; the median is reported.

Run: .venv/bin/python benchmarks/bench_light_commands.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "list": ["list"],
    "show": ["show", "lora"],
    "query": ["query", "methods with parallel insertion on FFN"],
    "diff": ["diff", "lora", "ia3"],
    "similar": ["similar", "lora"],
    "table": ["table", "-l", "lialin-scale"],
    "diagram": ["diagram", "lora"],
}
TARGET = {"query": 5.0}
DEFAULT_TARGET = 8.0
CLI = "import sys; from peftref_kb.cli import main; sys.argv = ['peftref'] + sys.argv[1:]; main()"


def _time(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:])} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PEFTREF_CACHE_DIR": cache}
        _time([sys.executable, "-c", CLI, "list"], env)  # warm the cache once
        baseline: list[float] = []
        samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(args.repeat):
            baseline.append(_time([sys.executable, "-c", "pass"], env))
            for name, argv in COMMANDS.items():
                samples[name].append(_time([sys.executable, "-c", CLI, *argv], env))
    base = statistics.median(baseline)
    print(f"python -c pass: {base * 1000:.1f} ms (median of {args.repeat})")
    failed = []
    for name, times in samples.items():
        ratio = statistics.median(times) / base
        target = TARGET.get(name, DEFAULT_TARGET)
        ok = ratio <= target
        failed += [] if ok else [name]
        print(f"{name:8s} {statistics.median(times) * 1000:7.1f} ms  {ratio:5.1f}x  (target {target:.0f}x) {'ok' if ok else 'OVER'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
