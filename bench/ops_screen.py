"""Benchmark: the operations screen's queries over a large network of devices.

Builds (once) the street-scale demo registry and N synthetic devices over its entrances
(default 20,000: ten times a town's 583–2,000 sensors) with realistic health (3 % flagged
silent, 2 % silent by time, 1 % faulty, 2 % never heard) and 1 % with an open alarm, then
times one refresh of the screen — vital signs (``vital_signs``), the device-health roll-up
(``health_counts``) and the map (``map_features``) — for the whole district, one
subdistrict and one neighbourhood. Prints the median of 3 runs in milliseconds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jy_care .venv/bin/python bench/ops_screen.py
    .venv/bin/python bench/ops_screen.py --devices 20000          # temporary SQLite file

Ends with one line: ``devices=<n> district_ms=<a> subdistrict_ms=<b> neighbourhood_ms=<c>``.
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

SRC = Path(__file__).resolve().parents[1] / "src"


def setup(devices: int) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from jiayuan.registry.models import District, Entrance
    from jiayuan.sensors.models import Alarm, Device

    call_command("migrate", verbosity=0)
    if not District.objects.exists():
        from jiayuan.demo.generator import generate

        generate("street", 1)
    have = Device.objects.filter(code__startswith="BENCH-").count()
    if have >= devices:
        return
    Alarm.objects.filter(device__code__startswith="BENCH-").delete()
    Device.objects.filter(code__startswith="BENCH-").delete()
    rng = random.Random(1)
    now = timezone.now()
    entrances = list(Entrance.objects.select_related("building__compound").only(
        "pk", "path", "lng", "lat", "building__compound__lng", "building__compound__lat"))
    kinds = [("smoke_detector", 86400), ("gas_detector", 3600), ("panic_button", 86400),
             ("door_sensor", 3600), ("water_logging", 1800), ("ebike_shed", 300),
             ("hydrant_pressure", 3600)]
    rows = []
    for i in range(devices):
        e = rng.choice(entrances)
        kind, interval = rng.choice(kinds)
        r = rng.random()
        heard = None if r < 0.02 else now - dt.timedelta(
            seconds=interval * (rng.uniform(2.5, 10) if r < 0.04 else rng.uniform(0, 1.5)))
        c = e.building.compound
        rows.append(Device(code=f"BENCH-{i:06d}", kind=kind, district_code="310115",
                           entrance=e, lng=(e.lng or c.lng), lat=(e.lat or c.lat), path=e.path,
                           last_heard_at=heard, silent=0.04 <= r < 0.07,
                           faults=["temperature_c"] if 0.07 <= r < 0.08 else []))
    Device.objects.bulk_create(rows, batch_size=2000)
    alarms = [Alarm(device=d, rule_id="bench", title="测试告警", severity="Severe",
                    message="bench", raised_at=now, path=d.path)
              for d in Device.objects.filter(code__startswith="BENCH-").order_by("?")[
                  :devices // 100]]
    Alarm.objects.bulk_create(alarms, batch_size=2000)


def one_refresh(scope) -> float:  # noqa: ANN001
    from django.utils import timezone

    from jiayuan.sensors.views_ops import health_counts, map_features, vital_signs

    t = time.perf_counter()
    now = timezone.now()
    vital_signs(scope, now)
    health_counts(scope, now)
    map_features(scope, now)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=20000)
    args = ap.parse_args()
    tmp = None
    if "DATABASE_URL" not in os.environ:
        tmp = tempfile.mkdtemp()
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/ops.sqlite3"
    sys.path.insert(0, str(SRC))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.config.settings")
    import django

    django.setup()
    from django.db import connection

    from jiayuan.accounts.scope import AreaScope
    from jiayuan.registry.models import Neighbourhood, Subdistrict

    t = time.perf_counter()
    setup(args.devices)
    print(f"{connection.vendor}: set-up {time.perf_counter() - t:.1f} s")
    scopes = {
        "district": AreaScope.all(),
        "subdistrict": AreaScope.of(Subdistrict.objects.order_by("code").first().path),
        "neighbourhood": AreaScope.of(Neighbourhood.objects.order_by("code").first().path),
    }
    out = {}
    for name, scope in scopes.items():
        one_refresh(scope)  # warm
        times = [one_refresh(scope) for _ in range(3)]
        out[name] = statistics.median(times)
        print(f"{name:>13}: {out[name]:8.1f} ms per refresh (vitals + health + map)")
    print(f"devices={args.devices} district_ms={out['district']:.0f} "
          f"subdistrict_ms={out['subdistrict']:.0f} neighbourhood_ms={out['neighbourhood']:.0f}")


if __name__ == "__main__":
    main()
