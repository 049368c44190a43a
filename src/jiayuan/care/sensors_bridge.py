"""Sensor alarms become care signals, without the sensors app knowing of care.

Which alarms count is data (``care/data/sensor_signals.json``: device kind → rule id → care
signal); the device must sit at an entrance where someone is registered. An open alarm
gives its signal (``panic``, ``smoke``, ``no_activity``); a cleared ``no_activity``-type alarm
gives ``activity``. Source refs are ``sensors.alarm:<id>`` (and ``…:cleared``), so every path
below may see the same alarm many times and the register changes once.

Three ways in, all idempotent:

* :func:`record_alarm` — the one-line call the sensors module can make right after it opens
  an alarm's case or notes its clearing (the lead wires it at merge);
* :func:`on_alarm_case_event` — subscribed to the case loop's ``sensors.alarm`` hook in
  ``CareConfig.ready()``: hears each step of an alarm's case from its report on, including
  the clearing note;
* :func:`sweep` — the periodic job ``care.sensor_sweep`` (every minute): picks up the alarms
  of the last day at registered homes not yet recorded, so nothing is lost if no call was
  wired or a call failed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DATA_FILE = Path(__file__).parent / "data" / "sensor_signals.json"
SWEEP_WINDOW = dt.timedelta(days=1)


@lru_cache(maxsize=1)
def signal_table() -> dict[str, dict[str, str]]:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def signal_for(device_kind: str, rule_id: str) -> str | None:
    """The care signal of an alarm of ``rule_id`` on a device of ``device_kind``, if any."""
    return signal_table().get(device_kind, {}).get(rule_id)


def _signal_of(alarm: Any) -> tuple[str, str, dt.datetime] | None:
    kind = signal_for(alarm.device.kind, alarm.rule_id)
    if kind is None or alarm.device.entrance_id is None:
        return None
    ref = f"sensors.alarm:{alarm.pk}"
    if alarm.state == "cleared":
        if kind != "no_activity":
            return None
        return "activity", f"{ref}:cleared", alarm.cleared_at or alarm.raised_at
    return kind, ref, alarm.raised_at


def record_alarm(alarm: Any) -> list[Any]:
    """Record the care signal of a sensor alarm (if it is one); returns the results of
    ``record_signal`` (empty when the alarm is no care signal or nobody lives there)."""
    from jiayuan.care.services.signals import record_signal

    sig = _signal_of(alarm)
    if sig is None:
        return []
    kind, ref, at = sig
    return record_signal(entrance_id=alarm.device.entrance_id, kind=kind, at=at,
                         source_ref=ref)


def on_alarm_case_event(case: Any, event: Any) -> None:
    from jiayuan.cases.hooks import source_of
    from jiayuan.sensors.models import Alarm

    _, ident = source_of(case.source_ref)
    if not ident.isdigit() or event.action == "route":  # routing tells care nothing new
        return
    alarm = Alarm.objects.select_related("device").filter(pk=int(ident)).first()
    if alarm is not None:
        record_alarm(alarm)


def sweep(now: dt.datetime) -> int:
    """Record the care alarms of the last day at homes in the register not yet recorded;
    returns how many alarms were recorded now."""
    from django.db.models import Q

    from jiayuan.care.models import CareSignal, ElderLivingAlone
    from jiayuan.sensors.models import Alarm

    table = signal_table()
    which = Q(pk__in=[])
    for kind, rules in table.items():
        which |= Q(device__kind=kind, rule_id__in=list(rules))
    homes = ElderLivingAlone.objects.filter(active=True).values("entrance_id")
    alarms = Alarm.objects.filter(which, device__entrance_id__in=homes).filter(
        Q(raised_at__gte=now - SWEEP_WINDOW) | Q(cleared_at__gte=now - SWEEP_WINDOW)
    ).select_related("device").order_by("raised_at")
    done = 0
    for alarm in alarms.iterator(chunk_size=500):
        sig = _signal_of(alarm)
        if sig is None or CareSignal.objects.filter(source_ref=sig[1]).exists():
            continue
        if record_alarm(alarm):
            done += 1
    return done


def connect() -> None:
    """Subscribe to the case hooks and register the sweep, when the sensors app is there."""
    from django.apps import apps

    if not apps.is_installed("jiayuan.sensors"):
        return
    from jiayuan.cases import hooks

    hooks.subscribe("sensors.alarm", on_alarm_case_event)
    from jiayuan.sensors.services.alarms import alarm_followed_up

    alarm_followed_up.connect(_on_alarm_followed_up, dispatch_uid="care.sensors_bridge")
    import jiayuan.care.sensor_tasks  # noqa: F401  (registers care.sensor_sweep)


def _on_alarm_followed_up(sender: Any, *, alarm: Any, action: str, **kwargs: Any) -> None:
    """A raised alarm reaches the register at once (the minute sweep is the safety net)."""
    record_alarm(alarm)
