"""Bench: case intake through the HTTP API, with routing, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jy_bench_intake \\
        .venv/bin/python bench/intake.py [--cases 3000] [--clients 16] [--servers 2] [--scale street]

Builds the demo registry (``--scale street``: 80 compounds; ``pudong``: 2,814) in the bench
database, trains the routing classifier on synthetic work orders, starts ``--servers`` web
processes (``jiayuan serve``, waitress, as a deployment runs several behind its proxy) and
posts ``--cases`` reports from ``--clients`` threads over keep-alive HTTP with an API token:
a third placed by position, a third by home code, a third by address text; half without a
category (the classifier picks it); one case per POST, or ``--batch N`` cases per POST to
``/cases/batch`` (one transaction and one classifier call per batch, as the 12345 platform or a
sensor gateway forwards work orders). Every case carries its own idempotency key; a final
pass re-posts a sample of them and checks nothing new is created. ``--backlog N`` first loads
N earlier cases of the past 30 days (330,000 is a Pudong month), so the duplicate search at
intake meets a running district's window instead of an empty table. Then it counts, in the
database, the cases and their ``route`` events, and prints cases/s, latency p50/p95/p99 and
the ratio to the 300 cases/s target (≥ 1 meets it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TARGET_PER_S = 300.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jy_bench_intake"
ROOT = Path(__file__).resolve().parents[1]


def setup_django(url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["JIAYUAN_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "jiayuan.config.settings"
    os.environ.setdefault("JIAYUAN_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "bench"))
    from sla_sweep import ensure_database

    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(scale: str, backlog: int = 0) -> tuple[str, list[dict[str, object]], bool]:
    """The registry (once), a hotline-desk user with a token, and the report bodies' places;
    the cases of earlier runs are removed, but a backlog of the size asked for, loaded less
    than a day ago, is kept (the third value says so)."""
    from django.db import connection

    from jiayuan.accounts.services import issue_token
    from jiayuan.accounts.testing import make_user
    from jiayuan.registry.models import Compound, District, Entrance

    with connection.cursor() as cur:
        keep = False
        if backlog:
            cur.execute("SELECT COUNT(*), MIN(updated_at) > now() - interval '1 day' "
                        "FROM cases_case WHERE number LIKE 'BL%%'")
            n, fresh = cur.fetchone()
            keep = n == backlog and bool(fresh)
        if keep:
            for table in ("cases_notification", "cases_caseevent", "cases_caseattachment"):
                cur.execute(f"DELETE FROM {table} WHERE case_id IN "  # noqa: S608 - ours
                            "(SELECT id FROM cases_case WHERE number NOT LIKE 'BL%%')")
            cur.execute("DELETE FROM cases_case WHERE number NOT LIKE 'BL%%'")
            cur.execute("VACUUM ANALYZE cases_case")
        else:
            cur.execute("TRUNCATE cases_notification, cases_caseevent, cases_caseattachment, "
                        "cases_case RESTART IDENTITY CASCADE")
    if not District.objects.exists():
        from jiayuan.demo.generator import generate

        t0 = time.perf_counter()
        generate(scale, 1)
        print(f"built the {scale} registry in {time.perf_counter() - t0:.1f} s")
    district = District.objects.get()
    from django.contrib.auth import get_user_model

    desk = get_user_model().objects.filter(username="bench-desk").first()
    if desk is None:
        desk = make_user("bench-desk", "duty_officer", district, phone="13800000000")
    token = issue_token(user=desk, name=f"bench-{time.time():.0f}")

    rng = random.Random(7)
    compounds = list(Compound.objects.exclude(lng=None).values("name", "lng", "lat"))
    entrances = list(Entrance.objects.values_list("home_code", flat=True)[:2000])
    places: list[dict[str, object]] = []
    for i in range(3000):
        kind = i % 3
        if kind == 0:
            c = rng.choice(compounds)
            places.append({"lng": c["lng"], "lat": c["lat"]})
        elif kind == 1:
            places.append({"home_code": rng.choice(entrances)})
        else:
            c = rng.choice(compounds)
            places.append({"address": f"上海市浦东新区{c['name']}{rng.randint(1, 20)}号楼"})
    return token, places, keep


def load_backlog(n: int, seed: int = 5) -> None:
    """``n`` earlier cases over the past 30 days, as the duplicate search meets them in a
    running district: one in 60 near the bench's compounds (a street's own month: Pudong's
    year is ~2 M cases, a street's ~60,000), the rest spread over a 40 km square around it
    (the rest of the district's month)."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from jiayuan.cases.models import Case, Category, geo_cell_of
    from jiayuan.cases.routing.synthetic import generate
    from jiayuan.registry.models import Compound

    rng = random.Random(seed)
    cats = list(Category.objects.filter(active=True).values_list("pk", flat=True))
    near = list(Compound.objects.exclude(lng=None).values_list("lng", "lat"))
    lng0 = sum(c[0] for c in near) / len(near)
    lat0 = sum(c[1] for c in near) / len(near)
    texts = [r.text for r in generate(2000, seed=seed)]
    now = timezone.now()
    t0 = time.perf_counter()
    batch: list[Case] = []
    for i in range(n):
        if i % 60 == 0:
            lng, lat = rng.choice(near)
            lng, lat = lng + rng.uniform(-0.003, 0.003), lat + rng.uniform(-0.003, 0.003)
        else:
            lng, lat = lng0 + rng.uniform(-0.2, 0.2), lat0 + rng.uniform(-0.18, 0.18)
        batch.append(Case(
            number=f"BL{i:09d}", channel="hotline_12345", category_id=rng.choice(cats),
            description=rng.choice(texts), state="accepted", lng=lng, lat=lat,
            geo_cell=geo_cell_of(lng, lat), path="",
            reported_at=now - dt.timedelta(seconds=rng.uniform(3600, 30 * 86400)),
            due_at=now + dt.timedelta(days=3), seq=1))
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    if batch:
        Case.objects.bulk_create(batch)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE cases_case")  # as autovacuum keeps a running district's
    print(f"loaded a backlog of {n} cases in {time.perf_counter() - t0:.1f} s")


def train_classifier(folder: Path) -> str:
    from jiayuan.cases.routing.classifier import TextClassifier
    from jiayuan.cases.routing.synthetic import generate

    rows = generate(6000, seed=11, label_noise=0.02)
    path = TextClassifier().fit([r.text for r in rows], [r.label for r in rows]).save(
        folder / "case_classifier.joblib")
    return str(path)


def start_servers(n: int, env: dict[str, str]) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    import socket

    procs, ports = [], []
    for _ in range(n):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        procs.append(subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "jiayuan"), "serve", "--port", str(port),
             "--threads", "6"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        ports.append(port)
    for port in ports:
        for _ in range(120):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"web process on {port} did not start")
    return procs, ports


