"""Maintenance work orders for silent or faulty devices (one per device episode)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jiayuan.sensors.health import SILENCE_FACTOR
from jiayuan.sensors.models import Device, MaintenanceOrder
from jiayuan.sensors.rules.catalogue import load_device_kinds
from jiayuan.sensors.rules.model import AlarmEvent

log = logging.getLogger(__name__)


def open_order(device: Any, reason: str, message: str, at: dt.datetime) -> MaintenanceOrder:
    """Open the device's order for ``reason`` unless one is open already (returns it)."""
    existing = MaintenanceOrder.objects.filter(device_id=device.id, reason=reason,
                                               state=MaintenanceOrder.State.OPEN).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            order = MaintenanceOrder.objects.create(
                device_id=device.id, reason=reason, owner_unit=device.owner_unit,
                message=message[:500], opened_at=at, path=device.path)
    except IntegrityError:
        return MaintenanceOrder.objects.get(device_id=device.id, reason=reason,
                                            state=MaintenanceOrder.State.OPEN)
    _notify_owner(order, device)
    return order


def close_order(device_id: int, reason: str, note: str, at: dt.datetime) -> int:
    return MaintenanceOrder.objects.filter(
        device_id=device_id, reason=reason, state=MaintenanceOrder.State.OPEN,
    ).update(state=MaintenanceOrder.State.CLOSED, closed_at=at, closed_note=note[:300])


def fault_cleared(device: Any, e: AlarmEvent, faults_left: tuple[str, ...]) -> None:
    """A metric is back in range; the fault order closes when no metric is left in fault."""
    if not faults_left:
        close_order(device.id, MaintenanceOrder.Reason.FAULT,
                    f"设备读数已恢复正常范围：{e.message}"[:300], e.at)


def _notify_owner(order: MaintenanceOrder, device: Any) -> None:
    """Tell the owner unit's staff (in-app notification) through core.notify."""
    try:
        from jiayuan.core.notify import notify

        notify(to=order.owner_unit or "sensors.maintenance",
               text=f"设备 {device.code} 需要维护：{order.message}"[:300],
               kind="sensors.maintenance")
    except Exception:  # noqa: BLE001 - a notification never blocks the order
        log.exception("notify owner of order %s failed", order.pk)


def check_health(now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic health sweep over all active devices.

    Silent (nothing heard for more than 2 x the expected interval, on the server clock) →
    ``Device.silent`` and one silence order per episode; heard again → order closed with a
    note. Devices whose faults list is empty get their fault order closed.
    """
    now = now or timezone.now()
    kinds = load_device_kinds()
    opened = closed = 0
    devices = Device.objects.filter(active=True, last_heard_at__isnull=False).exclude(
        kind="video_camera").only("id", "code", "kind", "path", "owner_unit",
                                  "expected_interval_s", "last_heard_at", "silent", "faults")
    for d in devices.iterator(chunk_size=2000):
        interval = d.expected_interval_s or (kinds[d.kind].expected_interval_s
                                             if d.kind in kinds else 3600)
        silent = (now - d.last_heard_at).total_seconds() > SILENCE_FACTOR * interval
        if silent and not d.silent:
            hours = (now - d.last_heard_at).total_seconds() / 3600
            with transaction.atomic():
                Device.objects.filter(pk=d.pk).update(silent=True)
                open_order(d, MaintenanceOrder.Reason.SILENCE,
                           f"设备 {d.code} 已 {hours:.1f} 小时未上报（应每 {interval / 3600:g} 小时"
                           f"上报一次，超过两倍间隔视为离线）", now)
            opened += 1
        elif not silent and d.silent:
            with transaction.atomic():
                Device.objects.filter(pk=d.pk).update(silent=False)
                closed += close_order(d.pk, MaintenanceOrder.Reason.SILENCE,
                                      f"设备已恢复上报（{timezone.localtime(d.last_heard_at):%m-%d %H:%M}）",
                                      now)
    # Fault orders of devices with no metric left in fault.
    for order in MaintenanceOrder.objects.filter(
            reason=MaintenanceOrder.Reason.FAULT, state=MaintenanceOrder.State.OPEN,
            device__faults=[]).select_related("device"):
        closed += close_order(order.device_id, MaintenanceOrder.Reason.FAULT,
                              "设备读数已恢复正常范围", now)
    return {"silence_opened": opened, "closed": closed}
