"""Benchmark: the governance index from platform data at Pudong scale, on PostgreSQL.

Targets (issue 4): derivation from 2,000,000 cases in under 30 s; 2,790 compounds × 35
leaves × 3 periods scored in under 2 s; 1,000 Monte Carlo draws in under 30 s.

1. connects to ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/jy_bench_index),
   creating and migrating it;
2. fills it as ``bench/case_measures.py`` does (reused, not copied): the Pudong registry from
   the demo generator and 2,000,000 cases of 2025 COPied in bulk (kept between runs);
3. writes synthetic spreadsheet leaves (the survey, fee and inspection leaves) for 2023–2025
   as imported ``LeafValue`` rows (not timed against a target);
4. times the derivation of every platform leaf of 2025 (one grouped query over the cases
   serves all case leaves) — wall and CPU (this process + the database backend, parallel
   workers off);
5. runs ``run_index`` for 2025 (3 periods: 2023–2025) with 1,000 Monte Carlo draws and prints
   the run's own step timings: derive, panel, score (the engine), monte_carlo, store.

    .venv/bin/python bench/index_derive.py [--cases 2000000] [--reload] [--draws 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import case_measures as cm  # noqa: E402  (the case loader and the clocks are reused)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jy_bench_index"
DERIVE_TARGET = 30.0
SCORE_TARGET = 2.0
MC_TARGET = 30.0


def spreadsheet_values(periods: list[object]) -> int:
    """Synthetic imported values of every spreadsheet leaf, compound and period."""
    from jiayuan.index.engine import default_catalogue
    from jiayuan.index.models import LeafValue
    from jiayuan.index.services.runs import INDEXED_TYPES
    from jiayuan.registry.models import Compound

    cat = default_catalogue()
    leaves = [i.code for i in cat.indicators if i.source == "spreadsheet" and not i.growth_of]
    comps = list(Compound.objects.filter(compound_type__in=INDEXED_TYPES)
                 .values_list("id", flat=True))
    LeafValue.objects.filter(source=LeafValue.Source.IMPORT).delete()
    rng = np.random.default_rng(11)
    rows = []
    for p in periods:
        vals = rng.gamma(2.0, 10.0, size=(len(comps), len(leaves)))
        for i, cid in enumerate(comps):
            for j, code in enumerate(leaves):
                rows.append(LeafValue(period=p, compound_id=cid, indicator=code,
                                      value=float(vals[i, j]), source=LeafValue.Source.IMPORT,
                                      origin="bench"))
    LeafValue.objects.bulk_create(rows, batch_size=10000)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--pages-only", action="store_true",
                        help="only time the pages on the latest stored run")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    cm.ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="jy-bench-index-") as tmp:
        cm.setup_django(url, tmp)
        from django.db import connection as conn

        with conn.cursor() as cur:
            # case_measures' COPY predates Case.source_ref (NOT NULL, no database default):
            # give the column a default in this bench database only.
            cur.execute("ALTER TABLE cases_case ALTER COLUMN source_ref SET DEFAULT ''")
        cm.run(args.cases, args.reload, "pudong")

        from django.db import connection

        from jiayuan.cases.models import Case
        from jiayuan.index.derive import derivers
        from jiayuan.index.engine import default_catalogue
        from jiayuan.index.services.derivation import derive_period
        from jiayuan.index.services.periods import get_or_create_period, panel_periods
        from jiayuan.index.services.runs import INDEXED_TYPES, run_index
        from jiayuan.registry.models import Compound

        with connection.cursor() as cur:
            cur.execute("SET max_parallel_workers_per_gather = 0")
        if args.pages_only:
            time_pages()
            return
        n_cases = Case.objects.count()
        n_comp = Compound.objects.filter(compound_type__in=INDEXED_TYPES).count()
        period = get_or_create_period(str(cm.YEAR))
        periods = panel_periods(period, 2)
        t0 = time.perf_counter()
        n_vals = spreadsheet_values(periods)
        print(f"  wrote {n_vals:,} imported spreadsheet values in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {n_cases:,} "
              f"cases, {n_comp:,} indexed compounds)")

        cat = default_catalogue()
        reg = derivers()
        codes = [i.code for i in cat.indicators if not i.growth_of and i.code in reg]
        extra = [c for c in reg if c not in set(cat.codes)]
        for label, todo in (("catalogue's platform leaves", codes),
                            ("every registered deriver", codes + extra)):
            t = cm._clock()
            report = derive_period(period, todo)
            wall, cpu = cm._since(t)
            ok = sum(1 for r in report.values() if r["status"] == "derived")
            print(f"derive {label} ({len(todo)}, {ok} derived, "
                  f"{len(todo) - ok} without a data source): wall {wall:6.2f} s  CPU {cpu:6.2f} s"
                  f"  target {DERIVE_TARGET:.0f} s  ratio wall {wall / DERIVE_TARGET:.2f}, "
                  f"CPU {cpu / DERIVE_TARGET:.2f}", flush=True)

        t = cm._clock()
        run = run_index(period, parameters={"mc_draws": args.draws, "rederive_all": True})
        wall, cpu = cm._since(t)
        tm = run.parameters["timings"]
        print(f"run_index {period.label} ({len(run.periods)} periods {run.periods}, status "
              f"{run.status}): wall {wall:.2f} s  CPU {cpu:.2f} s")
        print(f"  derive (3 periods) {tm['derive']:6.2f} s   target {DERIVE_TARGET:.0f} s  "
              f"ratio {tm['derive'] / DERIVE_TARGET:.2f}")
        print(f"  panel              {tm['panel']:6.2f} s")
        print(f"  score {n_comp:,} × {len(cat.codes)} × {len(run.periods)} "
              f"{tm['score']:6.2f} s   target {SCORE_TARGET:.0f} s  "
              f"ratio {tm['score'] / SCORE_TARGET:.2f}")
        print(f"  monte carlo {args.draws:,}   {tm['monte_carlo']:6.2f} s   target "
              f"{MC_TARGET:.0f} s  ratio {tm['monte_carlo'] / MC_TARGET:.2f}")
        print(f"  store              {tm['store']:6.2f} s   "
              f"({run.scores.count():,} score rows)")
        kinds: dict[str, int] = {}
        for p in run.problems:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        print(f"  problems reported: {kinds}")
        time_pages()


def time_pages() -> None:
    """Median of 5 GETs of each index page for a district analyst (the test client)."""
    from django.conf import settings
    from django.test import Client

    from jiayuan.accounts.models import User
    from jiayuan.accounts.testing import make_user
    from jiayuan.index.models import CompoundScore
    from jiayuan.index.selectors import latest_run

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = User.objects.filter(username="bench_analyst").first() or make_user(
        "bench_analyst", "district_analyst")
    run = latest_run()
    if run is None:
        print("pages: no finished run")
        return
    code = (CompoundScore.objects.filter(run=run, period_label=run.period.label,
                                         compound_type="commodity")
            .values_list("compound__code", flat=True).first())
    c = Client()
    c.force_login(user)
    q = f"?period={run.period.label}"
    pages = {"rankings (commodity, page 1)": f"/index/{q}&type=commodity",
             "rankings sorted by total, page 10": f"/index/{q}&type=commodity&sort=-total&page=10",
             "compound page": f"/index/compounds/{code}/{q}",
             "map scores JSON": f"/index/map/scores.json{q}",
             "diagnostics": f"/index/diagnostics/{q}&type=commodity",
             "Excel export (2,790 rows)": f"/index/export.xlsx{q}",
             "printable report": f"/index/report/{q}"}
    print("pages (district analyst, median of 5, ms):")
    for label, url in pages.items():
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = c.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        print(f"  {label:<36} {sorted(times)[2]:8.0f} ms  ({len(r.content):,} bytes)")


if __name__ == "__main__":
    main()
