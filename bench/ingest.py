"""Benchmark: sustained end-to-end sensor ingest against the local Mosquitto and PostgreSQL.

Phase 1 (sustained throughput): ``--readings`` readings (default 1,500,000) from
``--devices`` simulated devices of five kinds (alarm episodes start at ``--alarm-rate``,
0.05 % of readings: about one alarm, hence one case, per 900 readings)
are published QoS 1 in gateway messages of ``--per-message`` readings by ``--publishers``
processes, paced at ``--rate`` readings/s in all (default 25,000, above the 20,000/s target,
so the ingest is the bottleneck: 60 s of offered load by default; ``--rate 0`` publishes as
fast as the broker takes them). The publishers build and serialise every message before the
start, so during the run they only send bytes. ``--workers`` ``jiayuan ingest`` processes
split the stream through one MQTT 5 shared subscription (parse, rules, COPY into
PostgreSQL, manual acks after commit), while a bare paho subscriber drains the same stream
from the same broker in the same run (it counts the readings of each gateway message).
Both rates are readings / (last one stored or received − first publish): with the default
load this is a drain of a minute or more, not a burst.

CPU seconds are printed per component over phase 1 (Linux /proc): the ingest workers, the
PostgreSQL backends serving them, PostgreSQL's shared writers (WAL writer, checkpointer,
background writer: shared with anything else using the server), Mosquitto (shared too), the
publishers and the bare subscriber; and the ingest's cost in readings per CPU-second of
workers + their backends + broker, with what two whole cores would carry at that cost.

Phase 2 (latency): ``--latency-rate`` readings/s for ``--latency-seconds`` s with one
panic-button press every ``--trigger-every`` readings (a fresh device each time); for each,
the time from publish to the case created (``Case.updated_at`` of a case never touched
again = its creation).

Ends with ONE line:
``readings_per_s=<n> bare_per_s=<m> ratio=<n/m> p99_alarm_to_case_ms=<x>``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jy_sensors \\
        .venv/bin/python bench/ingest.py [--readings 1500000] [--rate 25000] [--workers 2]

Uses (and migrates) the database of DATABASE_URL; empties its sensor readings first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jy_sensors")
os.environ.setdefault("JIAYUAN_LOG_LEVEL", "WARNING")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sla_sweep import ensure_database  # noqa: E402  (creates the bench database if missing)

ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

URL = os.environ.get("JIAYUAN_MQTT_URL") or "mqtt://127.0.0.1:1883"
DISTRICT = "990001"


def _publisher_proc(devices: list[tuple[str, str, str]], count: int, per_message: int,
                    seed: int, publishers: int, run_id: str, rate: float, alarm_rate: float,
                    built: mp.Queue,
                    go: mp.Event, done: mp.Queue) -> None:
    """Publish ``count`` readings, ``per_message`` to a gateway message (1: device topics),
    QoS 1, at ``rate`` readings/s (0: as fast as the broker takes them; paho's loop driven
    in this thread). Every message is built and serialised before ``go``."""
    from jiayuan.sensors.simulator import SensorStream, publisher

    mine = devices[seed::publishers]
    per_device = count / len(mine) + 2
    now = dt.datetime.now(dt.UTC)
    # device time: each device reports every 10 s, the last reading about now
    stream = SensorStream(mine, alarm_rate=alarm_rate, seed=seed, run_id=f"{run_id}s{seed}",
                          noise=0.2,
                          start=now - dt.timedelta(seconds=10 * per_device), spacing_s=10)
    if per_message > 1:
        msgs = [stream.gateway_message(per_message, now, f"GW-{seed}")[:2]
                for _ in range(count // per_message)]
    else:
        msgs = [stream.next(now)[:2] for _ in range(count)]
    c = publisher(URL, client_id=f"bench-pub-{run_id}-{seed}", inflight=5000, threaded=False)
    built.put(seed)
    go.wait()
    t0 = time.time()
    step = per_message / rate if rate > 0 else 0.0  # seconds between two messages
    infos = []
    for i, (t, p) in enumerate(msgs):
        if step:
            due = t0 + i * step
            while time.time() < due:
                c.loop(0)
                time.sleep(min(0.002, max(0.0, due - time.time())))
        infos.append(c.publish(t, p, qos=1))
        if i % 20 == 0:
            c.loop(0)
    while not all(info.is_published() for info in infos[-50:]):
        c.loop(0.01)
    done.put((t0, time.time()))
    c.disconnect()


def _bare_proc(district: str, expected: int, ready: mp.Event, out: mp.Queue) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions

    n = 0
    first = last = 0.0

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        # count readings as the ingest does: a gateway message holds several (each element
        # has one "device" key; counting them is cheaper than decoding the JSON)
        nonlocal n, first, last
        last = time.time()
        if n == 0:
            first = last
        if "/gateways/" in m.topic:
            n += m.payload.count(b'"device":')
        else:
            n += 1

    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                    protocol=MQTTProtocolVersion.MQTTv5)
    c.on_message = on_message
    c.on_subscribe = lambda *a: ready.set()
    c.on_connect = lambda cl, *a: cl.subscribe(
        [(f"jiayuan/{district}/devices/+/readings", SubscribeOptions(qos=1)),
         (f"jiayuan/{district}/gateways/+/readings", SubscribeOptions(qos=1))])
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = 65535
    c.connect("127.0.0.1", 1883, properties=props)
    deadline = time.time() + 600
    while n < expected and time.time() < deadline:
        c.loop(0.5)
        if n and time.time() - last > 15:
            break  # the stream is over (whatever the broker did not deliver is counted out)
    out.put((n, first, last))
    c.disconnect()


SRC = Path(__file__).resolve().parent.parent / "src"


def _ingest_procs(k: int, group: str, district: str, log: Path) -> list[subprocess.Popen]:
    # The workers run THIS checkout's code with this interpreter (the checkout's venv when the
    # bench is run as documented): not a ``jiayuan`` found on PATH, nor another checkout's.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return [subprocess.Popen(
        [sys.executable, "-m", "jiayuan.cli", "ingest", "--url", URL, "--slot", str(i),
         "--group", group, "--district", district, "--session-expiry", "120"],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT) for i in range(k)]


def _wait_connected(log: Path, n: int) -> None:
    deadline = time.time() + 900  # loading 10,000 devices and replaying on a busy machine
    while time.time() < deadline:
        if log.exists() and log.read_text().count(" connected (session") >= n:
            time.sleep(1)
            return
        time.sleep(0.2)
    raise SystemExit("ingest workers did not connect:\n" + log.read_text()[-2000:])


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process so far (Linux /proc); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_s(pids: list[int]) -> float:
    return sum(_cpu_of(pid) for pid in pids)


def _broker_pids() -> list[int]:
    try:
        return [int(Path("/run/mosquitto/mosquitto.pid").read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        pass
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "mosquitto":
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def _pg_pids() -> tuple[list[int], list[int]]:
    """(backends connected to this database other than ours, the server's shared writers)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")
        backends = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT pid FROM pg_stat_activity WHERE backend_type IN "
                    "('walwriter', 'checkpointer', 'background writer')")
        shared = [r[0] for r in cur.fetchall()]
    return backends, shared


