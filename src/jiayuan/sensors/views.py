"""Pages of the sensors app: the one network of devices of an area (health, open alarms,
maintenance orders, silent devices), acknowledging an alarm, importing devices; the rules of
each device kind and of each device, and their editing by staff."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiayuan.core import uploads
from jiayuan.core.errors import DomainError, NotFound
from jiayuan.sensors import selectors
from jiayuan.sensors.models import CAMERA_KIND
from jiayuan.sensors.services import alarms as alarm_services
from jiayuan.sensors.services import devices as device_services
from jiayuan.sensors.services import rule_config
from jiayuan.web.errors import page_errors

LIST_LIMIT = 100


@require_GET
@login_required
@page_errors
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
        limits = uploads.web_limits()
        report = device_services.import_devices(upload.name or "devices.csv",
                                                uploads.read_upload(upload, limits),
                                                user=request.user, limits=limits)
        messages.success(request, f"已导入设备：新增 {report.created} 台，更新 {report.updated} 台")
    except DomainError as exc:
        messages.error(request, exc.message)
        rows = (exc.details or {}).get("rows", []) if isinstance(exc.details, dict) else []
        for row in rows[:20]:
            messages.error(request, f"第 {row['row']} 行：{row['message']}")
    return redirect("sensors:network")


# --- rules: kind settings and device overrides (services.rule_config) ------------------------

def _kind_context(request: HttpRequest, kind: str) -> dict[str, Any]:
    device_kind = rule_config.device_kind(kind)  # NotFound for an unknown kind
    settings_row = selectors.kind_settings_rows().get(kind)
    layer = dict(settings_row.overrides or {}) if settings_row else {}
    views, rule_set = rule_config.rule_views(kind, layer)
    return {
        "kind": device_kind, "settings": settings_row, "rules": views,
        "interval": rule_set.expected_interval_s,
        "interval_value": rule_config.number_text(rule_set.expected_interval_s),
        "interval_text": rule_config.duration(rule_set.expected_interval_s),
        "interval_changed": "expected_interval_s" in layer,
        "extra_json": _json(layer.get("extra_rules")),
        "may_edit": rule_config.may_edit_kinds(request.user),
        "history": selectors.rule_history(kind=kind),
        "severities": list(rule_config.SEVERITY_LABELS.items()),
        "error": "",
    }


def _keep_input(ctx: dict[str, Any], data: Any, error: str) -> None:
    """A refused form shows the message and what the user typed, not the saved values."""
    ctx["error"] = error
    for view in ctx["rules"]:
        view.keep_input(data)
    ctx["interval_value"] = str(data.get("expected_interval_s", ctx["interval_value"]))[:40]
    ctx["extra_json"] = str(data.get("extra_rules", ctx["extra_json"]))[:20000]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1) if value else ""


@require_GET
@login_required
@page_errors
def rules_index(request: HttpRequest) -> HttpResponse:
    """Every device kind with its rules as the district has set them, in plain words."""
    from jiayuan.sensors.rules.catalogue import load_device_kinds

    selectors.require_staff(request.user)
    code = request.GET.get("device", "").strip()
    if code:
        return redirect("sensors:device_rules", code=code)
    rows = selectors.kind_settings_rows()
    kinds = []
    for kind in load_device_kinds().values():
        layer = dict(rows[kind.code].overrides or {}) if kind.code in rows else {}
        views, rule_set = rule_config.rule_views(kind.code, layer)
        kinds.append({"kind": kind, "rules": views, "settings": rows.get(kind.code),
                      "interval_text": rule_config.duration(rule_set.expected_interval_s),
                      "devices": 0})
    counts = selectors.device_counts_by_kind(request.user)
    for k in kinds:
        k["devices"] = counts.get(k["kind"].code, 0)
    return render(request, "sensors/rules.html", {
        "kinds": kinds, "may_edit": rule_config.may_edit_kinds(request.user),
        "severities": list(rule_config.SEVERITY_LABELS.items())})


@require_http_methods(["GET", "POST"])
@login_required
@page_errors
def kind_rules(request: HttpRequest, kind: str) -> HttpResponse:
    """A kind's rules; the whole-district editors change the district's settings here."""
    selectors.require_staff(request.user)
    ctx = _kind_context(request, kind)
    if request.method == "POST":
        rule_config.require_edit_kinds(request.user)
        try:
            layer = rule_config.overrides_from_form(kind, request.POST)
            rule_config.set_kind_settings(kind, layer, user=request.user,
                                          note=request.POST.get("note", "").strip())
        except DomainError as exc:
            _keep_input(ctx, request.POST, exc.message)
            return render(request, "sensors/kind_rules.html", ctx, status=400)
        messages.success(request, _("Rules saved. Running ingest workers use them within seconds."))
        return redirect("sensors:kind_rules", kind=kind)
    return render(request, "sensors/kind_rules.html", ctx)


@require_POST
@login_required
@page_errors
def kind_rules_reset(request: HttpRequest, kind: str) -> HttpResponse:
    selectors.require_staff(request.user)
    _kind_context(request, kind)  # 404 for an unknown kind
    rule_config.reset_kind_settings(kind, user=request.user)
    messages.success(request, _("Back to the default rules."))
    return redirect("sensors:kind_rules", kind=kind)


def _device_context(request: HttpRequest, code: str) -> dict[str, Any]:
    device = selectors.device_for(request.user, code)
    if device.kind == CAMERA_KIND:
        raise NotFound("视频通道没有报警规则")
    kind_layer = rule_config.kind_settings(device.kind)
    own = rule_config.device_overrides(device)
    views, rule_set = rule_config.rule_views(device.kind, kind_layer, own)
    return {
        "device": device, "kind": rule_config.device_kind(device.kind), "rules": views,
        "interval": rule_set.expected_interval_s,
        "interval_value": rule_config.number_text(rule_set.expected_interval_s),
        "interval_text": rule_config.duration(rule_set.expected_interval_s),
        "interval_changed": "expected_interval_s" in own,
        "extra_json": _json(device.overrides.get("extra_rules")),
        "kind_extra": [v for v in rule_config.rule_views(device.kind, kind_layer)[0]
                       if v.extra],
        "may_edit": rule_config.may_edit_device(request.user, device),
        "history": selectors.rule_history(device_code=device.code),
        "severities": list(rule_config.SEVERITY_LABELS.items()),
        "error": "",
    }


@require_http_methods(["GET", "POST"])
@login_required
@page_errors
def device_rules(request: HttpRequest, code: str) -> HttpResponse:
    """A device's effective rules; its editors set the device's own overrides here."""
    ctx = _device_context(request, code)
    device = ctx["device"]
    if request.method == "POST":
        rule_config.require_edit_device(request.user, device)
        try:
            layer = rule_config.overrides_from_form(
                device.kind, request.POST, below=[rule_config.kind_settings(device.kind)])
            rule_config.set_device_overrides(device, layer, user=request.user,
                                             note=request.POST.get("note", "").strip())
        except DomainError as exc:
            _keep_input(ctx, request.POST, exc.message)
            return render(request, "sensors/device_rules.html", ctx, status=400)
        messages.success(request, _("Rules saved. Running ingest workers use them within seconds."))
        return redirect("sensors:device_rules", code=device.code)
    return render(request, "sensors/device_rules.html", ctx)


@require_POST
@login_required
@page_errors
def device_rules_reset(request: HttpRequest, code: str) -> HttpResponse:
    device = selectors.device_for(request.user, code)
    rule_config.reset_device_overrides(device, user=request.user)
    messages.success(request, _("Back to the rules of the device kind."))
    return redirect("sensors:device_rules", code=device.code)
