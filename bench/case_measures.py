"""Benchmark: the case-loop measures for a Pudong-scale year (2,000,000 cases) on PostgreSQL.

Target (issue 3 item 9): all measures for a Pudong-scale year in under 10 s. The script

1. connects to ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/jy_bench_measures),
   creating the database if missing, and migrates it;
2. generates the Pudong registry (``jiayuan.demo.generator.generate("pudong", 1)``) unless the
   database already holds it;
3. COPYs 2,000,000 cases reported in 2025 (Asia/Shanghai), placed in compounds in proportion to
   their households (8 % only to a neighbourhood), with realistic states, response delays,
   handling times against working-day limits, ratings, reopen and extension counts, plus the
   history rows the response measure asks for (the first accept of reopened cases, the
   reject of rejected ones) — unless the database already holds them (``--reload`` redoes it);
4. times the roll-up's maintenance: a full rebuild (``jiayuan cases measures rebuild``), a
   refresh with nothing changed, and a refresh after ``--touch`` cases changed (default 500:
   a busy minute for Pudong, whose ~5,500 cases a day take ~6 steps each, ~25 a minute);
5. times ``measures()`` for each grouping (whole district, subdistrict, neighbourhood, lead
   unit) by month over the year and ``all_measures`` (the four together), as a district
   analyst, from the roll-up, and one subdistrict's staff view; prints wall and CPU seconds
   and their ratios to the 10 s target (below 1.00 meets it);
6. unless ``--no-direct``, times the direct path (``source="direct"``) and checks that the
   roll-up's counts equal it and how far the medians are apart;
7. prints the same on SQLite for a one-street sample (``--sqlite-cases``, default 60,000:
   a street's share of the Pudong year), in a child process; ``--no-sqlite`` skips it.

The figures print wall and CPU time (this process + the PostgreSQL backend, parallel workers
off), as a shared machine's wall clock says little.

    .venv/bin/python bench/case_measures.py [--cases 2000000] [--reload] [--touch 500]
                                            [--no-direct] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import numpy as np

TARGET_SECONDS = 10.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jy_bench_measures"
YEAR = 2025
NOW_ISO = "2026-01-10T10:00:00+08:00"   # the measures are read ten days after the year
SRC = Path(__file__).resolve().parents[1] / "src"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')  # name from our own URL


def setup_django(url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["JIAYUAN_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "jiayuan.config.settings"
    os.environ.setdefault("JIAYUAN_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(SRC))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ------------------------------------------------------------------ synthetic cases

def _places(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Compound / neighbourhood / subdistrict ids, paths and lead units for ``n`` cases."""
    from jiayuan.registry.models import Compound, Department, JointStation, Neighbourhood

    comp = list(Compound.objects.values_list(
        "id", "households", "neighbourhood_id", "neighbourhood__subdistrict_id", "path"))
    nbs = {i: (s, p) for i, s, p in Neighbourhood.objects.values_list(
        "id", "subdistrict_id", "path")}
    stations = dict(JointStation.objects.values_list("neighbourhood_id", "code"))
    by_sd: dict[int | None, list[str]] = {}
    for code, sd in Department.objects.values_list("code", "subdistrict_id"):
        by_sd.setdefault(sd, []).append(f"department:{code}")
    district_depts = by_sd.get(None, [])
    weights = np.array([max(c[1], 1) for c in comp], dtype=float)
    pick = rng.choice(len(comp), size=n, p=weights / weights.sum())
    only_nb = rng.random(n) < 0.08
    tier_u = rng.random(n)
    compound_id = np.empty(n, dtype=object)
    nb_id = np.empty(n, dtype=object)
    sd_id = np.empty(n, dtype=object)
    path = np.empty(n, dtype=object)
    lead = np.empty(n, dtype=object)
    dept_pick = rng.integers(0, 1 << 30, size=n)
    for i in range(n):
        cid, _hh, nid, sid, cpath = comp[pick[i]]
        nb_id[i], sd_id[i] = nid, sid
        if only_nb[i]:
            compound_id[i], path[i] = None, nbs[nid][1]
        else:
            compound_id[i], path[i] = cid, cpath
        if tier_u[i] < 0.55 and nid in stations:
            lead[i] = f"station:{stations[nid]}"
        else:
            pool = by_sd.get(sid) or district_depts
            lead[i] = pool[dept_pick[i] % len(pool)] if pool else ""
    return {"compound_id": compound_id, "neighbourhood_id": nb_id, "subdistrict_id": sd_id,
            "path": path, "lead_unit": lead}


