"""Pages of the sensors app: the one network of devices of an area (health, open alarms,
maintenance orders, silent devices), acknowledging an alarm, importing devices."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from jiayuan.core.errors import DomainError
from jiayuan.sensors import selectors
from jiayuan.sensors.services import alarms as alarm_services
from jiayuan.sensors.services import devices as device_services

LIST_LIMIT = 100


@require_GET
@login_required
def network(request: HttpRequest) -> HttpResponse:
    user = request.user
    summary = selectors.health_summary(user)
    return render(request, "sensors/network.html", {
        "summary": summary,
        "alarms": selectors.alarms_for(user, "open")[:LIST_LIMIT],
        "unacknowledged": selectors.alarms_for(user, "cleared_unacknowledged")[:20],
        "orders": selectors.orders_for(user)[:LIST_LIMIT],
        "silent": selectors.devices_for(user).filter(silent=True)[:LIST_LIMIT],
        "may_edit": user.is_superuser or user.role in selectors.EDIT_ROLES,
    })


@require_POST
@login_required
def acknowledge(request: HttpRequest, alarm_id: int) -> HttpResponse:
    try:
        selectors.require_staff(request.user)
        alarm_services.acknowledge(alarm_id, user=request.user)
        messages.success(request, "已确认报警")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("sensors:network")


@require_POST
@login_required
def import_devices(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        selectors.require_editor(request.user)
        if upload is None:
            raise device_services.ValidationFailed("请选择要导入的 Excel 或 CSV 文件")
        report = device_services.import_devices(upload.name or "devices.csv", upload.read(),
                                                user=request.user)
        messages.success(request, f"已导入设备：新增 {report.created} 台，更新 {report.updated} 台")
    except DomainError as exc:
        messages.error(request, exc.message)
        rows = (exc.details or {}).get("rows", []) if isinstance(exc.details, dict) else []
        for row in rows[:20]:
            messages.error(request, f"第 {row['row']} 行：{row['message']}")
    return redirect("sensors:network")