class _Meter:
    """CPU seconds of each component between ``start()`` and ``stop()``."""

    def __init__(self, workers: list[int], publishers: list[int], bare: list[int]) -> None:
        self.groups = {"workers": workers, "publishers": publishers, "bare": bare,
                       "broker": _broker_pids()}

    def _snapshot(self) -> dict[str, dict[int, float]]:
        backends, shared = _pg_pids()
        groups = {**self.groups, "pg_backends": backends, "pg_shared": shared}
        return {g: {pid: _cpu_of(pid) for pid in pids} for g, pids in groups.items()}

    def start(self) -> None:
        self.t0 = self._snapshot()

    def stop(self) -> dict[str, float]:
        t1 = self._snapshot()
        # a backend that appeared during the run (a worker's background thread) counts
        # from zero; one that ended during the run is lost (the workers keep theirs open)
        return {g: sum(cpu - self.t0.get(g, {}).get(pid, 0.0) for pid, cpu in t1[g].items())
                for g in t1}


def _stored_max_id() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM sensors_reading")
        return int(cur.fetchone()[0])


def _count() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM sensors_reading")
        return int(cur.fetchone()[0])


def _setup(devices: int) -> list[tuple[str, str, str]]:
    from jiayuan.sensors.simulator import ensure_devices

    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE sensors_reading, sensors_devicestate RESTART IDENTITY")
        cur.execute("UPDATE sensors_device SET last_heard_at = NULL, silent = false, "
                    "faults = '[]', last_metrics = '{}'")
    return ensure_devices(devices, prefix="BENCH", district=DISTRICT)


