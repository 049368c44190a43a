"""Reads of the sensors app, always limited to the user's area."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import Forbidden, NotFound
from jiayuan.sensors.models import (
    Alarm,
    AlarmState,
    Device,
    KindRuleSettings,
    MaintenanceOrder,
    RejectedMessage,
    RuleChange,
)

STAFF_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "department_staff", "liaison",
                         "district_analyst", "admin"})
EDIT_ROLES = frozenset({"duty_officer", "admin"})


def require_staff(user: Any) -> None:
    if not (getattr(user, "is_authenticated", False)
            and (user.is_superuser or user.role in STAFF_ROLES)):
        raise Forbidden("只有工作人员可以查看设备与报警")


def is_editor(user: Any) -> bool:
    """May register devices and change rules (within their area)."""
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_superuser or user.role in EDIT_ROLES))


def require_editor(user: Any) -> None:
    if not is_editor(user):
        raise Forbidden("只有值班长或管理员可以登记设备和修改规则")


def devices_for(user: Any) -> QuerySet[Device]:
    require_staff(user)
    return scope_for(user).filter(Device.objects.all())


def device_for(user: Any, code: str) -> Device:
    device = devices_for(user).filter(code=code).first()
    if device is None:
        raise NotFound("找不到该设备")
    return device


def alarms_for(user: Any, state: str | None = None) -> QuerySet[Alarm]:
    require_staff(user)
    qs = scope_for(user).filter(Alarm.objects.select_related("device", "case"))
    if state == "open":
        qs = qs.filter(state__in=[AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED])
    elif state == "cleared_unacknowledged":
        qs = qs.filter(state=AlarmState.CLEARED, acknowledged=False).exclude(
            payload__suppressed=True)
    elif state:
        qs = qs.filter(state=state)
    return qs


def alarm_for(user: Any, alarm_id: int) -> Alarm:
    alarm = alarms_for(user).filter(pk=alarm_id).first()
    if alarm is None:
        raise NotFound("找不到该报警")
    return alarm


def orders_for(user: Any, state: str | None = "open") -> QuerySet[MaintenanceOrder]:
    require_staff(user)
    qs = scope_for(user).filter(MaintenanceOrder.objects.select_related("device"))
    return qs.filter(state=state) if state else qs


def rejected_for(user: Any) -> QuerySet[RejectedMessage]:
    """Rejected messages carry no place: only whole-district staff see them."""
    require_staff(user)
    if not scope_for(user).everywhere:
        raise Forbidden("只有全区范围的工作人员可以查看被拒收的设备消息")
    return RejectedMessage.objects.all()


def health_summary(user: Any) -> dict[str, Any]:
    """The "one network of devices" figures of the user's area."""
    devices = devices_for(user).filter(active=True)
    by_kind = list(devices.values("kind").annotate(
        total=Count("id"), silent=Count("id", filter=Q(silent=True)),
        never=Count("id", filter=Q(last_heard_at__isnull=True))).order_by("kind"))
    open_alarms = alarms_for(user, "open")
    return {
        "devices": devices.count(),
        "silent": devices.filter(silent=True).count(),
        "faulty": devices.exclude(faults=[]).count(),
        "never_heard": devices.filter(last_heard_at__isnull=True).count(),
        "open_alarms": open_alarms.count(),
        "open_orders": orders_for(user).count(),
        "by_kind": by_kind,
        "alarms_by_kind": list(open_alarms.values("device__kind").annotate(
            n=Count("id")).order_by("device__kind")),
    }


# --- rule settings (written by services.rule_config) ------------------------------------------

def kind_settings_rows() -> dict[str, KindRuleSettings]:
    """The district's settings per device kind, with who changed them last."""
    return {s.kind: s for s in KindRuleSettings.objects.select_related("changed_by")}


def rule_history(*, kind: str = "", device_code: str = "", limit: int = 20) -> list[RuleChange]:
    """The latest changes of a kind's settings (``kind``) or of a device's (``device_code``)."""
    qs = RuleChange.objects.select_related("actor")
    if device_code:
        qs = qs.filter(target=RuleChange.Target.DEVICE, device_code=device_code)
    else:
        qs = qs.filter(target=RuleChange.Target.KIND, kind=kind)
    return list(qs[:limit])


def device_counts_by_kind(user: Any) -> dict[str, int]:
    """How many devices of each kind lie in the user's area."""
    return dict(devices_for(user).values_list("kind").annotate(n=Count("id")).values_list(
        "kind", "n"))
