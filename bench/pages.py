"""Page latency at Pudong scale: the compound page and each level of the registry tree.

Generates the Pudong-scale demo district (``jiayuan generate --scale pudong``: 36
subdistricts, 1,300 neighbourhoods, ~2,800 compounds, ~27k buildings, ~60k entrances, 1.95 M
households) in a temporary SQLite file, then times ≥200 requests per page through the Django
test client (and, with --waitress, over HTTP) and prints p50/p95 and the ratio of p95 to the
200 ms target (ratio < 1 meets it).

    .venv/bin/python bench/pages.py [--requests 200] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 200.0


def setup_django(folder: Path) -> None:
    os.environ["JIAYUAN_VAR_DIR"] = str(folder)
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "jiayuan.config.settings"
    os.environ.setdefault("JIAYUAN_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_registry() -> dict[str, object]:
    """The Pudong-scale demo district, exactly as `jiayuan generate --scale pudong` makes it."""
    from jiayuan.demo.generator import generate

    return dict(generate("pudong", 1, progress=lambda msg: None))


def time_requests(client, urls: list[str], n: int) -> list[float]:
    """Time ``n`` GETs cycling through ``urls``; ``client`` is a test client or ``HttpFetcher``."""
    timings = []
    for i in range(n):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        res = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        if res.status_code != 200:
            raise SystemExit(f"{url} answered {res.status_code}")
    return timings


class HttpFetcher:
    """GETs over real HTTP (waitress) with a logged-in session cookie."""

    def __init__(self, base: str, session_key: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = {"Cookie": f"sessionid={session_key}", "Host": "127.0.0.1"}

    def get(self, url: str):
        self.conn.request("GET", url, headers=self.headers)
        res = self.conn.getresponse()
        res.read()
        res.status_code = res.status
        return res


def start_waitress():
    """Serve the WSGI app with waitress on a free local port, in a daemon thread."""
    import threading

    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    server = create_server(get_wsgi_application(), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def report(label: str, timings: list[float]) -> None:
    q = statistics.quantiles(timings, n=100)
    p50, p95 = q[49], q[94]
    print(f"{label:<44} n={len(timings):4d}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
          f"p95/target {p95 / TARGET_MS:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--waitress", action="store_true",
                        help="also time the pages over HTTP through waitress")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jiayuan-bench-pages-"))
    setup_django(folder)

    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from jiayuan.accounts.testing import make_user
    from jiayuan.registry.models import Building, Compound, Neighbourhood, Subdistrict

    t0 = time.perf_counter()
    sizes = build_registry()
    print(f"registry generated in {time.perf_counter() - t0:.1f} s: " + ", ".join(
        f"{v} {k}" for k, v in sizes.items()))

    rnd = random.Random(11)
    staff_nb = Neighbourhood.objects.order_by("code")[500]
    staff = make_user("bench_staff", "neighbourhood_staff", staff_nb)
    analyst = make_user("bench_analyst", "district_analyst")
    n = args.requests

    def node(level: str, code: str) -> str:
        return reverse("registry:tree_node", args=[level, code])

    all_compounds = list(Compound.objects.values_list("code", flat=True))
    subs = list(Subdistrict.objects.values_list("code", flat=True))
    nbs = list(Neighbourhood.objects.values_list("code", flat=True))
    blds = list(Building.objects.values_list("code", flat=True)[:5000])
    own = list(Compound.objects.filter(neighbourhood=staff_nb).values_list("code", flat=True))

    print(f"\ntarget: {TARGET_MS:.0f} ms per page (p95); SQLite, one process")
    runs = [("test client", who, user) for who, user in (
        ("analyst (whole district)", analyst), ("staff (one neighbourhood)", staff))]
    base = None
    if args.waitress:
        base, _server = start_waitress()
        runs += [("waitress HTTP", who, user) for _t, who, user in runs]
    for transport, who, user in runs:
        client = Client()
        client.force_login(user)
        if transport == "waitress HTTP":
            client = HttpFetcher(base, client.cookies["sessionid"].value)
        print(f"\n-- {who}, {transport}")
        sample = all_compounds if user is analyst else own
        report("compound page", time_requests(
            client, [reverse("registry:compound", args=[c]) for c in rnd.sample(
                sample, min(len(sample), 200))], n))
        report("tree page (district roots)", time_requests(client, [reverse("registry:tree")], n))
        report("tree: district → subdistricts", time_requests(
            client, [node("district", "310115")], n))
        sub_sample = subs if user is analyst else [staff_nb.subdistrict.code]
        report("tree: subdistrict → neighbourhoods", time_requests(
            client, [node("subdistrict", s) for s in sub_sample], n))
        nb_sample = rnd.sample(nbs, 200) if user is analyst else [staff_nb.code]
        report("tree: neighbourhood → compounds", time_requests(
            client, [node("neighbourhood", c) for c in nb_sample], n))
        report("tree: compound → buildings", time_requests(
            client, [node("compound", c) for c in sample[:200]], n))
        b_sample = rnd.sample(blds, 200) if user is analyst else list(
            Building.objects.filter(compound__code__in=own).values_list("code", flat=True))
        report("tree: building → entrances", time_requests(
            client, [node("building", b) for b in b_sample], n))
        m = max(20, n // 10)
        report(f"map GeoJSON ({len(sample)} compounds), cached", time_requests(
            client, [reverse("registry:compounds_geojson")], m))
        cold = []
        for _i in range(m):  # after every registry change the first viewer pays this
            cache.clear()
            cold += time_requests(client, [reverse("registry:compounds_geojson")], 1)
        report(f"map GeoJSON ({len(sample)} compounds), cold", cold)
    if args.keep:
        print(f"\nkept {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
