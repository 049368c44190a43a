"""Demo devices and an hour of their readings, replayed through the ingest pipeline (no
broker needed), so the network-of-devices page and the operations screen have devices, some
active alarms (each with its case) and some silent ones."""

from __future__ import annotations

from typing import Any

from jiayuan.sensors.models import (
    Alarm,
    Device,
    DeviceState,
    MaintenanceOrder,
    Reading,
    RejectedMessage,
)

DEMO_KINDS = ("smoke_detector", "gas_detector", "ebike_shed", "water_logging", "door_sensor",
              "hydrant_pressure", "manhole_tilt", "crowd_counter")


def generate_demo_sensors(*, seed: int = 1, devices: int = 240,
                          seconds: int = 3600) -> dict[str, Any]:
    """Register ``devices`` demo devices over the registry's entrances and replay
    ``seconds`` of their readings (with faults and alarm episodes); returns row counts."""
    from jiayuan.sensors.pipeline import replay_in_process
    from jiayuan.sensors.services.alarms import follow_up
    from jiayuan.sensors.simulator import SensorStream, ensure_devices, iter_messages

    made = ensure_devices(devices, prefix="DEMO", kinds=DEMO_KINDS)
    stream = SensorStream(made, faults=True, alarm_rate=0.004, seed=seed)
    result = replay_in_process(iter_messages(stream, rate=devices / 60, duration=seconds))
    follow_up(result.followups)
    return {"devices": Device.objects.count(), "readings": Reading.objects.count(),
            "alarms": Alarm.objects.count(),
            "alarm_cases": Alarm.objects.filter(case__isnull=False).count()}


def wipe_demo_sensors() -> None:
    """Delete every sensor row (demo only: before the registry and the cases are wiped)."""
    for model in (MaintenanceOrder, Alarm, Reading, RejectedMessage, DeviceState, Device):
        model.objects.all()._raw_delete(model.objects.db)  # type: ignore[attr-defined]
