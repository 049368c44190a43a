"""Benchmark of the rental rules against issue #17's target: the whole portfolio of 20,000 units
re-checked in under 5 s on this machine.

    .venv/bin/python bench/rental_check.py [--units 20000] [--seed 17]

Draws a seeded synthetic portfolio (4–8 rooms a unit, 5.6 on average; a mix that breaks each
rule sometimes),
then times (1) the engine on the whole portfolio (best of 3), (2) the file pipeline in process
(read and validate every cell of ROOMS.csv, check, write RESULT.csv) and (3) the command end to
end — a fresh ``jiayuan rental check`` process, Django start-up included. Prints wall and CPU
seconds, the load average (the machine is shared: wall time grows with the load, CPU time much
less) and the ratio to the target (time / target; below 1 is within target). Never asserts.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jiayuan.rental.engine import Mark, Room, RoomKind, Unit, check_units  # noqa: E402
from jiayuan.rental.io import COLUMNS, read_rooms, write_result  # noqa: E402

TARGET_S = 5.0


def draw_unit(rng: random.Random, i: int) -> Unit:
    uid = f"ZJ{i:06d}"
    bedrooms = rng.choice((1, 2, 2, 3, 3))
    rooms: list[Room] = []
    for b in range(bedrooms):
        occ = rng.choices((0, 1, 2, 3, 4), (5, 40, 45, 7, 3))[0]
        rooms.append(Room(f"B{b + 1}", RoomKind.BEDROOM, round(rng.uniform(6, 22), 1), occ,
                          rng.random() < 0.03, occ > 2 and rng.random() < 0.5))
    let = rng.random() < 0.25
    rooms.append(Room("L", RoomKind.LIVING_ROOM, round(rng.uniform(9, 25), 1),
                      rng.choice((1, 2)) if let else 0, let and rng.random() < 0.4))
    if rng.random() < 0.03:  # a second living room let
        rooms.append(Room("L2", RoomKind.LIVING_ROOM, 13.0, 1))
    rooms.append(Room("K", RoomKind.KITCHEN, round(rng.uniform(4, 8), 1),
                      1 if rng.random() < 0.02 else 0))
    rooms.append(Room("W", RoomKind.BATHROOM, round(rng.uniform(3, 6), 1)))
    if rng.random() < 0.4:
        kind = rng.choice((RoomKind.BALCONY, RoomKind.DINING, RoomKind.STORAGE, RoomKind.CORRIDOR))
        rooms.append(Room("X", kind, round(rng.uniform(3, 8), 1), 1 if rng.random() < 0.03 else 0))
    marks = frozenset(rng.sample(list(Mark), 1)) if rng.random() < 0.02 else frozenset()
    return Unit(uid, tuple(rooms), let and rng.random() < 0.8, marks)


def write_rooms(path: Path, units: list[Unit]) -> int:
    yn = {True: "yes", False: "no"}
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for u in units:
            marks = ";".join(m.value for m in sorted(u.marks))
            for r in u.rooms:
                w.writerow([u.unit_id, r.room_id, r.kind.value, r.usable_area_m2, r.occupants,
                            yn[r.partitioned], yn[r.support_relation], yn[u.x_plus_1_permit], marks])
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    units = [draw_unit(rng, i) for i in range(args.units)]

    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        results = check_units(units)
        runs.append(time.perf_counter() - t0)
    engine_s = min(runs)
    broken = collections.Counter(rule.value for r in results for rule in r.rules)
    compliant = sum(r.compliant for r in results)
    print(f"engine: {len(units)} units, {sum(len(u.rooms) for u in units)} rooms: "
          f"{engine_s:.3f} s (best of 3)  target {TARGET_S} s  ratio {engine_s / TARGET_S:.3f}")
    print(f"  compliant {compliant} ({compliant / len(units):.0%}); units breaking each rule: "
          + ", ".join(f"{k} {v}" for k, v in sorted(broken.items())))

    with tempfile.TemporaryDirectory() as tmp:
        rooms_csv, result_csv = Path(tmp) / "rooms.csv", Path(tmp) / "result.csv"
        n_rows = write_rooms(rooms_csv, units)
        c0, t0 = time.process_time(), time.perf_counter()
        read, problems = read_rooms(rooms_csv)
        write_result(result_csv, check_units(read))
        pipe_s, pipe_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"file pipeline in process (read + validate {n_rows} rows, check, write): "
              f"{pipe_s:.3f} s wall, {pipe_cpu:.3f} s CPU  target {TARGET_S} s  ratio {pipe_s / TARGET_S:.3f}"
              + (f"  ({len(problems)} problems!)" if problems else ""))
        result_csv.unlink()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cmd = [sys.executable, "-m", "jiayuan.cli", "rental", "check", str(rooms_csv), "--out", str(result_csv)]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        e2e_s = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        e2e_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            print(f"command failed ({done.returncode}): {done.stderr[-2000:]}")
            return
        with open(result_csv, encoding="utf-8-sig", newline="") as fh:
            out_rows = sum(1 for _ in csv.reader(fh)) - 1
    print(f"command end to end (new process, {n_rows} ROOMS rows -> {out_rows} RESULT rows): "
          f"{e2e_s:.3f} s wall, {e2e_cpu:.3f} s CPU  target {TARGET_S} s  ratio {e2e_s / TARGET_S:.3f}"
          f" (CPU ratio {e2e_cpu / TARGET_S:.3f})")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
          + f" on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