def _reported_at(rng: np.random.Generator, n: int) -> np.ndarray:
    """Epoch seconds in ``YEAR``: more in summer, fewer at weekends, a daytime peak."""
    days = np.arange(365)
    start = dt.datetime(YEAR, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    weekday = np.array([(start + dt.timedelta(days=int(d))).weekday() for d in days])
    w = (1 + 0.25 * np.sin((days - 100) / 365 * 2 * np.pi)) * np.where(weekday >= 5, 0.7, 1.0)
    day = rng.choice(days, size=n, p=w / w.sum())
    hours = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 11, 8, 9, 12, 12, 11, 9, 7, 6, 5, 4,
                      3, 2], dtype=float)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    return (int(start.timestamp()) + day * 86400 + hour * 3600
            + rng.integers(0, 3600, size=n)).astype(np.int64)


def synthesize(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Column arrays for ``n`` cases (times as epoch seconds, -1 for none)."""
    rng = np.random.default_rng(seed)
    cols = _places(rng, n)
    rep = _reported_at(rng, n)
    now = int(dt.datetime.fromisoformat(NOW_ISO).timestamp())
    limit_days = rng.choice([3, 5, 13], size=n, p=[0.3, 0.5, 0.2]) * 1.4  # working → calendar
    extended = rng.random(n) < 0.02
    due = rep + (limit_days * 86400).astype(np.int64) + np.where(extended, 7 * 86400, 0)
    u = rng.random(n)
    recent = rep > now - 21 * 86400
    rejected = u < 0.03
    merged = (u >= 0.03) & (u < 0.05)
    open_ = ~rejected & ~merged & ((rng.random(n) < 0.01) | (recent & (rng.random(n) < 0.35)))
    respond = (np.exp(rng.normal(np.log(1.5), 1.5, size=n)) * 3600).astype(np.int64)
    accepted = rep + respond
    dispatched = accepted + (np.exp(rng.normal(np.log(0.5), 1.0, size=n)) * 3600).astype(np.int64)
    frac = rng.beta(2, 5, size=n) * 1.6 * np.where(extended, 1.3, 1.0)
    handled = rep + (frac * (due - rep)).astype(np.int64)
    handled = np.maximum(handled, dispatched + 600)
    closed = handled + (np.exp(rng.normal(np.log(6), 0.8, size=n)) * 3600).astype(np.int64)
    reopened = ~rejected & ~merged & ~open_ & (rng.random(n) < 0.015)
    first_accept = accepted.copy()
    # A reopened case: closed once, reopened a week later, accepted again then, closed again.
    accepted = np.where(reopened, closed + 7 * 86400, accepted)
    closed = np.where(reopened, closed + 12 * 86400, closed)
    handled = np.where(reopened, closed - 6 * 3600, handled)
    dispatched = np.where(reopened, accepted + 3600, dispatched)
    closed_ok = ~rejected & ~merged & ~open_ & (closed <= now)
    open_ |= ~rejected & ~merged & ~closed_ok
    rated = closed_ok & (rng.random(n) < 0.52)
    rating = np.where(rated, rng.choice(["satisfied", "basically_satisfied", "dissatisfied"],
                                        size=n, p=[0.82, 0.13, 0.05]), "")
    # Open cases stop somewhere along the way.
    stage = rng.choice(["reported", "accepted", "dispatched", "handled", "verified"], size=n,
                       p=[0.1, 0.1, 0.55, 0.15, 0.1])
    state = np.where(rejected, "rejected", np.where(merged, "merged", np.where(
        open_, stage, np.where(rated, "rated", "closed"))))
    none = np.int64(-1)
    reached = {s: i for i, s in enumerate(["reported", "accepted", "dispatched", "handled",
                                           "verified"])}
    level = np.array([reached.get(s, 9) for s in state])
    cols.update({
        "state": state, "rating": rating, "reported_at": rep, "due_at": due,
        "accepted_at": np.where((level >= 1) & ~rejected & ~merged, accepted, none),
        "dispatched_at": np.where((level >= 2) & ~rejected & ~merged, dispatched, none),
        "handled_at": np.where((level >= 3) & ~rejected & ~merged, handled, none),
        "closed_at": np.where(closed_ok, closed, none),
        "rated_at": np.where(rated, closed + 86400, none),
        "reopened_count": reopened.astype(int),
        "extension_count": (extended & (level >= 2) & ~rejected & ~merged).astype(int),
        "first_response": np.where(rejected | reopened, first_accept, none),
        "first_response_at": np.where(rejected | ((level >= 1) & ~merged), first_accept, none),
        "reject_event": rejected, "reopen_event": reopened,
    })
    return cols


def _ts(epoch: np.ndarray, null: str, suffix: str) -> np.ndarray:
    text = np.char.replace(np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s"),
                           "T", " ")
    text = np.char.add(text, suffix)
    return np.where(epoch < 0, null, text).astype(object)


CASE_COLUMNS = (
    "id", "number", "channel", "description", "state", "tier", "address", "grid_cell_code",
    "compound_id", "neighbourhood_id", "subdistrict_id", "path", "reporter_name",
    "reporter_phone", "tracking_token", "external_id", "lead_unit", "assisting_units",
    "supervised", "supervise_count", "extension_pending_unit", "extension_count",
    "return_count", "reopened_count", "rating", "seq", "reported_at", "due_at", "accepted_at",
    "dispatched_at", "handled_at", "closed_at", "rated_at", "first_response_at",
    "routing_source", "source_ref", "updated_at",
)
TIME_COLUMNS = ("reported_at", "due_at", "accepted_at", "dispatched_at", "handled_at",
                "closed_at", "rated_at", "first_response_at")


def case_rows(cols: dict[str, np.ndarray], first_id: int, null: str, suffix: str,
              start: int, stop: int) -> list[tuple[object, ...]]:
    times = {c: _ts(cols[c][start:stop], null, suffix) for c in TIME_COLUMNS}
    rows = []
    channels = ("hotline_12345", "grid_patrol", "home_code", "sensor")
    for j, i in enumerate(range(start, stop)):
        cid = cols["compound_id"][i]
        rows.append((
            first_id + i, f"BM{i:08d}", channels[i % 7 % 4], "基准测试工单", cols["state"][i],
            "neighbourhood", "", "", null if cid is None else cid, cols["neighbourhood_id"][i],
            cols["subdistrict_id"][i], cols["path"][i], "", "", f"bm{i:08d}", "",
            cols["lead_unit"][i] if cols["state"][i] not in ("reported", "accepted",
                                                            "rejected", "merged") else "",
            "[]", "f" if null == "\\N" else 0, 0, "", int(cols["extension_count"][i]), 0,
            int(cols["reopened_count"][i]), cols["rating"][i], 1,
            *(times[c][j] for c in TIME_COLUMNS), "", "", times["reported_at"][j],
        ))
    return rows


def event_rows(cols: dict[str, np.ndarray], first_id: int, null: str,
               suffix: str) -> list[tuple[object, ...]]:
    idx = np.nonzero(cols["first_response"] >= 0)[0]
    when = _ts(cols["first_response"][idx], null, suffix)
    out = []
    for k, i in enumerate(idx):
        action = "reject" if cols["reject_event"][i] else "accept"
        to = "rejected" if action == "reject" else "accepted"
        out.append((first_id + int(i), 2, when[k], "duty_officer", action, "reported", to, "",
                    "{}"))
    return out


EVENT_COLUMNS = ("case_id", "seq", "at", "actor_role", "action", "from_state", "to_state",
                 "reason", "payload")


def load_cases(n: int, say) -> None:  # type: ignore[no-untyped-def]
    """Write ``n`` synthetic cases (and their response history rows) in bulk."""
    from django.db import connection

    from jiayuan.cases.models import Case, CaseEvent

    t0 = time.perf_counter()
    cols = synthesize(n)
    say(f"  synthesised {n:,} cases in {time.perf_counter() - t0:.1f} s")
    first_id = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    case_table, event_table = Case._meta.db_table, CaseEvent._meta.db_table
    pg = connection.vendor == "postgresql"
    null, suffix = ("\\N", "+00") if pg else (None, "")
    t0 = time.perf_counter()
    chunk = 200_000
    with connection.cursor() as cur:
        for start in range(0, n, chunk):
            rows = case_rows(cols, first_id, null, suffix, start, min(n, start + chunk))  # type: ignore[arg-type]
            if pg:
                with cur.cursor.copy(
                        f"COPY {case_table} ({', '.join(CASE_COLUMNS)}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(tuple(None if v == "\\N" else v for v in r))
            else:
                marks = ", ".join(["%s"] * len(CASE_COLUMNS))
                cur.executemany(f"INSERT INTO {case_table} ({', '.join(CASE_COLUMNS)}) "
                                f"VALUES ({marks})", rows)
        events = event_rows(cols, first_id, null, suffix)  # type: ignore[arg-type]
        if pg:
            with cur.cursor.copy(
                    f"COPY {event_table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as cp:
                for r in events:
                    cp.write_row(tuple(None if v == "\\N" else v for v in r))
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{case_table}', 'id'), "
                        f"(SELECT max(id) FROM {case_table}))")
            cur.execute(f"ANALYZE {case_table}")
            cur.execute(f"ANALYZE {event_table}")
        else:
            marks = ", ".join(["%s"] * len(EVENT_COLUMNS))
            cur.executemany(f"INSERT INTO {event_table} ({', '.join(EVENT_COLUMNS)}) "
                            f"VALUES ({marks})", events)
            cur.execute("ANALYZE")
    say(f"  loaded {n:,} cases and {len(events):,} history rows in "
        f"{time.perf_counter() - t0:.1f} s")


# ------------------------------------------------------------------ timing

def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (None if its /proc
    entry is not visible, e.g. the server runs elsewhere). Parallel workers are other
    processes, so the timing run turns them off: the figure is then the whole work on one
    core, which the wall clock on a busy machine cannot show."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _clock() -> tuple[float, float, float | None]:
    return time.perf_counter(), time.process_time(), _backend_cpu()


def _since(t: tuple[float, float, float | None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process plus the database backend)."""
    wall, cpu, db = _clock()
    db_used = (db - t[2]) if db is not None and t[2] is not None else 0.0
    return wall - t[0], (cpu - t[1]) + db_used


def _line(label: str, took: float, cpu: float, extra: str = "") -> None:
    print(f"  {label:<30} wall {took:6.2f} s  CPU {cpu:6.2f} s   ratio to {TARGET_SECONDS:.0f} s: "
          f"wall {took / TARGET_SECONDS:.2f}, CPU {cpu / TARGET_SECONDS:.2f}{extra}", flush=True)


def time_rollup(touch: int) -> None:
    """Time a full rebuild of the roll-up and a refresh after ``touch`` cases changed."""
    from django.utils import timezone

    from jiayuan.cases.measures import rollup
    from jiayuan.cases.models import Case

    t0 = _clock()
    result = rollup.rebuild()
    took, cpu = _since(t0)
    _line("roll-up: full rebuild", took, cpu, f"   ({result.cells:,} cells)")
    t0 = _clock()
    result = rollup.refresh()
    took, cpu = _since(t0)
    _line("roll-up: refresh, no change", took, cpu, f"   ({result.slices} slices)")
    # A busy minute: ``touch`` cases reported this year change (a step each); the refresh
    # recomputes their (month, area) slices whatever the change was.
    ids = Case.objects.filter(number__startswith="BM").values_list("id", flat=True)
    picked = np.random.default_rng(11).choice(np.fromiter(ids, dtype=np.int64), size=touch,
                                              replace=False)
    Case.objects.filter(pk__in=picked.tolist()).update(updated_at=timezone.now())
    t0 = _clock()
    result = rollup.refresh()
    took, cpu = _since(t0)
    _line(f"roll-up: refresh, {touch} changed", took, cpu,
          f"   ({result.slices} slices, {result.cells:,} cells)")


def time_measures(label: str, direct: bool) -> float:
    """Time every grouping by month over the year (the roll-up when built, else the cases),
    all four together, and optionally the direct path with a check that both agree."""
    from jiayuan.accounts.scope import AreaScope
    from jiayuan.cases.measures.queries import GROUPINGS, all_measures, measures, rollup_as_of
    from jiayuan.registry.models import Subdistrict

    now = dt.datetime.fromisoformat(NOW_ISO)
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    from django.db import connection

    print(label)
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"CPU = this process + the database backend, parallel workers off)")
    print(f"  reading: {'the roll-up as of ' + str(rollup_as_of(AreaScope.all(), start, end)) if rollup_as_of(AreaScope.all(), start, end) else 'the cases directly'}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET max_parallel_workers_per_gather = 0")
    total = total_cpu = 0.0
    for grouping in GROUPINGS:
        t0 = _clock()
        rows = measures(AreaScope.all(), grouping=grouping, period="month", start=start,
                        end=end, now=now)
        took, cpu = _since(t0)
        total += took
        total_cpu += cpu
        cases = sum(r.counts.reported for r in rows)
        print(f"  {grouping:<14} wall {took:6.2f} s  CPU {cpu:6.2f} s   {len(rows):6,} rows   "
              f"{cases:,} cases")
    _line("four measures() calls", total, total_cpu)
    t0 = _clock()
    together = all_measures(AreaScope.all(), period="month", start=start, end=end, now=now)
    took, cpu = _since(t0)
    _line("all_measures (all four)", took, cpu,
          f"   ({sum(len(v) for v in together.values()):,} rows)")
    year = measures(AreaScope.all(), grouping="total", period="year", start=start, end=end,
                    now=now)
    if year:
        r = year[0].rates
        shown = ", ".join(f"{k} {getattr(r, k):.3f}" for k in (
            "response_rate", "closure_rate", "on_time_closure_rate", "resolution_rate",
            "rework_rate", "extension_rate", "satisfaction_rate", "composite",
            "median_hours_to_close") if getattr(r, k) is not None)
        print(f"  the year, whole district: {shown}")
    sd = Subdistrict.objects.order_by("code").first()
    if sd is not None:
        t0 = _clock()
        rows = measures(AreaScope.of(sd.path), grouping="neighbourhood", period="month",
                        start=start, end=end, now=now)
        took, cpu = _since(t0)
        print(f"  one subdistrict's staff, by neighbourhood: wall {took:.2f} s, CPU {cpu:.2f} s "
              f"({len(rows)} rows)")
    if direct:
        t0 = _clock()
        alone = all_measures(AreaScope.all(), period="month", start=start, end=end, now=now,
                             source="direct")
        took, cpu = _since(t0)
        _line("direct all_measures (cases)", took, cpu)
        same = True
        for grouping in GROUPINGS:
            a, b = together[grouping], alone[grouping]
            if [(x.key, x.period, _plain(x.counts)) for x in a] != \
                    [(x.key, x.period, _plain(x.counts)) for x in b]:
                same = False
                print(f"  !! {grouping}: the roll-up's counts differ from the direct ones")
            worst = max((abs((x.counts.median_hours_to_close or 0)
                             - (y.counts.median_hours_to_close or 0))
                         for x, y in zip(a, b, strict=False)), default=0.0)
            print(f"  {grouping:<14} largest median difference {worst:.2e} h")
        print(f"  roll-up counts equal the direct counts: {'yes' if same else 'NO'}")
    return total


