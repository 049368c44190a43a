"""Sensor endpoints (Ninja router mounted at /api/v1/sensors). Thin: parse, call, shape.

- ``GET /devices``, ``POST /devices``, ``PUT /devices/{code}/overrides``,
  ``POST /devices/import``: the device registry (staff of the area; editing: duty officers
  and admins). Import is all-or-nothing with row-level errors.
- ``GET /alarms``, ``POST /alarms/{id}/acknowledge``, ``GET /alarms/{id}/cap`` (CAP 1.2 XML).
- ``GET /health``: the one network of devices of the caller's area.
- ``GET /ngsi/devices``, ``GET /ngsi/alerts``: NGSI-LD entities.
- ``GET /rejected``: messages kept aside (whole-district staff).
- ``POST /video/detections``: the video-analytics webhook (API token only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from jiayuan.core import uploads
from jiayuan.core.errors import Forbidden, NotFound, ValidationFailed
from jiayuan.core.pagination import Page, page
from jiayuan.sensors import selectors
from jiayuan.sensors.models import CAMERA_KIND, Alarm, Device
from jiayuan.sensors.services import alarms as alarm_services
from jiayuan.sensors.services import devices as device_services

router = Router(tags=["sensors"])

PAGE = 200
MAX_PAGE = 1000


def _page(offset: int, limit: int) -> Page:
    """Every list here pages the same way (``core.pagination``): 422 ``invalid_page`` for a
    negative or absurd offset or limit."""
    return page(offset, limit, default=PAGE, maximum=MAX_PAGE)


class DeviceIn(Schema):
    code: str
    kind: str
    model: str = ""
    name: str = ""
    district_code: str = ""
    compound: str = ""
    building: str = ""
    entrance: str = ""
    lng: float | None = None
    lat: float | None = None
    address: str = ""
    owner_unit: str = ""
    installed_at: str = ""
    expected_interval_s: int | None = None
    overrides: dict[str, Any] = {}
    maintenance_windows: list[dict[str, str]] = []


class OverridesIn(Schema):
    overrides: dict[str, Any]


class DetectionIn(Schema):
    detection_id: str
    camera: str
    category: str
    confidence: float
    at: dt.datetime | None = None
    snapshot_url: str = ""
    description: str = ""


def _device_out(d: Device) -> dict[str, Any]:
    return {"code": d.code, "kind": d.kind, "model": d.model, "name": d.name,
            "lng": d.lng, "lat": d.lat, "address": d.address, "owner_unit": d.owner_unit,
            "installed_at": d.installed_at.isoformat() if d.installed_at else None,
            "expected_interval_s": d.expected_interval_s, "overrides": d.overrides,
            "last_heard_at": d.last_heard_at.isoformat() if d.last_heard_at else None,
            "silent": d.silent, "faults": d.faults, "latest": d.last_metrics,
            "active": d.active}


def _alarm_out(a: Alarm) -> dict[str, Any]:
    return {"id": a.pk, "device": a.device.code, "kind": a.device.kind, "rule": a.rule_id,
            "title": a.title, "severity": a.severity, "state": a.state,
            "acknowledged": a.acknowledged, "message": a.message, "value": a.value,
            "peak": a.peak, "count": a.count, "raised_at": a.raised_at.isoformat(),
            "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
            "cleared_at": a.cleared_at.isoformat() if a.cleared_at else None,
            "case": a.case.number if a.case else None,
            "lng": a.device.lng, "lat": a.device.lat}


@router.get("/devices")
def list_devices(request: HttpRequest, kind: str = "", silent: bool | None = None,
                 offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
    window = _page(offset, limit)
    qs = selectors.devices_for(request.user)
    if kind:
        qs = qs.filter(kind=kind)
    if silent is not None:
        qs = qs.filter(silent=silent)
    total = qs.count()
    return {"total": total, "items": [_device_out(d) for d in window.of(qs)]}


@router.post("/devices", response={200: dict, 201: dict})
def register(request: HttpRequest, body: DeviceIn) -> Any:
    selectors.require_editor(request.user)
    device, created = device_services.register_device(body.dict(), user=request.user)
    return Status(201 if created else 200, _device_out(device))


@router.put("/devices/{code}/overrides")
def set_overrides(request: HttpRequest, code: str, body: OverridesIn) -> dict[str, Any]:
    selectors.require_editor(request.user)
    device = selectors.device_for(request.user, code)
    device = device_services.set_overrides(device, body.overrides, user=request.user)
    return _device_out(device)


@router.post("/devices/import")
def import_devices(request: HttpRequest,
                   file: UploadedFile = File(...),  # noqa: B008 - Ninja parameter
                   ) -> dict[str, Any]:
    selectors.require_editor(request.user)
    limits = uploads.web_limits()
    report = device_services.import_devices(file.name or "devices.csv",
                                            uploads.read_upload(file, limits),
                                            user=request.user, limits=limits)
    return {"created": report.created, "updated": report.updated}


@router.get("/alarms")
def list_alarms(request: HttpRequest, state: str = "open", offset: int = 0,
                limit: int = PAGE) -> dict[str, Any]:
    window = _page(offset, limit)
    qs = selectors.alarms_for(request.user, state or None)
    return {"total": qs.count(), "items": [_alarm_out(a) for a in window.of(qs)]}


@router.post("/alarms/{alarm_id}/acknowledge")
def acknowledge(request: HttpRequest, alarm_id: int) -> dict[str, Any]:
    selectors.require_staff(request.user)
    alarm_services.acknowledge(alarm_id, user=request.user)
    return _alarm_out(selectors.alarm_for(request.user, alarm_id))


@router.get("/alarms/{alarm_id}/cap")
def alarm_cap(request: HttpRequest, alarm_id: int) -> HttpResponse:
    from jiayuan.sensors.exports import alarm_cap_xml

    alarm = selectors.alarm_for(request.user, alarm_id)
    return HttpResponse(alarm_cap_xml(alarm), content_type="application/cap+xml; charset=utf-8")


@router.get("/health")
def health(request: HttpRequest) -> dict[str, Any]:
    return selectors.health_summary(request.user)


@router.get("/ngsi/devices")
def ngsi_devices(request: HttpRequest, offset: int = 0, limit: int = PAGE) -> HttpResponse:
    from jiayuan.sensors.exports import device_entities

    window = _page(offset, limit)
    qs = window.of(selectors.devices_for(request.user).exclude(kind=CAMERA_KIND))
    return _ld(device_entities(qs))


@router.get("/ngsi/alerts")
def ngsi_alerts(request: HttpRequest, state: str = "open", offset: int = 0,
                limit: int = PAGE) -> HttpResponse:
    from jiayuan.sensors.exports import alert_entities

    window = _page(offset, limit)
    qs = window.of(selectors.alarms_for(request.user, state or None))
    return _ld(alert_entities(qs))


def _ld(body: Any) -> HttpResponse:
    import orjson

    return HttpResponse(orjson.dumps(body), content_type="application/ld+json")


@router.get("/rejected")
def rejected(request: HttpRequest, reason: str = "", offset: int = 0,
             limit: int = PAGE) -> dict[str, Any]:
    window = _page(offset, limit)
    qs = selectors.rejected_for(request.user)
    if reason:
        qs = qs.filter(reason=reason)
    return {"total": qs.count(), "items": [
        {"topic": r.topic, "reason": r.reason, "message": r.message, "device": r.device_code,
         "count": r.count, "first_at": r.first_at.isoformat(), "last_at": r.last_at.isoformat(),
         "payload": r.payload[:1000]} for r in window.of(qs)]}


@router.post("/video/detections", response={200: dict, 201: dict, 202: dict})
def video_detection(request: HttpRequest, body: DetectionIn) -> Any:
    """A detection of the video-analytics platform: above the confidence threshold it opens
    a case (channel ``video_ai``), once per ``detection_id``."""
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        raise Forbidden("视频智能分析回调须使用 API 令牌")
    from jiayuan.sensors.services.video import intake_detection

    threshold = float(settings.JIAYUAN_SENSORS.get("VIDEO_MIN_CONFIDENCE", 0.8))
    result = intake_detection(body.dict(), user=request.user, threshold=threshold)
    if not result["accepted"]:
        return Status(202, result)
    return Status(201 if result["created"] else 200, result)


__all__ = ["router", "NotFound", "ValidationFailed"]
