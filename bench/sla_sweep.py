"""The SLA sweep over one million cases on PostgreSQL: target under 10 seconds.

Builds (once; ``--rebuild`` to start again) a database of 1,000,000 cases on the tiny test
district — a year of history, mostly closed — with one ``report`` event each, and a mix of
open cases around ``--now`` (Wed 18 Nov 2026 15:00, Asia/Shanghai) of which about 2 % need
action: 0.8 % reach their warning point, 0.6 % are past due and not yet flagged, 0.6 % are
still unaccepted after two working hours. Another 8 % are open with nothing to do (warned
already, flagged overdue already, not yet due, just reported), so the sweep has to look past
them. Then it times

* the **cold sweep** (acts on ~20,000 cases: events, notifications, SMS to the logging
  backend), and
* the **no-op sweep** straight after (same ``now``: nothing left to do),

and prints seconds, cases acted on and the ratio to the 10 s target (ratio < 1 meets it).
Each run resets the sweep's writes first, so it is repeatable.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jy_bench_sla \\
        .venv/bin/python bench/sla_sweep.py [--cases 1000000] [--rebuild] [--batch-size 2000]
        [--index]   # also time with two candidate indexes (docs/case-sla.md: they do not pay)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

TARGET_S = 10.0
SH = ZoneInfo("Asia/Shanghai")
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jy_bench_sla"
NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=SH)

# Per-mille buckets of case number g (g % 1000): what each case looks like at NOW.
CASE_SQL = """
INSERT INTO cases_case (
  number, channel, description, state, tier, address, grid_cell_code, path, reporter_name,
  reporter_phone, tracking_token, external_id, lead_unit, assisting_units, supervised,
  supervise_count, extension_pending_unit, extension_count, return_count, reopened_count,
  rating, seq, reported_at, due_at, warn_at, warned_at, escalated_at, accepted_at,
  dispatched_at, closed_at, routing_source, source_ref, updated_at, compound_id,
  neighbourhood_id, subdistrict_id)
SELECT
  'B' || lpad(g::text, 9, '0'), 'grid_patrol', '路面暴露垃圾', b.state, 'neighbourhood', '', '',
  p.path, '', '', md5(g::text), '',
  CASE WHEN b.state IN ('dispatched', 'closed', 'rated') THEN p.unit ELSE '' END,
  '[]'::jsonb, false, 0, '', 0, 0, 0, '', b.seq,
  b.reported_at, b.due_at, b.warn_at, b.warned_at, NULL,
  CASE WHEN b.state <> 'reported' THEN b.reported_at END,
  CASE WHEN b.state <> 'reported' THEN b.reported_at END,
  CASE WHEN b.state IN ('closed', 'rated') THEN b.reported_at + interval '2 days' END,
  '', '', %(now)s, p.compound_id, p.neighbourhood_id, p.subdistrict_id
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (SELECT g %% 1000 AS k, (g / 1000 + g) %% 8 + 1 AS place) AS h
JOIN bench_place p ON p.i = h.place
CROSS JOIN LATERAL (
  SELECT
    CASE WHEN h.k < 900 THEN (CASE WHEN g %% 3 = 0 THEN 'rated' ELSE 'closed' END)
         WHEN h.k < 984 THEN 'dispatched' ELSE 'reported' END AS state,
    CASE WHEN h.k BETWEEN 974 AND 983 THEN 2 ELSE 1 END AS seq,
    CASE WHEN h.k < 900 THEN %(now)s - (5 + g %% 360) * interval '1 day'
         WHEN h.k BETWEEN 984 AND 989 THEN %(now)s - interval '2 days'
         WHEN h.k >= 990 THEN %(now)s - interval '10 minutes'
         ELSE %(now)s - interval '3 days' END AS reported_at,
    CASE WHEN h.k < 900 THEN %(now)s - (2 + g %% 360) * interval '1 day'
         WHEN h.k < 930 THEN %(now)s + interval '2 days'
         WHEN h.k < 960 THEN %(now)s + interval '1 day'
         WHEN h.k < 968 THEN %(now)s + interval '3 hours'
         WHEN h.k < 974 THEN %(now)s - interval '1 day'
         WHEN h.k < 984 THEN %(now)s - interval '2 days'
         ELSE %(now)s + interval '3 days' END AS due_at,
    CASE WHEN h.k < 900 THEN %(now)s - (3 + g %% 360) * interval '1 day'
         WHEN h.k < 930 THEN %(now)s + interval '1 day'
         WHEN h.k < 960 THEN %(now)s - interval '1 hour'
         WHEN h.k < 968 THEN %(now)s - interval '10 minutes'
         WHEN h.k < 984 THEN %(now)s - interval '2 days'
         ELSE %(now)s + interval '2 days' END AS warn_at,
    CASE WHEN h.k < 900 THEN %(now)s - (3 + g %% 360) * interval '1 day'
         WHEN h.k BETWEEN 930 AND 959 THEN %(now)s - interval '1 hour'
         WHEN h.k BETWEEN 968 AND 983 THEN %(now)s - interval '2 days'
         END AS warned_at
) AS b
"""

EVENT_SQL = """
INSERT INTO cases_caseevent (case_id, seq, at, actor_role, action, from_state, to_state,
                             reason, payload)
SELECT id, 1, reported_at, 'system', 'report', '', 'reported', '', '{}'::jsonb FROM cases_case;
INSERT INTO cases_caseevent (case_id, seq, at, actor_role, action, from_state, to_state,
                             reason, payload)
