"""CAP 1.2 and NGSI-LD exports of stored devices and alarms (the pure renderers in
``cap.py`` and ``ngsi.py`` do the formats)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jiayuan.sensors import cap, ngsi
from jiayuan.sensors.models import Alarm, AlarmState, Device
from jiayuan.sensors.rules.catalogue import load_device_kinds
from jiayuan.sensors.rules.model import Action, AlarmEvent, Severity

SENDER = "jiayuan.sensors"


def _event(alarm: Alarm, action: Action) -> AlarmEvent:
    at = alarm.cleared_at if action is Action.CLEAR and alarm.cleared_at else alarm.raised_at
    try:
        severity = Severity(alarm.severity)
    except ValueError:
        severity = Severity.UNKNOWN
    return AlarmEvent(device_code=alarm.device.code, rule_id=alarm.rule_id, action=action,
                      at=at, severity=severity, message=alarm.message, value=alarm.value,
                      title=alarm.title, category=alarm.category)


def _area(alarm: Alarm) -> cap.Area:
    d = alarm.device
    desc = d.address or d.name or d.code
    if d.lat is not None and d.lng is not None:
        return cap.Area(desc, circle=(d.lat, d.lng, 0.05))
    return cap.Area(desc)


def alarm_cap_xml(alarm: Alarm) -> str:
    """The alarm as CAP: ``Alert`` while open, ``Cancel`` (referencing the alert) once
    cleared."""
    identifier = f"jiayuan-alarm-{alarm.pk}"
    if alarm.state == AlarmState.CLEARED:
        ref = f"{SENDER},{identifier},{cap.cap_time(alarm.raised_at)}"
        return cap.render_cap(_event(alarm, Action.CLEAR), identifier=f"{identifier}-clear",
                              sender=SENDER, area=_area(alarm), references=ref,
                              sent=alarm.cleared_at)
    return cap.render_cap(_event(alarm, Action.RAISE), identifier=identifier, sender=SENDER,
                          area=_area(alarm), sent=alarm.raised_at)


def device_entities(devices: Iterable[Device]) -> list[dict[str, Any]]:
    kinds = load_device_kinds()
    out = []
    for d in devices:
        kind = kinds.get(d.kind)
        if kind is None or d.lng is None or d.lat is None:
            continue
        state = "silent" if d.silent else ("fault" if d.faults else "ok")
        values = {k: float(v) for k, v in (d.last_metrics or {}).items()
                  if isinstance(v, int | float)}
        out.append(ngsi.device_entity(
            d.code, kind, lon=d.lng, lat=d.lat, state=state, last_reported=d.last_heard_at,
            battery=values.get("battery"), values=values))
    return out


def alert_entities(alarms: Iterable[Alarm]) -> list[dict[str, Any]]:
    out = []
    for a in alarms:
        d = a.device
        if d.lng is None or d.lat is None:
            continue
        action = Action.CLEAR if a.state == AlarmState.CLEARED else Action.RAISE
        out.append(ngsi.alert_entity(str(a.pk), _event(a, action), lon=d.lng, lat=d.lat,
                                     valid_to=a.cleared_at))
    return out
