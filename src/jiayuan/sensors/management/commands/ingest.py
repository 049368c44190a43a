"""``jiayuan ingest``: the MQTT ingest worker (or, with no broker, an in-process replay)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Subscribe to the sensor readings (MQTT 5 shared subscription, QoS 1, manual acks "
            "after commit) and store readings, alarms and cases. Without a broker "
            "(JIAYUAN_MQTT_URL empty) replay simulated readings through the same pipeline.")

    def add_arguments(self, parser: Any) -> None:
        conf = settings.JIAYUAN_SENSORS
        parser.add_argument("--url", default=conf["MQTT_URL"],
                            help="mqtt://host:port (default: JIAYUAN_MQTT_URL)")
        parser.add_argument("--slot", type=int, default=0,
                            help="worker slot: fixed client id, so a restarted worker "
                                 "gets its unacknowledged messages again")
        parser.add_argument("--group", default="ingest", help="shared subscription group")
        parser.add_argument("--district", default="+", help="district code to subscribe to")
        parser.add_argument("--batch", type=int, default=conf["BATCH_MAX"])
        parser.add_argument("--batch-ms", type=int, default=conf["BATCH_MS"])
        parser.add_argument("--session-expiry", type=int, default=conf["SESSION_EXPIRY_S"])
        parser.add_argument("--devices", type=int, default=50,
                            help="no broker: simulated devices to replay")
        parser.add_argument("--duration", type=float, default=600.0,
                            help="no broker: simulated seconds to replay")
        parser.add_argument("--rate", type=float, default=5.0,
                            help="no broker: simulated readings per second")

    def handle(self, *args: Any, **o: Any) -> None:
        logging.getLogger("jiayuan.sensors.ingest").setLevel(logging.INFO)
        if not o["url"]:
            self._replay(o)
            return
        from jiayuan.sensors.worker import IngestWorker

        w = IngestWorker(o["url"], slot=o["slot"], group=o["group"], district=o["district"],
                         batch_max=o["batch"], batch_ms=o["batch_ms"],
                         session_expiry_s=o["session_expiry"])
        self.stdout.write(f"ingest {w.client_id}: {w.filter} at {o['url']}")
        s = w.serve()
        self.stdout.write(f"stopped: received={s.received} stored={s.stored} "
                          f"duplicates={s.duplicates} rejected={s.rejected} "
                          f"alarms={s.raised}")

    def _replay(self, o: dict[str, Any]) -> None:
        from jiayuan.sensors.pipeline import replay_in_process
        from jiayuan.sensors.simulator import SensorStream, ensure_devices, iter_messages

        self.stdout.write("no broker configured (JIAYUAN_MQTT_URL empty): replaying "
                          "simulated readings in process")
        devices = ensure_devices(o["devices"], prefix="DEMO",
                                 kinds=("ebike_shed", "smoke_detector", "water_logging",
                                        "gas_detector", "crowd_counter", "door_sensor",
                                        "hydrant_pressure", "manhole_tilt"))
        stream = SensorStream(devices, faults=True, alarm_rate=0.002)
        res = replay_in_process(iter_messages(stream, rate=o["rate"], duration=o["duration"]))
        self.stdout.write(f"replayed: received={res.received} stored={res.stored} "
                          f"rejected={res.rejected} events={res.events} "
                          f"alarms={len(res.raised)}")