SELECT id, 2, due_at + interval '1 minute', 'system', 'overdue', state, state, '', '{}'::jsonb
FROM cases_case WHERE seq = 2;
"""

RECOMMENDED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS case_warn_pending_idx ON cases_case (warn_at) "
    "WHERE warned_at IS NULL",
    "CREATE INDEX IF NOT EXISTS caseevent_case_action_idx ON cases_caseevent (case_id, action)",
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("JIAYUAN_VAR_DIR", tempfile.mkdtemp(prefix="jy-bench-sla-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jiayuan.config.settings"
    os.environ.setdefault("JIAYUAN_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (connecting to ``postgres`` first)."""
    from urllib.parse import urlparse

    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def build(n: int) -> None:
    """The registry, a few users per unit, ``n`` cases and their events (server-side SQL)."""
    from django.db import connection, transaction

    from jiayuan.accounts.testing import make_user
    from jiayuan.cases.models import Case
    from jiayuan.cases.services.units import ref
    from jiayuan.registry.models import Compound, District, JointStation, OperationsCentre
    from jiayuan.registry.services import save_with_path
    from jiayuan.registry.testing import make_tiny_district

    with connection.cursor() as cur:
        cur.execute("TRUNCATE cases_notification, cases_caseevent, cases_caseattachment, "
                    "cases_case RESTART IDENTITY CASCADE")
    if not District.objects.filter(code="310115").exists():
        with transaction.atomic():
            tiny = make_tiny_district()
            for key, s in tiny.subdistricts.items():
                save_with_path(OperationsCentre(code=f"OC{key}", name=f"{s.name}城运中心",
                                                district=tiny.district, subdistrict=s))
                make_user(f"duty{key}", "duty_officer", s, phone="13800000000")
                make_user(f"police{key}", "department_staff", s,
                          department=tiny.departments[key], phone="13800000001")
            for key, nb in tiny.neighbourhoods.items():
                make_user(f"staff{key}", "neighbourhood_staff", nb, phone="13800000002")
    places = []
    for i, c in enumerate(Compound.objects.select_related("neighbourhood").order_by("code"), 1):
        station = JointStation.objects.get(neighbourhood=c.neighbourhood)
        places.append((i, c.path, c.pk, c.neighbourhood_id, c.neighbourhood.subdistrict_id,
                       ref(station)))
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_place")
        cur.execute("CREATE TABLE bench_place (i int, path text, compound_id int, "
                    "neighbourhood_id int, subdistrict_id int, unit text)")
        cur.executemany("INSERT INTO bench_place VALUES (%s, %s, %s, %s, %s, %s)", places)
        cur.execute(CASE_SQL, {"n": n, "now": NOW})
        cur.execute(EVENT_SQL)
        cur.execute("DROP TABLE bench_place")
    print(f"built {Case.objects.count():,} cases in {time.perf_counter() - t0:.1f} s")


def reset() -> None:
    """Undo what a sweep wrote (events after the built ones, notifications, stamps)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM cases_notification")
        cur.execute("DELETE FROM cases_caseevent WHERE action IN ('warn', 'escalate') "
                    "OR (action = 'overdue' AND at = %s)", [NOW])
        cur.execute("""
            WITH last AS (SELECT case_id, max(seq) AS seq FROM cases_caseevent
                          WHERE case_id IN (SELECT id FROM cases_case WHERE updated_at > %s)
                          GROUP BY case_id)
            UPDATE cases_case c SET seq = last.seq, tier = 'neighbourhood', escalated_at = NULL,
                   warned_at = CASE WHEN c.warn_at = %s - interval '10 minutes' THEN NULL
                                    ELSE c.warned_at END,
                   updated_at = %s
            FROM last WHERE last.case_id = c.id""", [NOW, NOW, NOW])
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE cases_case")
        cur.execute("VACUUM ANALYZE cases_caseevent")


def timed_sweep(batch_size: int) -> tuple[float, object]:
    from jiayuan.cases import sla

    t0 = time.perf_counter()
    result = sla.sweep(NOW, batch_size=batch_size)
    return time.perf_counter() - t0, result


def report(label: str, seconds: float, result) -> None:  # type: ignore[no-untyped-def]
    print(f"{label:<28} {seconds:7.2f} s  acted on {result.acted:>6,} "
          f"(warn {result.warned:,}, escalate {result.escalated:,}, overdue {result.overdue:,}; "
          f"{result.notified:,} notifications)  ratio to {TARGET_S:.0f} s: "
          f"{seconds / TARGET_S:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--index", action="store_true",
                        help="also time with the recommended partial indexes")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("this bench needs PostgreSQL (DATABASE_URL=postgres://…)")
    setup_django(url)
    from django.db import connection

    from jiayuan.cases.models import Case

    if args.rebuild or Case.objects.count() != args.cases:
        build(args.cases)
    with connection.cursor() as cur:
        for sql in RECOMMENDED_INDEXES:
            cur.execute("DROP INDEX IF EXISTS " + sql.split(" EXISTS ")[1].split(" ")[0])
    reset()
    total = Case.objects.count()
    print(f"{total:,} cases; now = {NOW.isoformat()}; batch size {args.batch_size}")
    cold, result = timed_sweep(args.batch_size)
    report("cold sweep", cold, result)
    noop, again = timed_sweep(args.batch_size)
    report("no-op sweep", noop, again)
    if args.index:
        reset()
        with connection.cursor() as cur:
            for sql in RECOMMENDED_INDEXES:
                cur.execute(sql)
            cur.execute("ANALYZE cases_case")
            cur.execute("ANALYZE cases_caseevent")
        cold, result = timed_sweep(args.batch_size)
        report("cold sweep (+indexes)", cold, result)
        noop, again = timed_sweep(args.batch_size)
        report("no-op sweep (+indexes)", noop, again)


if __name__ == "__main__":
    main()