def bodies(n: int, places: list[dict[str, object]], seed: int) -> list[dict[str, object]]:
    from jiayuan.cases.routing.synthetic import generate

    rows = generate(n, seed=seed)
    out = []
    for i, row in enumerate(rows):
        body: dict[str, object] = {"channel": "hotline_12345", "description": row.text,
                                   **places[i % len(places)]}
        if i % 2 and row.label != "99001":  # 99001: the synthetic "no category" noise
            body["category"] = row.label
        out.append(body)
    return out


def post_all(ports: list[int], token: str, items: list[tuple[str, dict[str, object]]],
             clients: int, batch: int = 0) -> tuple[list[float], dict[int, int], float]:
    """POST every (key, body) from ``clients`` threads, one per request or ``batch`` per
    request to the batch endpoint; returns latencies (ms) and status counts."""
    if batch:
        items = [("", {"cases": [{**b, "idempotency_key": k} for k, b in items[i:i + batch]]})
                 for i in range(0, len(items), batch)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    cursor = iter(range(len(items)))

    def worker(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", ports[w % len(ports)], timeout=120)
        mine: list[float] = []
        seen: dict[int, int] = {}
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            key, body = items[i]
            data = json.dumps(body).encode()
            t0 = time.perf_counter()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            if key:
                headers["Idempotency-Key"] = key
            conn.request("POST", "/api/v1/cases/cases" + ("/batch" if batch else ""),
                         body=data, headers=headers)
            res = conn.getresponse()
            res.read()
            mine.append((time.perf_counter() - t0) * 1000)
            seen[res.status] = seen.get(res.status, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses, time.perf_counter() - t0


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux ``/proc``); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backends() -> list[int]:
    """The PostgreSQL backends serving the bench database, other than this process's."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")
        return [r[0] for r in cur.fetchall()]


def profile_in_process(token: str, places: list[dict[str, object]], n: int, batch: int,
                       out: str) -> None:
    """Post ``n`` cases through the Django test client in this process under cProfile;
    prints the web side's and the PostgreSQL backend's CPU per case and queries per case."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    items = [(f"prof-{time.time_ns()}-{i}", b) for i, b in enumerate(bodies(n + 20, places, 3))]
    warm, items = items[:20], items[20:]

    def post(chunk: list[tuple[str, dict[str, object]]]) -> None:
        if batch:
            res = client.post("/api/v1/cases/cases/batch", content_type="application/json",
                              data={"cases": [{**b, "idempotency_key": k} for k, b in chunk]},
                              headers=headers)
        else:
            k, b = chunk[0]
            res = client.post("/api/v1/cases/cases", content_type="application/json", data=b,
                              headers={**headers, "Idempotency-Key": k})
        assert res.status_code in (200, 201), res.content[:300]

    step = batch or 1
    for i in range(0, len(warm), step):
        post(warm[i:i + step])
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    half = len(items) // 2
    # First half plain (the CPU figures), second half under the profiler (where it goes).
    db0, cpu0, t0 = _proc_cpu_s(backend), time.process_time(), time.perf_counter()
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for i in range(0, half, step):
            post(items[i:min(i + step, half)])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    db = _proc_cpu_s(backend) - db0
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for i in range(half, len(items), step):
        post(items[i:i + step])
    prof.disable()
    prof.dump_stats(out)
    print(f"in process, {half} cases {'in batches of ' + str(batch) if batch else 'one per POST'}"
          f": web {cpu / half * 1000:.2f} ms CPU/case, PostgreSQL {db / half * 1000:.2f} ms "
          f"CPU/case, {len(queries) / half:.1f} queries/case, wall {wall:.1f} s "
          f"(load {os.getloadavg()[0]:.1f}); CPU profile of the next {len(items) - half} in {out}")
    counts: dict[str, int] = {}
    for sql in queries:
        head = sql.split(" WHERE ")[0][:110]
        counts[head] = counts.get(head, 0) + 1
    for head, c in sorted(counts.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {c / half:6.2f}/case  {head}")
    pstats.Stats(out).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--scale", choices=("street", "pudong"), default="street")
    parser.add_argument("--batch", type=int, default=0,
                        help="cases per request to /cases/batch (0: one case per POST)")
    parser.add_argument("--backlog", type=int, default=0,
                        help="first load this many earlier cases of the past 30 days (about "
                             "330,000 is a Pudong month), so the duplicate search meets a "
                             "district's window")
    parser.add_argument("--profile", metavar="FILE",
                        help="instead: post --cases in this process under cProfile, save the "
                             "profile to FILE and print CPU and queries per case")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("this bench needs PostgreSQL (DATABASE_URL=postgres://…)")
    folder = Path(tempfile.mkdtemp(prefix="jy-bench-intake-"))
    setup_django(url, str(folder))
    token, places, kept = build(args.scale, args.backlog)
    if args.backlog and not kept:
        load_backlog(args.backlog)
    elif kept:
        print(f"kept the backlog of {args.backlog} cases loaded earlier today")
    model = train_classifier(folder)
    if args.profile:
        from django.conf import settings

        settings.JIAYUAN = {**getattr(settings, "JIAYUAN", {}), "CLASSIFIER_PATH": model}
        profile_in_process(token, places, args.cases, args.batch, args.profile)
        return
    env = {**os.environ, "JIAYUAN_CLASSIFIER_PATH": model, "JIAYUAN_LOG_LEVEL": "ERROR"}
    procs, ports = start_servers(args.servers, env)
    try:
        warm = [(f"warm-{i}", b) for i, b in enumerate(bodies(20 * args.servers, places, 1))]
        post_all(ports, token, warm, args.servers * 2)
        items = [(f"bench-{i}", b) for i, b in enumerate(bodies(args.cases, places, 2))]
        cpu0 = sum(_proc_cpu_s(p.pid) for p in procs) + sum(map(_proc_cpu_s, _backends()))
        lat, statuses, wall = post_all(ports, token, items, args.clients, args.batch)
        # Backends opened during the run are counted from zero.
        cpu = sum(_proc_cpu_s(p.pid) for p in procs) + sum(
            map(_proc_cpu_s, _backends())) - cpu0
        retry = items[: max(1, args.cases // 10)]
        _, retry_statuses, _ = post_all(ports, token, retry, args.clients, args.batch)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)

    from jiayuan.cases.models import Case, CaseEvent

    made = Case.objects.filter(idempotency_key__startswith="bench-").count()
    routed = CaseEvent.objects.filter(case__idempotency_key__startswith="bench-",
                                      action="route").count()
    triage = Case.objects.filter(idempotency_key__startswith="bench-",
                                 routing_source="triage").count()
    placed = Case.objects.filter(idempotency_key__startswith="bench-",
                                 compound__isnull=False).count()
    q = statistics.quantiles(lat, n=100)
    rate = args.cases / wall
    how = f"in batches of {args.batch}" if args.batch else "one per request"
    print(f"posted {args.cases} cases ({how}) from {args.clients} clients to {args.servers} "
          f"web processes in {wall:.1f} s; statuses {statuses}")
    print(f"in the database: {made} cases, {routed} route events, {placed} placed in a "
          f"compound, {triage} in triage")
    print(f"retried {len(retry)} keys: statuses {retry_statuses}, cases still {made}")
    print(f"request latency p50 {q[49]:.0f} ms  p95 {q[94]:.0f} ms  p99 {q[98]:.0f} ms")
    requests = -(-args.cases // args.batch) if args.batch else args.cases
    ok = made == args.cases == routed and \
        statuses.get(200 if args.batch else 201) == requests and \
        sum(retry_statuses.values()) == retry_statuses.get(200)
    per_case = cpu / args.cases
    cores = os.cpu_count() or 1
    capacity = cores / per_case
    print(f"CPU: {per_case * 1000:.2f} ms per case (web processes + PostgreSQL backends; the "
          f"bench's own clients not counted); load {os.getloadavg()[0]:.1f} on {cores} CPUs")
    print(f"cases_per_s={rate:.0f} target={TARGET_PER_S:.0f} ratio={rate / TARGET_PER_S:.2f} "
          f"correct={'yes' if ok else 'NO'}")
    print(f"cpu_bound_cases_per_s={capacity:.0f} (all {cores} CPUs for intake) "
          f"cpu_ratio={capacity / TARGET_PER_S:.2f}")


if __name__ == "__main__":
    main()