def throughput(a: argparse.Namespace, devices: list[tuple[str, str, str]], run_id: str,
               log: Path) -> tuple[float, float, dict]:
    group = f"bench{run_id}"
    workers = _ingest_procs(a.workers, group, DISTRICT, log)
    try:
        _wait_connected(log, a.workers)
        ready, go = mp.Event(), mp.Event()
        bare_out, pub_out, built = mp.Queue(), mp.Queue(), mp.Queue()
        bare = mp.Process(target=_bare_proc, args=(DISTRICT, a.readings, ready, bare_out))
        bare.start()
        ready.wait(30)
        per = a.readings // a.publishers
        pubs = [mp.Process(target=_publisher_proc,
                           args=(devices, per, a.per_message, i, a.publishers, run_id,
                                 a.rate / a.publishers, a.alarm_rate, built, go, pub_out))
                for i in range(a.publishers)]
        for p in pubs:
            p.start()
        # the publishers build and serialise all their messages first
        for _ in pubs:
            built.get(timeout=1800)
        time.sleep(2)
        base = _count()
        base_id = _stored_max_id()
        meter = _Meter([w.pid for w in workers], [p.pid for p in pubs if p.pid],
                       [bare.pid] if bare.pid else [])
        meter.start()
        go.set()
        t_go = time.time()
        total = (per // a.per_message) * a.per_message * a.publishers
        t_stored = t_go
        deadline = t_go + 1800
        last_change, last_seen = time.time(), base_id
        # cheap progress (max id, an index lookup), then the exact count at the end
        while time.time() < deadline:
            seen = _stored_max_id()
            now = time.time()
            if seen != last_seen:
                last_change, last_seen = now, seen
                t_stored = now
            if seen - base_id >= total and _count() - base >= total:
                break
            if now - last_change > 60:
                print(f"ingest stalled at {_count() - base} of {total} readings")
                break
            time.sleep(0.25)
        cpu = meter.stop()
        stored = _count()
        pub_times = [pub_out.get(timeout=120) for _ in pubs]
        n_bare, _, bare_last = bare_out.get(timeout=600)
        for p in [*pubs, bare]:
            p.join(10)
        t_pub0 = min(t for t, _ in pub_times)
        t_pub1 = max(t for _, t in pub_times)
        ingested = stored - base
        readings_per_s = ingested / (t_stored - t_pub0)
        bare_per_s = n_bare / (bare_last - t_pub0)
        ingest_cpu = cpu["workers"] + cpu["pg_backends"] + cpu["broker"]
        info: dict[str, float | int | str] = {
            "published": total, "publish_per_s": total / (t_pub1 - t_pub0),
            "stored": ingested, "bare_received": n_bare,
            "ingest_s": t_stored - t_pub0, "bare_s": bare_last - t_pub0,
            "load_end": f"{os.getloadavg()[0]:.1f}"}
        info.update({f"cpu_{k}_s": round(v, 1) for k, v in cpu.items()})
        info["readings_per_worker_cpu_s"] = ingested / cpu["workers"] if cpu["workers"] else 0.0
        info["readings_per_pg_cpu_s"] = (ingested / cpu["pg_backends"]
                                         if cpu["pg_backends"] else 0.0)
        info["readings_per_ingest_cpu_s"] = ingested / ingest_cpu if ingest_cpu else 0.0
        # what two whole cores would carry at this cost (workers + their backends + broker)
        info["two_core_capacity_per_s"] = 2 * ingested / ingest_cpu if ingest_cpu else 0.0
        return readings_per_s, bare_per_s, info
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(60)
            except subprocess.TimeoutExpired:
                w.kill()


def latency(a: argparse.Namespace, devices: list[tuple[str, str, str]], run_id: str,
            log: Path) -> list[float]:
    from jiayuan.cases.models import Case
    from jiayuan.sensors.models import Alarm, Device
    from jiayuan.sensors.simulator import SensorStream, publisher

    n_trig = int(a.latency_rate * a.latency_seconds / a.trigger_every) + 1
    trig = [Device(code=f"P{run_id}-{i}", kind="panic_button", district_code=DISTRICT,
                   name="bench panic button") for i in range(n_trig)]
    Device.objects.bulk_create(trig)
    group = f"lat{run_id}"
    workers = _ingest_procs(a.workers, group, DISTRICT, log)
    sent_at: dict[str, float] = {}
    try:
        _wait_connected(log, a.workers * (1 if a.skip_throughput else 2))
        stream = SensorStream(devices, alarm_rate=0.0, seed=99, run_id=f"{run_id}L",
                              start=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
                              spacing_s=len(devices) / a.latency_rate, noise=0.0)
        c = publisher(URL, client_id=f"bench-lat-{run_id}", inflight=5000, threaded=False)
        import orjson

        from jiayuan.sensors.messages import topic_for

        per = a.per_message
        total = int(a.latency_rate * a.latency_seconds)
        start = time.monotonic()
        sent = 0
        k = 0
        infos = []
        next_press = a.trigger_every // 2
        while sent < total:
            due = int((time.monotonic() - start) * a.latency_rate) - sent
            if due < per:
                c.loop(0)
                time.sleep(0.001)
                continue
            now = dt.datetime.now(dt.UTC)
            topic, payload, n = stream.gateway_message(per, now, "GW-LAT")
            infos.append(c.publish(topic, payload, qos=1))
            sent += n
            if sent >= next_press and k < n_trig:
                code = trig[k].code
                k += 1
                next_press += a.trigger_every
                t = time.time()
                infos.append(c.publish(topic_for(DISTRICT, code), orjson.dumps(
                    {"device": code, "msg_id": "press", "ts": int(t * 1000),
                     "metrics": {"pressed": 1}}), qos=1))
                sent_at[code] = t
            c.loop(0)
        while not all(i.is_published() for i in infos[-20:]):
            c.loop(0.01)
        c.disconnect()
        # let the workers finish the backlog (the p99 then shows any falling behind)
        deadline = time.time() + 180
        while time.time() < deadline and Alarm.objects.filter(
                device__code__in=list(sent_at), case__isnull=False).count() < len(sent_at):
            time.sleep(0.5)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
    lat = []
    for alarm in Alarm.objects.filter(device__code__in=list(sent_at)).select_related(
            "device", "case"):
        if alarm.case is None:
            continue
        created = Case.objects.filter(pk=alarm.case_id).values_list("updated_at", flat=True)[0]
        lat.append((created.timestamp() - sent_at[alarm.device.code]) * 1000)
    missing = len(sent_at) - len(lat)
    if missing:
        print(f"latency: {missing} of {len(sent_at)} presses without a case")
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--readings", type=int, default=1_500_000)
    ap.add_argument("--rate", type=float, default=25_000,
                    help="offered load, readings/s over all publishers (0: as fast as possible)")
    ap.add_argument("--alarm-rate", type=float, default=0.0005,
                    help="chance per reading that an alarm episode starts (each raises and "
                    "clears one or two alarms, each alarm opens a case)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--publishers", type=int, default=2)
    ap.add_argument("--per-message", type=int, default=50,
                    help="readings per gateway message (1: one message per reading)")
    ap.add_argument("--latency-rate", type=float, default=5000)
    ap.add_argument("--latency-seconds", type=float, default=20)
    ap.add_argument("--trigger-every", type=int, default=1000)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    a = ap.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/ingest.py measures PostgreSQL: set DATABASE_URL")
    run_id = f"{random.randrange(16**6):06x}"
    log = Path(f"/tmp/bench-ingest-{run_id}.log")
    devices = _setup(a.devices)
    import jiayuan

    print(f"code measured: {Path(jiayuan.__file__).parent} with {sys.executable}")
    print(f"run {run_id}: {len(devices)} devices, {a.readings} readings, {a.workers} ingest "
          f"workers, {a.publishers} publishers, cores={os.cpu_count()}, "
          f"load={os.getloadavg()[0]:.1f}; worker log {log}")
    rps = bare = float("nan")
    if not a.skip_throughput:
        rps, bare, info = throughput(a, devices, run_id, log)
        print("throughput: " + ", ".join(
            f"{k}={v:.0f}" if isinstance(v, float) and not k.startswith("cpu_")
            else f"{k}={v}" for k, v in info.items()))
        # each worker logs its CPU by thread when it stops (the whole process life)
        for line in log.read_text().splitlines():
            if "CPU by thread" in line:
                print("  " + line.split("ingest ", 1)[-1])
    p99 = float("nan")
    if not a.skip_latency:
        lat = sorted(latency(a, devices, run_id, log))
        if lat:
            p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
            print(f"latency at {a.latency_rate:.0f} readings/s: n={len(lat)} "
                  f"p50={lat[len(lat) // 2]:.0f} ms p99={p99:.0f} ms max={lat[-1]:.0f} ms")
    print(f"load at the end: {os.getloadavg()}")
    print(f"readings_per_s={rps:.0f} bare_per_s={bare:.0f} ratio={rps / bare:.2f} "
          f"p99_alarm_to_case_ms={p99:.0f}")


if __name__ == "__main__":
    main()
