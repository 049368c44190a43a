"""Benchmark: ``jiayuan generate --scale pudong`` into a temporary SQLite database.

Prints the elapsed seconds of the generation and the peak resident memory of the child
processes, against the targets (300 s, 2 GB) as ratios (below 1.00 meets the target).

    .venv/bin/python bench/generate.py [--seed N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 300.0
TARGET_BYTES = 2 * 1024**3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jy-bench-") as tmp:
        env = dict(os.environ)
        env.update({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                    "JIAYUAN_VAR_DIR": tmp})
        env.pop("JIAYUAN_ENV", None)
        jiayuan = [sys.executable, "-m", "jiayuan.cli"]
        subprocess.run([*jiayuan, "migrate", "--noinput", "-v0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run([*jiayuan, "generate", "--scale", "pudong", "--seed", str(args.seed)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        # ru_maxrss is the largest child's peak, in KiB on Linux (the generate run dominates).
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        size = (Path(tmp) / "bench.sqlite3").stat().st_size
    print("generate --scale pudong (SQLite)")
    print(f"  elapsed     {elapsed:8.1f} s     target {TARGET_SECONDS:.0f} s   "
          f"ratio {elapsed / TARGET_SECONDS:.2f}")
    print(f"  peak RSS    {peak / 1024**2:8.0f} MiB   target 2048 MiB  "
          f"ratio {peak / TARGET_BYTES:.2f}")
    print(f"  database    {size / 1024**2:8.0f} MiB")


if __name__ == "__main__":
    main()