def _plain(counts: object) -> tuple[object, ...]:
    from dataclasses import astuple, replace

    return astuple(replace(counts, median_hours_to_close=None))  # type: ignore[type-var]


def run(n: int, reload: bool, scale: str) -> None:
    from jiayuan.cases.models import Case, CaseEvent
    from jiayuan.demo.generator import generate
    from jiayuan.registry.models import District

    def say(msg: str) -> None:
        print(msg, flush=True)

    if not District.objects.exists():
        t0 = time.perf_counter()
        generate(scale, 1)
        say(f"  generated the {scale} registry in {time.perf_counter() - t0:.1f} s")
    have = Case.objects.filter(number__startswith="BM").count()
    if reload or have != n:
        if have:
            CaseEvent.objects.filter(case__number__startswith="BM").delete()
            Case.objects.filter(number__startswith="BM").delete()
        load_cases(n, say)
    else:
        say(f"  reusing the {have:,} benchmark cases already loaded")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--sqlite-cases", type=int, default=60_000)
    parser.add_argument("--touch", type=int, default=500,
                        help="cases changed before the timed refresh (default 500)")
    parser.add_argument("--no-direct", action="store_true",
                        help="skip timing the direct path and checking the roll-up against it")
    parser.add_argument("--sqlite-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sqlite_child:
        setup_django(os.environ["DATABASE_URL"], os.environ["JIAYUAN_VAR_DIR"])
        run(args.sqlite_cases, True, "street")
        time_rollup(args.touch)
        time_measures(f"measures on SQLite, {args.sqlite_cases:,} cases (one street)",
                      direct=True)
        return
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="jy-bench-") as tmp:
        setup_django(url, tmp)
        run(args.cases, args.reload, "pudong")
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SET max_parallel_workers_per_gather = 0")
            cur.execute("VACUUM ANALYZE")
        print(f"roll-up maintenance on PostgreSQL (load average {os.getloadavg()[0]:.1f})")
        time_rollup(args.touch)
        time_measures(f"measures on PostgreSQL, {args.cases:,} cases (Pudong-scale year)",
                      direct=not args.no_direct)
        if not args.no_sqlite:
            env = dict(os.environ, DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                       JIAYUAN_VAR_DIR=tmp)
            subprocess.run([sys.executable, __file__, "--sqlite-child", "--touch",
                            str(args.touch // 30 or 1),
                            "--sqlite-cases", str(args.sqlite_cases)], env=env, check=True)


if __name__ == "__main__":
    main()
