"""``jiayuan simulate sensors --devices N --rate R [--duration S] [--faults]``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Publish realistic sensor readings (noise, alarm episodes, and with --faults "
            "impossible values and silences) to the MQTT broker, QoS 1.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--devices", type=int, default=100)
        parser.add_argument("--rate", type=float, default=10.0, help="readings per second")
        parser.add_argument("--duration", type=float, default=None, help="seconds (default: "
                            "until interrupted)")
        parser.add_argument("--faults", action="store_true",
                            help="also impossible values and silent devices")
        parser.add_argument("--alarm-rate", type=float, default=0.001,
                            help="chance per reading that an alarm episode starts")
        parser.add_argument("--malformed", type=int, default=0,
                            help="also publish this many malformed messages")
        parser.add_argument("--prefix", default="SIM")
        parser.add_argument("--url", default=settings.JIAYUAN_SENSORS["MQTT_URL"]
                            or "mqtt://127.0.0.1:1883")

    def handle(self, *args: Any, **o: Any) -> None:
        from jiayuan.sensors.simulator import (
            SensorStream,
            ensure_devices,
            malformed_samples,
            publish,
            publisher,
        )

        if o["devices"] <= 0 or o["rate"] <= 0:
            raise CommandError("--devices 和 --rate 须为正数")
        devices = ensure_devices(o["devices"], prefix=o["prefix"])
        stream = SensorStream(devices, faults=o["faults"], alarm_rate=o["alarm_rate"])
        self.stdout.write(f"publishing {o['rate']:g}/s from {len(devices)} devices to "
                          f"{o['url']} (Ctrl-C to stop)")
        if o["malformed"]:
            c = publisher(o["url"])
            code, _, district = devices[0]
            samples = malformed_samples(district, code)
            for i in range(o["malformed"]):
                t, p = samples[i % len(samples)]
                c.publish(t, p, qos=1)
            c.disconnect()
            c.loop_stop()
        try:
            n = publish(o["url"], stream, rate=o["rate"], duration=o["duration"])
        except KeyboardInterrupt:
            n = stream.i
        self.stdout.write(f"published {n} readings")
