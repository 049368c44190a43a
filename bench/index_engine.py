"""Benchmark of the index engine against the issue's targets.

    .venv/bin/python bench/index_engine.py

Scores 2,790 compounds (Pudong's count at the end of 2019: 1,200 old + 1,590 commodity,
here spread over the four types) × 35 leaves × 3 periods with drawn thresholds, then runs
1,000 Monte Carlo draws on the last period. Prints figures and the ratio to each target
(ratio < 1 means within target). Synthetic gamma-distributed values, seeded.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from jiayuan.index.engine import ComputeOptions, Panel, compute_index, default_catalogue  # noqa: E402
from jiayuan.index.engine.analysis import cronbach_alpha, explain, monte_carlo  # noqa: E402

TYPES = {"old_public": 1200, "commodity": 1040, "resettlement": 350, "affordable": 200}
SCORE_TARGET_S = 2.0
MC_TARGET_S = 30.0


def main() -> None:
    cat = default_catalogue()
    rng = np.random.default_rng(2024)
    types = [t for t, n in TYPES.items() for _ in range(n)]
    n = len(types)
    values = rng.gamma(2.0, 10.0, size=(n, 3, len(cat.codes)))
    values[:, :, cat.growth] = np.nan  # derived by the engine
    values[rng.random(values.shape) < 0.02] = np.nan  # 2 % missing
    panel = Panel(tuple(f"C{i:05d}" for i in range(n)), tuple(types), ("2022", "2023", "2024"), values)

    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = compute_index(panel, cat, ComputeOptions(seed=1))
        runs.append(time.perf_counter() - t0)
    score_s = min(runs)
    print(f"score {n} compounds x {len(cat.codes)} leaves x 3 periods: "
          f"{score_s:.3f} s (best of 5)  target {SCORE_TARGET_S} s  ratio {score_s / SCORE_TARGET_S:.3f}")
    print("  samples per type:", {t: th.sample_size for t, th in sorted(result.thresholds.items())})
    print(f"  unscored compound-periods: {len(result.unscored())}")

    t0 = time.perf_counter()
    mc = monte_carlo(result, draws=1000, seed=7)
    mc_s = time.perf_counter() - t0
    widths = np.array([i.high - i.low for i in mc.intervals if not np.isnan(i.high)])
    print(f"monte carlo 1000 draws: {mc_s:.3f} s  target {MC_TARGET_S} s  ratio {mc_s / MC_TARGET_S:.3f}")
    print(f"  median rank-interval width {np.median(widths):.1f} places")

    t0 = time.perf_counter()
    explain(result)
    alpha = cronbach_alpha(result, "commodity")
    print(f"explanations + alpha: {time.perf_counter() - t0:.3f} s; alpha (random data) "
          + ", ".join(f"{k}={v:.2f}" for k, v in alpha.items()))


if __name__ == "__main__":
    main()
