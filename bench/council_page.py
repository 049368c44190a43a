"""Council page latency: one council with 1,000 topics and 50,000 comments.

Target (issue 6): the council page answers in under 300 ms at p95. The script builds the small
test district in a temporary SQLite file (or the PostgreSQL database given with
``--database-url``, which it empties first), bulk-inserts one council with members, 1,000 topics,
50,000 comments (with mentions), 120 meetings and 20 projects, then times ≥200 GETs through the
Django test client as the neighbourhood's staff, cycling through the first pages, a deep page and
status filters, and prints p50/p95, the number of SQL queries per page and the ratio of p95 to the
target (below 1.00 meets it). It also times the busiest topic's page (a thread of 50 per page).

    .venv/bin/python bench/council_page.py [--requests 200] [--database-url postgres://…]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pages import time_requests  # bench/pages.py: the same GET timer

TARGET_MS = 300.0
TOPICS = 1_000
COMMENTS = 50_000


def setup_django(folder: Path, database_url: str | None) -> None:
    os.environ["JIAYUAN_VAR_DIR"] = str(folder)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "jiayuan.config.settings"
    os.environ.setdefault("JIAYUAN_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    if database_url:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)


def build() -> tuple[object, object, object]:
    from django.utils import timezone

    from jiayuan.accounts.testing import make_user
    from jiayuan.council.models import Comment, Meeting, Mention, Project, Topic
    from jiayuan.council.services.topics import add_member, create_council
    from jiayuan.registry.testing import make_tiny_district

    rng = random.Random(6)
    tiny = make_tiny_district()
    n = tiny.neighbourhoods["S1N1"]
    staff = make_user("bench-staff", "neighbourhood_staff", n, display_name="王社工")
    council = create_council(n)
    for i in range(12):
        add_member(council, actor=staff, role="resident_representative", name=f"代表{i}")
    now = timezone.now()
    statuses = ["open", "claimed", "in_meeting", "escalated", "resolved"]
    topics = Topic.objects.bulk_create([
        Topic(council=council, path=council.path, compound=tiny.compounds["S1N1C1"],
              title=f"议题 {i}", body="说明", origin="staff", status=rng.choice(statuses),
              created_at=now - dt.timedelta(hours=i),
              last_activity_at=now - dt.timedelta(minutes=rng.randrange(500_000)),
              responsible_user=staff if i % 3 == 0 else None)
        for i in range(TOPICS)], batch_size=2000)
    weights = [1 / (i + 1) for i in range(TOPICS)]  # a few long threads, many short ones
    owners = rng.choices(topics, weights, k=COMMENTS)
    comments = Comment.objects.bulk_create([
        Comment(topic=t, author=staff, author_name="王社工", body=f"留言 {i} @bench-staff",
                created_at=now - dt.timedelta(seconds=COMMENTS - i))
        for i, t in enumerate(owners)], batch_size=5000)
    Mention.objects.bulk_create([Mention(comment=c, topic=c.topic, user=staff)
                                 for c in comments[::10]], batch_size=5000)
    counts: dict[int, int] = {}
    for t in owners:
        counts[t.pk] = counts.get(t.pk, 0) + 1
    for t in topics:
        t.comment_count = counts.get(t.pk, 0)
    Topic.objects.bulk_update(topics, ["comment_count"], batch_size=2000)
    Meeting.objects.bulk_create([
        Meeting(council=council, path=council.path, kind=("hearing", "coordination",
                                                          "evaluation")[i % 3],
                title=f"会议 {i}", starts_at=now + dt.timedelta(days=i - 100),
                status="held" if i < 100 else "planned") for i in range(120)])
    Project.objects.bulk_create([Project(council=council, path=council.path, title=f"项目 {i}",
                                         progress=i * 5, created_at=now) for i in range(20)])
    busiest = max(topics, key=lambda t: counts.get(t.pk, 0))
    return council, staff, busiest


def count_queries(client, url: str) -> int:
    """SQL statements one GET runs (session and auth included)."""
    from django.db import connection

    seen = []

    def counter(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        client.get(url)
    return len(seen)


def report(name: str, timings: list[float], queries: int) -> float:
    q = statistics.quantiles(timings, n=100)
    p50, p95 = q[49], q[94]
    print(f"{name:<34} n={len(timings):>4}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
          f"queries/page {queries:>3}  p95/target {p95 / TARGET_MS:.2f}")
    return p95


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp), args.database_url)
        from django.db import connection
        from django.test import Client

        t0 = time.perf_counter()
        council, staff, busiest = build()
        print(f"built 1 council, {TOPICS:,} topics, {COMMENTS:,} comments on "
              f"{connection.vendor} in {time.perf_counter() - t0:.1f} s")
        client = Client()
        client.force_login(staff)
        base = f"/councils/{council.pk}/"
        urls = [base, f"{base}?page=2", f"{base}?page=20", f"{base}?page=40",
                f"{base}?status=open", f"{base}?status=resolved&page=3"]
        base_queries = count_queries(client, base)
        time_requests(client, urls, 12)  # warm up
        p95 = report("council page (6 URLs cycled)", time_requests(client, urls, args.requests),
                     base_queries)
        topic_url = f"/councils/topics/{busiest.pk}/"
        topic_queries = count_queries(client, topic_url)
        report(f"busiest topic page ({busiest.comment_count} msgs)",
               time_requests(client, [topic_url, f"{topic_url}?page=1"], args.requests // 2),
               topic_queries)
        print("MEETS the 300 ms p95 target" if p95 < TARGET_MS else "MISSES the 300 ms target")


if __name__ == "__main__":
    main()
