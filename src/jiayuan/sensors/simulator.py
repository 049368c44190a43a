"""Realistic sensor streams for the demo and the benchmark (``jiayuan simulate sensors``).

``SensorStream`` produces, device by device, readings a real deployment would send: normal
values with noise, a few alarm-worthy episodes (a hot and loaded e-bike shed, gas, deep
water), impossible values (a faulty probe) and silences (a device that stops for a while).
``publish`` sends them to the broker at a given rate, QoS 1; ``replay`` feeds them to the
pipeline in process when there is no broker.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from jiayuan.sensors.messages import topic_for

# Normal values (safe under every default rule), per kind and metric.
BASELINE: dict[str, dict[str, float]] = {
    "smoke_detector": {"smoke": 0, "smoke_density": 0.02, "temperature_c": 22, "tamper": 0},
    "gas_detector": {"gas_lel_pct": 1, "gas_alarm": 0, "valve_closed": 0},
    "panic_button": {"pressed": 0},
    "video_alarm_host": {"intrusion": 0, "video_loss": 0, "tamper": 0},
    "hydrant_pressure": {"pressure_mpa": 0.35, "tilt_deg": 1, "water_flowing": 0},
    "water_logging": {"depth_cm": 0},
    "manhole_tilt": {"tilt_deg": 1, "displaced": 0, "water_level_cm": 120},
    "ebike_shed": {"temperature_c": 24, "load_pct": 40, "smoke": 0, "charging": 10,
                   "free_slots": 20},
    "crowd_counter": {"people": 800, "density": 1.0},
    "door_sensor": {"door_open": 0, "opens": 2},
    "water_meter": {"flow_l": 8, "total_m3": 120},
    "electric_meter": {"energy_kwh": 0.4},
}
NOISE = {"temperature_c": 0.5, "load_pct": 5, "people": 40, "density": 0.1, "flow_l": 3,
         "pressure_mpa": 0.01, "depth_cm": 0.0, "energy_kwh": 0.1, "gas_lel_pct": 0.5}
# Alarm-worthy values per kind (breach at least one default rule).
EPISODE: dict[str, dict[str, float]] = {
    "ebike_shed": {"temperature_c": 64, "load_pct": 90},
    "gas_detector": {"gas_lel_pct": 30, "gas_alarm": 1},
    "smoke_detector": {"smoke": 1},
    "water_logging": {"depth_cm": 35},
    "panic_button": {"pressed": 1},
    "manhole_tilt": {"displaced": 1},
    "hydrant_pressure": {"tilt_deg": 30},
    "video_alarm_host": {"intrusion": 1},
}
FAULT: dict[str, dict[str, float]] = {
    "ebike_shed": {"temperature_c": 900}, "smoke_detector": {"temperature_c": 500},
    "water_logging": {"depth_cm": 999}, "hydrant_pressure": {"pressure_mpa": 9},
    "crowd_counter": {"density": 99},
}
BENCH_KINDS = ("ebike_shed", "smoke_detector", "water_logging", "gas_detector",
               "crowd_counter")


@dataclass(slots=True)
class SimDevice:
    code: str
    kind: str
    district: str
    topic: str
    seq: int = 0
    episode_left: int = 0
    fault_left: int = 0
    silent_until: float = 0.0


class SensorStream:
    """An endless round-robin stream over ``devices`` (code, kind, district)."""

    def __init__(self, devices: Sequence[tuple[str, str, str]], *, faults: bool = False,
                 alarm_rate: float = 0.0, seed: int = 7, run_id: str = "",
                 start: dt.datetime | None = None, spacing_s: float = 10.0,
                 noise: float = 1.0) -> None:
        self.devices = [SimDevice(c, k, d, topic_for(d, c)) for c, k, d in devices]
        self.faults = faults
        self.alarm_rate = alarm_rate  # chance per reading that an alarm episode starts
        self.rng = random.Random(seed)
        self.run_id = run_id or f"{int(time.time()):x}"
        self.i = 0
        # With ``start``: device time, each device's k-th reading at start + k × spacing
        # (benchmarks publish faster than real devices report); without: the wall clock.
        self.start = start.timestamp() if start is not None else None
        self.spacing_s = spacing_s
        self.noise = noise

    def metrics_for(self, d: SimDevice) -> dict[str, float]:
        rng = self.rng
        base = BASELINE.get(d.kind, {"value": 1.0})
        f = self.noise
        m = {k: (v + rng.gauss(0, NOISE[k] * f) if f and NOISE.get(k) else v)
             for k, v in base.items()}
        for k in ("load_pct", "people", "density", "flow_l", "energy_kwh", "gas_lel_pct"):
            if k in m:
                m[k] = max(0.0, m[k])
        if d.episode_left == 0 and self.alarm_rate and rng.random() < self.alarm_rate \
                and d.kind in EPISODE:
            d.episode_left = rng.randint(2, 5)
        if d.episode_left:
            d.episode_left -= 1
            m.update(EPISODE[d.kind])
        if self.faults and d.fault_left == 0 and d.kind in FAULT and rng.random() < 0.0005:
            d.fault_left = rng.randint(1, 3)
        if d.fault_left:
            d.fault_left -= 1
            m.update(FAULT[d.kind])
        return {k: round(v, 3) for k, v in m.items()}

    def next(self, now: dt.datetime, extra: dict[str, Any] | None = None
             ) -> tuple[str, bytes, SimDevice]:
        """The next reading; skips devices in a silence (``faults`` only)."""
        n = len(self.devices)
        t = now.timestamp()
        for _ in range(n):
            d = self.devices[self.i % n]
            self.i += 1
            if d.silent_until > t:
                continue
            if self.faults and self.rng.random() < 0.0002:
                d.silent_until = t + self.rng.uniform(60, 600)
                continue
            d.seq += 1
            ts = t if self.start is None else self.start + d.seq * self.spacing_s
            body: dict[str, Any] = {"device": d.code, "msg_id": f"{self.run_id}-{d.seq}",
                                    "ts": int(ts * 1000), "metrics": self.metrics_for(d),
                                    "battery": 90, "rssi": -70}
            if extra:
                body.update(extra)
            return d.topic, orjson.dumps(body), d
        raise RuntimeError("every device is silent")

    def gateway_message(self, n: int, now: dt.datetime, gateway: str = "GW-1"
                        ) -> tuple[str, bytes, int]:
        """``n`` readings in one gateway message (all devices of the stream share one
        district); returns (topic, payload, n)."""
        from jiayuan.sensors.messages import gateway_topic_for

        items = []
        district = self.devices[0].district
        for _ in range(n):
            _, payload, _ = self.next(now)
            items.append(payload)
        body = b'{"gateway":"%s","readings":[%s]}' % (gateway.encode(), b",".join(items))
        return gateway_topic_for(district, gateway), body, n

    def batch(self, n: int, now: dt.datetime | None = None) -> list[tuple[str, bytes]]:
        now = now or dt.datetime.now(dt.UTC)
        return [self.next(now)[:2] for _ in range(n)]


def malformed_samples(district: str, code: str) -> list[tuple[str, bytes]]:
    """A few messages the worker must keep aside (and not crash on)."""
    t = topic_for(district, code)
    return [(t, b"{oops"), (t, b"[1,2]"), (t, orjson.dumps({"device": code})),
            (t, b'{"device":"%s","ts":"yesterday","metrics":{"x":1}}' % code.encode()),
            (t, "\xff".encode("latin-1"))]


# --- devices ------------------------------------------------------------------------------------

def ensure_devices(n: int, *, prefix: str = "SIM", kinds: Sequence[str] = BENCH_KINDS,
                   district: str | None = None) -> list[tuple[str, str, str]]:
    """Make sure ``n`` simulated devices exist (spread over the registry's entrances);
    returns (code, kind, district) of each. Bulk-created: fast for 10,000 devices."""
    from jiayuan.registry.models import Entrance
    from jiayuan.registry.selectors import the_district
    from jiayuan.sensors.models import Device

    d = the_district()
    dcode = district or (d.code if d else "310115")
    entrances = list(Entrance.objects.select_related("building__compound").order_by("id")[:500])
    codes = [f"{prefix}-{i:06d}" for i in range(n)]
    existing = set(Device.objects.filter(code__in=codes).values_list("code", flat=True))
    new = []
    for i, code in enumerate(codes):
        if code in existing:
            continue
        kind = kinds[i % len(kinds)]
        e = entrances[i % len(entrances)] if entrances else None
        c = e.building.compound if e else None
        new.append(Device(code=code, kind=kind, district_code=dcode, name=f"模拟设备 {i}",
                          entrance=e, building=e.building if e else None, compound=c,
                          lng=(e.lng or c.lng) if e and c else None,
                          lat=(e.lat or c.lat) if e and c else None,
                          path=e.path if e else (d.path if d else "")))
    Device.objects.bulk_create(new, batch_size=2000)
    return [(c, k, dcode) for c, k in
            Device.objects.filter(code__in=codes).order_by("code").values_list("code", "kind")]


# --- publishing ---------------------------------------------------------------------------------

def publisher(url: str, client_id: str = "", inflight: int = 1000,
              threaded: bool = True) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    from jiayuan.sensors.worker import broker_of

    host, port, user, password = broker_of(url)
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=MQTTProtocolVersion.MQTTv5)
    if user:
        c.username_pw_set(user, password)
    c.max_inflight_messages_set(inflight)
    c.max_queued_messages_set(0)
    c.connect(host, port, keepalive=30)
    if threaded:
        c.loop_start()
    else:
        while not c.is_connected():
            c.loop(0.05)
    return c


def publish(url: str, stream: SensorStream, *, rate: float, duration: float | None = None,
            count: int | None = None, on_sent: Callable[[str, bytes, float], None] | None = None,
            qos: int = 1) -> int:
    """Publish at ``rate`` readings/s until ``duration`` s or ``count`` messages; returns
    how many were published."""
    c = publisher(url)
    sent = 0
    start = time.monotonic()
    try:
        while True:
            elapsed = time.monotonic() - start
            if duration is not None and elapsed >= duration:
                break
            if count is not None and sent >= count:
                break
            due = int(elapsed * rate) + 1 - sent
            if due <= 0:
                time.sleep(min(0.01, 1 / rate))
                continue
            now = dt.datetime.now(dt.UTC)
            for _ in range(min(due, 2000)):
                if count is not None and sent >= count:
                    break
                topic, payload, _ = stream.next(now)
                c.publish(topic, payload, qos=qos)
                if on_sent is not None:
                    on_sent(topic, payload, time.time())
                sent += 1
    finally:
        deadline = time.monotonic() + 30
        while c.want_write() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        c.disconnect()
        c.loop_stop()
    return sent


def iter_messages(stream: SensorStream, *, rate: float, duration: float,
                  start: dt.datetime | None = None) -> Iterator[tuple[str, bytes]]:
    """Simulated time (no sleeping): ``rate × duration`` messages from ``start``."""
    start = start or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=duration)
    total = int(rate * duration)
    for i in range(total):
        now = start + dt.timedelta(seconds=i / rate)
        yield stream.next(now)[:2]
