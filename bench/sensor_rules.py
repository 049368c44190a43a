"""Benchmark: the pure sensor rule core on one core, 10,000 devices.

Times are CPU time of this process (``time.process_time``), so a busy shared machine
distorts them less than wall-clock time would. Prints readings evaluated per second (rule engine alone, and parse + evaluate from MQTT
bytes), clock ticks per second, and the ratio to 20,000 readings/s, the end-to-end target
of the later ingest pipeline on 2 cores. The pure core must be far faster than that target
because the pipeline also pays for MQTT, the database and case opening.

    .venv/bin/python bench/sensor_rules.py [--devices 10000] [--readings 200000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from jiayuan.sensors.messages import Reading, encode_payload, parse_message, topic_for
from jiayuan.sensors.rules.catalogue import rule_set_for
from jiayuan.sensors.rules.engine import DeviceState, evaluate, new_state, tick

TARGET = 20_000
T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
RARE = 0.01  # share of readings that breach a rule: a realistic, mostly quiet district


def _pick(r: random.Random, normal: list[float], alarming: list[float]) -> float:
    return r.choice(alarming) if r.random() < RARE else r.choice(normal)


Gen = Callable[[random.Random], dict[str, float | bool]]
KINDS: dict[str, tuple[float, Gen]] = {  # kind: (share of devices, metrics generator)
    "ebike_shed": (0.2, lambda r: {"temperature_c": _pick(r, [22, 25, 28, 31], [65, 72]),
                                   "load_pct": _pick(r, [20, 40, 60], [85, 105])}),
    "smoke_detector": (0.3, lambda r: {"smoke": r.random() < RARE / 10,
                                       "temperature_c": _pick(r, [18, 20, 22], [58])}),
    "door_sensor": (0.2, lambda r: {"door_open": r.random() < 0.05}),
    "water_logging": (0.15, lambda r: {"depth_cm": _pick(r, [0, 0, 1, 2], [16, 31])}),
    "crowd_counter": (0.15, lambda r: {"people": r.randint(800, 1200),
                                       "density": _pick(r, [0.5, 1, 1.5], [4.5, 6.5])}),
}


def build(devices: int, readings: int, seed: int = 7) -> tuple[dict[str, str], list[Reading]]:
    rng = random.Random(seed)
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    kind_of = {f"D{i:05d}": rng.choices(kinds, weights)[0] for i in range(devices)}
    codes = list(kind_of)
    out = []
    for n in range(readings):
        code = codes[n % devices]
        ts = T0 + timedelta(seconds=(n // devices) * 60)  # each device every minute
        out.append(Reading("310115", code, f"m{n}", ts, KINDS[kind_of[code]][1](rng)))
    return kind_of, out


def python_speed() -> float:
    """Nanoseconds per iteration of a trivial loop: a yardstick for this machine's speed
    (about 20-40 ns on an idle modern core), so figures from a busy machine can be read."""
    start = time.process_time()
    s = 0
    for i in range(2_000_000):
        s += i
    return (time.process_time() - start) / 2_000_000 * 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--readings", type=int, default=200_000)
    args = ap.parse_args()
    kind_of, readings = build(args.devices, args.readings)
    rule_sets = {k: rule_set_for(k) for k in KINDS}
    by_device = {code: rule_sets[kind] for code, kind in kind_of.items()}

    states: dict[str, DeviceState] = {c: new_state(c) for c in kind_of}
    events = 0
    start = time.process_time()
    for r in readings:
        code = r.device_code
        states[code], ev = evaluate(states[code], r, by_device[code], r.ts)
        events += len(ev)
    engine_s = time.process_time() - start
    engine_rate = len(readings) / engine_s

    wire = [(topic_for(r.district, r.device_code), encode_payload(r), r.ts) for r in readings]
    states = {c: new_state(c) for c in kind_of}
    start = time.process_time()
    for topic, payload, now in wire:
        r = parse_message(topic, payload, now=now)
        code = r.device_code
        states[code], _ = evaluate(states[code], r, by_device[code], now)
    full_s = time.process_time() - start
    full_rate = len(wire) / full_s

    now = readings[-1].ts + timedelta(hours=3)
    start = time.process_time()
    for code in kind_of:
        states[code], _ = tick(states[code], by_device[code], now)
    tick_rate = len(kind_of) / (time.process_time() - start)

    print(f"python yardstick : {python_speed():.0f} ns per loop iteration")
    print(f"devices: {len(kind_of):,}  readings: {len(readings):,}  events: {events:,}")
    print(f"engine only      : {engine_rate:>10,.0f} readings/s  "
          f"ratio to {TARGET:,}/s: {engine_rate / TARGET:.1f}x")
    print(f"parse + engine   : {full_rate:>10,.0f} readings/s  "
          f"ratio to {TARGET:,}/s: {full_rate / TARGET:.1f}x")
    print(f"tick (all devices): {tick_rate:>9,.0f} devices/s  "
          f"(a full sweep of {len(kind_of):,} devices takes {len(kind_of) / tick_rate:.3f} s)")


if __name__ == "__main__":
    main()
