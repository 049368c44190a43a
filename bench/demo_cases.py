"""Benchmark: the year of demo cases on the street-scale district (temporary SQLite).

Runs ``jiayuan generate --scale street`` twice in fresh databases, with and without
``--no-cases``, and prints the cases' share of the time, seconds per thousand cases and the
ratio against the target (30 s for the street year; below 1.00 meets it).

    .venv/bin/python bench/demo_cases.py [--seed N] [--per-day N]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 30.0


def _run(extra: list[str], seed: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="jy-bench-") as tmp:
        env = dict(os.environ)
        env.update({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                    "JIAYUAN_VAR_DIR": tmp})
        env.pop("JIAYUAN_ENV", None)
        jiayuan = [sys.executable, "-m", "jiayuan.cli"]
        subprocess.run([*jiayuan, "migrate", "--noinput", "-v0"], env=env, check=True)
        started = time.perf_counter()
        out = subprocess.run([*jiayuan, "generate", "--scale", "street", "--seed", str(seed),
                              *extra], env=env, check=True, capture_output=True, text=True)
        return time.perf_counter() - started, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-day", type=float, default=30.0)
    args = parser.parse_args()
    without, _ = _run(["--no-cases"], args.seed)
    with_cases, out = _run(["--cases-per-day", str(args.per_day)], args.seed)
    cases = int(re.search(r"cases\s+([\d,]+)", out).group(1).replace(",", ""))  # type: ignore[union-attr]
    events = int(re.search(r"case_events\s+([\d,]+)", out).group(1).replace(",", ""))  # type: ignore[union-attr]
    extra = with_cases - without
    print(f"registry only        {without:8.1f} s")
    print(f"registry + cases     {with_cases:8.1f} s")
    print(f"cases ({cases:,}, {events:,} events)  {extra:8.1f} s  "
          f"= {extra / max(cases, 1) * 1000:.2f} s per 1,000 cases")
    print(f"ratio to target ({TARGET_SECONDS:.0f} s)  {extra / TARGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
